"""The tables of the SQL store (SQLAlchemy Core), mirrored by the Alembic migrations.

Core tables, not ORM classes: the hot paths (bulk metric inserts, search pages) build rows and
statements directly. The migration in ``migrations/versions`` creates exactly these tables; a
test compares the two.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# Postgres BIGINT identity, SQLite INTEGER PRIMARY KEY (the rowid) for autoincrement ids.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_DOUBLE = sa.Float(precision=53).with_variant(sa.Double(), "postgresql")

experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("experiment_id", _ID, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("artifact_location", sa.String(2000), nullable=False),
    sa.Column("lifecycle_stage", sa.String(20), nullable=False, server_default="active"),
    sa.Column("creation_time", sa.BigInteger),
    sa.Column("last_update_time", sa.BigInteger),
    sa.UniqueConstraint("name", name="uq_experiments_name"),
)

experiment_tags = sa.Table(
    "experiment_tags",
    metadata,
    sa.Column(
        "experiment_id",
        _ID,
        sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_uuid", sa.String(32), primary_key=True),
    sa.Column("experiment_id", _ID, sa.ForeignKey("experiments.experiment_id"), nullable=False),
    sa.Column("name", sa.String(250), nullable=False),
    sa.Column("user_id", sa.String(256), nullable=False, server_default=""),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("start_time", sa.BigInteger),
    sa.Column("end_time", sa.BigInteger),
    sa.Column("artifact_uri", sa.String(2000), nullable=False),
    sa.Column("lifecycle_stage", sa.String(20), nullable=False, server_default="active"),
    sa.Column("deleted_time", sa.BigInteger),
    sa.Index("ix_runs_experiment_stage_start", "experiment_id", "lifecycle_stage", "start_time"),
)


def _run_fk() -> sa.ForeignKey:
    return sa.ForeignKey("runs.run_uuid", ondelete="CASCADE")


def _sqlite_only(index: sa.Index) -> None:
    """An index that exists on SQLite only: on Postgres a long value (a param may hold 6000
    characters) could exceed the b-tree row size limit, and hash joins serve those filters."""
    index.ddl_if(dialect="sqlite")


def _postgres_only(index: sa.Index) -> None:
    """An index that exists on Postgres only: (key, md5(value)) indexes, fixed-size whatever the
    value's length (the search compiler compares the hash first, see ``search.value_equals``),
    and the runs' newest-first order, which SQLite's ascending index already serves."""
    index.ddl_if(dialect="postgresql")
    POSTGRES_ONLY_INDEXES.add(str(index.name))


#: Names of the indexes ``_postgres_only`` declared (a schema comparison on SQLite skips them).
POSTGRES_ONLY_INDEXES: set[str] = set()


# Postgres only (migration 0005): the default order, newest first, missing start times last.
_postgres_only(
    sa.Index(
        "ix_runs_experiment_stage_start_desc",
        runs.c.experiment_id,
        runs.c.lifecycle_stage,
        runs.c.start_time.desc().nulls_last(),
    )
)


params = sa.Table(
    "params",
    metadata,
    sa.Column("run_uuid", sa.String(32), _run_fk(), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
# SQLite only (migration 0002): see ``_sqlite_only``; Postgres indexes a hash (0004).
_sqlite_only(sa.Index("ix_params_key_value", params.c.key, params.c.value))
_postgres_only(sa.Index("ix_params_key_value_md5", params.c.key, sa.func.md5(params.c.value)))

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("run_uuid", sa.String(32), _run_fk(), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
# SQLite only (migration 0002): see ``_sqlite_only``; Postgres indexes a hash (0004).
_sqlite_only(sa.Index("ix_tags_key_value", tags.c.key, tags.c.value))
_postgres_only(sa.Index("ix_tags_key_value_md5", tags.c.key, sa.func.md5(tags.c.value)))

# One row per (run, metric key): the latest point (greatest (step, timestamp, value)), min, max
# and count, kept current in the same transaction as every metric write; search and the runs
# table read it. Its integer ``series_id`` keys the points in ``metrics``.
metric_summaries = sa.Table(
    "metric_summaries",
    metadata,
    sa.Column("series_id", _ID, primary_key=True, autoincrement=True),
    sa.Column("run_uuid", sa.String(32), _run_fk(), nullable=False),
    # The run's experiment (runs never move), so a search ordered by a metric reads the
    # experiment's values in order from ix_metric_summaries_experiment_key_value (migration 0007).
    sa.Column("experiment_id", _ID, nullable=False),
    sa.Column("key", sa.String(250), nullable=False),
    sa.Column("value", _DOUBLE, nullable=False),
    sa.Column("is_nan", sa.Boolean, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("min_value", _DOUBLE),  # NULL while every point is NaN
    sa.Column("max_value", _DOUBLE),
    sa.Column("count", sa.BigInteger, nullable=False),
    # True while the points' timestamps never decrease in the primary key's (step, timestamp,
    # value) order: that order is then also history's (timestamp, step, value) order, and a
    # history page is read from the index instead of sorting the series (migration 0006).
    sa.Column("in_time_order", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("run_uuid", "key", name="uq_metric_summaries_run_key"),
    sa.Index("ix_metric_summaries_key_value", "key", "value"),
    sa.Index("ix_metric_summaries_experiment_key_value", "experiment_id", "key", "is_nan", "value"),
)

# One row per distinct point of a series (= one run's metric key). The primary key, whose
# prefix (series_id, step) is the (run, key, step) index, makes a re-sent identical point a
# no-op under INSERT ... ON CONFLICT DO NOTHING. Points carry the small integer series id, not
# the run id and key strings: rows and index entries stay small, which is what bounds ingest.
# NaN is stored as value 0 with is_nan set (SQLite cannot store NaN). On SQLite the table is
# WITHOUT ROWID: the rows live in the primary-key b-tree, one insert per point instead of two.
metrics = sa.Table(
    "metrics",
    metadata,
    # No FOREIGN KEY: a per-row referential check doubles Postgres' insert cost; the store only
    # writes series ids it read from metric_summaries in the same transaction.
    sa.Column("series_id", _ID, primary_key=True),
    sa.Column("step", sa.BigInteger, primary_key=True),
    sa.Column("timestamp", sa.BigInteger, primary_key=True),
    sa.Column("value", _DOUBLE, primary_key=True),
    sa.Column("is_nan", sa.Boolean, primary_key=True),
    sa.Column("model_id", sa.String(64)),
    sa.Column("dataset_name", sa.String(500)),
    sa.Column("dataset_digest", sa.String(36)),
    sqlite_with_rowid=False,
)

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("dataset_uuid", sa.String(36), primary_key=True),
    sa.Column(
        "experiment_id",
        _ID,
        sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("digest", sa.String(36), nullable=False),
    sa.Column("source_type", sa.String(36), nullable=False, server_default=""),
    sa.Column("source", sa.Text, nullable=False, server_default=""),
    sa.Column("schema", sa.Text),
    sa.Column("profile", sa.Text),
    sa.UniqueConstraint("experiment_id", "name", "digest", name="uq_datasets_exp_name_digest"),
)

run_inputs = sa.Table(
    "run_inputs",
    metadata,
    sa.Column("run_uuid", sa.String(32), _run_fk(), primary_key=True),
    sa.Column("input_type", sa.String(16), primary_key=True),  # "dataset" or "model"
    sa.Column("input_id", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
)

run_input_tags = sa.Table(
    "run_input_tags",
    metadata,
    sa.Column("run_uuid", sa.String(32), _run_fk(), primary_key=True),
    sa.Column("input_id", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("value", sa.String(500), nullable=False),
)

run_outputs = sa.Table(
    "run_outputs",
    metadata,
    sa.Column("run_uuid", sa.String(32), _run_fk(), primary_key=True),
    sa.Column("model_id", sa.String(64), primary_key=True),
    sa.Column("step", sa.BigInteger, nullable=False, server_default="0"),
)

logged_models = sa.Table(
    "logged_models",
    metadata,
    sa.Column("model_id", sa.String(64), primary_key=True),
    sa.Column(
        "experiment_id",
        _ID,
        sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("artifact_location", sa.String(2000), nullable=False),
    sa.Column("creation_timestamp", sa.BigInteger, nullable=False),
    sa.Column("last_updated_timestamp", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("lifecycle_stage", sa.String(20), nullable=False, server_default="active"),
    sa.Column("model_type", sa.String(500)),
    sa.Column("source_run_id", sa.String(32)),
    sa.Column("status_message", sa.Text),
    sa.Index("ix_logged_models_experiment", "experiment_id", "creation_timestamp"),
)


def _model_fk() -> sa.ForeignKey:
    return sa.ForeignKey("logged_models.model_id", ondelete="CASCADE")


logged_model_tags = sa.Table(
    "logged_model_tags",
    metadata,
    sa.Column("model_id", sa.String(64), _model_fk(), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

logged_model_params = sa.Table(
    "logged_model_params",
    metadata,
    sa.Column("model_id", sa.String(64), _model_fk(), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# Metrics logged with a model_id, linked to the model as well as stored in ``metrics``.
logged_model_metrics = sa.Table(
    "logged_model_metrics",
    metadata,
    sa.Column("model_id", sa.String(64), _model_fk(), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("step", sa.BigInteger, primary_key=True),
    sa.Column("timestamp", sa.BigInteger, primary_key=True),
    sa.Column("value", _DOUBLE, primary_key=True),
    sa.Column("is_nan", sa.Boolean, primary_key=True),
    sa.Column("run_uuid", sa.String(32), nullable=False),
    sa.Column("dataset_name", sa.String(500)),
    sa.Column("dataset_digest", sa.String(36)),
)

# ---- model registry -------------------------------------------------------------------------
# Children reference the model by name with ON UPDATE CASCADE, so a rename is one UPDATE.
_CASCADE = {"ondelete": "CASCADE", "onupdate": "CASCADE"}

registered_models = sa.Table(
    "registered_models",
    metadata,
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_updated_time", sa.BigInteger, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
)

registered_model_tags = sa.Table(
    "registered_model_tags",
    metadata,
    sa.Column(
        "name",
        sa.String(256),
        sa.ForeignKey("registered_models.name", **_CASCADE),
        primary_key=True,
    ),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

registered_model_aliases = sa.Table(
    "registered_model_aliases",
    metadata,
    sa.Column(
        "name",
        sa.String(256),
        sa.ForeignKey("registered_models.name", **_CASCADE),
        primary_key=True,
    ),
    sa.Column("alias", sa.String(255), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)

# A deleted version keeps its row with stage ``Deleted_Internal``: numbers are never reused.
model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column(
        "name",
        sa.String(256),
        sa.ForeignKey("registered_models.name", **_CASCADE),
        primary_key=True,
    ),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_updated_time", sa.BigInteger, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("user_id", sa.String(256), nullable=False, server_default=""),
    sa.Column("current_stage", sa.String(20), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("storage_location", sa.Text, nullable=False),
    sa.Column("run_id", sa.String(32), nullable=False, server_default=""),
    sa.Column("run_link", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("status_message", sa.Text, nullable=False, server_default=""),
    sa.Column("model_id", sa.String(64)),
    sa.Index("ix_model_versions_run_id", "run_id"),
)

model_version_tags = sa.Table(
    "model_version_tags",
    metadata,
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.ForeignKeyConstraint(
        ["name", "version"], ["model_versions.name", "model_versions.version"], **_CASCADE
    ),
)
