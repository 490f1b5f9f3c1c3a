"""The location canonicaliser: one form, decoded once, checked resolved, nothing escapes a root."""

from __future__ import annotations

import os
import posixpath
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runyard.errors import InvalidParameterValue
from runyard.locations import (
    MAX_LOCATION_LENGTH,
    Location,
    canonical_artifact_path,
    canonical_location,
    parse_location,
    parse_roots,
)

#: Pieces an attacker strings together: dots in every disguise, separators, cut-offs, names.
PIECES = [
    "..",
    ".",
    "%2e",
    "%2E",
    "%2e%2e",
    "%252e%252e",
    "%25252e",
    "%2f",
    "%2F",
    "%5c",
    "%5C",
    "%c0%ae",
    "%e0%80%ae",
    "%00",
    "%23",
    "%3f",
    "\uff0e\uff0e",
    "\u2024\u2024",
    "\uff0f",
    "\\",
    "/",
    "//",
    "#",
    "?",
    ";",
    "@",
    "~",
    "etc",
    "passwd",
    "link",
    "a",
    "A%41",
]


def test_canonical_forms() -> None:
    assert parse_location("/data/x/").uri == "file:///data/x"
    assert parse_location("FILE:///data//x").uri == "file:///data/x"
    assert parse_location("file://localhost/data/x").path == "/data/x"
    assert parse_location("file:///data/a%20b").path == "/data/a b"
    assert parse_location("file:///data/a%20b").uri == "file:///data/a%20b"
    assert parse_location("s3://bucket/runs/").uri == "s3://bucket/runs"
    assert parse_location("mlflow-artifacts:/").uri == "mlflow-artifacts:/"
    assert parse_location("mlflow-artifacts:/team/1").path == "/team/1"
    assert parse_location("relative/dir").path == os.path.abspath("relative/dir")


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("file:///r/%2e%2e/%2e%2e/etc#", "fragment"),
        ("file:///r/..%2f..%2fetc?", "query"),
        ("file:///r/x;type=d", "parameters"),
        ("file://user@localhost/r", "user information"),
        ("file://otherhost/r", "another host"),
        ("file:///r/%2e%2e/etc", "'..'"),
        ("file:///r/%252e%252e/etc", "more than once"),
        ("file:///r/%c0%ae%c0%ae/etc", "UTF-8"),
        ("file:///r/%00", "control"),
        ("file:///r/a\x00b", "control"),
        ("file:///r/a\\..\\b", "backslash"),
        ("file:///r/\uff0e\uff0e/etc", "'..'"),
        ("/r/%2e%2e/etc", "percent-encoded"),
        ("s3:///no-bucket", "needs a bucket"),
        ("s3://a%2eb/x", "host or bucket"),
        ("s3://bucket/x/../y", "'..'"),
        ("http://169.254.169.254/latest", "scheme"),
        ("file:///" + "a" * MAX_LOCATION_LENGTH, "longer than"),
    ],
)
def test_what_has_no_meaning_is_refused(raw: str, why: str) -> None:
    with pytest.raises(InvalidParameterValue, match=why):
        parse_location(raw)


def test_errors_never_show_user_info() -> None:
    with pytest.raises(InvalidParameterValue) as refused:
        parse_location("file://admin:hunter2@localhost/data")
    assert "hunter2" not in refused.value.message and "***@" in refused.value.message


def test_roots_and_patterns(tmp_path: Path) -> None:
    roots = parse_roots(["s3://team-bucket/*", f"file:{tmp_path}/shared/*", "mlflow-artifacts:/"])
    assert canonical_location("s3://team-bucket/a/b", roots).authority == "team-bucket"
    assert canonical_location(str(tmp_path / "shared" / "x"), roots).path.endswith("shared/x")
    assert canonical_location("mlflow-artifacts:/anything", roots)
    for bad in ("s3://team-bucket-2/a", str(tmp_path / "sharedx"), "mlflow-artifacts://h/x"):
        with pytest.raises(InvalidParameterValue, match="not allowed"):
            canonical_location(bad, roots)
    with pytest.raises(InvalidParameterValue, match="trailing"):
        parse_roots(["s3://*/x"])


def test_symlink_out_of_a_root_is_outside(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to("/etc")
    with pytest.raises(InvalidParameterValue, match="not allowed"):
        canonical_location(f"file://{root}/link", [str(root)])


@pytest.mark.parametrize(
    "raw",
    ["a%23b", "a#b", "a?b", "%2e%2e/x", "a/%252e", "\uff0e\uff0e/x", "/etc/passwd", "a/../.."],
)
def test_disguised_artifact_paths_are_refused(raw: str) -> None:
    with pytest.raises(InvalidParameterValue):
        canonical_artifact_path(raw)


def test_artifact_paths_are_normalised() -> None:
    assert canonical_artifact_path("a//b/./c/") == "a/b/c"
    assert canonical_artifact_path("résumé 100%.txt") == "résumé 100%.txt"
    assert canonical_artifact_path(None) == ""


def _escapes(location: Location, root: Path) -> bool:
    """Whether the canonical URI, opened as a downstream consumer opens it (decode once, then
    resolve), lands outside ``root``."""
    decoded = urllib.request.url2pathname(urlsplit(location.uri).path)
    real, real_root = os.path.realpath(decoded), os.path.realpath(root)
    return not (real == real_root or real.startswith(real_root + os.sep))


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=12),
    joiner=st.sampled_from(["/", "", "%2f", "\\"]),
    prefix=st.sampled_from(["file://", "file:", "FiLe://", "file://localhost", ""]),
    overlong=st.booleans(),
)
def test_nothing_resolves_outside_a_local_root(
    tmp_path: Path, pieces: list[str], joiner: str, prefix: str, overlong: bool
) -> None:
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    if not (root / "link").exists():
        (root / "link").symlink_to(tmp_path)
    tail = joiner.join(pieces) * (200 if overlong else 1)
    raw = f"{prefix}{root}/{tail}"
    try:
        location = canonical_location(raw, [str(root)])
    except InvalidParameterValue:
        return
    assert not _escapes(location, root), (raw, location)
    assert parse_location(location.uri) == location  # canonical: stable under re-parsing
    assert "#" not in location.uri and "?" not in location.uri


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=12),
    joiner=st.sampled_from(["/", "", "%2f"]),
    scheme=st.sampled_from(["s3", "S3", "mlflow-artifacts"]),
)
def test_nothing_leaves_a_remote_root(pieces: list[str], joiner: str, scheme: str) -> None:
    root = "s3://team-bucket/runs" if scheme.lower() == "s3" else "mlflow-artifacts:/team"
    authority = "team-bucket" if scheme.lower() == "s3" else ""
    raw = f"{scheme}://{authority}{parse_location(root).path}/{joiner.join(pieces)}"
    try:
        location = canonical_location(raw, [root])
    except InvalidParameterValue:
        return
    key = unquote(urlsplit(location.uri).path)
    assert posixpath.normpath(key).startswith(parse_location(root).path), (raw, location)
    assert ".." not in key.split("/")
    assert parse_location(location.uri) == location


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=10))
def test_artifact_paths_never_climb(pieces: list[str]) -> None:
    raw = "/".join(pieces)
    try:
        rel = canonical_artifact_path(raw)
    except InvalidParameterValue:
        return
    assert not rel.startswith("/") and "\\" not in rel and "#" not in rel
    assert all(seg not in ("", ".", "..") for seg in rel.split("/")) or rel == ""
    assert posixpath.normpath(posixpath.join("/root", unquote(rel))).startswith("/root")
