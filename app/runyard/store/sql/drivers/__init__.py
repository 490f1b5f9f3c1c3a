"""The DB-API drivers the SQL store speaks to directly: sqlite3 and psycopg2.

The driver is decided by the engine's URL; ``require_supported`` refuses any other (psycopg 3,
for one) when the engine is made, so no untested fallback path exists, and ``driver_of`` hands
the query modules the one implementation for a connection.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from runyard.errors import InvalidParameterValue
from runyard.store.sql.drivers.base import Driver
from runyard.store.sql.drivers.postgres import PostgresDriver
from runyard.store.sql.drivers.sqlite import SqliteDriver

_DRIVERS: dict[str, Driver] = {driver.name: driver for driver in (SqliteDriver(), PostgresDriver())}


def require_supported(url: sa.URL) -> None:
    """Refuse a database URL whose driver runyard does not speak, saying which to use."""
    if url.get_driver_name() not in _DRIVERS:
        raise InvalidParameterValue(
            f"The database driver {url.drivername!r} is not supported: use sqlite:/// "
            "or postgresql:// (psycopg2, installed with runyard)"
        )


def driver_of(bind: Connection | Engine) -> Driver:
    """The driver implementation behind a connection or engine (made by ``create_engine``,
    which called ``require_supported``)."""
    return _DRIVERS[bind.dialect.driver]


__all__ = ["Driver", "driver_of", "require_supported"]
