"""Telegram channel on aiogram 3: polling or webhook, same conversation core."""
