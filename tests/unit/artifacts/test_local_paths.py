"""LocalArtifactRepo never touches anything outside its root: traversal in every disguise,
and symlinks that lead out, are refused for reads, writes, lists and deletes."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from runyard.artifacts.local import LocalArtifactRepo
from runyard.errors import InvalidParameterValue


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "secret.txt").write_text("do not touch")
    return secret


@pytest.fixture
def repo(tmp_path: Path) -> LocalArtifactRepo:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.txt").write_text("a")
    return LocalArtifactRepo(f"file://{root}")


TRAVERSALS = [
    "../outside/secret.txt",
    "sub/../../outside/secret.txt",
    "./../outside/secret.txt",
    "/etc/passwd",
    "//etc/passwd",
    "C:/Windows/win.ini",
    "sub\\..\\..\\outside\\secret.txt",
    "sub/a.txt\x00.png",
    "sub/\n/a.txt",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_is_refused_everywhere(repo: LocalArtifactRepo, outside: Path, path: str) -> None:
    for action in (
        lambda: repo.write_stream(path, io.BytesIO(b"x")),
        lambda: repo.open_stream(path),
        lambda: repo.list_artifacts(path),
        lambda: repo.file_info(path),
        lambda: repo.delete_artifacts(path),
    ):
        with pytest.raises(InvalidParameterValue):
            action()
    assert (outside / "secret.txt").read_text() == "do not touch"


def test_percent_encoded_dots_are_just_a_name(repo: LocalArtifactRepo, outside: Path) -> None:
    repo.write_stream("%2e%2e/x.txt", io.BytesIO(b"x"))
    assert (Path(repo.root) / "%2e%2e" / "x.txt").read_bytes() == b"x"
    assert not (outside.parent / "x.txt").exists()


def test_symlinked_directory_leading_out_is_refused(repo: LocalArtifactRepo, outside: Path) -> None:
    os.symlink(outside, Path(repo.root) / "escape")
    with pytest.raises(InvalidParameterValue):
        b"".join(repo.open_stream("escape/secret.txt"))
    with pytest.raises(InvalidParameterValue):
        repo.write_stream("escape/new.txt", io.BytesIO(b"x"))
    with pytest.raises(InvalidParameterValue):
        repo.write_stream("escape/deeper/new.txt", io.BytesIO(b"x"))
    with pytest.raises(InvalidParameterValue):
        repo.list_artifacts("escape")
    with pytest.raises(InvalidParameterValue):
        repo.delete_artifacts("escape/secret.txt")
    with pytest.raises(InvalidParameterValue):
        repo.delete_artifacts("escape")
    assert sorted(os.listdir(outside)) == ["secret.txt"]
    # and the root listing does not show the way out
    assert [f.path for f in repo.list_artifacts()] == ["sub"]


def test_symlinked_file_leading_out_is_refused(repo: LocalArtifactRepo, outside: Path) -> None:
    os.symlink(outside / "secret.txt", Path(repo.root) / "sub" / "link.txt")
    with pytest.raises(InvalidParameterValue):
        repo.open_stream("sub/link.txt")
    with pytest.raises(InvalidParameterValue):
        repo.write_stream("sub/link.txt", io.BytesIO(b"overwritten"))
    assert [f.path for f in repo.list_artifacts("sub")] == ["sub/a.txt"]
    assert (outside / "secret.txt").read_text() == "do not touch"


def test_deleting_the_root_removes_links_not_their_targets(
    repo: LocalArtifactRepo, outside: Path
) -> None:
    os.symlink(outside, Path(repo.root) / "sub" / "escape")
    repo.delete_artifacts()
    assert os.listdir(repo.root) == []
    assert (outside / "secret.txt").read_text() == "do not touch"


def test_a_symlink_inside_the_root_is_followed(repo: LocalArtifactRepo) -> None:
    os.symlink(Path(repo.root) / "sub", Path(repo.root) / "alias")
    assert b"".join(repo.open_stream("alias/a.txt")) == b"a"
    assert [f.path for f in repo.list_artifacts("alias")] == ["alias/a.txt"]


def test_a_symlinked_root_is_fine(tmp_path: Path, repo: LocalArtifactRepo) -> None:
    os.symlink(repo.root, tmp_path / "root-link")
    linked = LocalArtifactRepo(str(tmp_path / "root-link"))
    assert b"".join(linked.open_stream("sub/a.txt")) == b"a"
    linked.write_stream("sub/b.txt", io.BytesIO(b"b"))
    assert (Path(repo.root) / "sub" / "b.txt").read_bytes() == b"b"
