"""``runyard.register_model``, the registry methods of ``runyard.Client`` and downloads of
``models:/`` URIs, on a local file store and through a live server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import runyard
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist

from tests.live_server import start_live_server


@pytest.fixture(params=["file", "server"])
def tracking_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "file":
        uri = (tmp_path / "mlruns").as_uri()
        runyard.set_tracking_uri(uri)
        yield uri
        return
    with start_live_server(f"sqlite:///{tmp_path / 'server.db'}") as server:
        runyard.set_tracking_uri(server.url)
        yield server.url


def _run_with_model() -> str:
    runyard.set_experiment("registry-client")
    with runyard.start_run() as run:
        runyard.log_text("flavors: {}\n", "model/MLmodel")
        runyard.log_text("weights", "model/weights.bin")
    return run.info.run_id


def test_register_alias_and_download(tracking_uri: str, tmp_path: Path) -> None:
    run_id = _run_with_model()
    mv = runyard.register_model(f"runs:/{run_id}/model", "churn", tags={"team": "growth"})
    assert (mv.name, mv.version, mv.run_id) == ("churn", 1, run_id)
    client = runyard.Client()
    client.set_registered_model_alias("churn", "champion", mv.version)
    assert runyard.register_model(f"runs:/{run_id}/model", "churn").version == 2

    by_alias = Path(runyard.download_artifacts("models:/churn@champion", tmp_path / "a"))
    assert (by_alias / "MLmodel").read_text() == "flavors: {}\n"
    by_version = Path(runyard.download_artifacts("models:/churn/2", tmp_path / "b"))
    assert (by_version / "weights.bin").read_text() == "weights"
    one_file = runyard.download_artifacts("models:/churn/latest/MLmodel", tmp_path / "c")
    assert Path(one_file).read_text() == "flavors: {}\n"
    run_file = runyard.download_artifacts(f"runs:/{run_id}/model/weights.bin", tmp_path / "d")
    assert Path(run_file).read_text() == "weights"

    client.transition_model_version_stage("churn", 1, "Production")
    staged = Path(runyard.download_artifacts("models:/churn/Production", tmp_path / "e"))
    assert (staged / "MLmodel").exists()
    with pytest.raises(ResourceDoesNotExist):
        runyard.download_artifacts("models:/churn/Staging", tmp_path / "f")
    with pytest.raises(InvalidParameterValue):
        runyard.download_artifacts("models:/churn@nope", tmp_path / "g")
    with pytest.raises(InvalidParameterValue):
        runyard.download_artifacts("models:/churn/1/../../x", tmp_path / "h")


def test_client_registry_methods(tracking_uri: str) -> None:
    run_id = _run_with_model()
    client = runyard.Client()
    client.create_registered_model("fraud", tags={"k": 1}, description="d")
    client.create_model_version("fraud", f"runs:/{run_id}/model", run_id, tags={"v": True})
    client.set_model_version_tag("fraud", "1", "validated", "true")
    client.update_model_version("fraud", 1, description="first")
    client.rename_registered_model("fraud", "fraud2")
    found = client.search_model_versions("name = 'fraud2' and tags.validated = 'true'")
    assert [(v.version, v.description, dict(v.tags)) for v in found] == [
        (1, "first", {"v": "True", "validated": "true"})
    ]
    model = client.get_registered_model("fraud2")
    assert (dict(model.tags), model.description) == ({"k": "1"}, "d")
    assert [m.name for m in client.search_registered_models("name = 'fraud2'")] == ["fraud2"]
    assert client.get_model_version_download_uri("fraud2", 1).endswith("/model")
    client.delete_registered_model("fraud2")
    assert client.search_registered_models("name = 'fraud2'") == []
