"""``runyard.exceptions``, where MLflow's code imports its base error from
(``from mlflow.exceptions import MlflowException``)."""

from runyard.errors import MlflowException, RunyardError

__all__ = ["MlflowException", "RunyardError"]
