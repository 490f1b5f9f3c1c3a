"""``SqlStore``: the tracking store on SQLite or Postgres."""

from __future__ import annotations

import contextlib

import sqlalchemy as sa

from runyard.errors import TemporarilyUnavailable
from runyard.store.base import TrackingStore
from runyard.store.sql.engine import create_engine, is_sqlite, translated_errors
from runyard.store.sql.experiments import ExperimentsMixin
from runyard.store.sql.logged_models import LoggedModelsMixin
from runyard.store.sql.migrate import upgrade_engine
from runyard.store.sql.purge import PurgeMixin
from runyard.store.sql.registry import SqlRegistryMixin
from runyard.store.sql.runs import RunsMixin
from runyard.store.sql.stats import StatsMixin

_READY_TIMEOUT_MS = 3000


class SqlStore(
    ExperimentsMixin,
    RunsMixin,
    StatsMixin,
    LoggedModelsMixin,
    SqlRegistryMixin,
    PurgeMixin,
    TrackingStore,
):
    """Experiments, runs, logged models and the model registry in one SQL database.

    Construction brings the schema to the newest migration (under a cross-process lock) and
    makes sure the Default experiment ``"0"`` exists, with artifacts under
    ``<default_artifact_root>/0``.
    """

    def __init__(self, db_uri: str, default_artifact_root: str) -> None:
        self.db_uri = db_uri
        self._default_artifact_root = default_artifact_root
        super().__init__(create_engine(db_uri))
        try:
            upgrade_engine(self._engine)
            self._ensure_default_experiment()
        except BaseException:
            self._engine.dispose()
            raise

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    def check_ready(self) -> None:
        """A SELECT 1 that gives up quickly, so a readiness probe never hangs."""
        with translated_errors(), self._engine.connect() as conn:
            if not is_sqlite(self._engine.url):
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {_READY_TIMEOUT_MS}")
            if conn.exec_driver_sql("SELECT 1").scalar() != 1:
                raise TemporarilyUnavailable("The tracking database did not answer SELECT 1")
            conn.rollback()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._engine.dispose()

    def __repr__(self) -> str:
        return f"SqlStore({self._engine.url.render_as_string(hide_password=True)!r})"
