"""The MLflow schema revisions ``runyard import`` reads include the installed mlflow's head."""

from __future__ import annotations

from pathlib import Path

import pytest
from runyard.importer.source_sql import KNOWN_REVISIONS


def test_installed_mlflow_head_is_known() -> None:
    mlflow = pytest.importorskip("mlflow")
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option(
        "script_location", str(Path(mlflow.__file__).parent / "store" / "db_migrations")
    )
    script = ScriptDirectory.from_config(config)
    assert script.get_current_head() == KNOWN_REVISIONS[0]
    chain = [rev.revision for rev in script.walk_revisions()]
    assert chain[: len(KNOWN_REVISIONS)] == KNOWN_REVISIONS  # newest first, no gaps
