"""``check_version_source`` and ``resolve_version_source``: a version's source lies inside its
run's (or logged model's) artifact location, or it is refused, whatever disguise it wears."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist
from runyard.locations import parse_location
from runyard.registry.sources import (
    SourceOwner,
    check_version_source,
    resolve_version_source,
    source_owner,
)

from tests.unit.test_locations import PIECES, escapes_root

ROOT = "file:///srv/mlruns/1/abc/artifacts"
PROXIED = "mlflow-artifacts:/1/abc/artifacts"
MODEL_ID = "m-0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("source", "root", "expected"),
    [
        (f"{ROOT}/model", ROOT, f"{ROOT}/model"),
        (ROOT, ROOT, ROOT),
        ("/srv/mlruns/1/abc/artifacts/model", ROOT, f"{ROOT}/model"),
        ("file:/srv/mlruns/1/abc/artifacts/model", ROOT, f"{ROOT}/model"),
        (f"{ROOT}//model//sub/", ROOT, f"{ROOT}/model/sub"),
        (f"{ROOT}/my%20model", ROOT, f"{ROOT}/my%20model"),
        (f"{PROXIED}/model", PROXIED, f"{PROXIED}/model"),
        ("MLFLOW-ARTIFACTS:/1/abc/artifacts/m", PROXIED, f"{PROXIED}/m"),
        ("S3://bucket/exp/abc/artifacts/m", "s3://bucket/exp/abc/artifacts", None),
        ("/srv/mlruns/1/abc/artifacts/m", "/srv/mlruns/1/abc/artifacts", None),
    ],
)
def test_inside_the_root_is_accepted(source: str, root: str, expected: str | None) -> None:
    got = check_version_source(source, root)
    if expected is not None:
        assert got == expected
    assert parse_location(got) == parse_location(source)


@pytest.mark.parametrize(
    "source",
    [
        "file:///etc",
        "file:///etc/passwd",
        "/etc/passwd",
        "/tmp",
        "/srv/mlruns/1/abc/artifacts-other/model",  # a sibling sharing the prefix
        "/srv/mlruns/1/abc",  # the parent of the root
        "file://localhost/srv/mlruns/1/abc/artifacts/model",
        "file://evil.example/srv/mlruns/1/abc/artifacts/model",
        "file:////etc/passwd",
        f"{ROOT}/../../2/xyz/artifacts",
        f"{ROOT}/model/../../../../../etc",
        f"{ROOT}/%2e%2e/%2e%2e/etc",
        f"{ROOT}/%2E%2E/x",
        f"{ROOT}/..%2f..%2fetc",
        f"{ROOT}/%252e%252e/etc",  # encoded twice
        f"{ROOT}/%25%32%65/etc",  # "%2e" spelled with escapes
        f"{ROOT}/..\\..\\etc",
        f"{ROOT}/model%00.txt",
        f"{ROOT}/model\x00",
        f"{ROOT}/a\nb",
        f"{ROOT}/model?x=1",
        f"{ROOT}/model#frag",
        f"{ROOT}/%ff%fe",  # not UTF-8
        "relative/path",
        "",
        "mlflow-artifacts:/1/abc/artifacts/model",  # another scheme than the root's
        "s3://bucket/1/abc/artifacts/model",
        "http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model",
        "C:\\srv\\mlruns\\1\\abc\\artifacts",
        # the disguises of the location canonicaliser's own tests (tests/unit/test_locations.py)
        f"{ROOT}/model/./sub",
        f"{ROOT}/%2e%2e/%2e%2e/etc#",
        f"{ROOT}/..%2f..%2fetc?",
        f"{ROOT}/model;type=d",
        "file://user@localhost/srv/mlruns/1/abc/artifacts/model",
        "file://admin:secret@/srv/mlruns/1/abc/artifacts/model",
        f"{ROOT}/%c0%ae%c0%ae/etc",  # an overlong UTF-8 dot
        f"{ROOT}/\uff0e\uff0e/etc",  # fullwidth dots
        f"{ROOT}/\u2024\u2024/etc",  # one-dot leaders
        "/srv/mlruns/1/abc/artifacts/%2e%2e/x",  # a plain path cannot be encoded
        f"{ROOT}/" + "a" * 2000,
    ],
)
def test_every_disguise_is_refused(source: str) -> None:
    with pytest.raises(InvalidParameterValue, match="Invalid model version source"):
        check_version_source(source, ROOT)


@pytest.mark.parametrize(
    "source",
    [
        f"{PROXIED}/../../2/x",
        f"{PROXIED}/%2e%2e/%2e%2e/2/x",
        "mlflow-artifacts://host:5000/1/abc/artifacts/model",  # an authority the root lacks
        "mlflow-artifacts:/1/abcd/artifacts/model",
        "mlflow-artifacts:/2/abc/artifacts/model",
    ],
)
def test_proxied_disguises_are_refused(source: str) -> None:
    with pytest.raises(InvalidParameterValue):
        check_version_source(source, PROXIED)


@pytest.mark.parametrize(
    "root",
    [
        "file:///srv/mlruns/1/../../../etc",  # an experiment location crafted to escape
        "file:///srv/%2e%2e/etc",
        "file://host/srv",
        "file:///",  # the whole filesystem
        "mlflow-artifacts:/",
    ],
)
def test_an_unsafe_root_admits_nothing(root: str) -> None:
    with pytest.raises(InvalidParameterValue):
        check_version_source("file:///etc/passwd", root)
    with pytest.raises(InvalidParameterValue):
        check_version_source(root, root)


@pytest.mark.parametrize(
    "source",
    [
        "s3://Bucket/exp/abc/artifacts/m",  # bucket names are case-sensitive: another bucket
        "s3://bucket/exp/abc/artifacts-2/m",
        "s3://bucket/exp/abc/artifacts/%2e%2e/x",
        "s3://bucket.evil.example/exp/abc/artifacts/m",
        "s3://user@bucket/exp/abc/artifacts/m",
        "s3:///exp/abc/artifacts/m",
    ],
)
def test_bucket_disguises_are_refused(source: str) -> None:
    with pytest.raises(InvalidParameterValue, match="Invalid model version source"):
        check_version_source(source, "s3://bucket/exp/abc/artifacts")


def test_errors_never_show_user_info() -> None:
    with pytest.raises(InvalidParameterValue) as refused:
        check_version_source("file://admin:hunter2@localhost/srv/mlruns/1/abc/artifacts", ROOT)
    assert "hunter2" not in refused.value.message


def test_a_symlink_out_of_the_run_artifacts_is_outside(tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    root.mkdir()
    (root / "model").mkdir()
    (root / "link").symlink_to("/etc")
    assert check_version_source(f"file://{root}/model", str(root)) == f"{root}/model"
    with pytest.raises(InvalidParameterValue, match="must lie inside"):
        check_version_source(f"file://{root}/link", str(root))
    with pytest.raises(InvalidParameterValue, match="must lie inside"):
        check_version_source(f"file://{root}/link/passwd", f"file://{root}")


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=10),
    joiner=st.sampled_from(["/", "", "%2f", "\\"]),
    prefix=st.sampled_from(["file://", "file:", "FiLe://", "file://localhost", ""]),
)
def test_no_source_resolves_outside_its_root(
    tmp_path: Path, pieces: list[str], joiner: str, prefix: str
) -> None:
    """Every disguise of the canonicaliser's property test, as a version source."""
    root = tmp_path / "artifacts"
    root.mkdir(exist_ok=True)
    if not (root / "link").exists():
        (root / "link").symlink_to(tmp_path)
    raw = f"{prefix}{root}/{joiner.join(pieces)}"
    try:
        uri = check_version_source(raw, str(root))
    except InvalidParameterValue:
        return
    assert not escapes_root(parse_location(uri), root), (raw, uri)


