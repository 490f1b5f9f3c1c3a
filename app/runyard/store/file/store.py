"""``FileStore``: tracking data in an ``mlruns`` directory, byte-compatible with MLflow's file
store in both directions (MLflow reads what runyard wrote and runyard reads what MLflow wrote).

The store keeps no state between calls but the root path: several processes (training jobs,
a server, the UI) may use one directory at once, and each call sees what is on disk now.
The work is split by concept, each part a mixin over ``FileStoreBase`` (the shared state and
what the parts offer each other): ``layout`` (paths and safe writes), ``experiments``,
``runs`` (create, update, log), ``queries`` (history, summaries, search), ``models`` (inputs,
outputs, logged models), ``metrics`` (metric files) and ``registry`` (registered models and
versions).
"""

from __future__ import annotations

import os

from runyard.errors import TemporarilyUnavailable
from runyard.store.base import TrackingStore
from runyard.store.file.experiments import ExperimentsMixin
from runyard.store.file.models import ModelsMixin
from runyard.store.file.queries import QueriesMixin
from runyard.store.file.registry import FileRegistryMixin
from runyard.store.file.runs import RunsMixin


class FileStore(
    ExperimentsMixin, RunsMixin, QueriesMixin, ModelsMixin, FileRegistryMixin, TrackingStore
):
    """A ``TrackingStore`` over a local directory.

    ``root_uri`` may be ``file:./mlruns``, ``file:///abs/path``, ``file:/abs`` or a plain path.
    The directory and the ``Default`` experiment ("0") are created on first use. New
    experiments keep their artifacts in their own directory, like MLflow's, unless
    ``artifact_root_uri`` is given (a server proxying artifacts passes ``mlflow-artifacts:/``):
    then an experiment's artifact location is ``<artifact_root_uri>/<experiment_id>``.
    """

    def __init__(self, root_uri: str, artifact_root_uri: str | None = None) -> None:
        super().__init__(root_uri, artifact_root_uri)
        self._ensure_default_experiment()

    def check_ready(self) -> None:
        if not os.path.isdir(self.root) or not os.access(self.root, os.W_OK):
            raise TemporarilyUnavailable(f"Tracking directory {self.root} is not writable")

    def __repr__(self) -> str:
        return f"FileStore({self.root_uri!r})"


__all__ = ["FileStore"]
