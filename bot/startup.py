"""What channels share while starting up, without importing any channel's client library."""

from __future__ import annotations


class StartupStopped(Exception):
    """SIGTERM/SIGINT arrived while a channel was still waiting for its platform."""
