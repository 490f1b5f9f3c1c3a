"""Metrics computed after training, logged as MLflow's scikit-learn autologging logs them
(``log_post_training_metrics``).

Once an autologged estimator is fitted, its predictions are remembered (by object identity,
forgotten when the prediction is), and so is the name of the variable the data came in (as
MLflow finds it, in the caller's frames). A ``sklearn.metrics`` function called on such a
prediction, or the estimator's ``score``, is then logged to the estimator's run, and to its
logged model: ``accuracy_score_X_test``, ``LogisticRegression_score_X_test``; a second call of
the same function on the run gets ``-2`` (``accuracy_score-2_X_test``), a second data set of
the same variable name too (``X_test-2``). ``metric_info.json`` on the run says which call
produced each key. Calls made while fitting, or inside another patched call, log nothing.
Scorers (``get_scorer``, ``make_scorer``) call the metric functions directly and are not
followed, in MLflow 3.17 either; inside ``cross_val_score`` and its kin nothing is logged.

XGBoost's autologging follows its scikit-learn API models the same way, as MLflow's does; each
integration turns its own following on and off. The metric functions are patched once, for
every integration that follows predictions (``METRICS``), and put back when none does: two
integrations' wrappers stacked on one function could not be taken off in any order.
"""

from __future__ import annotations

import contextlib
import inspect
import numbers
import threading
import weakref
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from runyard.autolog.datasets import log_data
from runyard.autolog.patch import revert_patches, safe_patch, warn_logging_failure
from runyard.autolog.record import RunLogger
from runyard.autolog.sklearn_methods import patch_method
from runyard.tracking.client import Client

FLAVOR = "sklearn"
#: The integration name the ``sklearn.metrics`` patches are kept under.
METRICS = "sklearn.metrics"
#: Inference methods whose results metrics are computed on, as MLflow patches them.
INFERENCE = ("predict", "predict_proba", "transform", "predict_log_proba")
#: ``sklearn.metrics`` callables that compute no metric.
_NOT_METRICS = frozenset({"check_scoring", "get_scorer", "make_scorer", "get_scorer_names"})
#: On a fitted estimator: (run id, logged model id or None, the integration that fitted it).
_OWNER = "_runyard_autolog_run"
#: Modules whose frames are passed over when looking for the caller's variable name.
_LIBRARIES = ("runyard.", "sklearn.")
#: Integrations whose autologging asks for post-training metrics (patches stay until reverted).
_ENABLED: set[str] = set()
#: Integrations whose predictions' inputs are logged as evaluation datasets (``log_datasets``).
_LOG_DATASETS: set[str] = set()

