"""What the gradient-boosting autologgers (LightGBM, XGBoost) share: the per-iteration metric
batches, the logged model created before training and filled after it, and the scikit-learn
API ``fit`` that logs the estimator rather than its booster.

The libraries differ in how a training reports its results (a LightGBM callback gets an
``env``, an XGBoost one an ``evals_log``) and how a model is saved; this module holds the rest,
so both log, batch and fail the same way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from runyard.autolog.patch import nested_logging, warn_logging_failure
from runyard.autolog.record import RunLogger
from runyard.autolog.saved_model import training_sample, training_signature
from runyard.clock import now_ms
from runyard.entities import LoggedModelStatus, Metric
from runyard.tracking.fluent_models import finalize_logged_model, initialize_logged_model
from runyard.validation import MAX_METRICS_PER_BATCH

#: Seconds between metric batches during training (so a live view updates).
FLUSH_SECONDS = 5.0


class MetricBatches:
    """Each iteration's evaluation results, logged in batches (every ``MAX_METRICS_PER_BATCH``
    points or ``FLUSH_SECONDS``). A logging failure is warned about once and stops the logging;
    training goes on."""

    def __init__(self, flavor: str, logger: RunLogger, model_id: str | None = None) -> None:
        self.flavor = flavor
        self.logger = logger
        self.model_id = model_id
        self.points: list[Metric] = []
        self.last_flush = time.monotonic()
        self.failed = False

    def add(self, results: Mapping[str, float], step: int) -> None:
        if self.failed:
            return
        ts = now_ms()
        for key, value in results.items():
            self.points.append(Metric(key, value, ts, step, model_id=self.model_id))
        if (
            len(self.points) >= MAX_METRICS_PER_BATCH
            or time.monotonic() - self.last_flush >= FLUSH_SECONDS
        ):
            self.flush()

    def flush(self) -> None:
        if self.failed or not self.points:
            return
        points, self.points = self.points, []
        self.last_flush = time.monotonic()
        try:
            self.logger.metric_points(points)  # the client packs them into requests
        except Exception as error:
            self.failed = True
            warn_logging_failure(self.flavor, error)


class EstimatorFits:
    """The scikit-learn API ``fit`` running on this thread, if any, and the logged model its
    training created: the fit, not the training, fills that model, with the estimator itself
    (so loading it gives back an ``LGBMClassifier``, ``XGBClassifier``, ..., as in MLflow)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def claim(self, model_id: str | None) -> bool:
        """Called by a training: True (and the fit keeps ``model_id``) when a fit runs it."""
        if not getattr(self._local, "active", False):
            return False
        self._local.model_id = model_id
        return True

    def run(
        self, original: Any, estimator: Any, args: tuple, kwargs: dict
    ) -> tuple[Any, Any, str | None]:
        """Run the fit: what it returns, the first rows of its ``X`` and the model id its
        training claimed (None when it logged no model)."""
        X = args[0] if args else kwargs.get("X")
        sample = training_sample(X)
        self._local.active, self._local.model_id = True, None
        try:
            with nested_logging():
                fitted = original(estimator, *args, **kwargs)
        finally:
            self._local.active = False
        return fitted, sample, self._local.model_id


def start_logged_model(options: Mapping[str, Any]) -> str | None:
    """As MLflow 3 does, the model exists before training, so each iteration's metrics are its
    metrics too; its files follow once training is done. None when models are not logged."""
    return initialize_logged_model("model").model_id if options["log_models"] else None


@contextmanager
def failed_model_on_error(flavor: str, model_id: str | None) -> Iterator[None]:
    """A training that fails leaves its model marked so, not pending forever."""
    try:
        yield
    except BaseException:
        if model_id is not None:
            try:
                finalize_logged_model(model_id, LoggedModelStatus.LOGGED_MODEL_UPLOAD_FAILED)
            except Exception as error:
                warn_logging_failure(flavor, error)
        raise


def fill_logged_model(
    log_model: Callable[..., Any],
    options: Mapping[str, Any],
    model_id: str,
    model: Any,
    sample: Any,
    predict: Callable[[Any], Any],
    params: Mapping[str, str] | None = None,
    **save_options: Any,
) -> None:
    """The trained model as the files of the logged model its training created, with the
    example and signature (from ``predict`` on ``sample``) the autolog options ask for."""
    log_model(
        model,
        name="model",
        input_example=sample if options["log_input_examples"] else None,
        signature=training_signature(predict, sample) if options["log_model_signatures"] else False,
        registered_model_name=options["registered_model_name"],
        params=params,
        model_id=model_id,
        **save_options,
    )
