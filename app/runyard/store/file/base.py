"""``FileStoreBase``: the one state every part of the file store shares, set in one place, and
the operations each part offers the others, declared where a reader can find them.

The parts (experiments, runs, queries, models, registry) are mixins of ``FileStore``; each
inherits this base instead of expecting attributes by name. The store keeps no state between
calls but the root: several processes may use one directory at once.
"""

from __future__ import annotations

import abc
import contextlib
import os
from collections.abc import Iterator
from typing import Any

from runyard.entities import Experiment, LifecycleStage, Run, RunInputs, RunOutputs
from runyard.store.file.layout import Layout, local_path_from_uri


class FileStoreBase(abc.ABC):
    def __init__(self, root_uri: str, artifact_root_uri: str | None = None) -> None:
        self.root_uri = root_uri
        #: where new experiments keep artifacts (None: in their own directory, as MLflow does)
        self.artifact_root_uri = artifact_root_uri
        self.root = local_path_from_uri(root_uri)
        self._layout = Layout(self.root)
        os.makedirs(self.root, exist_ok=True)

    # ---- offered by the experiments part (experiments.py) ------------------------------------
    @abc.abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment: ...

    @abc.abstractmethod
    def _active_experiment_dir(self, experiment_id: str) -> str:
        """The directory of an active experiment; refuses a deleted one."""

    # ---- offered by the runs part (runs.py) --------------------------------------------------
    @abc.abstractmethod
    def _active_run(self, run_id: str) -> tuple[str, str, dict[str, Any]]:
        """``(experiment id, run directory, meta)`` of an active run; refuses a deleted one."""

    @contextlib.contextmanager
    def _writing_to(self, run_id: str) -> Iterator[None]:
        """Writes to an active run, each ``within`` its directory (``layout.write_atomic``).
        When the run's experiment is deleted meanwhile, the directory moves to the trash
        under them and they fail; the answer is then the one a write after the delete gets."""
        try:
            yield
        except FileNotFoundError:
            self._active_run(run_id)  # raises, the run being deleted now
            raise

    @abc.abstractmethod
    def _load_run(self, run_dir: str, meta: dict[str, Any]) -> Run: ...

    @abc.abstractmethod
    def _set_run_stage(self, run_dir: str, stage: LifecycleStage, deleted_at: int | None) -> None:
        """Move a run to ``stage`` (deleting or restoring its experiment moves its runs)."""

    # ---- offered by the models part (models.py) ----------------------------------------------
    @abc.abstractmethod
    def _read_inputs(self, run_dir: str, exp_dir: str) -> RunInputs: ...

    @abc.abstractmethod
    def _read_outputs(self, run_dir: str) -> RunOutputs: ...
