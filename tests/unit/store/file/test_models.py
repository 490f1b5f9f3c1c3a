"""Logged models, run inputs and outputs in the file layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from runyard.entities import Dataset, DatasetInput, LoggedModelStatus, Metric, ModelInput
from runyard.errors import InvalidFilter, ResourceDoesNotExist
from runyard.store.file import FileStore


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return FileStore(str(tmp_path))


def test_logged_model_files(store: FileStore, tmp_path: Path) -> None:
    rid = store.create_run("0", "u", 1, []).info.run_id
    model = store.create_logged_model("0", "clf", rid, tags=[("t", "v")], params=[("a", "1")])
    assert model.model_id.startswith("m-") and len(model.model_id) == 34
    model_dir = tmp_path / "0" / "models" / model.model_id
    assert model.artifact_location == f"file://{tmp_path}/0/models/{model.model_id}/artifacts"
    meta = (model_dir / "meta.yaml").read_text()
    assert "status: 1\n" in meta and "name: clf\n" in meta and f"source_run_id: {rid}\n" in meta
    assert (model_dir / "params" / "a").read_text() == "1"
    store.log_batch(rid, metrics=[Metric("acc", 0.5, 7, 2, model_id=model.model_id)])
    assert (model_dir / "metrics" / "acc").read_text() == f"7 0.5 2 {rid}\n"
    assert (tmp_path / "0" / rid / "metrics" / "acc").read_text() == "7 0.5 2\n"
    ready = store.finalize_logged_model(model.model_id, LoggedModelStatus.LOGGED_MODEL_READY)
    assert ready.status == LoggedModelStatus.LOGGED_MODEL_READY
    assert [(m.key, m.value, m.run_id) for m in ready.metrics] == [("acc", 0.5, rid)]
    store.delete_logged_model(model.model_id)
    assert "lifecycle_stage: deleted\n" in (model_dir / "meta.yaml").read_text()
    with pytest.raises(ResourceDoesNotExist):
        store.get_logged_model(model.model_id)


def test_logged_model_search_filter(store: FileStore) -> None:
    a = store.create_logged_model("0", "alpha", model_type="sk")
    b = store.create_logged_model("0", "beta")
    store.finalize_logged_model(b.model_id, LoggedModelStatus.LOGGED_MODEL_READY)

    def names(text: str) -> list[str]:
        return sorted(m.name for m in store.search_logged_models(["0"], text))

    assert names("") == ["alpha", "beta"]
    assert names("name = 'alpha'") == ["alpha"]
    assert names("name LIKE 'b%' AND status = 'READY'") == ["beta"]
    assert names("status != 'LOGGED_MODEL_READY'") == ["alpha"]
    assert names("attributes.model_type = 'sk'") == ["alpha"]
    assert names("name = 'x AND y'") == []
    page = store.search_logged_models(["0"], max_results=1)
    assert page.token and len(page) == 1
    rest = store.search_logged_models(["0"], max_results=1, page_token=page.token)
    assert {page[0].model_id, rest[0].model_id} == {a.model_id, b.model_id}
    with pytest.raises(InvalidFilter, match="size"):
        store.search_logged_models(["0"], "size = '1'")
    with pytest.raises(InvalidFilter):
        store.search_logged_models(["0"], "name > 'a'")


def test_inputs_and_outputs_files(store: FileStore, tmp_path: Path) -> None:
    rid = store.create_run("0", "u", 1, []).info.run_id
    model = store.create_logged_model("0", "m")
    data = DatasetInput(Dataset("ds", "abc", "code", "{}", None, None), {"ctx": "train"})
    store.log_inputs(rid, [data, data], [ModelInput(model.model_id)])
    (dataset_dir,) = (tmp_path / "0" / "datasets").iterdir()
    assert (dataset_dir / "meta.yaml").read_text() == (
        "digest: abc\nname: ds\nprofile: null\nschema: null\nsource: '{}'\nsource_type: code\n"
    )
    inputs = store.get_run(rid).inputs
    assert [(d.dataset.name, dict(d.tags)) for d in inputs.dataset_inputs] == [
        ("ds", {"ctx": "train"})
    ]
    assert [m.model_id for m in inputs.model_inputs] == [model.model_id]
    assert len(list((tmp_path / "0" / rid / "inputs").iterdir())) == 2
