"""Autologging: training calls of ML libraries log their params, metrics and models.

Turn on every supported library that is installed::

    import runyard.autolog
    runyard.autolog.autolog()              # scikit-learn and LightGBM, whichever are installed
    runyard.autolog.autolog(disable=True)  # put the libraries back exactly as they were

or one library: ``runyard.sklearn.autolog()``, ``runyard.lightgbm.autolog()``. ``runyard.autolog``
is this package (a module, so it is not called itself); its function is
``runyard.autolog.autolog``. Patching is done by ``runyard.autolog.patch``, which guarantees
that training runs exactly as it would without autologging, whatever the logging does.
"""

from __future__ import annotations

import importlib
import importlib.util
import warnings

#: library module -> runyard integration module
INTEGRATIONS: dict[str, str] = {
    "sklearn": "runyard.autolog.sklearn",
    "lightgbm": "runyard.autolog.lightgbm",
}


def autolog(disable: bool = False, log_models: bool = True) -> list[str]:
    """Turn autologging on (or off) for each supported library that is installed; returns
    the names of the libraries it was applied to."""
    applied = []
    for library, module_name in INTEGRATIONS.items():
        if importlib.util.find_spec(library) is None:
            continue
        module = importlib.import_module(module_name)
        try:
            module.autolog(disable=disable, log_models=log_models)
        except ImportError as error:  # installed but broken: say so, keep the others
            warnings.warn(f"{library} autologging unavailable: {error}", stacklevel=2)
            continue
        applied.append(library)
    return applied


__all__ = ["INTEGRATIONS", "autolog"]
