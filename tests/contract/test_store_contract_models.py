"""Run inputs and outputs, and MLflow 3's logged models, identical on every store."""

from __future__ import annotations

import random
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from runyard.entities import (
    Dataset,
    DatasetInput,
    LoggedModelStatus,
    Metric,
    ModelInput,
    ModelOrder,
    ModelOutput,
)
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist
from runyard.store.base import TrackingStore

from tests.contract import new_run


def test_log_inputs_datasets(store: TrackingStore, experiment_id: str) -> None:
    rid = new_run(store, experiment_id).info.run_id
    dataset = Dataset(
        name="iris",
        digest="7f03c7ae",
        source_type="code",
        source='{"tags": {}}',
        schema='{"cols": 4}',
        profile='{"rows": 150}',
    )
    store.log_inputs(rid, datasets=[DatasetInput(dataset, {"mlflow.data.context": "train"})])
    store.log_inputs(rid, datasets=[DatasetInput(dataset, {"mlflow.data.context": "train"})])
    inputs = store.get_run(rid).inputs
    assert len(inputs.dataset_inputs) == 1, "the same dataset and context are recorded once"
    [logged] = inputs.dataset_inputs
    assert logged.dataset == dataset
    assert dict(logged.tags) == {"mlflow.data.context": "train"}


def test_concurrent_inputs_of_one_experiment_all_land(
    store: TrackingStore, experiment_id: str
) -> None:
    """Runs of one experiment share its datasets; runs of a sweep log theirs at once, each in
    its own order (two that stored the same datasets in different orders deadlocked)."""
    runs = [new_run(store, experiment_id).info.run_id for _ in range(8)]
    datasets = [Dataset(name=f"d{i}", digest=f"{i:08x}", source_type="code") for i in range(12)]

    def log(index: int) -> None:
        order = random.Random(index).sample(datasets, len(datasets))
        inputs = [DatasetInput(d, {"mlflow.data.context": "train"}) for d in order]
        store.log_inputs(runs[index % len(runs)], datasets=inputs)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(log, range(16)))
    for run_id in runs:
        logged = store.get_run(run_id).inputs.dataset_inputs
        assert sorted(i.dataset.name for i in logged) == sorted(d.name for d in datasets)


def test_concurrent_tags_and_params_of_one_logged_model_all_land(
    store: TrackingStore, experiment_id: str
) -> None:
    model_id = store.create_logged_model(experiment_id, name="m").model_id
    keys = [f"k{i:02d}" for i in range(30)]

    def write(index: int) -> None:
        order = random.Random(index).sample(keys, len(keys))
        if index % 2:
            store.set_logged_model_tags(model_id, [(k, "tag") for k in order])
        else:
            store.log_logged_model_params(model_id, [(k, "param") for k in order])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(16)))
    model = store.get_logged_model(model_id)
    assert dict(model.tags) == {k: "tag" for k in keys}
    assert dict(model.params) == {k: "param" for k in keys}


def test_log_inputs_models_and_outputs(store: TrackingStore, experiment_id: str) -> None:
    rid = new_run(store, experiment_id).info.run_id
    model = store.create_logged_model(experiment_id, name="clf", source_run_id=rid)
    store.log_outputs(rid, [ModelOutput(model.model_id, step=3)])
    consumer = new_run(store, experiment_id).info.run_id
    store.log_inputs(consumer, models=[ModelInput(model.model_id)])
    assert store.get_run(rid).outputs.model_outputs == (ModelOutput(model.model_id, 3),)
    assert store.get_run(consumer).inputs.model_inputs == (ModelInput(model.model_id),)
    assert store.get_run(consumer).outputs.model_outputs == ()


