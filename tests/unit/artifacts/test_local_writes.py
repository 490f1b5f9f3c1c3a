"""LocalArtifactRepo writes: atomic uploads, listings, URI forms."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from runyard.artifacts.local import UPLOAD_PREFIX, LocalArtifactRepo
from runyard.entities import FileInfo
from runyard.errors import ResourceDoesNotExist


class _Broken(io.RawIOBase):
    """A stream that yields some bytes, then fails, like a dropped upload."""

    def __init__(self) -> None:
        self.sent = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.sent >= 3:
            raise ConnectionError("client went away")
        self.sent += 1
        return b"partial " * 1000


@pytest.mark.parametrize("form", ["file://{p}", "file:{p}", "{p}"])
def test_uri_forms(tmp_path: Path, form: str) -> None:
    repo = LocalArtifactRepo(form.format(p=tmp_path / "root"))
    repo.write_stream("a/b.txt", io.BytesIO(b"hi"))
    assert (tmp_path / "root" / "a" / "b.txt").read_bytes() == b"hi"


def test_relative_file_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    repo = LocalArtifactRepo("file:./rel")
    assert repo.root == str(tmp_path / "rel")


def test_an_interrupted_upload_leaves_nothing_visible(tmp_path: Path) -> None:
    repo = LocalArtifactRepo(str(tmp_path))
    with pytest.raises(ConnectionError):
        repo.write_stream("d/new.bin", _Broken())
    assert os.listdir(tmp_path / "d") == []
    assert repo.file_info("d/new.bin") is None


def test_an_interrupted_overwrite_keeps_the_old_file(tmp_path: Path) -> None:
    repo = LocalArtifactRepo(str(tmp_path))
    assert repo.write_stream("f.txt", io.BytesIO(b"old")) == 3
    with pytest.raises(ConnectionError):
        repo.write_stream("f.txt", _Broken())
    assert (tmp_path / "f.txt").read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["f.txt"]


def test_uploads_in_progress_are_not_listed(tmp_path: Path) -> None:
    repo = LocalArtifactRepo(str(tmp_path))
    repo.write_stream("x.txt", io.BytesIO(b"x"))
    (tmp_path / f"{UPLOAD_PREFIX}abc").write_bytes(b"half")
    assert [f.path for f in repo.list_artifacts()] == ["x.txt"]


def test_listing_is_sorted_relative_and_sized(tmp_path: Path) -> None:
    repo = LocalArtifactRepo(str(tmp_path))
    for path in ("dir/z.txt", "dir/a.txt", "dir/sub/deep.txt", "top.txt"):
        repo.write_stream(path, io.BytesIO(path.encode()))
    listed = repo.list_artifacts("dir")
    assert [(f.path, f.is_dir, f.file_size) for f in listed] == [
        ("dir/a.txt", False, 9),
        ("dir/sub", True, None),
        ("dir/z.txt", False, 9),
    ]
    assert repo.list_artifacts("top.txt") == []
    assert repo.list_artifacts("missing") == []


def test_log_artifact_and_download(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "nested").mkdir(parents=True)
    (source / "one.txt").write_text("1")
    (source / "nested" / "two.txt").write_text("2")
    repo = LocalArtifactRepo(str(tmp_path / "root"))
    repo.log_artifacts(source, "run")
    repo.log_artifact(source / "one.txt")
    assert (tmp_path / "root" / "one.txt").read_text() == "1"
    out = repo.download_artifacts("run", tmp_path / "dl")
    assert Path(out, "nested", "two.txt").read_text() == "2"
    with pytest.raises(ResourceDoesNotExist):
        repo.open_stream("run/nope.txt")
    with pytest.raises(ResourceDoesNotExist):
        repo.open_stream("run/nested")


def test_delete_file_dir_and_missing(tmp_path: Path) -> None:
    repo = LocalArtifactRepo(str(tmp_path))
    repo.write_stream("a/b.txt", io.BytesIO(b"b"))
    repo.write_stream("c.txt", io.BytesIO(b"c"))
    repo.delete_artifacts("c.txt")
    repo.delete_artifacts("missing")
    assert [f.path for f in repo.list_artifacts()] == ["a"]
    repo.delete_artifacts("a")
    assert repo.list_artifacts() == []


def test_a_delete_spares_an_upload_in_progress_but_not_a_leftover(tmp_path: Path) -> None:
    """An upload's temporary file that is being written stays (with its directory) through a
    delete, so the upload can still move it into place; one untouched for longer than
    ``ABANDONED_UPLOAD_SECONDS`` is the leftover of a dead process, and goes."""
    from runyard.artifacts.base import ABANDONED_UPLOAD_SECONDS

    repo = LocalArtifactRepo(str(tmp_path))
    repo.write_stream("live/a.txt", io.BytesIO(b"a"))
    repo.write_stream("dead/b.txt", io.BytesIO(b"b"))
    live = tmp_path / "live" / f"{UPLOAD_PREFIX}writing"
    dead = tmp_path / "dead" / f"{UPLOAD_PREFIX}abandoned"
    live.write_bytes(b"partial")
    dead.write_bytes(b"partial")
    old = os.path.getmtime(dead) - ABANDONED_UPLOAD_SECONDS - 60
    os.utime(dead, (old, old))
    repo.delete_artifacts()
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "live",
        f"live/{UPLOAD_PREFIX}writing",
    ]
    assert repo.list_artifacts() == [FileInfo("live", True, None)]
    os.replace(live, tmp_path / "live" / "late.txt")  # the upload completes after the delete
    assert repo.list_artifacts("live") == [FileInfo("live/late.txt", False, 7)]
