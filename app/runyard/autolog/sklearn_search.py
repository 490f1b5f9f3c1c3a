"""scikit-learn parameter searches (``GridSearchCV``, ``RandomizedSearchCV``) autologged as
MLflow's autologging logs them, so a search reads the same in either tool:

* on the search's run: params ``best_<name>`` from ``best_params_``, the metric
  ``best_cv_score``, the artifact ``cv_results.csv``, and the refitted best estimator as a
  logged model named ``best_estimator``;
* a child run (tag ``mlflow.parentRunId``) for each of the ``max_tuning_runs`` best candidates
  by ``rank_test_score`` (every candidate when None): the seed estimator's params with the
  candidate's, and the candidate's aggregate scores from ``cv_results_`` (``mean_test_score``,
  ``std_fit_time``, ...; per-split scores left out).
"""

from __future__ import annotations

import csv
import numbers
import os
from collections.abc import Callable, Mapping
from typing import Any

from runyard import tags as system_tags
from runyard.autolog.patch import AUTOLOGGING_TAG
from runyard.autolog.record import RunLogger, truncate_params
from runyard.clock import now_ms
from runyard.entities import Dataset, Metric, RunStatus

#: ``cv_results_`` columns that are not a candidate's aggregate score.
_NOT_SCORES = ("param", "split")


def is_parameter_search(estimator: Any) -> bool:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    return isinstance(estimator, GridSearchCV | RandomizedSearchCV)


def check_max_tuning_runs(max_tuning_runs: int | None) -> None:
    if max_tuning_runs is not None and (
        isinstance(max_tuning_runs, bool)
        or not isinstance(max_tuning_runs, int)
        or max_tuning_runs < 0
    ):
        raise ValueError(
            f"max_tuning_runs must be a non-negative integer or None, not {max_tuning_runs!r}."
        )


def log_search(
    logger: RunLogger,
    search: Any,
    max_tuning_runs: int | None,
    log_best_model: Callable[[Any], str | None] | None,
    train: Dataset | None = None,
    model_id: str | None = None,
) -> None:
    """What a fitted search adds to its run (``logger``'s); ``log_best_model`` logs the best
    estimator and returns its model id (None: not logged); ``train``: the training data's
    dataset, which the scores name and the child runs take as their input too; ``model_id``:
    the search's own logged model, whose metric ``best_cv_score`` is too."""
    best_model_id = None
    best_params: dict[str, Any] | None = None
    if hasattr(search, "best_estimator_") and log_best_model is not None:
        best_params = search.best_estimator_.get_params(deep=True)
        best_model_id = log_best_model(search.best_estimator_)
    if hasattr(search, "best_score_") and _is_number(search.best_score_):
        score = {"best_cv_score": float(search.best_score_)}
        logger.metrics(score, model_id=model_id, dataset=train)
    if hasattr(search, "best_params_"):
        logger.params({f"best_{k}": v for k, v in search.best_params_.items()})
    results = getattr(search, "cv_results_", None)
    if results is None:
        return
    _log_candidates(logger, search, results, max_tuning_runs, best_params, best_model_id, train)
    logger.directory(lambda tmp: _write_results(results, os.path.join(tmp, "cv_results.csv")))


def _log_candidates(
    logger: RunLogger,
    search: Any,
    results: Mapping[str, Any],
    max_tuning_runs: int | None,
    best_params: Mapping[str, Any] | None,
    best_model_id: str | None,
    train: Dataset | None,
) -> None:
    """One finished child run per candidate kept, started when the search's run started (when
    each candidate was tried is not known)."""
    client = logger.client
    parent = client.get_run(logger.run_id)
    seed = search.estimator
    base_params = seed.get_params(deep=not is_parameter_search(seed))
    candidates: list[Mapping[str, Any]] = list(results.get("params", []))
    order = _best_first(results, len(candidates))
    kept = order if max_tuning_runs is None else order[:max_tuning_runs]
    cls = type(seed)
    tags = {
        system_tags.PARENT_RUN_ID: logger.run_id,
        AUTOLOGGING_TAG: "sklearn",
        "estimator_name": cls.__name__,
        "estimator_class": f"{cls.__module__}.{cls.__qualname__}",
    }
    ended = now_ms()
    dataset_link = (train.name, train.digest) if train is not None else (None, None)
    for index in kept:
        child = client.create_run(
            parent.info.experiment_id, start_time=parent.info.start_time, tags=tags
        )
        run_id = child.info.run_id
        candidate = candidates[index]
        model_id = best_model_id if _is_best(candidate, best_params) else None
        points = [
            Metric(key, float(values[index]), ended, 0, None, model_id, *dataset_link)
            for key, values in results.items()
            if not key.startswith(_NOT_SCORES) and _is_number(values[index])
        ]
        params = truncate_params({**base_params, **candidate})
        client.log_batch(run_id, metrics=points, params=params, synchronous=True)
        if train is not None:
            RunLogger(client, run_id).datasets([(train, "train")])
        client.set_terminated(run_id, RunStatus.FINISHED, end_time=ended)


def _best_first(results: Mapping[str, Any], count: int) -> list[int]:
    """Candidate indexes by ``rank_test_score`` (the first ``rank_test_*`` column with several
    scorers), ties in the search's order, as ``DataFrame.nsmallest`` keeps them."""
    rank = results.get("rank_test_score")
    if rank is None:
        column = next((k for k in results if k.startswith("rank_test_")), None)
        rank = results[column] if column is not None else range(count)
    return sorted(range(count), key=lambda i: (rank[i], i))


def _is_best(candidate: Mapping[str, Any], best_params: Mapping[str, Any] | None) -> bool:
    """Whether the candidate's params are the best estimator's (its metrics are then the best
    model's too, as in MLflow). A value that cannot be compared (an array) does not match."""
    if not best_params:
        return False
    try:
        return all(k in best_params and bool(best_params[k] == v) for k, v in candidate.items())
    except (TypeError, ValueError):
        return False


def _is_number(value: Any) -> bool:
    """A score (NaN for a failed fit included, as MLflow logs it); not a flag or a text."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _write_results(results: Mapping[str, Any], path: str) -> None:
    """``cv_results_`` as a CSV table, a column per key and a row per candidate, as pandas'
    ``to_csv`` writes it for MLflow (an unset parameter is an empty cell)."""
    columns = list(results)
    count = len(results[columns[0]]) if columns else 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for index in range(count):
            writer.writerow([_cell(results[column], index) for column in columns])


def _cell(values: Any, index: int) -> str:
    mask = getattr(values, "mask", None)
    if mask is not None and _masked(mask, index):
        return ""
    return str(values[index])


def _masked(mask: Any, index: int) -> bool:
    try:
        return bool(mask[index])
    except (TypeError, IndexError):  # numpy's "nothing masked" is a scalar False
        return bool(mask)