@pytest.mark.parametrize("model_id", ["m-" + "0" * 63, "../m-1", ""])
def test_a_model_id_that_cannot_be_one_is_refused_as_input_or_output(
    store: TrackingStore, experiment_id: str, model_id: str
) -> None:
    """At most 64 characters and a file name, on every store, before anything is written.
    (Over REST an empty id is refused as a missing parameter.)"""
    rid = new_run(store, experiment_id).info.run_id
    model = store.create_logged_model(experiment_id, name="clf", source_run_id=rid)
    refusal = r"Invalid logged model ID|parameter 'model_id'"
    with pytest.raises(InvalidParameterValue, match=refusal):
        store.log_inputs(rid, models=[ModelInput(model.model_id), ModelInput(model_id)])
    with pytest.raises(InvalidParameterValue, match=refusal):
        store.log_outputs(rid, [ModelOutput(model.model_id, 1), ModelOutput(model_id, 2)])
    run = store.get_run(rid)
    assert (run.inputs.model_inputs, run.outputs.model_outputs) == ((), ())


def test_create_and_get_logged_model(store: TrackingStore, experiment_id: str) -> None:
    rid = new_run(store, experiment_id).info.run_id
    created = store.create_logged_model(
        experiment_id,
        name="model",
        source_run_id=rid,
        tags=[("mlflow.user", "alice")],
        params=[("alpha", "0.5")],
        model_type="sklearn",
    )
    assert re.fullmatch(r"m-[0-9a-f]{32}", created.model_id)
    assert created.experiment_id == experiment_id
    assert created.name == "model"
    assert created.source_run_id == rid
    assert created.status == LoggedModelStatus.LOGGED_MODEL_PENDING
    assert dict(created.tags) == {"mlflow.user": "alice"}
    assert dict(created.params) == {"alpha": "0.5"}
    assert created.model_type == "sklearn"
    assert created.artifact_location.endswith(f"{created.model_id}/artifacts")
    assert created.creation_timestamp > 0
    fetched = store.get_logged_model(created.model_id)
    assert fetched.model_id == created.model_id
    assert fetched.name == "model" and dict(fetched.params) == {"alpha": "0.5"}
    assert fetched.status == LoggedModelStatus.LOGGED_MODEL_PENDING


def test_unnamed_model_gets_a_name(store: TrackingStore, experiment_id: str) -> None:
    model = store.create_logged_model(experiment_id)
    assert model.name
    assert store.get_logged_model(model.model_id).name == model.name


def test_finalize(store: TrackingStore, experiment_id: str) -> None:
    model = store.create_logged_model(experiment_id, name="m")
    ready = store.finalize_logged_model(model.model_id, LoggedModelStatus.LOGGED_MODEL_READY)
    assert ready.status == LoggedModelStatus.LOGGED_MODEL_READY
    assert ready.last_updated_timestamp >= model.last_updated_timestamp
    fetched = store.get_logged_model(model.model_id)
    assert fetched.status == LoggedModelStatus.LOGGED_MODEL_READY


def test_model_tags(store: TrackingStore, experiment_id: str) -> None:
    model = store.create_logged_model(experiment_id, name="m", tags=[("a", "1")])
    store.set_logged_model_tags(model.model_id, [("b", "2"), ("a", "changed")])
    assert dict(store.get_logged_model(model.model_id).tags) == {"a": "changed", "b": "2"}
    store.delete_logged_model_tag(model.model_id, "a")
    assert dict(store.get_logged_model(model.model_id).tags) == {"b": "2"}
    with pytest.raises(ResourceDoesNotExist):
        store.delete_logged_model_tag(model.model_id, "a")


def test_model_params(store: TrackingStore, experiment_id: str) -> None:
    model = store.create_logged_model(experiment_id, name="m", params=[("a", "1")])
    store.log_logged_model_params(model.model_id, [("b", "2"), ("a", "changed")])
    assert dict(store.get_logged_model(model.model_id).params) == {"a": "changed", "b": "2"}
    with pytest.raises(ResourceDoesNotExist):
        store.log_logged_model_params("m-00000000000000000000000000000000", [("a", "1")])
    with pytest.raises(InvalidParameterValue):
        store.log_logged_model_params(model.model_id, [("../a", "1")])
    assert dict(store.get_logged_model(model.model_id).params) == {"a": "changed", "b": "2"}


