"""XGBoost autologging: ``runyard.xgboost.autolog()``.

Patches ``xgboost.train`` (also as the scikit-learn API's ``fit`` reaches it) and logs, per
training, what MLflow's XGBoost autologging logs:

* params: every booster param of ``params``, then every ``train`` argument (``num_boost_round``,
  ``early_stopping_rounds``, ``verbose_eval``, ...; data, objectives, metrics, callbacks, the
  initial model and the results dict excepted), unset ones as ``None``, as MLflow logs them;
* per-iteration evaluation metrics, ``<eval_name>-<metric>`` (``valid-logloss``; an ``@`` in a
  metric's name becomes ``_at_``) at ``step`` = iteration, sent in batches from a training
  callback;
* with ``early_stopping_rounds``: metrics ``stopped_iteration`` and ``best_iteration``, and the
  best iteration's evaluation metrics again one step after the last, so each one's latest value
  is the best model's;
* ``feature_importance_<type>.json`` (+ ``.png`` with Pillow) for each of ``importance_types``
  (``weight`` unless told);
* the training data and each evaluation set as dataset inputs, with MLflow's digests;
* the model, as MLflow 3 logs it: a logged model named ``model``, the run's output, with the
  files ``runyard.xgboost.save_model`` writes, its signature inferred from the first rows of
  the data a ``DMatrix`` was built from. A scikit-learn API model (``XGBClassifier().fit``) is
  logged as itself, with the run's params, and metrics computed on its predictions afterwards
  (``accuracy_score(y_test, model.predict(X_test))``, ``model.score``) are logged to its run
  and model as scikit-learn autologging logs them (``runyard.autolog.sklearn_post_training``).

``runyard.xgboost.log_model``, ``save_model`` and ``load_model`` are MLflow's calls of the same
names (``runyard.autolog.xgboost_model``).
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from runyard.autolog import sklearn_post_training as post_training
from runyard.autolog.boosting import (
    EstimatorFits,
    MetricBatches,
    failed_model_on_error,
    fill_logged_model,
    start_logged_model,
)
from runyard.autolog.datasets import log_data
from runyard.autolog.options import apply_common
from runyard.autolog.patch import revert_patches, safe_patch, warn_logging_failure
from runyard.autolog.record import RunLogger, write_importances
from runyard.autolog.saved_model import training_sample
from runyard.autolog.xgboost_model import DEFAULT_FORMAT, check_model_format, predict
from runyard.autolog.xgboost_model import load_model as load_model  # runyard.xgboost.*
from runyard.autolog.xgboost_model import log_model as log_model
from runyard.autolog.xgboost_model import save_model as save_model
from runyard.entities import Dataset

FLAVOR = "xgboost"
INSTALL_HINT = "XGBoost autologging needs xgboost: pip install runyard[xgboost]"

#: ``train`` arguments that are data, code or outputs, not settings; never logged as params.
_NOT_PARAMS = frozenset(
    {
        "params",
        "dtrain",
        "evals",
        "obj",
        "feval",
        "evals_result",
        "xgb_model",
        "callbacks",
        "learning_rates",
    }
)
#: Where a ``DMatrix`` keeps the first rows of the data it was built from (see ``_keep_sample``).
_SAMPLE = "_runyard_training_sample"

_ESTIMATOR_FITS = EstimatorFits()
_OPTIONS: dict[str, Any] = {
    "importance_types": ("weight",),
    "log_models": True,
    "registered_model_name": None,
    "log_input_examples": False,
    "log_model_signatures": True,
    "log_datasets": True,
    "model_format": DEFAULT_FORMAT,
}


def _import_xgboost() -> Any:
    try:
        import xgboost
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return xgboost


def autolog(
    importance_types: Sequence[str] | None = None,
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    model_format: str = DEFAULT_FORMAT,
    extra_tags: Mapping[str, Any] | None = None,
) -> None:
    """Log every XGBoost training from now on; ``disable=True`` restores the originals.
    MLflow's options in MLflow's order: the importance types to log (``weight`` unless given),
    the model's input example (the first rows of the training data) and signature, the
    format its file is saved in, tags for the runs autologging starts, no warnings when
    ``silent``, and with ``exclusive`` nothing logged to runs the user started."""
    xgb = _import_xgboost()
    if disable:
        revert_patches(FLAVOR)
        post_training.enable(False, integration=FLAVOR)
        return
    check_model_format(model_format)
    if not apply_common(
        FLAVOR,
        xgb.__version__,
        extra_tags=extra_tags,
        silent=silent,
        exclusive=exclusive,
        disable_for_unsupported_versions=disable_for_unsupported_versions,
    ):
        return
    _OPTIONS.update(
        importance_types=tuple(importance_types or ("weight",)),
        log_models=log_models,
        registered_model_name=registered_model_name,
        log_input_examples=log_input_examples,
        log_model_signatures=log_model_signatures,
        log_datasets=log_datasets,
        model_format=model_format,
    )
    import xgboost.sklearn
    import xgboost.training

    for owner in (xgb, xgboost.training, xgboost.sklearn):
        safe_patch(owner, "train", _log_train, integration=FLAVOR)
    safe_patch(xgb.DMatrix, "__init__", _keep_sample, integration=FLAVOR, manage_run=False)
    estimators = _estimator_classes(xgboost.sklearn)
    for estimator in estimators:
        if "fit" in vars(estimator):  # XGBClassifier.fit does not call XGBModel.fit
            safe_patch(estimator, "fit", _log_estimator_fit, integration=FLAVOR)
    if importlib.util.find_spec("sklearn") is not None:  # the API runs without it, too
        post_training.enable(True, log_datasets, integration=FLAVOR)  # always on, as in MLflow
        post_training.patch(estimators, integration=FLAVOR)


def _estimator_classes(module: Any) -> list[type]:
    """XGBoost's scikit-learn API classes; a ``fit`` calling another (``XGBRFClassifier``'s
    calls ``XGBClassifier``'s) runs it plain, so each training logs once."""
    base = module.XGBModel
    return [cls for cls in vars(module).values() if isinstance(cls, type) and issubclass(cls, base)]


