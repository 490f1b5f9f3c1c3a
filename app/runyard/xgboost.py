"""``import runyard.xgboost``, as MLflow code writes ``import mlflow.xgboost``.

The same module as ``runyard.autolog.xgboost``, not a copy, so its state and patches are shared.
"""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("runyard.autolog.xgboost")
