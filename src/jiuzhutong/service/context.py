"""What every use case needs: the store, the settings, the clock and the division registry."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jiuzhutong.security import FieldCipher
from jiuzhutong.service.clock import Clock
from jiuzhutong.service.errors import Busy
from jiuzhutong.settings import Settings
from jiuzhutong.store import Database, Store, Tx
from jiuzhutong.store.errors import DatabaseBusy, DatabaseUnavailable

if TYPE_CHECKING:
    from jiuzhutong.service.divisions import DivisionService


class ServiceStore:
    """The store as use cases see it: its infrastructure errors become service errors."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.cipher: FieldCipher = store.cipher
        self.database: Database = store.database
        self.dialect: str = store.dialect

    @contextmanager
    def write(self) -> Iterator[Tx]:
        try:
            # the database's transaction and a Tx directly: one context manager fewer on
            # every request than going through Store.write()
            with self.database.write() as conn:
                tx = Tx(conn, self.cipher)
                yield tx
        except (DatabaseBusy, DatabaseUnavailable):
            raise Busy() from None
        tx.run_after_commit()  # committed: wake the live-status listeners (service.events)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        try:
            with self._store.read() as tx:
                yield tx
        except (DatabaseBusy, DatabaseUnavailable):
            raise Busy() from None

    def ping(self) -> None:
        try:
            self._store.ping()
        except (DatabaseBusy, DatabaseUnavailable):
            raise Busy("数据库暂时不可用，请稍后重试") from None

    def close(self) -> None:
        self._store.close()


@dataclass
class Context:
    store: ServiceStore
    settings: Settings
    clock: Clock
    divisions: DivisionService
