"""Fluent API basics with the real mlflow client: params, metrics, tags, artifacts, nesting."""

import json
import os
import tempfile

import mlflow

mlflow.set_experiment("compat-fluent")
work = tempfile.mkdtemp()
with open(os.path.join(work, "hello.txt"), "w") as f:
    f.write("hello")
os.makedirs(os.path.join(work, "dd", "sub"))
with open(os.path.join(work, "dd", "one.txt"), "w") as f:
    f.write("one")
with open(os.path.join(work, "dd", "sub", "two.json"), "w") as f:
    f.write('{"a": 1}')

with mlflow.start_run(run_name="parent") as parent:
    mlflow.log_param("foo", "bar")
    for step, value in enumerate([1.0, 0.7, 0.5]):
        mlflow.log_metric("logloss", value, step=step)
    mlflow.set_tag("hoge", "fuga")
    mlflow.log_params({"p1": 1, "p2": "two"})
    mlflow.log_metrics({"m1": 0.1, "m2": 0.2})
    mlflow.set_tags({"t1": "x"})
    mlflow.log_artifact(os.path.join(work, "hello.txt"))
    mlflow.log_artifacts(os.path.join(work, "dd"), "dd")
    mlflow.log_dict({"k": [1, 2]}, "conf/d.json")
    with mlflow.start_run(run_name="child", nested=True) as child:
        mlflow.log_metric("child_metric", 3.0)

assert mlflow.get_run(parent.info.run_id).data.params["foo"] == "bar"
print(
    json.dumps(
        {
            "parent": parent.info.run_id,
            "child": child.info.run_id,
            "experiment_id": parent.info.experiment_id,
        }
    )
)
