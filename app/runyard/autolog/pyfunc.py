"""``runyard.pyfunc.load_model``: MLflow's generic loader for the flavors runyard reads.

A saved model's ``MLmodel`` names the module that loads it (``python_function.loader_module``);
for ``mlflow.sklearn``, ``mlflow.lightgbm`` and ``mlflow.xgboost`` runyard loads the model
itself (``runyard.sklearn.load_model``, ...) and wraps it so ``predict`` answers as MLflow's
``PyFuncModel`` does. A model of any other flavor needs MLflow's own
loader, and says so."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runyard.autolog import lightgbm_model, saved_model, sklearn_model, xgboost_model
from runyard.errors import InvalidParameterValue
from runyard.tracking.model_logging import model_directory

#: ``python_function.loader_module`` -> how runyard loads a model directory of that flavor.
_LOADERS = {
    "mlflow.sklearn": sklearn_model.load_local,
    "mlflow.lightgbm": lightgbm_model.load_local,
    "mlflow.xgboost": xgboost_model.load_local,
}
#: ``loader_module`` -> how its models ``predict``, where calling the method is not enough (an
#: XGBoost ``Booster`` reads a ``DMatrix``, not the DataFrame or array ``pyfunc`` is given).
_PREDICTORS: dict[str, Callable[[Any, Any], Any]] = {"mlflow.xgboost": xgboost_model.predict}


@dataclass(frozen=True)
class PyFuncModel:
    """A loaded model with MLflow's ``predict(data)``; ``unwrap_python_model`` gives the
    underlying object (the estimator or booster)."""

    model: Any
    metadata: dict[str, Any]

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """The model's answer through the method its ``MLmodel`` names (``predict_fn``, as
        ``pyfunc_predict_fn`` saved it: ``predict`` unless it said ``predict_proba``, ...)."""
        if params:
            raise InvalidParameterValue("This model takes no inference params.")
        function = (self.metadata.get("flavors") or {}).get("python_function") or {}
        name = str(function.get("predict_fn") or "predict")
        predictor = _PREDICTORS.get(str(function.get("loader_module")))
        if predictor is not None and name == "predict":
            return predictor(self.model, data)
        method = getattr(self.model, name, None)
        if method is None:
            raise InvalidParameterValue(
                f"The model has no method {function.get('predict_fn')!r} to predict with."
            )
        return method(data)

    def unwrap_python_model(self) -> Any:
        return self.model

    @property
    def model_id(self) -> str | None:
        return self.metadata.get("model_id")


def load_model(model_uri: str, dst_path: str | os.PathLike[str] | None = None) -> PyFuncModel:
    """The model behind ``model_uri`` (``models:/<id>``, ``models:/<name>@<alias>``,
    ``runs:/<run>/<name>``, an artifact URI or a local directory), ready to ``predict``."""
    with model_directory(model_uri, dst_path) as directory:
        return _load_from(directory)


def _load_from(directory: str) -> PyFuncModel:
    descriptor = saved_model.read_descriptor(directory)
    function = (descriptor.get("flavors") or {}).get("python_function")
    if not isinstance(function, dict):
        raise InvalidParameterValue("The model has no python_function flavor to predict with.")
    loader = _LOADERS.get(str(function.get("loader_module")))
    if loader is None:
        raise InvalidParameterValue(
            "runyard loads scikit-learn, LightGBM and XGBoost models; this one needs "
            f"{function.get('loader_module')}: install mlflow and use mlflow.pyfunc.load_model."
        )
    return PyFuncModel(loader(directory), descriptor)
