"""The pages' scripts run in Firefox too (Debian's ``firefox-esr``, headless).

Playwright cannot drive Debian's Firefox: its Firefox protocol needs Playwright's own patched
build, and its WebDriver BiDi mode stops at a command this Firefox does not implement
(``emulation.setMediaFeaturesOverride``). So Firefox loads each page by itself
(``--screenshot``), and the server's access log shows which of the page's own API calls its
scripts made: a script Firefox could not parse or run would make none.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.requirements import require

pytestmark = pytest.mark.timeout(240)

#: Page -> the request its script makes first (only a script that ran can make it).
PAGES = {
    "experiment": ("/experiments/{eid}", "GET /ajax-api/2.0/runyard/runs "),
    "charts": ("/experiments/{eid}/charts?panel=line:loss", "GET /ajax-api/2.0/runyard/runs "),
    "run": ("/runs/{alpha}", "GET /ajax-api/2.0/runyard/artifacts/list "),
    "compare": ("/compare?run_ids={alpha},{beta}", "GET /ajax-api/2.0/runyard/chart "),
}


def firefox() -> str:
    path = os.environ.get("RUNYARD_FIREFOX") or shutil.which("firefox-esr") or ""
    if not path:
        require("firefox", "no firefox-esr on this machine")
    return path


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_scripts_run_in_firefox(live_ui, tmp_path, name):
    binary = firefox()
    seed = live_ui.seed
    path, call = PAGES[name]
    url = live_ui.url + path.format(
        eid=seed.experiment_id, alpha=seed.runs["alpha"], beta=seed.runs["beta"]
    )
    before = len(live_ui.server.log())
    shot = tmp_path / f"{name}.png"
    env = {**os.environ, "HOME": str(tmp_path), "MOZ_HEADLESS": "1"}
    subprocess.run(
        [
            binary,
            "--headless",
            "--no-remote",
            "--profile",
            str(tmp_path),
            "--screenshot",
            str(shot),
            url,
        ],
        env=env,
        timeout=120,
        check=True,
        capture_output=True,
    )
    assert shot.exists() and shot.stat().st_size > 1000
    assert call in live_ui.server.log()[before:]
