"""The registry half of ``runyard.Client`` (MLflow's ``MlflowClient`` names and arguments),
``register_model`` and artifact download by URI, including ``models:/`` URIs:

* ``models:/<name>/<version>``, ``models:/<name>@<alias>``, ``models:/<name>/latest`` and
  ``models:/<name>/<stage>`` name a registered version; its files are at its download URI;
* ``runs:/<run_id>/<path>`` names files of a run;
* anything else is an artifact location (``file:``, ``s3:``, ``mlflow-artifacts:`` ...).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from runyard.artifacts import repo_for_uri
from runyard.entities import LoggedModel, PagedList
from runyard.errors import (
    InvalidParameterValue,
    NotImplementedByBackend,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
    RunyardError,
)
from runyard.locations import canonical_artifact_path
from runyard.registry.entities import (
    STAGES,
    STATUS_FAILED,
    STATUS_PENDING,
    ModelVersion,
    RegisteredModel,
)
from runyard.registry.sources import logged_model_reference, split_reference
from runyard.registry.validation import (
    SEARCH_MODELS_DEFAULT,
    SEARCH_VERSIONS_DEFAULT,
    canonical_stage,
)
from runyard.search.render import quote_string

_MODELS_URI = re.compile(
    r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<ref>[^/]+))(?P<rest>/.*)?$"
)


#: MLflow's default wait for a new model version to be ready, and how often it looks.
DEFAULT_AWAIT_SECONDS = 300
AWAIT_POLL_SECONDS = 1.0


def _required_key(key: str | None) -> str:
    if key is None:
        raise InvalidParameterValue("A tag key is required.")
    return key


def _pairs(tags: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    return [(str(k), str(v)) for k, v in (tags or {}).items()]


class RegistryClientMixin:
    """Registry methods of ``Client``; ``self._store`` is a tracking store that is also a
    ``RegistryStore`` (every runyard store is)."""

    _store: Any
    _tracking_uri: str

    # ---- registered models -------------------------------------------------------------------
    def create_registered_model(
        self, name: str, tags: Mapping[str, Any] | None = None, description: str | None = None
    ) -> RegisteredModel:
        return self._store.create_registered_model(name, _pairs(tags), description)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._store.get_registered_model(name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        return self._store.rename_registered_model(name, new_name)

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        return self._store.update_registered_model(name, description or "")

    def delete_registered_model(self, name: str) -> None:
        self._store.delete_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODELS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        return self._store.search_registered_models(
            filter_string, max_results, order_by, page_token
        )

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        return self._store.get_latest_versions(name, stages)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self._store.set_registered_model_tag(name, key, str(value))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._store.delete_registered_model_tag(name, key)

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        self._store.set_registered_model_alias(name, alias, version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._store.delete_registered_model_alias(name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._store.get_model_version_by_alias(name, alias)

    # ---- model versions ----------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        await_creation_for: int | None = DEFAULT_AWAIT_SECONDS,
        model_id: str | None = None,
    ) -> ModelVersion:
        """A new version of ``name``; waits up to ``await_creation_for`` seconds for it to be
        ready, as MLflow does (a runyard server's versions are ready when created)."""
        created = self._store.create_model_version(
            name, source, run_id, _pairs(tags), run_link, description, model_id
        )
        return self._await_ready(created, await_creation_for)

    def _await_ready(self, version: ModelVersion, seconds: int | None) -> ModelVersion:
        """``version`` once its registration is over: ready, or a clear error when it failed
        or did not finish in ``seconds`` (0 or None: not waited for)."""
        deadline = time.monotonic() + (seconds or 0)
        while version.status == STATUS_PENDING and seconds and time.monotonic() < deadline:
            time.sleep(AWAIT_POLL_SECONDS)
            version = self._store.get_model_version(version.name, version.version)
        if version.status == STATUS_FAILED:
            raise RunyardError(
                f"Registration of model {version.name!r} version {version.version} failed: "
                f"{version.status_message or 'no reason given'}"
            )
        if version.status == STATUS_PENDING and seconds:
            raise RunyardError(
                f"Model {version.name!r} version {version.version} was not ready after "
                f"{seconds} seconds."
            )
        return version

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        return self._store.get_model_version(name, version)

    def get_model_version_stages(self, name: str, version: int | str) -> list[str]:
        """The stages a version can be moved to: the same for every version, as in MLflow."""
        return list(STAGES)

    def copy_model_version(self, src_model_uri: str, dst_name: str) -> ModelVersion:
        """A new version of ``dst_name`` (created if needed) copying the registered version
        that ``src_model_uri`` names (``models:/<name>/<version>``, ``@<alias>`` or a stage):
        its source is that version, and it keeps its run, logged model, tags and description,
        as MLflow's copy does (promoting a model from one registered name to another)."""
        match = _MODELS_URI.match(src_model_uri)
        if match is None or match.group("rest"):
            raise InvalidParameterValue(
                f"Unsupported source model URI: '{src_model_uri}'. copy_model_version copies "
                "a registered version: models:/<name>/<version>, @<alias> or a stage."
            )
        name = match.group("name")
        version = self._model_uri_version(name, match.group("alias"), match.group("ref"))
        src = self._store.get_model_version(name, version)
        with contextlib.suppress(ResourceAlreadyExists):
            self._store.create_registered_model(dst_name)
        return self._store.create_model_version(
            dst_name,
            f"models:/{src.name}/{src.version}",
            src.run_id or None,
            list(src.tags.items()),
            src.run_link or None,
            src.description or None,
            src.model_id,
        )

    def update_model_version(
        self, name: str, version: int | str, description: str | None = None
    ) -> ModelVersion:
        return self._store.update_model_version(name, version, description or "")

    def delete_model_version(self, name: str, version: int | str) -> None:
        self._store.delete_model_version(name, version)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_VERSIONS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        return self._store.search_model_versions(filter_string, max_results, order_by, page_token)

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        return self._store.get_model_version_download_uri(name, version)

    def set_model_version_tag(
        self,
        name: str,
        version: int | str | None = None,
        key: str | None = None,
        value: Any = None,
        stage: str | None = None,
    ) -> None:
        """Tag a version, given by number or (MLflow's deprecated form) as the latest version
        in ``stage``."""
        chosen = self._version_or_stage(name, version, stage)
        self._store.set_model_version_tag(name, chosen, _required_key(key), str(value))

    def delete_model_version_tag(
        self,
        name: str,
        version: int | str | None = None,
        key: str | None = None,
        stage: str | None = None,
    ) -> None:
        chosen = self._version_or_stage(name, version, stage)
        self._store.delete_model_version_tag(name, chosen, _required_key(key))

    def _version_or_stage(self, name: str, version: int | str | None, stage: str | None) -> Any:
        """The version a tag call names: exactly one of a number and a stage, as MLflow asks."""
        if (version is None) == (stage is None):
            raise InvalidParameterValue("Exactly one of version or stage must be given.")
        if version is not None:
            return version
        assert stage is not None
        latest = self._store.get_latest_versions(name, [canonical_stage(stage)])
        if not latest:
            raise ResourceDoesNotExist(f"Model {name!r} has no version in stage {stage!r}.")
        return max(v.version for v in latest)

    def transition_model_version_stage(
        self, name: str, version: int | str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        return self._store.transition_model_version_stage(
            name, version, stage, archive_existing_versions
        )

    # ---- registering and resolving URIs ------------------------------------------------------
    def register_model(
        self,
        model_uri: str,
        name: str,
        tags: Mapping[str, Any] | None = None,
        await_registration_for: int | None = DEFAULT_AWAIT_SECONDS,
    ) -> ModelVersion:
        """Create ``name`` if needed and add a version from ``model_uri`` (``runs:/...``,
        ``models:/<model_id>`` or a location inside a run's artifacts), like MLflow's."""
        with contextlib.suppress(ResourceAlreadyExists):
            self._store.create_registered_model(name)
        source, run_id, model_id = self._registration_source(model_uri)
        created = self._store.create_model_version(
            name, source, run_id, _pairs(tags), None, None, model_id
        )
        return self._await_ready(created, await_registration_for)

    def _registration_source(self, model_uri: str) -> tuple[str, str | None, str | None]:
        """For ``runs:/<run>/<path>`` with no files at ``path`` but a logged model of that
        name from the run (how MLflow 3 logs models), register the logged model instead."""
        if (logged := logged_model_reference(model_uri)) is not None:
            return model_uri, None, logged[0]
        if (reference := split_reference(model_uri, "runs")) is None:
            return model_uri, None, None
        run_id, path = reference
        logged = self._logged_model_instead(run_id, path)
        if logged is None:
            return model_uri, run_id, None
        return f"models:/{logged.model_id}", run_id, logged.model_id

    def _logged_model_instead(self, run_id: str, path: str) -> LoggedModel | None:
        """The newest logged model named ``path`` from the run, when the run's artifacts hold
        nothing at ``path``: MLflow 3 logs a model there, and ``runs:/<run>/<name>`` names it."""
        run = self._store.get_run(run_id)
        repo = repo_for_uri(run.info.artifact_uri, tracking_uri=self._tracking_uri)
        if not path or repo.file_info(canonical_artifact_path(path)) is not None:
            return None
        found = self._store.search_logged_models(
            [run.info.experiment_id], filter_string=f"name = {quote_string(path)}", max_results=100
        )
        logged = [m for m in found if m.source_run_id == run_id]
        return max(logged, key=lambda m: m.creation_timestamp) if logged else None

    def resolve_artifact_uri(self, artifact_uri: str) -> tuple[str, str]:
        """``(location, path inside it)`` of a ``models:/``, ``runs:/`` or plain artifact URI."""
        match = _MODELS_URI.match(artifact_uri)
        if match:
            name, alias, ref = match.group("name"), match.group("alias"), match.group("ref")
            version = self._model_uri_version(name, alias, ref)
            location = self._store.get_model_version_download_uri(name, version)
            return location, canonical_artifact_path((match.group("rest") or "").lstrip("/"))
        if (logged := logged_model_reference(artifact_uri)) is not None:
            model_id, rest = logged
            location = self._store.get_logged_model(model_id).artifact_location
            return location, canonical_artifact_path(rest)
        if (reference := split_reference(artifact_uri, "runs")) is not None:
            run_id, rest = reference
            name, _, below = canonical_artifact_path(rest).partition("/")
            if (logged := self._logged_model_instead(run_id, name)) is not None:
                return logged.artifact_location, below
            return self._store.get_run(run_id).info.artifact_uri, canonical_artifact_path(rest)
        return artifact_uri, ""

    def _model_uri_version(self, name: str, alias: str | None, ref: str | None) -> int | str:
        if alias is not None:
            return self._store.get_model_version_by_alias(name, alias).version
        assert ref is not None
        if ref.isdigit():
            return ref
        stages = None if ref.lower() == "latest" else [canonical_stage(ref)]
        latest = self._store.get_latest_versions(name, stages)
        if not latest:
            raise ResourceDoesNotExist(f"No versions of model {name!r} for {ref!r}")
        return max(v.version for v in latest)

    def download_artifacts_from_uri(
        self, artifact_uri: str, dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        """Copy the files behind ``artifact_uri`` to ``dst_path`` (a new temporary directory
        when None); returns the local path. What the URI names lands directly in ``dst_path``
        (``runs:/<run>/a/b.txt`` at ``dst_path/b.txt``), as MLflow places it."""
        if not isinstance(artifact_uri, str) or not artifact_uri:
            raise InvalidParameterValue("An artifact URI is required.")
        location, path = self.resolve_artifact_uri(artifact_uri)
        if location == artifact_uri:  # a plain URI: what it names lands in dst_path by name
            location, path = _parent_and_name(artifact_uri)
        dst = os.fspath(dst_path) if dst_path is not None else tempfile.mkdtemp()
        os.makedirs(dst, exist_ok=True)
        repo = repo_for_uri(location, tracking_uri=self._tracking_uri)
        return repo.download_artifacts(path, dst, keep_parents=False)


def _parent_and_name(uri: str) -> tuple[str, str]:
    """A plain artifact URI (``s3://b/a/f.txt``, ``/data/f.txt``) as the repository of its
    parent and its last name, so a file downloads as ``dst_path/f.txt`` and a directory as
    ``dst_path/<name>/...``, as MLflow places them; a bucket's or a volume's root stays whole."""
    parsed = urlsplit(uri)
    parent, _, name = parsed.path.rstrip("/").rpartition("/")
    if not name:
        return uri, ""
    if not parsed.scheme:  # a local path, not percent-encoded
        return parent or (os.sep if parsed.path.startswith("/") else "."), canonical_artifact_path(
            name
        )
    return urlunsplit(parsed._replace(path=parent)), canonical_artifact_path(unquote(name))


def register_model(
    model_uri: str,
    name: str,
    await_registration_for: int | None = DEFAULT_AWAIT_SECONDS,
    *,
    tags: Mapping[str, Any] | None = None,
    env_pack: Any = None,
) -> ModelVersion:
    """``mlflow.register_model``: a new version of ``name`` (created if needed) from
    ``model_uri``, on the current tracking URI, waited for up to ``await_registration_for``
    seconds. ``env_pack`` (packing an environment for a hosted serving platform) is not
    offered."""
    from runyard.tracking.fluent import _client

    if env_pack is not None:
        raise NotImplementedByBackend("register_model(env_pack=...) is not supported.")
    return _client().register_model(model_uri, name, tags, await_registration_for)


def download_artifacts(artifact_uri: str, dst_path: str | os.PathLike[str] | None = None) -> str:
    """``mlflow.artifacts.download_artifacts(artifact_uri=...)`` for ``models:/``, ``runs:/``
    and plain artifact URIs, on the current tracking URI; returns the local path."""
    from runyard.tracking.fluent import _client

    return _client().download_artifacts_from_uri(artifact_uri, dst_path)
