"""Zalo channels: the Zalo Bot API (Telegram-like, no buttons) and the Zalo Official Account API.

Thin aiohttp clients on the bot's own event loop (no Zalo SDK is a sound dependency), the same
conversation core as every other channel, and transports for the common sender.
"""
