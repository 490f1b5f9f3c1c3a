"""scikit-learn autologging: ``runyard.sklearn.autolog()``.

Every public estimator's ``fit``, ``fit_transform`` and ``fit_predict``
(``sklearn.utils.all_estimators()``, less data preparation: scalers, encoders, imputers, feature
extraction and selection, as in MLflow) logs, per training:

* params: ``get_params(deep=True)``, stringified (over-long keys/values cut, with a warning);
* tags ``estimator_name`` (``RandomForestClassifier``) and ``estimator_class`` (its full path);
* training metrics on the training data: ``training_score`` (the estimator's ``score``), and
  for classifiers ``training_accuracy_score``, ``training_precision_score``,
  ``training_recall_score``, ``training_f1_score`` (weighted averages), ``training_log_loss``
  and ``training_roc_auc`` (with ``predict_proba``); for regressors
  ``training_mean_squared_error``, ``training_root_mean_squared_error``,
  ``training_mean_absolute_error``, ``training_r2_score``;
* the fitted model, as MLflow 3 logs it: a logged model named ``model``, the run's output
  (``runs:/<run>/model`` and ``models:/<id>`` both load it), with ``model.pkl`` (pickle),
  ``MLmodel`` and its environment files, registered when ``registered_model_name`` is given
  (``runyard.sklearn.log_model``, ``runyard.autolog.sklearn_model``);
* ``estimator.html``, scikit-learn's view of the estimator, as MLflow logs it;
* for a classifier, as MLflow: ``training_confusion_matrix.png`` and, binary,
  ``training_roc_curve.png`` and ``training_precision_recall_curve.png``
  (``runyard.autolog.sklearn_charts``);
* ``feature_importances.json`` (+ ``.png`` with Pillow) from ``feature_importances_`` or
  ``coef_``.
* the training data as the run's dataset input (context ``train``), which the training metrics
  name (``runyard.autolog.datasets``).

A ``fit`` that calls other estimators' ``fit`` (pipelines, searches, ensembles) logs once, for
the outer estimator. Inside ``sklearn.model_selection``'s evaluation helpers
(``cross_val_score``, ``cross_validate``, ``learning_curve``, …) nothing is logged, as in
MLflow: their fits are trials on folds, not the user's trainings. A parameter search adds
what MLflow logs for one: its best params and score, ``cv_results.csv``, the best estimator,
and child runs for its best candidates (``runyard.autolog.sklearn_search``).
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Mapping
from typing import Any

from runyard.autolog import sklearn_post_training as post_training
from runyard.autolog.datasets import log_data
from runyard.autolog.options import apply_common
from runyard.autolog.patch import revert_patches, safe_patch, warn_logging_failure
from runyard.autolog.record import RunLogger, truncate_params, write_importances
from runyard.autolog.saved_model import training_sample, training_signature
from runyard.autolog.sklearn_charts import write_classifier_charts
from runyard.autolog.sklearn_methods import patch_method
from runyard.autolog.sklearn_model import PICKLE, check_format
from runyard.autolog.sklearn_model import load_model as load_model  # runyard.sklearn.load_model
from runyard.autolog.sklearn_model import log_model as log_model
from runyard.autolog.sklearn_model import save_model as save_model
from runyard.autolog.sklearn_search import check_max_tuning_runs, is_parameter_search, log_search

FLAVOR = "sklearn"
#: The methods that train, as MLflow patches them: ``fit_transform`` and ``fit_predict`` need
#: not call ``fit`` (a pipeline's calls its steps'), so each is logged as a training of its own.
TRAINING_METHODS = ("fit", "fit_transform", "fit_predict")
#: ``sklearn.model_selection`` functions inside which autologging logs nothing (MLflow's list):
#: each fits copies of an estimator on folds, and its own result is the user's to log.
UNLOGGED_HELPERS = (
    "cross_validate",
    "cross_val_predict",
    "cross_val_score",
    "learning_curve",
    "permutation_test_score",
    "validation_curve",
)
#: Estimators that prepare data rather than learn a model, not autologged on their own (MLflow's
#: lists): ``StandardScaler().fit(X)`` or a ``LabelEncoder`` a scorer fits start no run.
DATA_PREPARATION_MODULES = (
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.feature_extraction",
    "sklearn.feature_selection",
)
DATA_PREPARATION_CLASSES = frozenset({"sklearn.compose._column_transformer.ColumnTransformer"})
#: The page around scikit-learn's HTML view; the charset keeps its toggle arrows readable.
ESTIMATOR_PAGE = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8"/>
  </head>
  <body>
    {body}
  </body>
</html>
"""
INSTALL_HINT = "scikit-learn autologging needs scikit-learn: pip install runyard[sklearn]"

