"""Where a version came from, on one page: its run, the run's params, latest metrics, dataset
inputs and code version (the ``mlflow.source.*`` tags)."""

from __future__ import annotations

from typing import Any

from runyard import tags as system_tags
from runyard.entities import Run
from runyard.search.evaluate import DATASET_CONTEXT_TAG, latest_metrics

#: Code-version tags MLflow clients set, with the label shown for each.
CODE_TAGS = (
    (system_tags.SOURCE_NAME, "Entry point"),
    (system_tags.SOURCE_TYPE, "Source type"),
    (system_tags.SOURCE_GIT_REPO_URL, "Repository"),
    (system_tags.SOURCE_GIT_BRANCH, "Branch"),
    (system_tags.SOURCE_GIT_COMMIT, "Commit"),
)


def lineage_of(run: Run) -> dict[str, Any]:
    """``{"run_id", "run_name", "params", "metrics", "datasets", "code"}`` of ``run``; params
    and metrics as sorted ``(key, value)`` pairs, code as ``(label, value)`` pairs."""
    tags = run.data.tags
    return {
        "run_id": run.info.run_id,
        "run_name": run.info.run_name or tags.get(system_tags.RUN_NAME, ""),
        "params": sorted(run.data.params.items()),
        "metrics": sorted(latest_metrics(run).items()),
        "datasets": [
            {
                "name": item.dataset.name,
                "digest": item.dataset.digest,
                "context": item.tags.get(DATASET_CONTEXT_TAG, ""),
            }
            for item in run.inputs.dataset_inputs
        ],
        "code": [(label, tags[key]) for key, label in CODE_TAGS if tags.get(key)],
    }
