"""Time as the use cases see it: injectable so tests can move it instead of sleeping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Protocol

# China has one time zone and no daylight saving; a fixed offset needs no tz database.
CHINA = timezone(timedelta(hours=8), "CST")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """System time moved by an adjustable offset (tests; a lab clock for demos)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def advance(self, delta: timedelta) -> None:
        self.offset += delta

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def local_today(now: datetime) -> date:
    """The calendar day in China, which is what ages and birth dates are measured in."""
    return now.astimezone(CHINA).date()
