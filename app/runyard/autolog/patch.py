"""Safe patching: wrap a training function so it logs, without ever breaking training.

A patched function keeps three promises to the user's code, whatever the logging code does:

* the original is called exactly once per call, with the user's arguments (a wrapper may
  add to them, e.g. a callback; if it fails before calling the original, the original is
  called with the user's own arguments);
* its result is returned, and its exception raised, unchanged;
* an exception raised by the logging code becomes a ``warnings.warn``, never an exception in
  the user's training.

Around the call it manages the run: with no active run, one is opened (tag
``mlflow.autologging=<integration>``) and ended FINISHED, or FAILED if training raised; with an
active run, the call joins it. Calls made inside a patched call (a ``fit`` calling another
patched ``fit``) run the plain original, so one training logs once.

Autologging your own class::

    import runyard
    from runyard.autolog.patch import safe_patch, revert_patches

    class MyModel:
        def fit(self, X, y, epochs=3):
            ...
            return self

    def log_fit(original, self, X, y, epochs=3, **kwargs):
        runyard.log_param("epochs", epochs)
        model = original(self, X, y, epochs=epochs, **kwargs)  # the training itself
        runyard.log_metric("n_samples", len(X))
        return model

    safe_patch(MyModel, "fit", log_fit, integration="mymodel")
    MyModel().fit(X, y)          # a run tagged mlflow.autologging=mymodel, params and metric
    revert_patches("mymodel")    # MyModel.fit is the original function again
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from runyard import tags as system_tags

AUTOLOGGING_TAG = system_tags.AUTOLOGGING

_MISSING = object()


@dataclass
class _Patch:
    owner: Any
    name: str
    raw: Any  # what owner.__dict__ held before (a descriptor for classes), or _MISSING
    patched: Any


_LOCK = threading.RLock()
_PATCHES: dict[str, list[_Patch]] = {}
_STATE = threading.local()
#: integration -> tags for the runs its autologging starts (MLflow's ``extra_tags``).
_RUN_TAGS: dict[str, dict[str, str]] = {}
#: Integrations whose autologging warns about nothing (MLflow's ``silent``).
_SILENT: set[str] = set()
#: Integrations that log only to runs they start, never to the user's (MLflow's ``exclusive``).
_EXCLUSIVE: set[str] = set()


class AutologgingWarning(UserWarning):
    """Logging code of an autologger failed; the user's training was not affected."""


def _raw_attribute(owner: Any, name: str) -> Any:
    """The attribute as stored on ``owner`` itself (keeps staticmethod/classmethod wrappers)."""
    namespace = vars(owner) if hasattr(owner, "__dict__") else {}
    return namespace.get(name, _MISSING)


def is_patched(owner: Any, name: str, integration: str | None = None) -> bool:
    with _LOCK:
        groups = [integration] if integration else list(_PATCHES)
        return any(p.owner is owner and p.name == name for g in groups for p in _PATCHES.get(g, ()))


def safe_patch(
    owner: Any,
    name: str,
    wrapper: Callable[..., Any],
    *,
    integration: str = "custom",
    manage_run: bool = True,
) -> None:
    """Replace ``owner.name`` (a class's method or a module's function) by a safe wrapper.

    ``wrapper(original, *args, **kwargs)`` receives the original (bound arguments included:
    ``self`` for methods) and the user's arguments, calls ``original`` once, and returns its
    result. Patching the same ``owner.name`` twice for one integration does nothing the second
    time. ``revert_patches(integration)`` restores exactly what was there.
    """
    with _LOCK:
        if is_patched(owner, name, integration):
            return
        raw = _raw_attribute(owner, name)
        current = getattr(owner, name)
        kind = type(raw) if isinstance(raw, staticmethod | classmethod) else None
        target = raw.__func__ if kind is not None else current
        if kind is None and inspect.ismethod(current) and inspect.isclass(owner):
            target = current.__func__  # an inherited classmethod seen through the class
            kind = classmethod
        safe = _make_safe(target, wrapper, integration, manage_run)
        patched = kind(safe) if kind is not None else safe
        setattr(owner, name, patched)
        _PATCHES.setdefault(integration, []).append(_Patch(owner, name, raw, patched))


def revert_patches(integration: str) -> None:
    """Put back every original that ``integration`` replaced, in reverse order."""
    with _LOCK:
        for patch in reversed(_PATCHES.pop(integration, [])):
            if patch.raw is _MISSING:
                if _raw_attribute(patch.owner, patch.name) is patch.patched:
                    delattr(patch.owner, patch.name)
            else:
                setattr(patch.owner, patch.name, patch.raw)


def patched_integrations() -> list[str]:
    with _LOCK:
        return [name for name, patches in _PATCHES.items() if patches]