def _keep_sample(original: Any, self: Any, *args: Any, **kwargs: Any) -> None:
    """A ``DMatrix`` keeps the first rows of its data, which cannot be read back from it, for
    the model's signature and input example (as MLflow does)."""
    data = args[0] if args else kwargs.get("data")
    original(self, *args, **kwargs)
    setattr(self, _SAMPLE, training_sample(data))


def _log_estimator_fit(original: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    """A scikit-learn API ``fit``: its ``train`` logs as any training does, and the model
    logged is the estimator itself, with the run's params, as MLflow logs it."""
    fitted, sample, model_id = _ESTIMATOR_FITS.run(original, self, args, kwargs)
    logger = RunLogger.for_active_run()
    if model_id is not None:
        params = logger.client.get_run(logger.run_id).data.params
        _fill_logged_model(model_id, self, sample, params)
    post_training.register(self, logger.run_id, model_id, FLAVOR)
    return fitted


def _fill_logged_model(
    model_id: str, model: Any, sample: Any, params: Mapping[str, str] | None = None
) -> None:
    fill_logged_model(
        log_model,
        _OPTIONS,
        model_id,
        model,
        sample,
        functools.partial(predict, model),
        params,
        model_format=_OPTIONS["model_format"],
    )


def _log_train(original: Any, *args: Any, **kwargs: Any) -> Any:
    bound = inspect.signature(original).bind(*args, **kwargs)
    shown = inspect.signature(original).bind(*args, **kwargs)
    shown.apply_defaults()
    logger = RunLogger.for_active_run()
    settings = dict(shown.arguments.get("params") or {})
    settings.update({k: v for k, v in shown.arguments.items() if k not in _NOT_PARAMS})
    logger.params(settings)
    dtrain = bound.arguments.get("dtrain")
    evals = list(bound.arguments.get("evals") or ())
    train_dataset = _log_datasets(logger, dtrain, evals) if _OPTIONS["log_datasets"] else None
    model_id = start_logged_model(_OPTIONS)
    # Under the estimator's fit, the fit logs the model's files once it is done.
    for_estimator = _ESTIMATOR_FITS.claim(model_id)
    callback = _callback_class()(logger, model_id)
    bound.arguments["callbacks"] = [*(bound.arguments.get("callbacks") or []), callback]
    with failed_model_on_error(FLAVOR, model_id):
        booster = original(*bound.args, **bound.kwargs)
    callback.batches.flush()
    if bound.arguments.get("early_stopping_rounds"):  # what MLflow logs for early stopping
        extra_step = len(callback.results)
        stops = {"stopped_iteration": extra_step - 1, "best_iteration": booster.best_iteration}
        logger.metrics(stops, model_id=model_id, dataset=train_dataset)
        best = callback.results[booster.best_iteration] if callback.results else {}
        logger.metrics(best, step=extra_step, model_id=model_id, dataset=train_dataset)
    if model_id is not None and not for_estimator:
        sample = getattr(dtrain, _SAMPLE, None)
        _fill_logged_model(model_id, booster, sample)
    logger.directory(lambda tmp: _write_importances(tmp, booster))
    return booster


def _log_datasets(logger: RunLogger, dtrain: Any, evals: list[Any]) -> Dataset | None:
    """The training data (``dataset``) and each evaluation set (by its name) as the run's
    inputs, read back from each ``DMatrix`` as MLflow reads them; the training one's dataset."""
    entries = [] if dtrain is None else [(_data_of(dtrain), None, None, "train")]
    entries += [(_data_of(matrix), None, name, "eval") for matrix, name in evals]
    logged = log_data(logger, FLAVOR, entries)
    return logged[0] if logged and dtrain is not None else None


def _data_of(matrix: Any) -> Any:
    """The matrix's data (a scipy CSR matrix), or None when it has none to give."""
    try:
        return matrix.get_data()
    except Exception:  # a matrix kind that keeps no data (an external-memory one, ...)
        return None


def _write_importances(tmp: str, booster: Any) -> None:
    for kind in _OPTIONS["importance_types"]:
        try:
            importances = booster.get_score(importance_type=kind)
        except Exception as error:  # a type this booster cannot give (gblinear's gain, ...)
            warn_logging_failure(FLAVOR, error)
            continue
        write_importances(tmp, f"feature_importance_{kind}", importances, f"Feature {kind}")


@functools.cache
def _callback_class() -> type:
    """``MetricsCallback``: an XGBoost ``TrainingCallback`` (XGBoost takes no other kind),
    defined once XGBoost is imported."""
    xgb = _import_xgboost()

    class MetricsCallback(xgb.callback.TrainingCallback):  # type: ignore[misc,name-defined]
        """Each iteration's evaluation results, logged in batches."""

        def __init__(self, logger: RunLogger, model_id: str | None = None) -> None:
            super().__init__()
            self.batches = MetricBatches(FLAVOR, logger, model_id)
            #: each iteration's results, for the best one's after early stopping.
            self.results: list[dict[str, float]] = []

        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            results: dict[str, float] = {}
            for data_name, metrics in evals_log.items():
                for metric_name, values in metrics.items():
                    key = f"{data_name}-{metric_name.replace('@', '_at_')}"
                    last = values[-1]
                    results[key] = float(last[0] if isinstance(last, tuple) else last)
            self.results.append(results)
            self.batches.add(results, epoch)
            return False  # never stops training

    return MetricsCallback
