"""A classifier's training charts: which are logged when, and that each is a readable picture
of the numbers it stands for."""

from __future__ import annotations

from pathlib import Path

import pytest
import runyard

from tests.requirements import import_or_skip

import_or_skip("sklearn", "sklearn")
Image = import_or_skip("PIL.Image", "sklearn")  # Pillow comes with the sklearn extra

from runyard.autolog import plots  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_iris  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from tests.autolog.conftest import runs_of_default_experiment  # noqa: E402

CHARTS = {
    "training_confusion_matrix.png",
    "training_roc_curve.png",
    "training_precision_recall_curve.png",
}


def _charts(run_id: str) -> set[str]:
    return {f.path for f in runyard.Client().list_artifacts(run_id)} & CHARTS


def test_binary_multiclass_and_regression_get_mlflows_charts() -> None:
    runyard.sklearn.autolog(log_models=False)
    X, y = load_breast_cancer(return_X_y=True)
    with runyard.start_run() as binary:
        LogisticRegression(solver="liblinear").fit(X, y)
    with runyard.start_run() as scored:  # no predict_proba: the decision function's scores
        LinearSVC(dual=False).fit(X, y)
    Xi, yi = load_iris(return_X_y=True)
    with runyard.start_run() as multiclass:
        LogisticRegression(max_iter=500).fit(Xi, yi)
    with runyard.start_run() as regression:
        LinearRegression().fit(X, y.astype(float))
    assert _charts(binary.info.run_id) == CHARTS
    assert _charts(scored.info.run_id) == CHARTS
    assert _charts(multiclass.info.run_id) == {"training_confusion_matrix.png"}
    assert _charts(regression.info.run_id) == set()


def test_no_charts_without_training_metrics() -> None:
    runyard.sklearn.autolog(log_models=False, log_training_metrics=False)
    X, y = load_breast_cancer(return_X_y=True)
    LogisticRegression(solver="liblinear").fit(X, y)
    (run,) = runs_of_default_experiment()
    assert _charts(run.info.run_id) == set()


def _pixel(path: Path, xy: tuple[int, int]) -> tuple[int, int, int]:
    with Image.open(path) as image:
        return image.convert("RGB").getpixel(xy)


def test_a_heatmap_shades_each_cell_by_its_share(tmp_path: Path) -> None:
    path = tmp_path / "matrix.png"
    assert plots.heatmap(str(path), [[1.0, 0.0], [0.25, 0.75]], ["no", "yes"], "Matrix")
    with Image.open(path) as image:
        width, height = image.size
    assert width >= 360 and height > 100
    # Find the cells by their shades: full is the darkest blue, zero is white.
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        shades = {rgb.getpixel((x, y)) for x in range(0, width, 3) for y in range(0, height, 3)}
    assert plots._blend(1.0) in shades and plots._blend(0.25) in shades
    assert plots._blend(0.75) in shades


def test_a_curve_is_drawn_inside_its_unit_square(tmp_path: Path) -> None:
    path = tmp_path / "curve.png"
    xs = [i / 5000 for i in range(5001)]  # more points than are drawn
    assert plots.curve(str(path), xs, [x**0.5 for x in xs], ("x", "y"), "Curve", "AUC = 0.67")
    # The curve passes through (0.25, 0.5): left 56 + 0.25 * 400, top 40 + 0.5 * 400.
    near = [_pixel(path, (156 + dx, 240 + dy)) for dx in (-2, -1, 0, 1, 2) for dy in (-2, 0, 2)]
    assert any(p == (0x3B, 0x82, 0xF6) for p in near)
    assert _pixel(path, (156, 100)) == (255, 255, 255)  # above the curve: background


@pytest.mark.parametrize("count", [1, 60])
def test_a_heatmap_of_one_or_many_classes_is_drawn(tmp_path: Path, count: int) -> None:
    matrix = [[1.0 if i == j else 0.0 for j in range(count)] for i in range(count)]
    path = tmp_path / "m.png"
    assert plots.heatmap(str(path), matrix, [f"c{i}" for i in range(count)], "Matrix")
    with Image.open(path) as image:
        assert image.size[0] >= 360
