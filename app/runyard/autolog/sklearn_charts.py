"""A classifier's training charts, as MLflow's scikit-learn autologging logs them:
``training_confusion_matrix.png`` (normalized over each true label) for every classifier, and
for a binary one ``training_roc_curve.png`` and ``training_precision_recall_curve.png``, from
``predict_proba`` (or ``decision_function``) on the training data. MLflow draws them with
matplotlib; these are drawn with Pillow (``autolog.plots``), in milliseconds."""

from __future__ import annotations

import os
from typing import Any

from runyard.autolog import plots

PREFIX = "training_"


def write_classifier_charts(
    directory: str, estimator: Any, X: Any, y: Any, sample_weight: Any = None
) -> list[str]:
    """The charts that apply to the fitted classifier ``estimator`` on ``(X, y)``, written
    into ``directory``; returns their file names (none without labels or Pillow)."""
    from sklearn import metrics as skm

    if y is None:
        return []
    labels = list(getattr(estimator, "classes_", []))
    predicted = estimator.predict(X)
    if not labels:
        labels = sorted(set(y) | set(predicted))
    matrix = skm.confusion_matrix(
        y, predicted, labels=labels, sample_weight=sample_weight, normalize="true"
    )
    written = []
    name = f"{PREFIX}confusion_matrix.png"
    if plots.heatmap(
        os.path.join(directory, name), matrix.tolist(), labels, "Normalized confusion matrix"
    ):
        written.append(name)
    if len(set(y)) != 2 or len(labels) != 2:
        return written
    scores = _positive_scores(estimator, X)
    if scores is None:
        return written
    positive = labels[1]
    fpr, tpr, _ = skm.roc_curve(y, scores, pos_label=positive, sample_weight=sample_weight)
    area = skm.auc(fpr, tpr)
    name = f"{PREFIX}roc_curve.png"
    if plots.curve(
        os.path.join(directory, name),
        fpr.tolist(),
        tpr.tolist(),
        ("False Positive Rate", "True Positive Rate"),
        "ROC curve",
        f"AUC = {area:.2f}",
        diagonal=True,
    ):
        written.append(name)
    precision, recall, _ = skm.precision_recall_curve(
        y, scores, pos_label=positive, sample_weight=sample_weight
    )
    average = skm.average_precision_score(
        y, scores, pos_label=positive, sample_weight=sample_weight
    )
    name = f"{PREFIX}precision_recall_curve.png"
    if plots.curve(
        os.path.join(directory, name),
        recall.tolist(),
        precision.tolist(),
        ("Recall", "Precision"),
        "Precision recall curve",
        f"AP = {average:.2f}",
    ):
        written.append(name)
    return written


def _positive_scores(estimator: Any, X: Any) -> Any:
    """The positive class's score per row, as scikit-learn's curve displays choose it."""
    if hasattr(estimator, "predict_proba"):
        return estimator.predict_proba(X)[:, 1]
    if hasattr(estimator, "decision_function"):
        return estimator.decision_function(X)
    return None
