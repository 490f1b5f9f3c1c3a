"""``experiments/search-datasets``: the datasets runs of some experiments used, for the UI."""

from __future__ import annotations

from flask import Blueprint, Response

from runyard import protocol as p
from runyard import tags as system_tags
from runyard.entities import ViewType
from runyard.errors import InvalidParameterValue
from runyard.server.api.common import reply, request_fields, store
from runyard.validation import validate_experiment_id

bp = Blueprint("datasets", __name__)

#: MLflow's limits.
MAX_EXPERIMENT_IDS = 20
MAX_SUMMARIES = 1000
CONTEXT_TAG = system_tags.DATASET_CONTEXT
_PAGE = 1000


@bp.post("/experiments/search-datasets")
def search_datasets() -> Response:
    fields = request_fields()
    experiment_ids = [validate_experiment_id(e) for e in p.string_list(fields, "experiment_ids")]
    if not experiment_ids:
        raise InvalidParameterValue(
            "SearchDatasets request must specify at least one experiment_id."
        )
    if len(experiment_ids) > MAX_EXPERIMENT_IDS:
        raise InvalidParameterValue(
            f"SearchDatasets request cannot specify more than {MAX_EXPERIMENT_IDS} "
            f"experiment_ids. Received {len(experiment_ids)} experiment_ids."
        )
    summaries: dict[tuple, dict] = {}
    token = None
    while len(summaries) < MAX_SUMMARIES:
        page = store().search_runs(experiment_ids, "", ViewType.ACTIVE_ONLY, _PAGE, None, token)
        for run in page:
            for item in run.inputs.dataset_inputs:
                context = item.tags.get(CONTEXT_TAG)
                key = (run.info.experiment_id, item.dataset.name, item.dataset.digest, context)
                summaries.setdefault(
                    key,
                    {
                        "experiment_id": key[0],
                        "name": key[1],
                        "digest": key[2],
                        **({"context": context} if context else {}),
                    },
                )
        token = page.token
        if not token:
            break
    found = list(summaries.values())[:MAX_SUMMARIES]
    return reply({"dataset_summaries": found} if found else {})
