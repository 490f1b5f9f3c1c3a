"""``from runyard.client import MlflowClient``, as MLflow code imports it from ``mlflow.client``."""

from runyard.tracking.client import Client

#: MLflow's name for the client.
MlflowClient = Client

__all__ = ["Client", "MlflowClient"]