_OPTIONS: dict[str, Any] = {
    "log_models": True,
    "log_training_metrics": True,
    "registered_model_name": None,
    "log_input_examples": False,
    "log_model_signatures": True,
    "max_tuning_runs": 5,
    "log_datasets": True,
    "serialization_format": PICKLE,
    "pos_label": None,
}


def _import_sklearn() -> Any:
    try:
        import sklearn
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return sklearn


def estimator_classes() -> list[type]:
    """The public estimator classes with a ``fit`` that autologging follows, as MLflow
    chooses them: data preparation (scaling, encoding, imputing, feature extraction and
    selection, ``ColumnTransformer``) is left out, so a scaler fitted on its own starts no run;
    inside a pipeline it is part of the pipeline's training."""
    _import_sklearn()
    from sklearn.utils import all_estimators

    return [
        cls
        for _name, cls in all_estimators()
        if callable(getattr(cls, "fit", None))
        and not cls.__module__.startswith(DATA_PREPARATION_MODULES)
        and f"{cls.__module__}.{cls.__qualname__}" not in DATA_PREPARATION_CLASSES
    ]


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    max_tuning_runs: int | None = 5,
    log_post_training_metrics: bool = True,
    serialization_format: str = PICKLE,
    registered_model_name: str | None = None,
    pos_label: Any = None,
    extra_tags: Mapping[str, Any] | None = None,
    log_training_metrics: bool = True,
) -> None:
    """Log every scikit-learn ``fit`` from now on; ``disable=True`` restores the originals.

    The options are MLflow's: the model's input example (the first rows of the training data)
    and signature, tags for the runs autologging starts, no warnings when ``silent``; with
    ``exclusive``, nothing is logged to runs the user started; ``max_tuning_runs`` child runs
    for a parameter search's best candidates (None: all); the model's ``serialization_format``
    (``pickle``, ``cloudpickle`` or ``skops``); ``pos_label``: precision, recall and F1 of that
    class alone (binary), not weighted over classes; ``log_datasets``: the training data is a
    dataset input of the run (``runyard.autolog.datasets``), which the training metrics name;
    ``log_post_training_metrics``: ``sklearn.metrics`` computed on a fitted estimator's
    predictions, and its ``score``, are logged to its run
    (``runyard.autolog.sklearn_post_training``)."""
    sklearn = _import_sklearn()
    if disable:
        revert_patches(FLAVOR)
        post_training.enable(False)
        return
    check_max_tuning_runs(max_tuning_runs)
    check_format(serialization_format)
    if not apply_common(
        FLAVOR,
        sklearn.__version__,
        extra_tags=extra_tags,
        silent=silent,
        exclusive=exclusive,
        disable_for_unsupported_versions=disable_for_unsupported_versions,
    ):
        return
    _OPTIONS.update(
        log_models=log_models,
        log_training_metrics=log_training_metrics,
        registered_model_name=registered_model_name,
        log_input_examples=log_input_examples,
        log_model_signatures=log_model_signatures,
        max_tuning_runs=max_tuning_runs,
        log_datasets=log_datasets,
        serialization_format=serialization_format,
        pos_label=pos_label,
    )
    classes = estimator_classes()
    for cls in classes:
        for method in TRAINING_METHODS:
            patch_method(cls, method, _log_fit, FLAVOR)
    import sklearn.model_selection as model_selection

    for name in UNLOGGED_HELPERS:
        if hasattr(model_selection, name):
            safe_patch(model_selection, name, _unlogged, integration=FLAVOR, manage_run=False)
    post_training.enable(log_post_training_metrics, log_datasets)
    if log_post_training_metrics:
        post_training.patch(classes)


def _unlogged(original: Any, *args: Any, **kwargs: Any) -> Any:
    """A patched call that logs nothing itself: the patched calls inside it run plain."""
    return original(*args, **kwargs)


