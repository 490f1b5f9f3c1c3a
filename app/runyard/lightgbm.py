"""``import runyard.lightgbm``, as MLflow code writes ``import mlflow.lightgbm``.

The same module as ``runyard.autolog.lightgbm``, not a copy, so its state and patches are shared.
"""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("runyard.autolog.lightgbm")
