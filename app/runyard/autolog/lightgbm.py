"""LightGBM autologging: ``runyard.lightgbm.autolog()``.

Patches ``lightgbm.train`` (also as the scikit-learn API's ``LGBMModel.fit`` reaches it), and
logs, per training:

* params: every ``lgb.train`` argument (``num_boost_round``, ``keep_training_booster``, ...;
  datasets, their names, callbacks, custom objectives and metrics, the initial model and
  learning rates excepted, as in MLflow) and every booster param of ``params``;
* per-iteration validation metrics, ``<valid_name>-<metric>`` (``valid_0-binary_logloss``) at
  ``step`` = iteration, sent in batches through a training callback;
* with early stopping, as MLflow: metrics ``stopped_iteration`` (iterations trained) and
  ``best_iteration``, and the best iteration's validation metrics again at step
  ``stopped_iteration``, so each one's latest value is the best model's;
* ``feature_importance_gain.json`` / ``feature_importance_split.json`` (+ ``.png`` with
  Pillow);
* the model, as MLflow 3 logs it: a logged model named ``model``, the run's output
  (``runs:/<run>/model`` and ``models:/<id>`` both load it), with the files
  ``runyard.lightgbm.save_model`` writes (``model.lgb`` and MLflow's ``MLmodel`` and
  environment files), registered when ``registered_model_name`` is given. A scikit-learn API
  model (``LGBMClassifier().fit``) is logged as itself (pickled), as MLflow logs it.

``runyard.lightgbm.log_model``, ``save_model`` and ``load_model`` are MLflow's calls of the same
names (``runyard.autolog.lightgbm_model``).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from runyard.autolog.boosting import (
    EstimatorFits,
    MetricBatches,
    failed_model_on_error,
    fill_logged_model,
    start_logged_model,
)
from runyard.autolog.datasets import log_data
from runyard.autolog.lightgbm_model import load_model as load_model  # runyard.lightgbm.*
from runyard.autolog.lightgbm_model import log_model as log_model
from runyard.autolog.lightgbm_model import save_model as save_model
from runyard.autolog.options import apply_common
from runyard.autolog.patch import revert_patches, safe_patch
from runyard.autolog.record import RunLogger, write_importances
from runyard.autolog.saved_model import training_sample

FLAVOR = "lightgbm"
INSTALL_HINT = "LightGBM autologging needs lightgbm: pip install runyard[lightgbm]"

#: Arguments that are data or code, not settings; never logged as params.
_NOT_PARAMS = frozenset(
    {
        "params",
        "train_set",
        "valid_sets",
        "valid_names",
        "fobj",
        "feval",
        "init_model",
        "learning_rates",
        "callbacks",
    }
)
_ESTIMATOR_FITS = EstimatorFits()
_OPTIONS: dict[str, Any] = {
    "log_models": True,
    "registered_model_name": None,
    "log_input_examples": False,
    "log_model_signatures": True,
    "log_datasets": True,
}


def _import_lightgbm() -> Any:
    try:
        import lightgbm
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return lightgbm


def _targets() -> list[tuple[Any, str]]:
    """Where ``train`` is reachable: the package, its engine and its scikit-learn API."""
    lgb = _import_lightgbm()
    import lightgbm.engine
    import lightgbm.sklearn

    return [(lgb, "train"), (lightgbm.engine, "train"), (lightgbm.sklearn, "train")]


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    extra_tags: Mapping[str, Any] | None = None,
) -> None:
    """Log every LightGBM training from now on; ``disable=True`` restores the originals.
    The options are MLflow's: the model's input example (the first rows of the training data)
    and signature, tags for the runs autologging starts, no warnings when ``silent``, and with
    ``exclusive`` nothing logged to runs the user started; ``log_datasets``: the training and
    validation sets are dataset inputs of the run (``runyard.autolog.datasets``)."""
    targets = _targets()
    if disable:
        revert_patches(FLAVOR)
        return
    if not apply_common(
        FLAVOR,
        _import_lightgbm().__version__,
        extra_tags=extra_tags,
        silent=silent,
        exclusive=exclusive,
        disable_for_unsupported_versions=disable_for_unsupported_versions,
    ):
        return
    _OPTIONS.update(
        log_models=log_models,
        registered_model_name=registered_model_name,
        log_input_examples=log_input_examples,
        log_model_signatures=log_model_signatures,
        log_datasets=log_datasets,
    )
    for owner, name in targets:
        safe_patch(owner, name, _log_train, integration=FLAVOR)
    import lightgbm.sklearn

    safe_patch(lightgbm.sklearn.LGBMModel, "fit", _log_estimator_fit, integration=FLAVOR)


def _log_estimator_fit(original: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    """A scikit-learn API ``fit`` (``LGBMClassifier``, ...): its ``train`` logs as any training
    does, and the model logged is the estimator itself, as MLflow logs it, so loading it gives
    back an ``LGBMClassifier`` (classes from ``predict``), not its booster."""
    fitted, sample, model_id = _ESTIMATOR_FITS.run(original, self, args, kwargs)
    if model_id is not None:
        # MLflow logs this model once training is done, so it carries the run's params.
        logger = RunLogger.for_active_run()
        params = logger.client.get_run(logger.run_id).data.params
        _fill_logged_model(model_id, self, sample, params)
    return fitted


def _fill_logged_model(
    model_id: str, model: Any, sample: Any, params: Mapping[str, str] | None = None
) -> None:
    fill_logged_model(log_model, _OPTIONS, model_id, model, sample, model.predict, params)


def _log_train(original: Any, *args: Any, **kwargs: Any) -> Any:
    bound = inspect.signature(original).bind(*args, **kwargs)
    shown = inspect.signature(original).bind(*args, **kwargs)
    shown.apply_defaults()
    logger = RunLogger.for_active_run()
    settings = {k: v for k, v in shown.arguments.items() if k not in _NOT_PARAMS and v is not None}
    settings.update(dict(shown.arguments.get("params") or {}))
    logger.params(settings)
    train_set = bound.arguments.get("train_set")
    # Taken before training: LightGBM frees a dataset's raw data once it is constructed.
    sample = training_sample(getattr(train_set, "data", None))
    if _OPTIONS["log_datasets"]:
        log_data(logger, FLAVOR, _data_of(train_set, shown.arguments))
    model_id = start_logged_model(_OPTIONS)
    # Under the estimator's fit, the fit logs the model's files once it is done.
    for_estimator = _ESTIMATOR_FITS.claim(model_id)
    callback = MetricsCallback(logger, model_id)
    bound.arguments["callbacks"] = [*(bound.arguments.get("callbacks") or []), callback]
    with failed_model_on_error(FLAVOR, model_id):
        booster = original(*bound.args, **bound.kwargs)
    callback.batches.flush()
    best = getattr(booster, "best_iteration", 0)
    if best > 0:  # early stopping: what MLflow logs for it
        stopped = callback.iterations
        logger.metrics({"stopped_iteration": stopped, "best_iteration": best}, model_id=model_id)
        logger.metrics(callback.results.get(best - 1, {}), step=stopped, model_id=model_id)
    logger.directory(lambda tmp: _write_importances(tmp, booster))
    if model_id is not None and not for_estimator:
        _fill_logged_model(model_id, booster, sample)
    return booster


def _data_of(train_set: Any, arguments: Mapping[str, Any]) -> list[tuple[Any, Any, Any, str]]:
    """The training set and each validation set (named by ``valid_names``, as MLflow names
    them) as ``log_data`` entries."""
    entries = []
    if train_set is not None:
        entries.append(_entry(train_set, None, "train"))
    names = list(arguments.get("valid_names") or [])
    for index, valid in enumerate(arguments.get("valid_sets") or []):
        entries.append(_entry(valid, names[index] if index < len(names) else None, "eval"))
    return entries


def _entry(dataset: Any, name: str | None, context: str) -> tuple[Any, Any, Any, str]:
    """A LightGBM ``Dataset``'s raw data (None once LightGBM freed it: then it is skipped)."""
    return (getattr(dataset, "data", None), getattr(dataset, "label", None), name, context)


def _write_importances(tmp: str, booster: Any) -> None:
    names = booster.feature_name()
    for kind in ("gain", "split"):
        values = booster.feature_importance(importance_type=kind).tolist()
        importances = dict(zip(names, values, strict=True))
        write_importances(tmp, f"feature_importance_{kind}", importances, f"Feature {kind}")


class MetricsCallback:
    """A LightGBM callback: each iteration's evaluation results, logged in batches."""

    #: Before early stopping (30), so the last iteration's results are collected too.
    order = 20
    before_iteration = False

    def __init__(self, logger: RunLogger, model_id: str | None = None) -> None:
        self.batches = MetricBatches(FLAVOR, logger, model_id)
        self.iterations = 0
        #: iteration -> its results, for the best one's after early stopping.
        self.results: dict[int, dict[str, float]] = {}

    def __call__(self, env: Any) -> None:
        self.iterations = env.iteration + 1 - env.begin_iteration
        results = self.results[env.iteration] = {}
        for item in env.evaluation_result_list or ():
            results[f"{item[0]}-{item[1]}"] = float(item[2])
        self.batches.add(results, env.iteration)
