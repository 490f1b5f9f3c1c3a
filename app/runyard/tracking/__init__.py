"""The Python client: ``Client`` for explicit calls, ``fluent`` for the active-run style.

``MlflowClient`` is the same class under MLflow's name, for ``from mlflow.tracking import
MlflowClient`` switched to runyard."""

from runyard.tracking.client import Client

MlflowClient = Client

__all__ = ["Client", "MlflowClient"]
