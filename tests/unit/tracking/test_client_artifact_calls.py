"""``Client`` artifact calls against a server: the artifact location of a run or a logged model
is asked for at most once (not at all when the client created it), and every request travels
on the tracking store's one HTTP session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from runyard import Client
from runyard.errors import ResourceDoesNotExist

from tests.live_server import LiveServer, start_live_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with start_live_server(f"sqlite:///{tmp_path / 'server.db'}") as live:
        yield live


def watched(client: Client) -> list[tuple[str, str]]:
    """The (method, path) of every request ``client`` sends from now on."""
    seen: list[tuple[str, str]] = []

    def note(response: requests.Response, *_args, **_kwargs) -> None:  # type: ignore[no-untyped-def]
        seen.append((response.request.method or "", urlparse(response.url).path))

    client.store.http.session.hooks["response"].append(note)
    return seen


@pytest.mark.parametrize("created_here", [True, False])
def test_artifact_calls_reuse_the_run_lookup_and_the_session(
    server: LiveServer, tmp_path: Path, created_here: bool
) -> None:
    client = Client(server.url)
    creator = client if created_here else Client(server.url)
    run_id = creator.create_run("0").info.run_id
    seen = watched(client)
    for i in range(3):
        client.log_text(run_id, f"text {i}", f"notes/n{i}.txt")
    names = sorted(f.path for f in client.list_artifacts(run_id, "notes"))
    local = client.download_artifacts(run_id, "notes/n2.txt", str(tmp_path))

    assert names == ["notes/n0.txt", "notes/n1.txt", "notes/n2.txt"]
    assert Path(local).read_text() == "text 2"
    lookups = [path for _, path in seen if path.endswith("/runs/get")]
    uploads = [path for method, path in seen if method == "PUT"]
    assert len(lookups) == (0 if created_here else 1), seen
    assert len(uploads) == 3, seen  # the uploads went through the store's session


@pytest.mark.parametrize("created_here", [True, False])
def test_model_artifact_calls_read_the_model_at_most_once(
    server: LiveServer, tmp_path: Path, created_here: bool
) -> None:
    """Reading a model loads every metric point linked to it (an autologged training's
    thousands): its artifact calls read it once, or not at all when this client created it.
    Deleting it through the client forgets it."""
    client = Client(server.url)
    creator = client if created_here else Client(server.url)
    model_id = creator.create_logged_model("0", name="m").model_id
    seen = watched(client)
    for i in range(3):
        local = tmp_path / f"f{i}.txt"
        local.write_text(f"file {i}")
        client.log_model_artifact(model_id, local, "files")
    names = sorted(f.path for f in client.list_logged_model_artifacts(model_id, "files"))
    reads = [p for m, p in seen if m == "GET" and p.endswith(f"/logged-models/{model_id}")]
    assert names == ["files/f0.txt", "files/f1.txt", "files/f2.txt"]
    assert len(reads) == (0 if created_here else 1), seen

    client.delete_logged_model(model_id)
    with pytest.raises(ResourceDoesNotExist):
        client.list_logged_model_artifacts(model_id)
