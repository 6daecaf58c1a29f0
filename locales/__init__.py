"""Gettext catalogs (Babel) for the bot's messages; see README, section "Dịch / Translations"."""