_lock = threading.Lock()
#: id(prediction) -> (the estimator's owner, data set name), while the prediction lives.
_predictions: dict[int, tuple[tuple[str, str | None, str], str]] = {}
#: run id -> data set variable name -> ids of the objects seen under that name.
_data_names: defaultdict[str, defaultdict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
#: run id -> metric name -> [(key, call)], for the keys' indexes and metric_info.json.
_calls: defaultdict[str, defaultdict[str, list[tuple[str, str]]]] = defaultdict(
    lambda: defaultdict(list)
)


def enable(on: bool, log_datasets: bool = True, integration: str = FLAVOR) -> None:
    """Whether predictions of the estimators ``integration`` fitted are followed: off, the
    patches pass through; ``log_datasets``: each prediction's input is logged to the run as an
    ``eval`` dataset."""
    for flag, enabled in ((on, _ENABLED), (on and log_datasets, _LOG_DATASETS)):
        if flag:
            enabled.add(integration)
        else:
            enabled.discard(integration)
    if not _ENABLED:
        revert_patches(METRICS)


def patch(estimator_classes: list[type], integration: str = FLAVOR) -> None:
    """Follow predictions of every estimator class (``revert_patches(integration)`` undoes
    it), and the metric functions of ``sklearn.metrics`` (until no integration follows)."""
    import sklearn.metrics

    for cls in estimator_classes:
        for name in INFERENCE:
            patch_method(cls, name, _remember_prediction, integration, manage_run=False)
        patch_method(cls, "score", _log_score, integration, manage_run=False)
    for name in sklearn.metrics.__all__:
        function = getattr(sklearn.metrics, name)
        if name in _NOT_METRICS or inspect.isclass(function) or not callable(function):
            continue
        if name.startswith("plot_"):
            continue
        safe_patch(sklearn.metrics, name, _log_metric_call, integration=METRICS, manage_run=False)


def register(estimator: Any, run_id: str, model_id: str | None, integration: str = FLAVOR) -> None:
    """``estimator`` was fitted in ``run_id`` (and logged as ``model_id``) by
    ``integration``'s autologging: metrics computed on its predictions go there."""
    with contextlib.suppress(AttributeError):  # an estimator with __slots__: not followed
        setattr(estimator, _OWNER, (run_id, model_id, integration))


def _owner(estimator: Any) -> tuple[str, str | None, str] | None:
    owner = getattr(estimator, _OWNER, None)
    return owner if owner is not None and owner[2] in _ENABLED else None


def _remember_prediction(original: Callable[..., Any], self: Any, *args: Any, **kw: Any) -> Any:
    result = original(self, *args, **kw)
    owner = _owner(self)
    if owner is not None:
        data = _first_argument(original, args, kw)
        name = _data_name(owner[0], data)
        with contextlib.suppress(TypeError):  # a result with no weak reference: not followed
            _remember(result, owner, name)
        if owner[2] in _LOG_DATASETS:  # as MLflow: what was predicted on is an eval dataset
            log_data(RunLogger(Client(), owner[0]), owner[2], [(data, None, None, "eval")])
    return result


def _log_score(original: Callable[..., Any], self: Any, *args: Any, **kw: Any) -> Any:
    value = original(self, *args, **kw)
    owner = _owner(self)
    if owner is not None and _is_metric_value(value):
        data = _data_name(owner[0], _first_argument(original, args, kw))
        call = _call_text(f"{type(self).__name__}.score", original, args, kw, skip_self=True)
        _log(owner, f"{type(self).__name__}_score", data, call, value)
    return value


def _log_metric_call(original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    value = original(*args, **kw)
    if not _is_metric_value(value):
        return value
    with _lock:
        found = next(
            (_predictions[id(a)] for a in (*args, *kw.values()) if id(a) in _predictions), None
        )
    if found is not None and found[0][2] in _ENABLED:
        owner, data = found
        name = inspect.unwrap(original).__name__  # the metric function's own name
        call = _call_text(name, original, args, kw, skip_self=False)
        _log(owner, name, data, call, value)
    return value


def _remember(result: Any, owner: tuple[str, str | None, str], data: str) -> None:
    key = id(result)
    weakref.finalize(result, _forget, key)
    with _lock:
        _predictions[key] = (owner, data)


def _forget(key: int) -> None:
    with _lock:
        _predictions.pop(key, None)


def _data_name(run_id: str, data: Any) -> str:
    """The data's variable name, with ``-2``, ``-3``... for other objects of the same name."""
    name = _variable_name(data, "unknown_dataset")
    with _lock:
        seen = _data_names[run_id][name]
        if id(data) not in seen:
            seen.append(id(data))
        index = seen.index(id(data))
    return name if index == 0 else f"{name}-{index + 1}"


def _log(owner: tuple[str, str | None, str], metric: str, data: str, call: str, value: Any) -> None:
    """Log ``{metric}[-n]_{data}`` to the owner's run and model and rewrite the run's
    ``metric_info.json``."""
    run_id, model_id, integration = owner
    try:
        with _lock:
            calls = _calls[run_id][metric]
            suffix = "" if not calls else f"-{len(calls) + 1}"
            key = f"{metric}{suffix}_{data}"
            calls.append((key, call))
            info = dict(sorted(kc for each in _calls[run_id].values() for kc in each))
        client = Client()
        client.log_metric(run_id, key, float(value), model_id=model_id)
        client.log_dict(run_id, info, "metric_info.json")
    except Exception as error:
        warn_logging_failure(integration, error)


def _is_metric_value(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool | complex)


def _first_argument(function: Callable[..., Any], args: tuple[Any, ...], kw: dict) -> Any:
    """The data an inference method or ``score`` was given: its first argument after self."""
    if args:
        return args[0]
    try:
        names = list(inspect.signature(function).parameters)[1:]
    except (TypeError, ValueError):
        return None
    return kw.get(names[0]) if names else None


def _call_text(
    name: str, function: Callable[..., Any], args: tuple[Any, ...], kw: dict, skip_self: bool
) -> str:
    """``accuracy_score(y_true=y_test, y_pred=predictions)``, as MLflow writes the call."""
    try:
        names = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        names = []
    if skip_self and names:
        names = names[1:]
    parts = [f"{n}={_argument_text(a)}" for n, a in zip(names, args, strict=False)]
    parts += [f"{n}={_argument_text(a)}" for n, a in kw.items()]
    return f"{name}({', '.join(parts)})"


def _argument_text(value: Any) -> str:
    if value is None or isinstance(value, str | numbers.Number | bool):
        if isinstance(value, str) and len(value) > 32:
            return repr(value[:32] + "...")
        return repr(value)
    return _variable_name(value, f"<{type(value).__name__}>")


def _variable_name(value: Any, fallback: str) -> str:
    """The name the outermost caller gave ``value``: the first frame, walking out, where it is
    a local variable and not one of the frame's arguments (MLflow's inspection)."""
    if value is None:
        return fallback
    try:
        frame = inspect.currentframe()
        while frame is not None:
            info = inspect.getargvalues(frame)
            passed = [info.locals[name] for name in info.args]
            if info.varargs:
                passed.extend(info.locals[info.varargs])
            if info.keywords:
                passed.extend(info.locals[info.keywords].values())
            module = str(frame.f_globals.get("__name__", ""))
            if any(value is arg for arg in passed) or module.startswith(_LIBRARIES):
                frame = frame.f_back
                continue
            for name, local in frame.f_locals.items():
                if local is value:
                    return str(name)
            return fallback
        return fallback
    except Exception:
        return fallback
