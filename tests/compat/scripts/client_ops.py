"""MlflowClient operations: lookups, search with filter and order_by, history, artifacts, trash."""

import json
import os
import tempfile

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

client = MlflowClient()
experiment_id = client.create_experiment("compat-client", tags={"team": "a"})
assert client.get_experiment_by_name("compat-client").experiment_id == experiment_id
assert client.get_experiment_by_name("does-not-exist") is None

run_ids = []
for i in range(3):
    run = client.create_run(experiment_id, run_name=f"r{i}", tags={"k": "v"})
    run_id = run.info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("loss", 1.0 / (i + 1), 1000 + i, 0), Metric("loss", 0.1 * i, 2000 + i, 1)],
        params=[Param("lr", str(0.1 * (i + 1))), Param("kind", "odd" if i % 2 else "even")],
        tags=[RunTag("idx", str(i))],
    )
    client.set_terminated(run_id)
    run_ids.append(run_id)

found = client.search_runs(
    [experiment_id], filter_string="params.kind = 'even'", order_by=["metrics.loss DESC"]
)
assert [r.info.run_id for r in found] == [run_ids[2], run_ids[0]], found
# Text beyond ASCII comes back whole from a search page (the server writes it as UTF-8)
client.set_tag(run_ids[0], "note", "caf\u00e9 \u2603 \U0001f680")
(noted,) = client.search_runs([experiment_id], filter_string="tags.note LIKE 'caf%'")
assert noted.data.tags["note"] == "caf\u00e9 \u2603 \U0001f680", noted.data.tags
assert client.get_run(run_ids[1]).data.metrics["loss"] == 0.1
history = client.get_metric_history(run_ids[2], "loss")
assert [(m.step, m.value) for m in history] == [(0, 1.0 / 3), (1, 0.2)]

work = tempfile.mkdtemp()
with open(os.path.join(work, "a.txt"), "w") as f:
    f.write("aa")
client.log_artifact(run_ids[0], os.path.join(work, "a.txt"), "stuff")
listed = client.list_artifacts(run_ids[0])
assert [(f.path, f.is_dir) for f in listed] == [("stuff", True)], listed
inner = client.list_artifacts(run_ids[0], "stuff")
assert [(f.path, f.file_size) for f in inner] == [("stuff/a.txt", 2)], inner
local = client.download_artifacts(run_ids[0], "stuff/a.txt", tempfile.mkdtemp())
with open(local) as f:
    assert f.read() == "aa"

client.delete_run(run_ids[1])
assert client.get_run(run_ids[1]).info.lifecycle_stage == "deleted"
assert len(client.search_runs([experiment_id])) == 2
client.restore_run(run_ids[1])
client.set_tag(run_ids[1], "gone", "1")
client.delete_tag(run_ids[1], "gone")
client.rename_experiment(experiment_id, "compat-client-renamed")
client.set_experiment_tag(experiment_id, "k2", "v2")
client.delete_experiment(experiment_id)
assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"
client.restore_experiment(experiment_id)
print(json.dumps({"experiment_id": experiment_id, "run_ids": run_ids}))