def _log_fit(original: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    logger = RunLogger.for_active_run()
    search = is_parameter_search(self)
    params = self.get_params(deep=not search)  # a search's estimator is in its child runs
    logger.params(params)
    cls = type(self)
    logger.tags({"estimator_name": cls.__name__, "estimator_class": _class_path(cls)})
    X, y, sample_weight = _fit_data(original, self, args, kwargs)
    train = None
    if _OPTIONS["log_datasets"]:
        train = next(iter(log_data(logger, FLAVOR, [(X, y, None, "train")])), None)
    fitted = original(self, *args, **kwargs)
    model_id = None
    if _OPTIONS["log_models"]:
        best = {f"best_{k}": v for k, v in getattr(self, "best_params_", {}).items()}
        model_id = _log_fitted_model(self, X, "model", {**params, **best})
    if search:  # first: a model logged later would take the run's training metrics too
        best_model = (
            (lambda best: _log_fitted_model(best, X, "best_estimator", best.get_params(deep=True)))
            if _OPTIONS["log_models"]
            else None
        )
        log_search(logger, self, _OPTIONS["max_tuning_runs"], best_model, train, model_id)
    if _OPTIONS["log_training_metrics"] and X is not None:
        scores = training_metrics(self, X, y, sample_weight, _OPTIONS["pos_label"])
        logger.metrics(scores, model_id=model_id, dataset=train)
    post_training.register(self, logger.run_id, model_id)

    importances = feature_importances(self)
    charted = (X, y, sample_weight) if _charts_apply(self, X, y) else None
    logger.directory(lambda tmp: _write_artifacts(tmp, self, importances, charted))
    return fitted


def _charts_apply(estimator: Any, X: Any, y: Any) -> bool:
    """Whether a training gets classifier charts: as MLflow, with its training metrics."""
    from sklearn.base import is_classifier

    return bool(_OPTIONS["log_training_metrics"]) and X is not None and is_classifier(estimator)


def _write_artifacts(
    directory: str,
    estimator: Any,
    importances: Mapping[str, Any],
    charted: tuple[Any, Any, Any] | None,
) -> None:
    """``estimator.html`` (scikit-learn's view of the estimator, steps and params, as MLflow
    logs it), a classifier's charts on its training data (``charted``: X, y, sample weights)
    and the feature importances, uploaded together. Each is optional: one that fails is
    warned about and the others still go."""
    try:
        from sklearn.utils import estimator_html_repr

        page = ESTIMATOR_PAGE.format(body=estimator_html_repr(estimator))
        with open(os.path.join(directory, "estimator.html"), "w", encoding="utf-8") as fh:
            fh.write(page)
    except Exception as error:
        warn_logging_failure(FLAVOR, error)
    if charted is not None:
        try:
            write_classifier_charts(directory, estimator, *charted)
        except Exception as error:
            warn_logging_failure(FLAVOR, error)
    if importances:
        title = type(estimator).__name__
        write_importances(directory, "feature_importances", importances, title)


def _log_fitted_model(estimator: Any, X: Any, name: str, params: Mapping[str, Any]) -> str | None:
    """The fitted estimator as MLflow 3's autologging logs it: a logged model (``model``, or a
    search's ``best_estimator``) with the estimator's params, so the training metrics can be
    the model's too. Only ``model`` is registered. A model that cannot be logged (one that
    does not pickle, say) is warned about; the metrics still go to the run."""
    try:
        info = log_model(
            estimator,
            name=name,
            input_example=training_sample(X) if _OPTIONS["log_input_examples"] else None,
            signature=_signature(estimator, X),
            registered_model_name=_OPTIONS["registered_model_name"] if name == "model" else None,
            params=truncate_params(params),
            serialization_format=_OPTIONS["serialization_format"],
        )
    except Exception as error:
        warn_logging_failure(FLAVOR, error)
        return None
    return info.model_id


def _signature(estimator: Any, X: Any) -> dict[str, Any] | bool | None:
    """The autologged model's signature: inferred from the training data, or none at all
    (``False``: not even from the input example) when signatures are off."""
    if not _OPTIONS["log_model_signatures"]:
        return False
    return training_signature(estimator.predict, X) if hasattr(estimator, "predict") else None


def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _fit_data(
    original: Any, self: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[Any, Any, Any]:
    """``X``, ``y`` and ``sample_weight`` as the user passed them to ``fit``."""
    try:
        bound = inspect.signature(original).bind_partial(self, *args, **kwargs).arguments
    except (TypeError, ValueError):
        bound = {}
    positional = list(args)
    X = bound.get("X", positional[0] if positional else kwargs.get("X"))
    y = bound.get("y", bound.get("Y", positional[1] if len(positional) > 1 else kwargs.get("y")))
    extra = bound.get("fit_params") or bound.get("kwargs") or {}
    sample_weight = bound.get("sample_weight", extra.get("sample_weight"))
    return X, y, sample_weight


def training_metrics(
    estimator: Any, X: Any, y: Any, sample_weight: Any = None, pos_label: Any = None
) -> dict[str, float]:
    """The training metrics that apply to ``estimator``; ones that cannot be computed for it
    (no labels, no ``predict_proba``, a clusterer...) are left out. Precision, recall and F1
    are weighted over the classes, or with ``pos_label`` that class's alone, as in MLflow."""
    from sklearn import metrics as skm
    from sklearn.base import is_classifier, is_regressor

    out: dict[str, float] = {}
    weights = {} if sample_weight is None else {"sample_weight": sample_weight}

    def put(name: str, compute: Any) -> None:
        try:
            value = float(compute())
        except Exception:
            return
        if math.isfinite(value):
            out[name] = value

    if y is not None and hasattr(estimator, "score"):
        put("training_score", lambda: estimator.score(X, y, **weights))
    if y is None:
        return out
    if is_classifier(estimator):
        averaging: dict[str, Any] = {"average": "weighted", "zero_division": 0, **weights}
        if pos_label is not None:
            averaging.update(average="binary", pos_label=pos_label)
        predicted = _safe(lambda: estimator.predict(X))
        if predicted is not None:
            put("training_accuracy_score", lambda: skm.accuracy_score(y, predicted, **weights))
            for name, fn in (
                ("precision", skm.precision_score),
                ("recall", skm.recall_score),
                ("f1", skm.f1_score),
            ):
                put(f"training_{name}_score", lambda fn=fn: fn(y, predicted, **averaging))
        proba = (
            _safe(lambda: estimator.predict_proba(X))
            if hasattr(estimator, "predict_proba")
            else None
        )
        if proba is not None:
            labels = getattr(estimator, "classes_", None)
            put("training_log_loss", lambda: skm.log_loss(y, proba, labels=labels, **weights))
            if proba.shape[1] == 2:
                put("training_roc_auc", lambda: skm.roc_auc_score(y, proba[:, 1], **weights))
            else:
                put(
                    "training_roc_auc",
                    lambda: skm.roc_auc_score(
                        y, proba, multi_class="ovr", average="weighted", labels=labels, **weights
                    ),
                )
    elif is_regressor(estimator):
        predicted = _safe(lambda: estimator.predict(X))
        if predicted is not None:
            put(
                "training_mean_squared_error",
                lambda: skm.mean_squared_error(y, predicted, **weights),
            )
            put(
                "training_root_mean_squared_error",
                lambda: math.sqrt(skm.mean_squared_error(y, predicted, **weights)),
            )
            put(
                "training_mean_absolute_error",
                lambda: skm.mean_absolute_error(y, predicted, **weights),
            )
            put("training_r2_score", lambda: skm.r2_score(y, predicted, **weights))
    return out


def _safe(compute: Any) -> Any:
    try:
        return compute()
    except Exception:
        return None


def feature_names(estimator: Any, count: int) -> list[str]:
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and len(names) == count:
        return [str(n) for n in names]
    return [f"feature_{i}" for i in range(count)]


def feature_importances(estimator: Any) -> dict[str, Any]:
    """feature -> importance from ``feature_importances_``, else from ``coef_`` (one value per
    feature, or a list per feature with one value per class)."""
    import numpy as np

    values = getattr(estimator, "feature_importances_", None)
    if values is None:
        values = getattr(estimator, "coef_", None)
    if values is None:
        return {}
    array = np.asarray(values, dtype=float)
    if array.ndim == 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 1:
        return dict(zip(feature_names(estimator, len(array)), array.tolist(), strict=True))
    if array.ndim == 2:
        names = feature_names(estimator, array.shape[1])
        return dict(zip(names, array.T.tolist(), strict=True))
    return {}
