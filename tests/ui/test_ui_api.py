"""The UI's JSON twins with the Flask test client: what each page shows, as data."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

from runyard.entities import Metric, Param, RunTag

from tests.ui.conftest import ARTIFACTS, HOSTILE, write_artifacts

API = "/ajax-api/2.0/runyard"


def get(client, endpoint, /, **query):  # type: ignore[no-untyped-def]
    response = client.get(f"{API}/{endpoint}", query_string=query)
    return response.status_code, response.get_json()


def names(body) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["run_name"] for r in body["runs"]]


# ---- experiments --------------------------------------------------------------------------------
def test_experiments_list_counts_runs_and_searches_by_name(client, store, seeded):
    store.create_experiment("audio")
    status, body = get(client, "experiments")
    assert status == 200
    by_name = {e["name"]: e for e in body["experiments"]}
    assert by_name["vision"]["runs_count"] == 3
    assert by_name["audio"]["runs_count"] == 0
    assert by_name["vision"]["last_activity"] >= by_name["vision"]["creation_time"]
    status, body = get(client, "experiments", q="VIS")
    assert [e["name"] for e in body["experiments"]] == ["vision"]


def test_experiments_view_deleted(client, store, seeded):
    store.delete_experiment(seeded.experiment_id)
    _, active = get(client, "experiments")
    _, deleted = get(client, "experiments", view="deleted")
    assert "vision" not in [e["name"] for e in active["experiments"]]
    assert [e["name"] for e in deleted["experiments"]] == ["vision"]


def test_experiment_writes_use_mlflow_endpoints(client, seeded):
    created = client.post("/ajax-api/2.0/mlflow/experiments/create", json={"name": "new one"})
    assert created.status_code == 200
    _, body = get(client, "experiments", q="new one")
    assert body["experiments"][0]["runs_count"] == 0


# ---- runs table ---------------------------------------------------------------------------------
def test_runs_page_sorts_by_metric_on_the_server(client, seeded):
    eid = seeded.experiment_id
    _, body = get(client, "runs", experiment_id=eid, order_by="metrics.`accuracy` DESC")
    assert names(body) == ["alpha", "gamma", "beta"]
    _, body = get(client, "runs", experiment_id=eid, order_by="metrics.`accuracy` ASC")
    assert names(body) == ["beta", "gamma", "alpha"]
    assert body["metric_keys"] == ["accuracy", "loss"]
    assert body["param_keys"] == ["lr", "model"]
    row = body["runs"][0]
    assert (
        row["status"] == "FINISHED" and row["duration"] == 59_000
    )  # beta started 1 s after the first run
    assert row["source"] == "train.py" and row["user_id"] == "alice"
    assert row["metrics"]["accuracy"] == [0.72, 99]


def test_runs_page_filters_with_or_and_parentheses(client, seeded):
    eid = seeded.experiment_id
    text = "params.model = 'mlp' OR (tags.team = 'a' AND metrics.accuracy > 0.9)"
    _, body = get(client, "runs", experiment_id=eid, filter=text, order_by="attributes.run_name")
    assert names(body) == ["alpha", "beta"]


def test_bad_filter_is_a_400_naming_the_column(client, seeded):
    status, body = get(client, "runs", experiment_id=seeded.experiment_id, filter="metrics.loss >")
    assert status == 400
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "column 15" in body["message"]


def test_runs_page_min_max_on_request(client, seeded):
    eid = seeded.experiment_id
    _, plain = get(client, "runs", experiment_id=eid)
    assert len(plain["runs"][0]["metrics"]["loss"]) == 2
    _, body = get(client, "runs", experiment_id=eid, summaries="1", order_by="attributes.run_name")
    assert body["runs"][0]["metrics"]["loss"] == [0.01, 99, 0.01, 1.0, 100]


def test_runs_pages_with_tokens_cover_every_run_once(client, store, seeded):
    for i in range(7):
        store.create_run(seeded.experiment_id, "bob", 1000 + i, run_name=f"extra-{i}")
    seen, token, pages = [], None, 0
    while True:
        _, body = get(
            client,
            "runs",
            experiment_id=seeded.experiment_id,
            max_results=4,
            page_token=token or "",
        )
        seen += [r["run_id"] for r in body["runs"]]
        pages += 1
        token = body["next_page_token"]
        if not token:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 10


def test_runs_page_size_is_bounded(client, seeded):
    status, body = get(client, "runs", experiment_id=seeded.experiment_id, max_results=5000)
    assert status == 400 and "max_results" in body["message"]


def test_csv_export_follows_filter_order_and_columns(client, store, seeded):
    store.log_batch(seeded.runs["beta"], tags=[RunTag("note", "=HYPERLINK(1)")])
    response = client.get(
        f"{API}/runs/export.csv",
        query_string={
            "experiment_id": seeded.experiment_id,
            "filter": "metrics.accuracy > 0.5",
            "order_by": "metrics.`accuracy` ASC",
            "columns": ["run_name", "metrics.accuracy", "params.model", "tags.note"],
        },
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["run_id", "run_name", "metrics.accuracy", "params.model", "tags.note"]
    assert [r[1] for r in rows[1:]] == ["beta", "gamma", "alpha"]
    assert rows[1][2:] == ["0.72", "mlp", "'=HYPERLINK(1)"]


def test_csv_export_refuses_unknown_columns_and_bad_filters(client, seeded):
    eid = seeded.experiment_id
    bad_col = client.get(
        f"{API}/runs/export.csv", query_string={"experiment_id": eid, "columns": "nope"}
    )
    bad_filter = client.get(
        f"{API}/runs/export.csv", query_string={"experiment_id": eid, "filter": "x"}
    )
    assert bad_col.status_code == 400 and "nope" in bad_col.get_json()["message"]
    assert bad_filter.status_code == 400


# ---- run, live, chart, compare ------------------------------------------------------------------
def test_run_detail_has_summaries_and_sparklines(client, seeded):
    status, body = get(client, "runs/get", run_id=seeded.runs["alpha"])
    assert status == 200
    loss = next(m for m in body["metrics"] if m["key"] == "loss")
    assert loss["latest"] == 0.01 and loss["min"] == 0.01 and loss["max"] == 1.0
    assert 2 <= len(loss["sparkline"]) <= 40
    assert {"key": "model", "value": "cnn"} in body["params"]
    assert {"key": "team", "value": "a"} in body["tags"]
    assert all(t["key"].startswith("mlflow.") for t in body["system_tags"])
    assert body["experiment_name"] == "vision"


def test_unknown_run_is_a_json_404(client):
    status, body = get(client, "runs/get", run_id="0" * 32)
    assert status == 404 and body["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_live_status_sees_new_points_and_status(client, store, seeded):
    run = store.create_run(seeded.experiment_id, "alice", int(time.time() * 1000), run_name="live")
    rid = run.info.run_id
    _, before = get(client, "runs/live", run_id=rid)
    assert before["status"] == "RUNNING" and before["metrics"] == []
    store.log_metric(rid, Metric("loss", 0.5, int(time.time() * 1000), 3))
    _, after = get(client, "runs/live", run_id=rid)
    assert after["metrics"][0]["latest"] == 0.5 and after["metrics"][0]["step"] == 3


def test_chart_is_bounded_per_series_and_keeps_spikes(client, store, seeded):
    rid = seeded.runs["beta"]
    now = int(time.time() * 1000)
    points = [Metric("noisy", 1.0, now + s, s) for s in range(3000)]
    points[1234] = Metric("noisy", 99.0, now + 1234, 1234)
    for start in range(0, 3000, 1000):
        store.log_batch(rid, metrics=points[start : start + 1000])
    status, body = get(client, "chart", run_ids=rid, metric_key="noisy", max_results=200)
    assert status == 200
    series = body["series"][0]
    assert series["run_name"] == "beta"
    assert len(series["points"]) <= 200
    assert max(p[2] for p in series["points"]) == 99.0
    assert series["points"][0][0] == 0 and series["points"][-1][0] == 2999


def test_chart_many_runs_and_step_window(client, seeded):
    ids = [seeded.runs["alpha"], seeded.runs["gamma"]]
    _, body = get(
        client, "chart", run_ids=",".join(ids), metric_key="loss", start_step=10, end_step=19
    )
    assert [s["run_id"] for s in body["series"]] == ids
    assert [p[0] for p in body["series"][0]["points"]] == list(range(10, 20))


def test_chart_rejects_bad_input(client, seeded):
    assert get(client, "chart", metric_key="loss")[0] == 400
    assert get(client, "chart", run_ids=seeded.runs["alpha"])[0] == 400
    assert (
        get(client, "chart", run_ids=seeded.runs["alpha"], metric_key="loss", max_results=0)[0]
        == 400
    )


def test_compare_marks_differences(client, seeded):
    ids = [seeded.runs["alpha"], seeded.runs["gamma"]]
    status, body = get(client, "compare", run_ids=ids)
    assert status == 200
    params = {p["key"]: p for p in body["params"]}
    assert params["model"] == {"key": "model", "values": ["cnn", "cnn"], "differs": False}
    assert params["lr"]["differs"] is True
    metrics = {m["key"]: m for m in body["metrics"]}
    assert metrics["accuracy"]["differs"] is True
    assert [v["latest"] for v in metrics["accuracy"]["values"]] == [0.91, 0.85]


# ---- artifacts ----------------------------------------------------------------------------------
def _with_artifacts(store, seeded, tmp_path) -> str:  # type: ignore[no-untyped-def]
    rid = seeded.runs["alpha"]
    write_artifacts(tmp_path / "artifacts", store.get_run(rid).info.artifact_uri, ARTIFACTS)
    return rid


def test_artifact_listing_and_previews(client, store, seeded, tmp_path):
    rid = _with_artifacts(store, seeded, tmp_path)
    _, root = get(client, "artifacts/list", run_id=rid)
    listed = {f["name"]: f for f in root["files"]}
    assert listed["config"]["is_dir"] and listed["notes.txt"]["file_size"] == len(
        ARTIFACTS["notes.txt"]
    )
    _, sub = get(client, "artifacts/list", run_id=rid, path="config")
    assert [f["path"] for f in sub["files"]] == ["config/model.yaml", "config/params.json"]

    _, text = get(client, "artifacts/preview", run_id=rid, path="notes.txt")
    assert text["kind"] == "text" and text["text"].startswith("hello from the run")
    _, js = get(client, "artifacts/preview", run_id=rid, path="config/params.json")
    assert js["kind"] == "json" and '"layers": [\n    64,' in js["text"]
    _, yml = get(client, "artifacts/preview", run_id=rid, path="config/model.yaml")
    assert yml["kind"] == "yaml" and "depth: 3" in yml["text"]
    _, table = get(client, "artifacts/preview", run_id=rid, path="data/table.csv")
    assert table["header"] == ["epoch", "loss"] and table["rows"][-1] == ["3", "0.25"]
    _, image = get(client, "artifacts/preview", run_id=rid, path="plots/red.png")
    assert image["kind"] == "image" and image["url"].startswith(f"{API}/artifacts/raw?")
    _, html = get(client, "artifacts/preview", run_id=rid, path="report.html")
    assert html["kind"] == "text" and "<script>" in html["text"]


def test_preview_is_size_capped(client, store, seeded, tmp_path):
    rid = seeded.runs["beta"]
    big = b"x" * (300 * 1024)
    write_artifacts(tmp_path / "artifacts", store.get_run(rid).info.artifact_uri, {"big.log": big})
    _, body = get(client, "artifacts/preview", run_id=rid, path="big.log")
    assert body["truncated"] is True and len(body["text"]) == 256 * 1024


def test_raw_artifacts_are_served_safely(client, store, seeded, tmp_path):
    rid = _with_artifacts(store, seeded, tmp_path)
    png = client.get(f"{API}/artifacts/raw", query_string={"run_id": rid, "path": "plots/red.png"})
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.data == ARTIFACTS["plots/red.png"]
    assert png.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in png.headers["Content-Security-Policy"]
    html = client.get(f"{API}/artifacts/raw", query_string={"run_id": rid, "path": "report.html"})
    assert html.mimetype == "application/octet-stream"
    assert html.headers["Content-Disposition"].startswith("attachment")
    html.close()
    download = client.get(
        f"{API}/artifacts/raw", query_string={"run_id": rid, "path": "notes.txt", "download": "1"}
    )
    assert download.headers["Content-Disposition"].startswith("attachment")
    download.close()


def test_svg_is_an_image_that_cannot_run_script(client, store, seeded, tmp_path):
    rid = seeded.runs["gamma"]
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>window.__xss=4</script></svg>'
    write_artifacts(tmp_path / "artifacts", store.get_run(rid).info.artifact_uri, {"p.svg": svg})
    _, body = get(client, "artifacts/preview", run_id=rid, path="p.svg")
    assert body["kind"] == "image"
    raw = client.get(f"{API}/artifacts/raw", query_string={"run_id": rid, "path": "p.svg"})
    assert raw.mimetype == "image/svg+xml" and raw.data == svg
    csp = raw.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp and "script" not in csp


def test_artifact_paths_cannot_escape(client, store, seeded, tmp_path):
    rid = _with_artifacts(store, seeded, tmp_path)
    for path in ("../../ui.db", "/etc/passwd", "a/../../b"):
        status, body = get(client, "artifacts/preview", run_id=rid, path=path)
        assert status in (400, 404), (path, body)
        assert "error_code" in body


# ---- pages --------------------------------------------------------------------------------------
def test_pages_render_with_csp_and_escape_user_text(client, store, seeded):
    run = store.create_run(seeded.experiment_id, "eve", 1, run_name=HOSTILE)
    store.log_batch(run.info.run_id, params=[Param("p", HOSTILE)], tags=[RunTag("t", HOSTILE)])
    pages = [
        "/",
        f"/experiments/{seeded.experiment_id}",
        f"/runs/{run.info.run_id}",
        f"/compare?run_ids={run.info.run_id},{seeded.runs['alpha']}",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        csp = response.headers["Content-Security-Policy"]
        assert (
            "script-src 'self'" in csp
            and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        )
        html = response.get_data(as_text=True)
        assert "<script>window.__xss" not in html
        assert "onerror=window" not in html or "&lt;img src=x onerror=window" in html
    run_html = client.get(f"/runs/{run.info.run_id}").get_data(as_text=True)
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in run_html


def test_errors_render_as_pages_for_browsers_and_json_for_clients(client):
    page = client.get("/runs/" + "0" * 32)
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "RESOURCE_DOES_NOT_EXIST" in page.get_data(as_text=True)
    same = client.get("/api/2.0/mlflow/runs/get", query_string={"run_id": "0" * 32})
    assert same.status_code == 404  # one decision, two forms
    assert same.get_json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    model = client.get("/models/no-such-model")
    assert model.status_code == 404 and model.mimetype == "text/html"
    assert "RESOURCE_DOES_NOT_EXIST" in model.get_data(as_text=True)
    browser = client.get("/no/such/page", headers={"Accept": "text/html,*/*;q=0.8"})
    assert browser.status_code == 404 and browser.mimetype == "text/html"
    api = client.get("/no/such/page")
    assert api.status_code == 404 and api.get_json()["error_code"] == "ENDPOINT_NOT_FOUND"
    api_html = client.get(f"{API}/nope", headers={"Accept": "text/html"})
    assert api_html.get_json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_static_assets_are_served(client):
    for name in ("style.css", "js/dom.js", "js/runs.js", "js/chart.js", "js/run.js"):
        response = client.get(f"/ui-static/{name}")
        assert response.status_code == 200, name
        response.close()


def test_pages_and_twins_work_on_the_file_store(tmp_path):
    from runyard.server.app import create_app

    from tests.ui.conftest import seed_runs

    app = create_app(
        {
            "backend_store_uri": str(tmp_path / "mlruns"),
            "artifacts_destination": str(tmp_path / "artifacts"),
        }
    )
    client = app.test_client()
    seed = seed_runs(app.config["RUNYARD_STORE"])
    _, body = get(client, "experiments")
    assert {e["name"]: e["runs_count"] for e in body["experiments"]}["vision"] == 3
    _, runs = get(
        client, "runs", experiment_id=seed.experiment_id, order_by="metrics.`accuracy` DESC"
    )
    assert names(runs) == ["alpha", "gamma", "beta"]
    _, chart = get(client, "chart", run_ids=seed.runs["alpha"], metric_key="loss", max_results=20)
    assert 2 <= len(chart["series"][0]["points"]) <= 20
    for path in ("/", f"/experiments/{seed.experiment_id}", f"/runs/{seed.runs['alpha']}"):
        assert client.get(path).status_code == 200, path


# ---- images, logged models, run sections -------------------------------------------------------
def test_step_images_group_by_key_and_link_small_copies(client, store, seeded, app):
    run = store.get_run(seeded.runs["alpha"])
    uid = "0f8fad5b-d9cb-469f-a165-70867728950"
    files = {
        f"images/val~x+step+{step}+timestamp+{step}+{uid}{step}{suffix}": b"img"
        for step in (3, 1)
        for suffix in (".png", "+compressed.webp")
    }
    destination = Path(app.config["RUNYARD_SERVER_CONFIG"].artifacts_destination)
    write_artifacts(destination, run.info.artifact_uri, files)
    status, body = get(client, "images", run_id=run.info.run_id)
    assert status == 200
    (key,) = body["keys"]
    assert key["key"] == "val/x" and [i["step"] for i in key["images"]] == [1, 3]
    assert "compressed.webp" in key["images"][0]["url"]
    assert key["images"][0]["full_url"].endswith(".png")
    assert client.get(key["images"][0]["url"]).data == b"img"
    status, body = get(client, "images", run_id=seeded.runs["beta"])
    assert status == 200 and body["keys"] == []


def test_logged_model_files_need_a_known_model(client):
    status, body = get(client, "logged-models/files")
    assert status == 400 and "model_id" in body["message"]
    status, body = get(client, "logged-models/files", model_id="m-" + "0" * 32)
    assert status == 404
    status, _ = get(client, "logged-models/raw", model_id="m-" + "0" * 32, path="MLmodel")
    assert status == 404


def test_run_detail_separates_system_metrics_and_lists_children(client, store, seeded):
    rid = seeded.runs["alpha"]
    now = int(time.time() * 1000)
    store.log_batch(rid, metrics=[Metric("system/cpu_utilization_percentage", 5.0, now, 0)])
    child = store.create_run(seeded.experiment_id, "alice", now, run_name="child").info.run_id
    store.set_tag(child, RunTag("mlflow.parentRunId", rid))
    status, body = get(client, "runs/get", run_id=rid)
    assert status == 200
    assert [m["key"] for m in body["system_metrics"]] == ["system/cpu_utilization_percentage"]
    assert all(not m["key"].startswith("system/") for m in body["metrics"])
    assert body["child_runs"] == [{"run_id": child, "run_name": "child"}]
    status, body = get(client, "runs/get", run_id=child)
    assert body["parent_run"] == {"run_id": rid, "run_name": "alpha"}
