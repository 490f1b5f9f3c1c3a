"""The client benchmark's XGBoost row at a tiny size, so it cannot rot: plain training,
runyard's and MLflow's autologging each in its own process, each autologged run checked to
hold every round's metric."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import bench_client
from tests.requirements import installed_or_skip


@pytest.mark.slow
def test_the_xgboost_row_times_three_trainings_that_logged_what_they_should(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed_or_skip("mlflow", "mlflow")
    installed_or_skip("xgboost", "xgboost")
    monkeypatch.chdir(tmp_path)
    row = bench_client.bench_xgboost_autolog(rounds=20, repeats=1)
    assert list(tmp_path.iterdir()) == []  # every store's files stayed in its own directory
    assert row["workload"] == "xgboost_autolog_20_rounds"
    assert row["plain_s"] > 0 and row["runyard"] > 0 and row["mlflow"] > 0
    # The row's ratios come from the unrounded times, so one recomputed from its rounded times
    # may differ by what that rounding can move it.
    ratio = row["runyard"] / row["mlflow"]
    assert abs(row["ratio"] - ratio) <= _rounding_error(ratio, row["runyard"], row["mlflow"])
    over_plain = row["runyard"] / row["plain_s"]
    over_plain_error = _rounding_error(over_plain, row["runyard"], row["plain_s"])
    assert abs(row["runyard_over_plain"] - over_plain) <= over_plain_error
    if abs(over_plain - 1.5) > over_plain_error:  # else rounding decides it
        assert row["met"] == (over_plain <= 1.5)


def _rounding_error(ratio: float, numerator: float, denominator: float) -> float:
    """How far ``ratio``, of two figures rounded to 3 places, can be from the unrounded
    times' ratio rounded to 3 places."""
    return ratio * (0.0005 / numerator + 0.0005 / denominator) + 0.0005 + 1e-6


def test_a_process_that_logged_too_little_fails_the_row(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["0.5 0", "0.6 3", "0.7 20"])  # plain, runyard (3 of 20 points), mlflow
    monkeypatch.setattr(bench_client, "_python", lambda *args, **kwargs: next(answers))
    with pytest.raises(RuntimeError, match="runyard autologging logged 3 of 20 points"):
        bench_client.bench_xgboost_autolog(rounds=20, repeats=1)
