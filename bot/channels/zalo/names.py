"""The two Zalo channels' names, as stored with users and replies."""

BOT_CHANNEL = "zalo_bot"
OA_CHANNEL = "zalo_oa"
