"""The last few draft responses, keyed by (draft, version, day).

A draft's response changes only with its version (every change bumps it) and with the day
(ages and who counts as a minor). So an unchanged draft read again needs its version
checked in the database — which the read does anyway — but not its persons decrypted,
re-derived and re-serialised. Only masked responses are kept: revealed ID numbers are
never cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date


class DraftResponseCache:
    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._items: OrderedDict[str, tuple[int, date, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, draft_id: str, version: int, day: date) -> str | None:
        with self._lock:
            item = self._items.get(draft_id)
            if item is None or item[0] != version or item[1] != day:
                return None
            self._items.move_to_end(draft_id)
            return item[2]

    def put(self, draft_id: str, version: int, day: date, body: str) -> None:
        with self._lock:
            self._items[draft_id] = (version, day, body)
            self._items.move_to_end(draft_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
