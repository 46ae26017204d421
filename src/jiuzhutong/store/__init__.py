"""Persistence: SQLAlchemy models, repositories, engine setup and Alembic migrations.

The only package that imports SQLAlchemy. Callers use ``Store.write()`` / ``Store.read()``
and get plain records (jiuzhutong.store.records) back, decrypted.
"""

from jiuzhutong.store.engine import Database
from jiuzhutong.store.transactions import Store, Tx

__all__ = ["Database", "Store", "Tx"]
