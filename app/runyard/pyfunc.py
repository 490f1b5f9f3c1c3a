"""``import runyard.pyfunc``, as MLflow code writes ``import mlflow.pyfunc``.

The same module as ``runyard.autolog.pyfunc``, not a copy.
"""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("runyard.autolog.pyfunc")
