"""The fluent searches: lists of every match over all pages (or the first ``max_results``),
as MLflow's module-level searches return, where ``Client`` returns one page at a time."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from runyard.entities import Experiment, PagedList, Run, ViewType
from runyard.errors import InvalidParameterValue
from runyard.tracking.fluent import _client, _resolve_experiment_id

_logger = logging.getLogger(__name__)
#: Page size used when ``search_runs`` follows pages for the caller.
_SEARCH_PAGE_SIZE = 10000
#: Page size used when ``search_experiments`` follows pages for the caller.
_EXPERIMENTS_PAGE_SIZE = 1000

T = TypeVar("T")


def every_page(
    fetch: Callable[[int, str | None], PagedList[T]], max_results: int | None, page_size: int
) -> list[T]:
    """What ``fetch(size, page_token)`` finds over all its pages, or the first ``max_results``:
    the fluent searches return lists, as MLflow's do, where the client returns pages."""
    found: list[T] = []
    token: str | None = None
    while max_results is None or len(found) < max_results:
        size = page_size if max_results is None else min(page_size, max_results - len(found))
        page = fetch(size, token)
        found.extend(page)
        token = page.token
        if not token:
            break
    return found


def search_experiments(
    view_type: ViewType | str = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    """All matching experiments (every page), or the first ``max_results``."""
    client = _client()
    return every_page(
        lambda size, token: client.search_experiments(
            view_type, size, filter_string, order_by, token
        ),
        max_results,
        _EXPERIMENTS_PAGE_SIZE,
    )


def _experiments_to_search(
    client: Any,
    experiment_ids: Sequence[str] | str | None,
    experiment_names: Sequence[str] | None,
    search_all_experiments: bool,
) -> Sequence[str] | str:
    """The experiments a ``search_runs`` call names, as MLflow resolves its arguments."""
    if experiment_ids and experiment_names:
        raise InvalidParameterValue(
            "Only experiment_ids or experiment_names can be used, but not both."
        )
    if experiment_ids:
        return experiment_ids
    if experiment_names:
        found = []
        for name in experiment_names:
            experiment = client.get_experiment_by_name(name) if name is not None else None
            if experiment is None:
                _logger.warning("No experiment is named %r; it is not searched.", name)
            else:
                found.append(experiment.experiment_id)
        return found
    if search_all_experiments:
        return [e.experiment_id for e in search_experiments(ViewType.ACTIVE_ONLY)]
    return [_resolve_experiment_id(client)]


def search_runs(
    experiment_ids: Sequence[str] | str | None = None,
    filter_string: str = "",
    run_view_type: ViewType | str = ViewType.ACTIVE_ONLY,
    max_results: int = 100_000,
    order_by: Sequence[str] | None = None,
    output_format: str = "list",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> Any:
    """Matching runs of the given experiments, by id or by name (not both), following pages
    up to ``max_results``; with neither, the active experiment, or every active experiment
    with ``search_all_experiments``. Names that match no experiment are passed over (with a
    warning), as in MLflow. ``output_format="pandas"`` gives MLflow's DataFrame (needs
    pandas)."""
    if output_format not in ("list", "pandas"):
        raise InvalidParameterValue(
            f"Unsupported output_format {output_format!r}; use 'list' or 'pandas'."
        )
    client = _client()
    ids = _experiments_to_search(client, experiment_ids, experiment_names, search_all_experiments)
    if not ids:
        return runs_to_pandas([]) if output_format == "pandas" else []
    runs = every_page(
        lambda size, token: client.search_runs(
            ids, filter_string, run_view_type, size, order_by, token
        ),
        max_results,
        _SEARCH_PAGE_SIZE,
    )
    return runs_to_pandas(runs) if output_format == "pandas" else runs


def runs_to_pandas(runs: Sequence[Run]) -> Any:
    """MLflow's columns: run info, then ``metrics.*`` (NaN when missing), ``params.*`` and
    ``tags.*`` (None when missing)."""
    try:
        import pandas as pd
    except ImportError:
        raise InvalidParameterValue(
            "output_format='pandas' needs pandas; install it or use output_format='list'."
        ) from None
    data: dict[str, list[Any]] = {
        "run_id": [r.info.run_id for r in runs],
        "experiment_id": [r.info.experiment_id for r in runs],
        "status": [str(r.info.status) for r in runs],
        "artifact_uri": [r.info.artifact_uri for r in runs],
        "start_time": [pd.to_datetime(r.info.start_time, unit="ms", utc=True) for r in runs],
        "end_time": [pd.to_datetime(r.info.end_time, unit="ms", utc=True) for r in runs],
    }
    for prefix, missing, values in (
        ("metrics.", float("nan"), lambda r: r.data.metrics),
        ("params.", None, lambda r: r.data.params),
        ("tags.", None, lambda r: r.data.tags),
    ):
        keys = sorted({k for r in runs for k in values(r)})
        for key in keys:
            data[prefix + key] = [values(r).get(key, missing) for r in runs]
    return pd.DataFrame(data)
