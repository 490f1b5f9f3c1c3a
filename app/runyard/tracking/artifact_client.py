"""The artifact half of ``runyard.Client``: logging files, text, dicts, images and figures into
a run's artifacts, listing and downloading them, through the run's artifact repository."""

from __future__ import annotations

import json
import os
import posixpath
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from runyard import images
from runyard.artifacts import ArtifactRepo, repo_for_uri
from runyard.clock import now_ms
from runyard.entities import FileInfo
from runyard.errors import InvalidParameterValue
from runyard.store import TrackingStore
from runyard.tracking import tables
from runyard.validation import safe_relative_path

#: Runs and logged models whose artifact repository a ``Client`` keeps (the least recently
#: used one goes first).
ARTIFACT_REPOS_REMEMBERED = 128


class ArtifactClientMixin:
    """Artifact calls of ``Client``; needs its ``_store``, ``_tracking_uri`` and ``set_tag``."""

    _store: TrackingStore
    _tracking_uri: str

    def __init__(self) -> None:
        # Each run or model's repository, or only its location until its first artifact call.
        self._artifact_repos: OrderedDict[tuple[str, str], ArtifactRepo | str] = OrderedDict()
        self._artifact_repos_lock = threading.Lock()

    if TYPE_CHECKING:

        def set_tag(
            self, run_id: str, key: str, value: Any, synchronous: bool | None = None
        ) -> Any: ...

    def _repo(self, run_id: str) -> ArtifactRepo:
        """The run's artifact repository (see ``_remembered_repo``)."""
        return self._remembered_repo(
            ("run", run_id), lambda: self._store.get_run(run_id).info.artifact_uri
        )

    def _forget_repo(self, key: tuple[str, str]) -> None:
        with self._artifact_repos_lock:
            self._artifact_repos.pop(key, None)

    def _remembered_repo(self, key: tuple[str, str], location: Callable[[], str]) -> ArtifactRepo:
        """The artifact repository of a run or a logged model, remembered: neither's artifact
        location ever changes, so only the first artifact call on one asks the store for it
        (``location``), unless this client created it, and a proxied repository shares the
        tracking server's HTTP session (``getattr``: only a REST store has one)."""
        with self._artifact_repos_lock:
            known = self._artifact_repos.get(key)
            if known is not None:
                self._artifact_repos.move_to_end(key)
        if isinstance(known, ArtifactRepo):
            return known
        http = getattr(self._store, "http", None)
        uri = known if known is not None else location()
        repo = repo_for_uri(uri, tracking_uri=self._tracking_uri, http=http)
        self._remember(key, repo)
        return repo

    def _remember(self, key: tuple[str, str], value: ArtifactRepo | str) -> None:
        """Keep a run or logged model's repository, or only its artifact location: the client
        notes that of each one it creates, so that its first artifact call need not read it
        back, and makes the repository at that call (a run may never log a file)."""
        with self._artifact_repos_lock:
            self._artifact_repos[key] = value
            self._artifact_repos.move_to_end(key)
            while len(self._artifact_repos) > ARTIFACT_REPOS_REMEMBERED:
                self._artifact_repos.popitem(last=False)

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Upload one file, or a directory as a sub-directory named after it (like MLflow)."""
        local = os.fspath(local_path)
        target = safe_relative_path(artifact_path) or None
        if os.path.isdir(local):
            name = os.path.basename(os.path.normpath(local))
            self._repo(run_id).log_artifacts(local, posixpath.join(target or "", name))
        elif os.path.isfile(local):
            self._repo(run_id).log_artifact(local, target)
        else:
            raise InvalidParameterValue(f"No such file or directory to log: '{local}'")

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        local = os.fspath(local_dir)
        if not os.path.isdir(local):
            raise InvalidParameterValue(f"No such directory to log: '{local}'")
        self._repo(run_id).log_artifacts(local, safe_relative_path(artifact_path) or None)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Write ``text`` to ``artifact_file`` (a path inside the run's artifacts)."""
        self._log_bytes(run_id, text.encode("utf-8"), artifact_file)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        """JSON, or YAML when ``artifact_file`` ends in ``.yaml`` / ``.yml``."""
        if artifact_file.endswith((".yaml", ".yml")):
            import yaml

            text = yaml.safe_dump(dictionary, default_flow_style=False, sort_keys=False)
        else:
            text = json.dumps(dictionary, indent=2)
        self.log_text(run_id, text, artifact_file)

    def log_image(
        self,
        run_id: str,
        image: Any,
        artifact_file: str | None = None,
        key: str | None = None,
        step: int | None = None,
        timestamp: int | None = None,
        synchronous: bool | None = None,
    ) -> None:
        """MLflow's two uses: ``artifact_file`` saves one image file; ``key`` (and ``step``)
        logs an image per step in MLflow's layout (see ``runyard.images``), shown by the UI
        as a grid per key with a step slider."""
        if artifact_file is not None and any(a is not None for a in (key, step, timestamp)):
            raise TypeError(
                "The `artifact_file` parameter cannot be used in conjunction with `key`, "
                "`step`, or `timestamp` parameters."
            )
        if artifact_file is None and key is None:
            raise TypeError("Specify exactly one of `artifact_file` or `key`.")
        picture = images.to_pil(image)
        if artifact_file is not None:
            self._log_with(run_id, artifact_file, picture.save)
            return
        image_key = images.validate_image_key(str(key))
        full, small = images.image_paths(image_key, step or 0, timestamp or now_ms())
        self._log_with(run_id, full, picture.save)
        self._log_with(run_id, small, images.compressed_copy(picture).save)
        self.set_tag(run_id, images.LOGGED_IMAGES_TAG, True, synchronous)

    def log_figure(
        self,
        run_id: str,
        figure: Any,
        artifact_file: str,
        *,
        save_kwargs: dict[str, Any] | None = None,
    ) -> None:
        """A matplotlib figure (``savefig``) or a plotly figure (HTML or an image format)."""
        kwargs = dict(save_kwargs or {})
        module = type(figure).__module__
        if module.startswith("matplotlib"):
            self._log_with(run_id, artifact_file, lambda path: figure.savefig(path, **kwargs))
        elif module.startswith("plotly"):
            if artifact_file.endswith(".html"):
                kwargs.setdefault("include_plotlyjs", "cdn")
                kwargs.setdefault("auto_open", False)
                self._log_with(run_id, artifact_file, lambda p: figure.write_html(p, **kwargs))
            else:
                self._log_with(run_id, artifact_file, lambda p: figure.write_image(p, **kwargs))
        else:
            raise TypeError(f"Unsupported figure object type: '{type(figure)}'")

    def _log_with(self, run_id: str, artifact_file: str, write: Callable[[str], Any]) -> None:
        """Log the file that ``write(local_path)`` creates as ``artifact_file``."""
        rel = safe_relative_path(artifact_file)
        if not rel:
            raise InvalidParameterValue(f"Invalid artifact file name {artifact_file!r}.")
        directory, name = posixpath.split(rel)
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, name)
            write(local)
            self._repo(run_id).log_artifact(local, directory or None)

    def _log_bytes(self, run_id: str, data: bytes, artifact_file: str) -> None:
        def write(path: str) -> None:
            with open(path, "wb") as fh:
                fh.write(data)

        self._log_with(run_id, artifact_file, write)

    def _model_repo(self, model_id: str) -> ArtifactRepo:
        """The artifact repository of a logged model's files (see ``_remembered_repo``): the
        model is read once, not for each file logged, which also spares reading every metric
        point linked to it (an autologged training's thousands)."""
        return self._remembered_repo(
            ("model", model_id), lambda: self._store.get_logged_model(model_id).artifact_location
        )

    def log_model_artifacts(
        self, model_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Upload a directory's files into a logged model's artifacts (under
        ``artifact_path`` inside them, when given)."""
        local = os.fspath(local_dir)
        if not os.path.isdir(local):
            raise InvalidParameterValue(f"No such directory to log: '{local}'")
        self._model_repo(model_id).log_artifacts(local, artifact_path)

    def log_model_artifact(
        self, model_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Upload one file into a logged model's artifacts (into ``artifact_path`` inside
        them, when given)."""
        local = os.fspath(local_path)
        if not os.path.isfile(local):
            raise InvalidParameterValue(f"No such file to log: '{local}'")
        self._model_repo(model_id).log_artifact(local, artifact_path)

    def list_logged_model_artifacts(self, model_id: str, path: str | None = None) -> list[FileInfo]:
        """The files and directories directly under ``path`` in a logged model's artifacts."""
        return self._model_repo(model_id).list_artifacts(safe_relative_path(path) or None)

    def log_table(self, run_id: str, data: Any, artifact_file: str) -> None:
        """Append ``data`` (a DataFrame or dict) to the run's table ``artifact_file`` (``.json``
        or ``.parquet``), as MLflow does (``runyard.tracking.tables``)."""
        tables.log_table(self, run_id, data, artifact_file)  # type: ignore[arg-type]

    def load_table(
        self,
        experiment_id: str,
        artifact_file: str,
        run_ids: Sequence[str] | None = None,
        extra_columns: Sequence[str] | None = None,
    ) -> Any:
        """The table ``artifact_file`` of every run of the experiment that logged it, as one
        DataFrame."""
        return tables.load_table(self, experiment_id, artifact_file, run_ids, extra_columns)  # type: ignore[arg-type]

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        return self._repo(run_id).list_artifacts(safe_relative_path(path) or None)

    def download_artifacts(
        self, run_id: str, path: str, dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        """Copy a file or directory of the run's artifacts locally; returns the local path.
        What ``path`` names lands directly in ``dst_path`` (``a/b.txt`` at ``dst_path/b.txt``),
        as MLflow's client places it."""
        dst = os.fspath(dst_path) if dst_path is not None else tempfile.mkdtemp()
        os.makedirs(dst, exist_ok=True)
        rel = safe_relative_path(path)
        return self._repo(run_id).download_artifacts(rel, dst, keep_parents=False)
