"""Images logged per step, by runyard's client and by the mlflow client, shown by the UI: a
panel per key with a step slider on the run page, runs side by side on the compare page."""

from __future__ import annotations

import re

import pytest
from runyard.images import parse_image_names

from tests.live_server import start_runyard_ui
from tests.requirements import import_or_skip
from tests.ui.conftest import screenshot

pytestmark = pytest.mark.timeout(180)

np = pytest.importorskip("numpy")
pytest.importorskip("PIL")


def square(level: int, size: int = 40):  # type: ignore[no-untyped-def]
    return np.full((size, size, 3), level, dtype=np.uint8)


@pytest.fixture(scope="module")
def logged(tmp_path_factory):  # type: ignore[no-untyped-def]
    """``runyard ui`` with two runs: one logs through runyard, one through mlflow."""
    mlflow = import_or_skip("mlflow", "mlflow")
    from runyard import Client as RunyardClient

    cwd = tmp_path_factory.mktemp("images")
    with start_runyard_ui(cwd) as server:
        ours = RunyardClient(tracking_uri=server.url)
        eid = ours.create_experiment("images")
        a = ours.create_run(eid, run_name="runyard-run").info.run_id
        for step in (0, 5, 10):
            ours.log_image(a, square(step * 20), key="samples/rgb", step=step)
        ours.log_image(a, square(255, 8) > 0, key="mask", step=3)
        theirs = mlflow.MlflowClient(tracking_uri=server.url)
        b = theirs.create_run(eid, run_name="mlflow-run").info.run_id
        for step in (0, 10):
            theirs.log_image(b, square(200 - step * 10), key="samples/rgb", step=step)
        yield server, cwd, eid, {"ours": a, "theirs": b}


def shapes(names: list[str]) -> set[str]:
    """File names with their uuid and numbers blanked out."""
    return {
        re.sub(r"\+\d+", "+N", re.sub(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", "U", n))
        for n in names
    }


def test_runyard_writes_mlflow_s_layout(logged):
    _, cwd, eid, ids = logged

    def names(run_id: str) -> list[str]:
        return sorted(
            p.name for p in (cwd / "mlruns" / eid / run_id / "artifacts/images").iterdir()
        )

    ours, theirs = names(ids["ours"]), names(ids["theirs"])
    assert (
        shapes([n for n in ours if n.startswith("samples~rgb")])
        == shapes(theirs)
        == {
            "samples~rgb+step+N+timestamp+N+U.png",
            "samples~rgb+step+N+timestamp+N+U+compressed.webp",
        }
    )
    mine = parse_image_names(ours)
    assert [i.step for i in mine["samples/rgb"]] == [0, 5, 10]
    assert all(i.compressed and i.compressed.endswith("+compressed.webp") for i in mine["mask"])
    assert [i.step for i in parse_image_names(theirs)["samples/rgb"]] == [0, 10]


def test_run_page_steps_through_images(logged, page):
    server, _, _, ids = logged
    page.goto(f"{server.url}/runs/{ids['ours']}")
    panel = page.locator("#images section.image-key[data-key='samples/rgb']")
    panel.wait_for()
    assert page.locator("#images section.image-key").count() == 2
    figure = panel.locator("figure.step-image")
    assert figure.get_attribute("data-step") == "10"  # the latest step first
    panel.locator("input[type=range]").focus()
    page.keyboard.press("Home")
    page.wait_for_function(
        "() => document.querySelector(\"[data-key='samples/rgb'] figure\").dataset.step === '0'"
    )
    page.wait_for_function(
        "() => document.querySelector(\"[data-key='samples/rgb'] img\").naturalWidth === 256"
    )
    panel.get_by_role("button", name="All steps").click()
    assert panel.locator(".step-grid .thumb").count() == 3
    panel.locator(".step-grid .thumb").nth(1).click()
    assert figure.get_attribute("data-step") == "5"
    page.wait_for_function(
        "() => document.querySelector(\"[data-key='samples/rgb'] figure img\").complete"
    )
    screenshot(page, "run-images")
    assert page.errors == []


def test_compare_shows_runs_side_by_side_at_a_step(logged, page):
    server, _, _, ids = logged
    page.goto(f"{server.url}/compare?run_ids={ids['ours']},{ids['theirs']}")
    panel = page.locator("#images section.image-key[data-key='samples/rgb']")
    panel.wait_for()
    figures = panel.locator("figure.step-image")
    assert figures.count() == 2
    assert [figures.nth(i).get_attribute("data-step") for i in range(2)] == ["10", "10"]
    slider = panel.locator("input[type=range]")
    slider.focus()
    page.keyboard.press("ArrowLeft")  # steps are 0, 5, 10: at 5 the mlflow run shows step 0
    assert [figures.nth(i).get_attribute("data-step") for i in range(2)] == ["5", "0"]
    mask = page.locator("#images section.image-key[data-key='mask'] figure")
    assert mask.nth(1).locator(".no-image").count() == 1
    screenshot(page, "compare-images")
    assert page.errors == []
