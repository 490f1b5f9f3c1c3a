"""Any tracking store read through the public store API: an MLflow server's REST API (through
``RestStore``) as an import source, and the import's target when it is verified."""

from __future__ import annotations

from collections.abc import Iterator

from runyard.entities import Experiment, LoggedModel, Metric, ViewType
from runyard.importer.records import RegistryRecord, RunRecord
from runyard.importer.source_registry import registry_from_store
from runyard.store.base import TrackingStore
from runyard.store.registry_base import RegistryStore

_PAGE = 1000
_HISTORY_PAGE = 25_000


class StoreSource:
    """Experiments, runs and whole metric histories, page by page, through ``store``."""

    def __init__(self, store: TrackingStore, description: str) -> None:
        self.store = store
        self.description = description

    def check(self) -> None:
        self.store.check_ready()

    def experiments(self) -> Iterator[Experiment]:
        token = None
        while True:
            page = self.store.search_experiments(ViewType.ALL, _PAGE, page_token=token)
            yield from page
            token = page.token
            if not token:
                return

    def logged_models(self, experiment_id: str) -> Iterator[LoggedModel]:
        token = None
        while True:
            page = self.store.search_logged_models([experiment_id], None, 100, token)
            yield from page
            token = page.token
            if not token:
                return

    def run_ids(self, experiment_id: str) -> list[str]:
        ids, token = [], None
        while True:
            page = self.store.search_runs(
                [experiment_id], "", ViewType.ALL, _PAGE, ["attributes.start_time ASC"], token
            )
            ids += [run.info.run_id for run in page]
            token = page.token
            if not token:
                return ids

    def run(self, run_id: str) -> RunRecord:
        run = self.store.get_run(run_id)
        return RunRecord(
            run.info, dict(run.data.params), dict(run.data.tags), run.inputs, run.outputs
        )

    def metric_points(self, run_id: str) -> Iterator[Metric]:
        for key in sorted(self.store.get_run(run_id).data.metrics):
            token = None
            while True:
                page = self.store.get_metric_history(run_id, key, _HISTORY_PAGE, token)
                for metric in page:
                    yield metric if metric.run_id else _with_run(metric, run_id)
                token = page.token
                if not token:
                    break

    def count_points(self, run_id: str) -> int:
        return sum(1 for _ in self.metric_points(run_id))

    def registered_models(self) -> Iterator[RegistryRecord]:
        if isinstance(self.store, RegistryStore):
            yield from registry_from_store(self.store)

    def close(self) -> None:
        self.store.close()


def _with_run(metric: Metric, run_id: str) -> Metric:
    return Metric(
        metric.key,
        metric.value,
        metric.timestamp,
        metric.step,
        run_id,
        metric.model_id,
        metric.dataset_name,
        metric.dataset_digest,
    )
