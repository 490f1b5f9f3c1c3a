"""A runyard server as the import's target, written through its import routes
(``runyard.server.api.imports``) so ids, version numbers and timestamps are kept.

A run goes in parts: the run with its params and tags, its history ``REST_POINT_CHUNK``
points per request, then inputs, outputs and its final stage. The server marks the run
pending until the last part, so an import stopped halfway redoes that run on the next start
(points sent twice are stored once). Verification reads the server through MLflow's API.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from runyard import protocol as p
from runyard.entities import Experiment, LoggedModel, Metric
from runyard.importer.records import RegistryRecord, RunRecord
from runyard.importer.wire import (
    IMPORT_API,
    metrics_to_json,
    registry_record_to_json,
    run_record_to_json,
)
from runyard.store.rest import RestStore

#: Points per request: about 1 MB of JSON, far below a server's 16 MiB default body limit.
REST_POINT_CHUNK = 10_000


class RestTarget:
    def __init__(self, url: str) -> None:
        self.store = RestStore(url)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.store.http.call("POST", f"{IMPORT_API}/{path}", json_body=body)

    def put_experiment(self, experiment: Experiment) -> None:
        self._post("experiments", {"experiment": p.experiment_to_json(experiment)})

    def put_logged_model(self, model: LoggedModel) -> None:
        self._post("logged-models", {"model": p.logged_model_to_json(model)})

    def has_finished_run(self, record: RunRecord) -> bool:
        return bool(self._post("runs/finished", {"run": run_record_to_json(record)})["finished"])

    def put_run(self, record: RunRecord, points: Iterable[Metric]) -> int:
        run = run_record_to_json(record)
        run_id = record.info.run_id
        self._post("runs/begin", {"run": run})
        written = 0
        iterator = iter(points)
        while chunk := list(itertools.islice(iterator, REST_POINT_CHUNK)):
            self._post("runs/points", {"run_id": run_id, "metrics": metrics_to_json(chunk)})
            written += len(chunk)
        self._post("runs/finish", {"run": run})
        return written

    def put_registered_model(self, record: RegistryRecord) -> int:
        return int(self._post("registered-models", registry_record_to_json(record))["versions"])

    def close(self) -> None:
        self.store.close()
