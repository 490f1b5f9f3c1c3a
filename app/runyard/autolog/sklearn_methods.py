"""Patching a scikit-learn estimator's method without changing whether it has it.

Many methods exist only sometimes: ``Pipeline.predict`` when the last step predicts,
``SVC.predict_proba`` with ``probability=True``. scikit-learn makes them descriptors
(``available_if``) whose ``check`` decides, per instance, whether the attribute exists at all,
and code reads that with ``hasattr`` (scorers choose ``predict_proba`` or
``decision_function`` so). Setting a plain function over such a descriptor would make every
instance appear to have the method, so the function inside the descriptor (``fn``) is patched
instead, as MLflow does; a method of any other kind (a property) is left alone.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from runyard.autolog.patch import safe_patch


def patch_method(
    cls: type, name: str, wrapper: Callable[..., Any], integration: str, manage_run: bool = True
) -> None:
    """``safe_patch`` of ``cls.name`` that keeps ``hasattr`` answering as before; no-op when
    the class has no such method."""
    raw = next((vars(klass)[name] for klass in cls.__mro__ if name in vars(klass)), None)
    if raw is None:
        return
    if inspect.isfunction(raw):
        safe_patch(cls, name, wrapper, integration=integration, manage_run=manage_run)
    elif inspect.isfunction(getattr(raw, "fn", None)) and (
        hasattr(raw, "check") or hasattr(raw, "delegate_names")
    ):
        safe_patch(raw, "fn", wrapper, integration=integration, manage_run=manage_run)
