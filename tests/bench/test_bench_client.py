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
    assert row["ratio"] == round(row["runyard"] / row["mlflow"], 3)
    assert row["met"] == (row["runyard"] / row["plain_s"] <= 1.5)


def test_a_process_that_logged_too_little_fails_the_row(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["0.5 0", "0.6 3", "0.7 20"])  # plain, runyard (3 of 20 points), mlflow
    monkeypatch.setattr(bench_client, "_python", lambda *args, **kwargs: next(answers))
    with pytest.raises(RuntimeError, match="runyard autologging logged 3 of 20 points"):
        bench_client.bench_xgboost_autolog(rounds=20, repeats=1)