def test_search_logged_models_order_by(store: TrackingStore, experiment_id: str) -> None:
    names = ["b", "c", "a"]
    for name in names:
        store.create_logged_model(experiment_id, name=name)
    ascending = store.search_logged_models([experiment_id], order_by=[("name", True)])
    assert [m.name for m in ascending] == ["a", "b", "c"]
    descending = store.search_logged_models([experiment_id], order_by=[("name", False)])
    assert [m.name for m in descending] == ["c", "b", "a"]
    paged = store.search_logged_models([experiment_id], max_results=2, order_by=[("name", True)])
    rest = store.search_logged_models(
        [experiment_id], max_results=2, page_token=paged.token, order_by=[("name", True)]
    )
    assert [m.name for m in (*paged, *rest)] == ["a", "b", "c"]
    with pytest.raises(InvalidParameterValue, match="field_name"):
        store.search_logged_models([experiment_id], order_by=[("params.lr", True)])


def test_search_logged_models_by_dataset(store: TrackingStore, experiment_id: str) -> None:
    run_id = new_run(store, experiment_id).info.run_id
    scored = store.create_logged_model(experiment_id, name="scored", source_run_id=run_id)
    store.create_logged_model(experiment_id, name="unscored")
    metric = Metric("acc", 0.9, 1000, 0, run_id, scored.model_id, "eval", "d1")
    store.log_batch(run_id, metrics=[metric])
    for datasets, expected in (
        ([("eval", None)], []),  # as in MLflow: the digest must match too
        ([("eval", "d1")], ["scored"]),
        ([("eval", "other")], []),
        ([("train", None)], []),
        (None, ["scored", "unscored"]),
    ):
        found = store.search_logged_models([experiment_id], datasets=datasets)
        assert sorted(m.name for m in found) == expected, datasets


def test_search_logged_models_by_metrics_params_tags_and_attributes(
    store: TrackingStore, experiment_id: str
) -> None:
    run_id = new_run(store, experiment_id).info.run_id
    good = store.create_logged_model(
        experiment_id, name="good", tags=[("team", "vision")], params=[("lr", "0.1")]
    )
    bad = store.create_logged_model(experiment_id, name="bad", params=[("lr", "0.5")])
    store.log_batch(
        run_id,
        metrics=[
            Metric("acc", 0.91, 1000, 0, run_id, good.model_id, "eval", "d1"),
            Metric("acc", 0.40, 1000, 1, run_id, good.model_id, "train", "d2"),
            Metric("acc", 0.60, 1000, 0, run_id, bad.model_id),
            Metric("loss", float("nan"), 1000, 0, run_id, bad.model_id),
        ],
    )
    store.finalize_logged_model(good.model_id, LoggedModelStatus.LOGGED_MODEL_READY)
    for filter_string, datasets, expected in (
        ("metrics.acc > 0.9", None, ["good"]),
        ("metrics.acc < 0.5", None, ["good"]),  # any point of the metric, as in MLflow
        ("metrics.acc >= 0.6", None, ["bad", "good"]),
        ("metrics.loss > 0 OR metrics.loss <= 0", None, []),  # NaN satisfies no comparison
        ("params.lr = '0.1'", None, ["good"]),
        ("params.lr != '0.1'", None, ["bad"]),
        ("params.lr IN ('0.1', '0.5')", None, ["bad", "good"]),
        ("tags.team = 'vision'", None, ["good"]),
        ("tags.team IS NULL", None, ["bad"]),
        ("metrics.acc > 0.5 AND params.lr = '0.5'", None, ["bad"]),
        ("status = 'READY'", None, ["good"]),  # the short name and the full one
        ("status != 'LOGGED_MODEL_READY'", None, ["bad"]),
        ("creation_timestamp > 0 AND name LIKE '%oo%'", None, ["good"]),
        ("name = 'good' OR name = 'bad'", None, ["bad", "good"]),
        ("metrics.acc < 0.5", [("eval", "d1")], []),  # its low point is on another dataset
        ("metrics.acc > 0.9", [("eval", "d1")], ["good"]),
    ):
        found = store.search_logged_models(
            [experiment_id], filter_string=filter_string, datasets=datasets
        )
        assert sorted(m.name for m in found) == expected, (filter_string, datasets)
    for bad_filter in ("metrics.acc = 'x'", "bogus.x = '1'", "metrics.acc LIKE '1%'"):
        with pytest.raises(InvalidParameterValue):
            store.search_logged_models([experiment_id], filter_string=bad_filter)


