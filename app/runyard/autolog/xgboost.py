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
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from runyard.autolog import sklearn_post_training as post_training
from runyard.autolog.datasets import log_data
from runyard.autolog.options import apply_common
from runyard.autolog.patch import (
    nested_logging,
    revert_patches,
    safe_patch,
    warn_logging_failure,
)
from runyard.autolog.record import RunLogger, write_importances
from runyard.autolog.saved_model import training_sample, training_signature
from runyard.autolog.xgboost_model import DEFAULT_FORMAT, MODEL_FORMATS, predict
from runyard.autolog.xgboost_model import load_model as load_model  # runyard.xgboost.*
from runyard.autolog.xgboost_model import log_model as log_model
from runyard.autolog.xgboost_model import save_model as save_model
from runyard.clock import now_ms
from runyard.entities import Dataset, LoggedModelStatus, Metric
from runyard.errors import InvalidParameterValue
from runyard.tracking.fluent_models import finalize_logged_model, initialize_logged_model
from runyard.validation import MAX_METRICS_PER_BATCH

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
#: Seconds between metric batches during training (so a live view updates).
FLUSH_SECONDS = 5.0
#: Where a ``DMatrix`` keeps the first rows of the data it was built from (see ``_keep_sample``).
_SAMPLE = "_runyard_training_sample"

#: The scikit-learn API fit running on this thread, if any, and the model its train created.
_ESTIMATOR_FIT = threading.local()
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
    if model_format not in MODEL_FORMATS:
        allowed = ", ".join(MODEL_FORMATS)
        raise InvalidParameterValue(f"model_format is one of {allowed}, not {model_format!r}.")
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
    X = args[0] if args else kwargs.get("X")
    sample = training_sample(X)
    _ESTIMATOR_FIT.active, _ESTIMATOR_FIT.model_id = True, None
    try:
        with nested_logging():
            fitted = original(self, *args, **kwargs)
    finally:
        _ESTIMATOR_FIT.active = False
    logger = RunLogger.for_active_run()
    if _ESTIMATOR_FIT.model_id is not None:
        params = logger.client.get_run(logger.run_id).data.params
        _fill_logged_model(_ESTIMATOR_FIT.model_id, self, sample, params)
    post_training.register(self, logger.run_id, _ESTIMATOR_FIT.model_id, FLAVOR)
    return fitted


def _fill_logged_model(
    model_id: str, model: Any, sample: Any, params: Mapping[str, str] | None = None
) -> None:
    """The trained model as the files of the logged model its training created, with the
    example and signature the options ask for."""
    log_model(
        model,
        name="model",
        input_example=sample if _OPTIONS["log_input_examples"] else None,
        signature=training_signature(functools.partial(predict, model), sample)
        if _OPTIONS["log_model_signatures"]
        else False,
        registered_model_name=_OPTIONS["registered_model_name"],
        model_format=_OPTIONS["model_format"],
        params=params,
        model_id=model_id,
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
    # As MLflow 3 does, the model exists before training, so each iteration's metrics are its
    # metrics too; its files follow once training is done.
    model_id = initialize_logged_model("model").model_id if _OPTIONS["log_models"] else None
    for_estimator = getattr(_ESTIMATOR_FIT, "active", False)
    if for_estimator:  # the estimator's fit logs the model's files once it is done
        _ESTIMATOR_FIT.model_id = model_id
    callback = _callback_class()(logger, model_id)
    bound.arguments["callbacks"] = [*(bound.arguments.get("callbacks") or []), callback]
    try:
        booster = original(*bound.args, **bound.kwargs)
    except BaseException:
        if model_id is not None:
            _mark_failed(model_id)
        raise
    callback.flush()
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


def _mark_failed(model_id: str) -> None:
    """A training that failed leaves its model marked so, not pending forever."""
    try:
        finalize_logged_model(model_id, LoggedModelStatus.LOGGED_MODEL_UPLOAD_FAILED)
    except Exception as error:
        warn_logging_failure(FLAVOR, error)


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
        """Collects each iteration's evaluation results and logs them in batches. A logging
        failure is warned about once and stops this callback; training goes on."""

        def __init__(self, logger: RunLogger, model_id: str | None = None) -> None:
            super().__init__()
            self.logger = logger
            self.model_id = model_id
            self.points: list[Metric] = []
            self.last_flush = time.monotonic()
            self.failed = False
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
            if not self.failed:
                ts = now_ms()
                for key, value in results.items():
                    self.points.append(Metric(key, value, ts, epoch, model_id=self.model_id))
                if (
                    len(self.points) >= MAX_METRICS_PER_BATCH
                    or time.monotonic() - self.last_flush >= FLUSH_SECONDS
                ):
                    self.flush()
            return False  # never stops training

        def flush(self) -> None:
            if self.failed or not self.points:
                return
            points, self.points = self.points, []
            self.last_flush = time.monotonic()
            try:
                self.logger.metric_points(points)  # the client packs them into requests
            except Exception as error:
                self.failed = True
                warn_logging_failure(FLAVOR, error)

    return MetricsCallback
