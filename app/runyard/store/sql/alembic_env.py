"""What both Alembic environments (the tracking chain and the auth chain) do, written once.

Each chain's ``env.py`` names only what differs: its metadata, which tables it owns and its
version table. Runyard hands a connection over in ``config.attributes``; from the command line a
URL comes with ``-x url=...`` (or ``sqlalchemy.url``). Offline SQL scripts are not supported.
"""

from __future__ import annotations

from collections.abc import Callable

from alembic import context
from sqlalchemy import Connection, MetaData

from runyard.store.sql.engine import create_engine

#: ``include_name(name, type_, parents)`` as Alembic calls it.
NameFilter = Callable[[str | None, str, dict], bool]


def run_migrations(
    metadata: MetaData, include_name: NameFilter, version_table: str | None = None
) -> None:
    """Run the chain of the ``env.py`` that calls this, on the handed-over connection or a URL."""
    if context.is_offline_mode():
        raise SystemExit("Offline (SQL script) migrations are not supported; give a database URL.")
    options: dict[str, object] = {"version_table": version_table} if version_table else {}

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            include_name=include_name,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            **options,
        )
        with context.begin_transaction():
            context.run_migrations()

    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("Give the database with: alembic -x url=<database URI> ...")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            run(conn)
            conn.commit()
    finally:
        engine.dispose()
