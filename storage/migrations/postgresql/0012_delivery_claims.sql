-- A delivery is claimed by one sender before it is sent (the bot's own sender, another
-- instance, or `ntm-bot digest --send`): two senders on one database never send the same
-- message. A claim is renewed as the sender goes; one not renewed within the lease (its sender
-- died) is taken over by another sender.
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE deliveries ADD COLUMN claimed_at TEXT;