def configure(
    integration: str,
    extra_tags: Mapping[str, Any] | None = None,
    silent: bool = False,
    exclusive: bool = False,
) -> None:
    """What an ``autolog()`` call asks of every patched call of ``integration``: ``extra_tags``
    on the runs it starts, ``silent``: no autologging warnings, and ``exclusive``: a call made
    while the user's own run is active trains without logging."""
    with _LOCK:
        _RUN_TAGS[integration] = {str(k): str(v) for k, v in (extra_tags or {}).items()}
        for flag, members in ((silent, _SILENT), (exclusive, _EXCLUSIVE)):
            if flag:
                members.add(integration)
            else:
                members.discard(integration)


def warn_logging_failure(integration: str, error: BaseException) -> None:
    if integration in _SILENT:
        return
    warnings.warn(
        f"runyard {integration} autologging failed and was skipped for this call "
        f"(training itself was not affected): {type(error).__name__}: {error}",
        AutologgingWarning,
        stacklevel=3,
    )


def in_patched_call() -> bool:
    """True while a patched call runs on this thread (its logging is in charge)."""
    return getattr(_STATE, "depth", 0) > 0


@contextlib.contextmanager
def nested_logging() -> Iterator[None]:
    """Inside a patched call's wrapper: the next patched call it makes logs as a call of its
    own (and joins the run), where it would otherwise run plain; calls inside that one run
    plain again. A scikit-learn API ``fit`` that trains through a patched ``train`` uses it."""
    _STATE.nested = True
    try:
        yield
    finally:
        _STATE.nested = False


def _take_nested_allowance() -> bool:
    if getattr(_STATE, "nested", False):
        _STATE.nested = False
        return True
    return False


class _Call:
    """One call of the original, guarded so that it happens at most once."""

    def __init__(self, original: Callable[..., Any]) -> None:
        self.original = original
        self.__wrapped__ = original  # inspect.signature(call) is the original's signature
        self.called = False
        self.result: Any = None
        self.error: BaseException | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.called:
            raise RuntimeError("autologging wrapper called the original function twice")
        self.called = True
        try:
            self.result = self.original(*args, **kwargs)
        except BaseException as error:
            self.error = error
            raise
        return self.result


def _make_safe(
    original: Callable[..., Any],
    wrapper: Callable[..., Any],
    integration: str,
    manage_run: bool,
) -> Callable[..., Any]:
    @functools.wraps(original)
    def patched(*args: Any, **kwargs: Any) -> Any:
        if in_patched_call():
            if not _take_nested_allowance():
                return original(*args, **kwargs)
        elif _left_to_the_user(integration, manage_run):  # a run the outer call started is not
            return original(*args, **kwargs)
        _STATE.depth = getattr(_STATE, "depth", 0) + 1
        try:
            return _run_logged(original, wrapper, integration, manage_run, args, kwargs)
        finally:
            _STATE.depth -= 1

    patched.__runyard_original__ = original  # type: ignore[attr-defined]
    return patched


def _run_logged(
    original: Callable[..., Any],
    wrapper: Callable[..., Any],
    integration: str,
    manage_run: bool,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    started = False
    if manage_run:
        try:
            started = _start_run_if_none(integration)
        except Exception as error:
            warn_logging_failure(integration, error)
    call = _Call(original)
    try:
        try:
            wrapper(call, *args, **kwargs)
        except BaseException as error:
            if call.error is not None and error is call.error:
                raise
            if isinstance(error, KeyboardInterrupt | SystemExit) and not call.called:
                raise
            if call.error is None:  # a failure of the logging code, not of training
                warn_logging_failure(integration, error)
        if not call.called:
            call(*args, **kwargs)  # the wrapper failed (or forgot) before training
        if call.error is not None:
            raise call.error
    except BaseException:
        if started:
            _end_run(integration, "FAILED")
        raise
    if started:
        _end_run(integration, "FINISHED")
    return call.result


def _left_to_the_user(integration: str, manage_run: bool) -> bool:
    """Whether an ``exclusive`` integration meets a run of the user's: it logs nothing then."""
    if not manage_run or integration not in _EXCLUSIVE:
        return False
    from runyard.tracking import fluent

    try:
        return fluent.active_run() is not None
    except Exception as error:  # never let the check break training
        warn_logging_failure(integration, error)
        return True


def _start_run_if_none(integration: str) -> bool:
    from runyard.tracking import fluent

    if fluent.active_run() is not None:
        return False
    fluent.start_run(tags={**_RUN_TAGS.get(integration, {}), AUTOLOGGING_TAG: integration})
    return True


def _end_run(integration: str, status: str) -> None:
    from runyard.tracking import fluent

    try:
        fluent.end_run(status=status)
    except Exception as error:
        warn_logging_failure(integration, error)