def _runs(run_id: str) -> str:
    if run_id != "abc":
        raise ResourceDoesNotExist(f"Run with id={run_id} not found")
    return ROOT


def _models(model_id: str) -> tuple[str, str | None]:
    if model_id != MODEL_ID:
        raise ResourceDoesNotExist(f"Logged model with id={model_id} not found")
    return "file:///srv/mlruns/1/models/m/artifacts", "abc"


def _resolve(source: str, run_id: str | None = None, model_id: str | None = None):
    return resolve_version_source(source, run_id, model_id, _runs, _models)


def test_runs_uri_resolves_to_the_run_artifacts() -> None:
    resolved = _resolve("runs:/abc/model")
    assert (resolved.storage_location, resolved.run_id) == (f"{ROOT}/model", "abc")
    assert _resolve("runs:/abc/model", "abc").run_id == "abc"
    assert _resolve("runs:/abc").storage_location == ROOT


def test_logged_model_uri_resolves_to_the_model_artifacts() -> None:
    resolved = _resolve(f"models:/{MODEL_ID}", model_id=MODEL_ID)
    assert resolved.storage_location == "file:///srv/mlruns/1/models/m/artifacts"
    assert (resolved.run_id, resolved.model_id) == ("abc", MODEL_ID)
    raw = _resolve("file:///srv/mlruns/1/models/m/artifacts/MLmodel", model_id=MODEL_ID)
    assert raw.run_id == "abc"


@pytest.mark.parametrize(
    ("source", "run_id", "model_id"),
    [
        ("runs:/abc/../../x", None, None),
        ("runs:/abc/%2e%2e/%2e%2e/x", None, None),
        ("runs:/other/model", "abc", None),  # names another run than run_id
        ("runs://abc/model", None, None),  # an authority
        ("runs:/missing/model", None, None),
        ("runs:/", None, None),
        ("models:/churn/1", None, None),  # no registry to look versions up in
        ("models:/churn@champion", None, None),
        (f"models:/{MODEL_ID}/sub", None, None),
        (f"models:/{MODEL_ID}", None, "m-ffffffffffffffffffffffffffffffff"),
        ("models:/m-ffffffffffffffffffffffffffffffff", None, None),
        (f"{ROOT}/model", None, None),  # no owner to lie inside
        (f"{ROOT}/model", "missing", None),
        ("file:///etc", "abc", None),
        ("file:///etc", None, MODEL_ID),
        (None, "abc", None),
    ],
)
def test_resolver_refusals(source: str, run_id: str | None, model_id: str | None) -> None:
    with pytest.raises(InvalidParameterValue):
        _resolve(source, run_id, model_id)


@pytest.mark.parametrize(
    ("source", "owner"),
    [
        ("runs:/abc/model", SourceOwner("run", "abc")),
        ("RUNS:/abc", SourceOwner("run", "abc")),
        (f"models:/{MODEL_ID}", SourceOwner("logged_model", MODEL_ID)),
        ("models:/churn/3", SourceOwner("registered_model", "churn")),
        ("models:/churn@champion", None),  # refused by the resolver
        ("runs://host/abc/model", None),
        ("runs:/", None),
        (f"{ROOT}/model", None),
        ("/srv/model", None),
    ],
)
def test_source_owner_names_what_the_resolver_will_use(
    source: str, owner: SourceOwner | None
) -> None:
    assert source_owner(source) == owner
