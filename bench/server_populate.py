"""Write the search data set straight through each product's own store, before its server starts.

Creating 5,000 runs through MLflow's REST API takes many minutes on a small machine; its own
``SqlAlchemyStore`` writes the same rows faster, and the server then reads data written in its own
format. runyard's runs go through its ``SqlStore`` the same way, so both sides are populated alike.
The runs are exactly those ``server_workloads.populate`` creates over REST (same names, start
times, metrics, params and tags).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from bench import server_workloads as w
from bench.server_procs import mlflow_uri

EXPERIMENT = "search"


def _entities(product: str) -> tuple[Any, Any, Any]:
    if product == "runyard":
        from runyard.entities import Metric, Param, RunTag
    else:
        from mlflow.entities import Metric, Param, RunTag
    return Metric, Param, RunTag


def open_store(product: str, uri: str, artifact_root: Path) -> Any:
    if product == "runyard":
        from runyard.store.sql import SqlStore

        return SqlStore(uri, str(artifact_root))
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    logging.disable(logging.WARNING)  # MLflow logs every migration step
    try:
        return SqlAlchemyStore(mlflow_uri(uri), str(artifact_root))
    finally:
        logging.disable(logging.NOTSET)


def close_store(product: str, store: Any) -> None:
    if product == "runyard":
        store.close()
    else:
        store.engine.dispose()


def populate_store(product: str, uri: str, size: w.Size, artifact_root: Path) -> dict[str, Any]:
    """``size.runs`` runs in a new experiment of ``product``'s store at ``uri``."""
    metric_cls, param_cls, tag_cls = _entities(product)
    store = open_store(product, uri, artifact_root)
    started = time.perf_counter()
    try:
        experiment_id = store.create_experiment(EXPERIMENT)
        for i in range(size.runs):
            run = store.create_run(experiment_id, "bench", w.BASE_TS + i, [], f"run-{i:05d}")
            batch = w.run_batch(i, size)
            store.log_batch(
                run.info.run_id,
                [
                    metric_cls(m["key"], m["value"], m["timestamp"], m["step"])
                    for m in batch["metrics"]
                ],
                [param_cls(p["key"], p["value"]) for p in batch["params"]],
                [tag_cls(t["key"], t["value"]) for t in batch["tags"]],
            )
    finally:
        close_store(product, store)
    return {"experiment_id": experiment_id, "seconds": time.perf_counter() - started}
