"""Wall clock and time formats for display, injectable so tests and snapshots can pin them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo


def _system_tz() -> tzinfo:
    tz = datetime.now().astimezone().tzinfo
    assert tz is not None
    return tz


class Clock:
    """Shows times in the hall's time zone; the server sends aware UTC datetimes."""

    def __init__(self, tz: tzinfo | None = None, now: Callable[[], datetime] | None = None) -> None:
        self.tz = tz or _system_tz()
        self._now = now or (lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self.local(self._now())

    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:  # a naive time from the wire is UTC by contract
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.tz)

    def stamp(self, moment: datetime) -> str:
        """Date and minute, e.g. a draft's last save: 2025-03-05 09:41."""
        return self.local(moment).strftime("%Y-%m-%d %H:%M")

    def time_of_day(self, moment: datetime | None = None) -> str:
        """hh:mm:ss, as in 已保存 hh:mm:ss / 已刷新 hh:mm:ss."""
        return (self.local(moment) if moment else self.now()).strftime("%H:%M:%S")
