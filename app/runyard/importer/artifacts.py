"""``--copy-artifacts``: copy each run's and logged model's files to a new artifact root and
point the imported entities there. Without it nothing is copied and URIs are kept as they are.

MLflow's proxied URIs (``mlflow-artifacts:/…``) name a path inside the old server's artifact
destination: they are read through the old server when importing over REST, or from
``--source-artifacts-destination`` (that destination's own URI) otherwise.
"""

from __future__ import annotations

import dataclasses
import tempfile
from urllib.parse import urlparse

from runyard.artifacts import repo_for_uri
from runyard.artifacts.base import ArtifactRepo
from runyard.entities import Experiment, LoggedModel
from runyard.importer.records import ImportRefused, RunRecord

PROXY_SCHEMES = ("mlflow-artifacts", "runyard-artifacts")


class ArtifactCopier:
    def __init__(
        self,
        destination_root: str,
        source_server: str | None = None,
        source_destination: str | None = None,
    ) -> None:
        self.root = destination_root.rstrip("/")
        self.source_server = source_server
        self.source_destination = source_destination.rstrip("/") if source_destination else None

    def _source_repo(self, uri: str) -> ArtifactRepo:
        if urlparse(uri).scheme not in PROXY_SCHEMES:
            return repo_for_uri(uri)
        if self.source_server:
            return repo_for_uri(uri, tracking_uri=self.source_server)
        if self.source_destination:
            inner = urlparse(uri).path.lstrip("/")
            return repo_for_uri(f"{self.source_destination}/{inner}")
        raise ImportRefused(
            f"Artifacts at {uri} are proxied by the old MLflow server: give its artifact "
            "destination with --source-artifacts-destination, or import through its REST API."
        )

    def _copy(self, source_uri: str, target_uri: str) -> None:
        source = self._source_repo(source_uri)
        if not source.list_artifacts():
            return
        with tempfile.TemporaryDirectory(prefix="runyard-import-") as tmp:
            source.download_artifacts("", tmp)
            repo_for_uri(target_uri).log_artifacts(tmp)

    def experiment(self, experiment: Experiment) -> Experiment:
        location = f"{self.root}/{experiment.experiment_id}"
        return dataclasses.replace(experiment, artifact_location=location)

    def logged_model(self, model: LoggedModel) -> LoggedModel:
        location = f"{self.root}/{model.experiment_id}/models/{model.model_id}/artifacts"
        if model.artifact_location:
            self._copy(model.artifact_location, location)
        return dataclasses.replace(model, artifact_location=location)

    def run(self, record: RunRecord) -> RunRecord:
        info = record.info
        location = f"{self.root}/{info.experiment_id}/{info.run_id}/artifacts"
        if info.artifact_uri:
            self._copy(info.artifact_uri, location)
        return dataclasses.replace(record, info=dataclasses.replace(info, artifact_uri=location))