def test_search_logged_models_ordered_by_a_metric(store: TrackingStore, experiment_id: str) -> None:
    run_id = new_run(store, experiment_id).info.run_id
    models = {n: store.create_logged_model(experiment_id, name=n) for n in "abcd"}

    def point(name: str, value: float, timestamp: int, step: int) -> Metric:
        return Metric("acc", value, timestamp, step, run_id, models[name].model_id)

    store.log_batch(
        run_id,
        metrics=[
            point("a", 0.9, 1000, 0),
            point("a", 0.2, 1000, 1),  # a's latest: the highest step at the newest time
            point("b", 0.5, 2000, 0),
            point("b", 0.99, 1000, 5),  # older than b's 0.5, whatever its step
            point("c", float("nan"), 1000, 0),  # NaN sorts with the models that have none
        ],
    )

    def names(ascending: bool, extra: list[tuple[str, bool]] | None = None) -> list[str]:
        order = [("metrics.acc", ascending), *(extra or [])]
        return [m.name for m in store.search_logged_models([experiment_id], order_by=order)]

    assert names(True, [("name", True)]) == ["a", "b", "c", "d"]
    assert names(False, [("name", True)]) == ["b", "a", "c", "d"]  # none last either way
    for bad in ("metrics.", "params.lr", "bogus"):
        with pytest.raises(InvalidParameterValue):
            store.search_logged_models([experiment_id], order_by=[(bad, True)])


def test_search_logged_models_ordered_by_a_metric_on_one_dataset(
    store: TrackingStore, experiment_id: str
) -> None:
    """As MLflow: the latest point of the metric among those on the dataset named (name,
    digest, or both); a model with no point there sorts last."""
    run_id = new_run(store, experiment_id).info.run_id
    models = {n: store.create_logged_model(experiment_id, name=n) for n in "abc"}

    def point(name: str, value: float, timestamp: int, dataset: str, digest: str) -> Metric:
        model_id = models[name].model_id
        return Metric("acc", value, timestamp, 0, run_id, model_id, dataset, digest)

    store.log_batch(
        run_id,
        metrics=[
            point("a", 0.9, 1000, "eval", "d1"),
            point("a", 0.1, 2000, "train", "d0"),  # a's latest overall, not on eval
            point("b", 0.5, 1000, "eval", "d1"),
            point("b", 0.95, 3000, "train", "d0"),
            point("c", 0.7, 1000, "eval", "d2"),  # eval, but another digest
        ],
    )

    def names(*order: ModelOrder) -> list[str]:
        return [m.name for m in store.search_logged_models([experiment_id], order_by=order)]

    by_name = ModelOrder("name", True)
    assert names(ModelOrder("metrics.acc", False), by_name) == ["b", "c", "a"]
    assert names(ModelOrder("metrics.acc", False, "eval"), by_name) == ["a", "c", "b"]
    assert names(ModelOrder("metrics.acc", False, "eval", "d1"), by_name) == ["a", "b", "c"]
    assert names(ModelOrder("metrics.acc", True, None, "d2"), by_name) == ["c", "a", "b"]
    with pytest.raises(InvalidParameterValue, match="only a metric"):
        store.search_logged_models([experiment_id], order_by=[ModelOrder("name", True, "eval")])


