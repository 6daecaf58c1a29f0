"""The bot's sense of time: real time in the configured zone, optionally pinned to a date.

``NTM_TODAY`` pins the calendar date (demos, tests) while the time of day keeps moving, so
"còn N ngày" is computed against the pinned date. Tests can also move a :class:`Clock` by hand.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


class Clock:
    """Current date and time in one time zone, with an optional fixed date or offset."""

    def __init__(self, tz: ZoneInfo, today: dt.date | None = None) -> None:
        self.tz = tz
        self._offset = dt.timedelta(0)
        if today is not None:
            real = dt.datetime.now(tz)
            pinned = dt.datetime.combine(today, real.timetz())
            self._offset = pinned - real

    def now(self) -> dt.datetime:
        """An aware datetime in the configured zone."""
        return dt.datetime.now(self.tz) + self._offset

    def today(self) -> dt.date:
        return self.now().date()

    def set(self, moment: dt.datetime) -> None:
        """Jump to ``moment`` (naive values are read in the configured zone)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.tz)
        self._offset = moment - dt.datetime.now(self.tz)

    def advance(self, delta: dt.timedelta) -> None:
        self._offset += delta
