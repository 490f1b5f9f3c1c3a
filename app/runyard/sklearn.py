"""``import runyard.sklearn``, as MLflow code writes ``import mlflow.sklearn``.

The same module as ``runyard.autolog.sklearn``, not a copy, so its state and patches are shared.
"""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("runyard.autolog.sklearn")