def test_missing_model(store: TrackingStore) -> None:
    with pytest.raises(ResourceDoesNotExist, match="m-0000"):
        store.get_logged_model("m-00000000000000000000000000000000")


def test_search_logged_models(store: TrackingStore, experiment_id: str, unique: str) -> None:
    rid = new_run(store, experiment_id).info.run_id
    first = store.create_logged_model(experiment_id, name="alpha", source_run_id=rid)
    second = store.create_logged_model(experiment_id, name="beta")
    store.finalize_logged_model(second.model_id, LoggedModelStatus.LOGGED_MODEL_READY)
    other_exp = store.create_experiment(f"{unique}-models")
    store.create_logged_model(other_exp, name="alpha")

    every = store.search_logged_models([experiment_id])
    assert {m.model_id for m in every} == {first.model_id, second.model_id}
    named = store.search_logged_models([experiment_id], filter_string="name = 'alpha'")
    assert [m.model_id for m in named] == [first.model_id]
    by_run = store.search_logged_models([experiment_id], filter_string=f"source_run_id = '{rid}'")
    assert [m.model_id for m in by_run] == [first.model_id]
    ready = store.search_logged_models(
        [experiment_id], filter_string="status = 'LOGGED_MODEL_READY'"
    )
    assert [m.model_id for m in ready] == [second.model_id]
    like = store.search_logged_models([experiment_id], filter_string="name LIKE 'b%'")
    assert [m.model_id for m in like] == [second.model_id]
    assert list(store.search_logged_models([experiment_id], filter_string="name = 'zeta'")) == []
    both = store.search_logged_models([experiment_id, other_exp])
    assert len(both) == 3


def test_search_logged_models_pages(store: TrackingStore, experiment_id: str) -> None:
    made = {store.create_logged_model(experiment_id, name=f"m{i}").model_id for i in range(5)}
    seen: list[str] = []
    token = None
    while True:
        page = store.search_logged_models([experiment_id], max_results=2, page_token=token)
        assert len(page) <= 2
        seen.extend(m.model_id for m in page)
        token = page.token
        if not token:
            break
    assert sorted(seen) == sorted(made)


def test_deleted_model_is_gone(store: TrackingStore, experiment_id: str) -> None:
    model = store.create_logged_model(experiment_id, name="bye")
    store.delete_logged_model(model.model_id)
    with pytest.raises(ResourceDoesNotExist):
        store.get_logged_model(model.model_id)
    assert list(store.search_logged_models([experiment_id])) == []


def test_a_dataset_source_type_longer_than_its_column_is_refused(
    store: TrackingStore, experiment_id: str
) -> None:
    rid = new_run(store, experiment_id).info.run_id
    dataset = Dataset(name="iris", digest="7f03c7ae", source_type="s" * 37, source="x")
    with pytest.raises(InvalidParameterValue, match="source_type exceeds the maximum length"):
        store.log_inputs(rid, datasets=[DatasetInput(dataset, {})])
    assert store.get_run(rid).inputs.dataset_inputs == ()


@pytest.mark.parametrize("field", ["name", "model_type"])
def test_a_logged_model_field_longer_than_its_column_is_refused(
    store: TrackingStore, experiment_id: str, field: str
) -> None:
    fields = {"name": "clf", "model_type": "sklearn", field: "x" * 501}
    with pytest.raises(InvalidParameterValue, match=f"{field} exceeds the maximum length of 500"):
        store.create_logged_model(experiment_id, **fields)
    assert list(store.search_logged_models([experiment_id])) == []
    store.create_logged_model(experiment_id, **{**fields, field: "x" * 500})
