"""Alembic environment: migrate the connection runyard hands over, or a URL given with -x."""

from __future__ import annotations

from alembic import context

from runyard.store.sql.engine import create_engine
from runyard.store.sql.models import metadata

config = context.config


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # The auth tables share the database but have their own chain (runyard.auth).
        include_name=lambda name, type_, _parents: type_ != "table" or not name.startswith("auth_"),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("Give the database with: alembic -x url=<database URI> ...")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; give a database URL.")
run_migrations_online()
