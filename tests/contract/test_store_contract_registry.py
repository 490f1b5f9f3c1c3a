"""The model registry, identical on every store (file, SQLite, PostgreSQL, REST, and behind
``--auth``'s permission view).

Model names start with the test's ``unique`` prefix, so tests stay independent on the stores a
whole session shares; searches filter on that prefix.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from runyard.errors import (
    InvalidParameterValue,
    NameTooLong,
    PermissionDenied,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from runyard.store.base import TrackingStore

from tests.contract import new_run
from tests.contract.conftest import BACKENDS


@pytest.fixture(params=(*BACKENDS, "authorized"))
def backend(request: pytest.FixtureRequest) -> str:
    """Every store, and a store as a signed-in user reaches it through ``--auth``."""
    return str(request.param)


@pytest.fixture
def run_id(store: TrackingStore, experiment_id: str) -> str:
    return new_run(store, experiment_id).info.run_id


def _register(store: TrackingStore, name: str, run_id: str, **kwargs: object):
    return store.create_model_version(name, f"runs:/{run_id}/model", run_id, **kwargs)


def test_create_get_and_duplicate(store: TrackingStore, unique: str) -> None:
    name = f"{unique}-churn"
    created = store.create_registered_model(name, tags=[("team", "risk")], description="d")
    assert (created.name, created.description, dict(created.tags)) == (name, "d", {"team": "risk"})
    got = store.get_registered_model(name)
    assert got.creation_timestamp == created.creation_timestamp
    assert (dict(got.tags), dict(got.aliases), got.latest_versions) == ({"team": "risk"}, {}, ())
    with pytest.raises(ResourceAlreadyExists, match="already exists"):
        store.create_registered_model(name)
    with pytest.raises(ResourceDoesNotExist, match="not found"):
        store.get_registered_model(f"{unique}-missing")


@pytest.mark.parametrize("bad", ["", "  ", "a/b", "a:b", "..", "a%2fb", "a\\b", "x\x00"])
def test_bad_model_names(store: TrackingStore, bad: str) -> None:
    with pytest.raises(InvalidParameterValue):
        store.create_registered_model(bad)


def test_versions_numbered_and_never_reused(store: TrackingStore, unique: str, run_id: str) -> None:
    name = f"{unique}-m"
    store.create_registered_model(name)
    assert [_register(store, name, run_id).version for _ in range(3)] == [1, 2, 3]
    store.delete_model_version(name, 3)
    with pytest.raises(ResourceDoesNotExist, match=r"version=3\) not found"):
        store.get_model_version(name, "3")
    assert _register(store, name, run_id).version == 4
    with pytest.raises(InvalidParameterValue, match="must be an integer"):
        store.get_model_version(name, "abc")
    with pytest.raises(ResourceDoesNotExist):
        _register(store, f"{unique}-nope", run_id)


def test_concurrent_versions_of_one_model_get_numbers_of_their_own(
    store: TrackingStore, unique: str, run_id: str
) -> None:
    """Training jobs that finish together register together: every create succeeds, and no
    two versions share a number."""
    name = f"{unique}-together"
    store.create_registered_model(name)
    with ThreadPoolExecutor(8) as pool:
        versions = list(pool.map(lambda _: _register(store, name, run_id).version, range(16)))
    assert sorted(versions) == list(range(1, 17))
    found = store.search_model_versions(f"name = '{name}'", max_results=100)
    assert sorted(v.version for v in found) == list(range(1, 17))


def test_concurrent_transitions_with_archiving_leave_one_version_in_the_stage(
    store: TrackingStore, unique: str, run_id: str
) -> None:
    name = f"{unique}-promoted"
    store.create_registered_model(name)
    numbers = [_register(store, name, run_id).version for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda v: store.transition_model_version_stage(name, v, "Production", True),
                numbers,
            )
        )
    stages = sorted(store.get_model_version(name, v).current_stage for v in numbers)
    assert stages == ["Archived"] * 7 + ["Production"]


def test_writes_racing_a_rename_or_delete_land_whole_or_find_the_model_gone(
    store: TrackingStore, unique: str, run_id: str
) -> None:
    """Each write either lands (and moves with a rename) or says the model is not found;
    nothing fails otherwise, nothing is lost, and a deleted name can be taken again."""
    name, renamed = f"{unique}-moving", f"{unique}-moved"
    store.create_registered_model(name)

    def create(_: int) -> int | None:
        try:
            return _register(store, name, run_id).version
        except ResourceDoesNotExist:
            return None

    with ThreadPoolExecutor(8) as pool:
        created = pool.map(create, range(12))
        store.rename_registered_model(name, renamed)
        landed = [v for v in created if v is not None]
    found = store.search_model_versions(f"name = '{renamed}'", max_results=100)
    assert sorted(v.version for v in found) == sorted(landed)

    def tag(i: int) -> bool:
        try:
            store.set_registered_model_tag(renamed, f"k{i}", "v")
            return True
        except ResourceDoesNotExist:
            return False

    with ThreadPoolExecutor(8) as pool:
        tagged = pool.map(tag, range(12))
        store.delete_registered_model(renamed)
        list(tagged)
    with pytest.raises(ResourceDoesNotExist):
        store.get_registered_model(renamed)
    assert store.create_registered_model(renamed).tags == {}


def test_version_fields_and_download_uri(store: TrackingStore, unique: str, run_id: str) -> None:
    name = f"{unique}-m"
    store.create_registered_model(name)
    mv = _register(store, name, run_id, tags=[("validated", "true")], description="first")
    assert (mv.source, mv.run_id, mv.current_stage, mv.status) == (
        f"runs:/{run_id}/model",
        run_id,
        "None",
        "READY",
    )
    assert dict(mv.tags) == {"validated": "true"} and mv.description == "first"
    artifact_uri = store.get_run(run_id).info.artifact_uri
    assert store.get_model_version_download_uri(name, 1) == f"{artifact_uri}/model"
    updated = store.update_model_version(name, 1, "changed")
    assert updated.description == "changed"
    assert updated.last_updated_timestamp >= mv.last_updated_timestamp


def test_source_inside_run_artifacts(store: TrackingStore, unique: str, run_id: str) -> None:
    name = f"{unique}-m"
    store.create_registered_model(name)
    artifact_uri = store.get_run(run_id).info.artifact_uri
    mv = store.create_model_version(name, f"{artifact_uri}/model", run_id)
    assert store.get_model_version_download_uri(name, mv.version) == f"{artifact_uri}/model"
    for bad in (
        "file:///etc",
        "/tmp",
        f"{artifact_uri}/../../other",
        f"{artifact_uri}/%2e%2e/%2e%2e/x",
        f"runs:/{run_id}/../../x",
    ):
        with pytest.raises(InvalidParameterValue, match="Invalid model version source"):
            store.create_model_version(name, bad, run_id)
    with pytest.raises(InvalidParameterValue, match="Invalid model version source"):
        store.create_model_version(name, f"{artifact_uri}/model")  # no run to lie inside
    assert [v.version for v in store.search_model_versions(f"name = '{name}'")] == [1]


def test_logged_model_source(
    store: TrackingStore, unique: str, run_id: str, experiment_id: str, backend: str
) -> None:
    name = f"{unique}-m"
    store.create_registered_model(name)
    logged = store.create_logged_model(experiment_id, name="model", source_run_id=run_id)
    mv = store.create_model_version(name, f"models:/{logged.model_id}", model_id=logged.model_id)
    assert (mv.run_id, mv.model_id) == (run_id, logged.model_id)
    assert store.get_model_version_download_uri(name, mv.version) == logged.artifact_location
    # Through --auth a source that does not exist is refused like one that may not be read
    # (403), so the answer does not tell which ids exist.
    refusal = PermissionDenied if backend == "authorized" else InvalidParameterValue
    with pytest.raises(refusal):
        store.create_model_version(name, "models:/m-0123456789abcdef0123456789abcdef")


@pytest.mark.parametrize("model_id", ["m-" + "0" * 63, "../m-1", "m 1"])
def test_a_model_id_that_cannot_be_one_is_refused(
    store: TrackingStore, unique: str, run_id: str, model_id: str
) -> None:
    """A version of a run's model may also name a logged model: its id is checked like any
    logged model's (at most 64 characters, a file name), before anything is written."""
    name = f"{unique}-m"
    store.create_registered_model(name)
    with pytest.raises(InvalidParameterValue, match="Invalid logged model ID"):
        _register(store, name, run_id, model_id=model_id)
    assert store.search_model_versions(f"name = '{name}'") == []


def test_copy_a_version_to_another_model(store: TrackingStore, unique: str, run_id: str) -> None:
    """MLflow's ``copy_model_version`` registers ``models:/<name>/<version>`` as a source."""
    dev, prod = f"{unique}-dev", f"{unique}-prod"
    store.create_registered_model(dev)
    store.create_registered_model(prod)
    _register(store, dev, run_id)
    copied = store.create_model_version(prod, f"models:/{dev}/1")
    assert (copied.version, copied.run_id) == (1, run_id)
    assert store.get_model_version_download_uri(prod, 1) == store.get_model_version_download_uri(
        dev, 1
    )
    for bad in (f"models:/{dev}/9", f"models:/{unique}-none/1", f"models:/{dev}/1/../x"):
        with pytest.raises(InvalidParameterValue):
            store.create_model_version(prod, bad)


def test_rename_update_delete(store: TrackingStore, unique: str, run_id: str) -> None:
    name, new = f"{unique}-a", f"{unique}-b"
    store.create_registered_model(name, tags=[("k", "v")])
    _register(store, name, run_id)
    store.set_registered_model_alias(name, "champion", 1)
    renamed = store.rename_registered_model(name, new)
    assert renamed.name == new and dict(renamed.aliases) == {"champion": 1}
    assert store.get_model_version(new, 1).name == new
    with pytest.raises(ResourceDoesNotExist):
        store.get_registered_model(name)
    store.create_registered_model(name)
    with pytest.raises(ResourceAlreadyExists):
        store.rename_registered_model(new, name)
    assert store.update_registered_model(new, "about").description == "about"
    store.delete_registered_model(new)
    with pytest.raises(ResourceDoesNotExist):
        store.get_model_version(new, 1)
    with pytest.raises(ResourceDoesNotExist):
        store.delete_registered_model(new)


def test_tags(store: TrackingStore, unique: str, run_id: str) -> None:
    name = f"{unique}-m"
    store.create_registered_model(name)
    _register(store, name, run_id)
    store.set_registered_model_tag(name, "owner", "ml")
    store.set_model_version_tag(name, 1, "validated", "true")
    assert dict(store.get_registered_model(name).tags) == {"owner": "ml"}
    assert dict(store.get_model_version(name, 1).tags) == {"validated": "true"}
    store.delete_registered_model_tag(name, "owner")
    store.delete_registered_model_tag(name, "never-set")
    store.delete_model_version_tag(name, 1, "validated")
    assert dict(store.get_registered_model(name).tags) == {}
    assert dict(store.get_model_version(name, 1).tags) == {}
    with pytest.raises(InvalidParameterValue):
        store.set_registered_model_tag(name, "", "x")
    with pytest.raises(InvalidParameterValue):
        store.set_model_version_tag(name, 1, "../x", "y")


def test_aliases(store: TrackingStore, unique: str, run_id: str) -> None:
    name = f"{unique}-m"
    store.create_registered_model(name)
    _register(store, name, run_id)
    _register(store, name, run_id)
    store.set_registered_model_alias(name, "champion", 1)
    assert store.get_model_version_by_alias(name, "champion").aliases == ("champion",)
    store.set_registered_model_alias(name, "champion", "2")
    assert store.get_model_version_by_alias(name, "champion").version == 2
    assert store.get_model_version(name, 1).aliases == ()
    for bad in ("latest", "Latest", "v1", "bad alias!"):
        with pytest.raises(InvalidParameterValue):
            store.set_registered_model_alias(name, bad, 1)
    with pytest.raises(ResourceDoesNotExist):
        store.set_registered_model_alias(name, "x", 99)
    with pytest.raises(InvalidParameterValue, match="alias nope not found"):
        store.get_model_version_by_alias(name, "nope")
    store.delete_registered_model_alias(name, "nope")
    store.delete_model_version(name, 2)
    assert dict(store.get_registered_model(name).aliases) == {}


def test_stages_and_latest_versions(store: TrackingStore, unique: str, run_id: str) -> None:
    name = f"{unique}-m"
    store.create_registered_model(name)
    for _ in range(4):
        _register(store, name, run_id)
    assert store.transition_model_version_stage(name, 1, "staging").current_stage == "Staging"
    store.transition_model_version_stage(name, 2, "Production")
    store.transition_model_version_stage(name, 3, "Production", archive_existing_versions=True)
    assert store.get_model_version(name, 2).current_stage == "Archived"
    with pytest.raises(InvalidParameterValue, match="Invalid Model Version stage: Bogus"):
        store.transition_model_version_stage(name, 1, "Bogus")
    latest = store.get_latest_versions(name)
    assert [(v.version, v.current_stage) for v in latest] == [
        (1, "Staging"),
        (2, "Archived"),
        (3, "Production"),
        (4, "None"),
    ]
    assert [v.version for v in store.get_latest_versions(name, ["Production"])] == [3]
    model = store.get_registered_model(name)
    assert [v.version for v in model.latest_versions] == [1, 2, 3, 4]
    with pytest.raises(ResourceDoesNotExist):
        store.get_latest_versions(f"{unique}-missing")


def test_search_registered_models(store: TrackingStore, unique: str) -> None:
    for suffix, team in (("a", "risk"), ("b", "growth"), ("c", "risk")):
        store.create_registered_model(f"{unique}-{suffix}", tags=[("team", team)])
    prefix = f"name LIKE '{unique}-%'"
    names = [m.name for m in store.search_registered_models(prefix)]
    assert names == [f"{unique}-a", f"{unique}-b", f"{unique}-c"]
    risk = store.search_registered_models(f"{prefix} AND tags.team = 'risk'")
    assert [m.name for m in risk] == [f"{unique}-a", f"{unique}-c"]
    not_prompt = f"{prefix} AND tag.`mlflow.prompt.is_prompt` != 'true'"
    assert len(store.search_registered_models(not_prompt)) == 3
    desc = store.search_registered_models(prefix, order_by=["name DESC"])
    assert desc[0].name == f"{unique}-c"
    first = store.search_registered_models(prefix, max_results=2)
    assert len(first) == 2 and first.token
    rest = store.search_registered_models(prefix, max_results=2, page_token=first.token)
    assert [m.name for m in rest] == [f"{unique}-c"] and rest.token is None
    for bad in ("bogus = 'x'", "metrics.x > 1"):
        with pytest.raises(InvalidParameterValue):
            store.search_registered_models(bad)
    with pytest.raises(InvalidParameterValue):
        store.search_registered_models(order_by=["version_number"])
    with pytest.raises(InvalidParameterValue):
        store.search_registered_models(max_results=1001)


def test_search_model_versions(store: TrackingStore, unique: str, experiment_id: str) -> None:
    run_a = new_run(store, experiment_id).info.run_id
    run_b = new_run(store, experiment_id).info.run_id
    for suffix in ("x", "y"):
        store.create_registered_model(f"{unique}-{suffix}")
        _register(store, f"{unique}-{suffix}", run_a, tags=[("validated", "true")])
        _register(store, f"{unique}-{suffix}", run_b)
    x = f"{unique}-x"
    found = store.search_model_versions(f"name = '{x}'")
    assert [(v.name, v.version) for v in found] == [(x, 2), (x, 1)], "newest first"
    time.sleep(0.005)  # a later millisecond than every creation
    store.update_model_version(x, 1, "touched")
    assert [v.version for v in store.search_model_versions(f"name = '{x}'")] == [1, 2]
    tagged = store.search_model_versions(f"name = '{x}' and tags.validated = 'true'")
    assert [v.version for v in tagged] == [1]
    by_run = store.search_model_versions(f"run_id = '{run_b}'")
    assert sorted((v.name, v.version) for v in by_run) == [(x, 2), (f"{unique}-y", 2)]
    numeric = store.search_model_versions(f"name = '{x}' AND version_number >= 2")
    assert [v.version for v in numeric] == [2]
    in_list = store.search_model_versions(
        f"name IN ('{x}', '{unique}-y') AND run_id = '{run_a}'", order_by=["name"]
    )
    assert [(v.name, v.version) for v in in_list] == [(x, 1), (f"{unique}-y", 1)]
    ordered = store.search_model_versions(
        f"name LIKE '{unique}-%'", order_by=["version_number ASC"], max_results=3
    )
    assert [v.version for v in ordered] == [1, 1, 2] and ordered.token
    source = store.search_model_versions(f"name = '{x}' AND source_path LIKE '%/model'")
    assert len(source) == 2
    with pytest.raises(InvalidParameterValue):
        store.search_model_versions("metrics.x > 1")
    with pytest.raises(InvalidParameterValue):
        store.search_model_versions(max_results=200_001)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("tags.team = 'risk' OR name LIKE '%-b'", ["a", "b", "c"]),
        ("(tags.team = 'risk' AND tags.tier IS NULL) OR tags.tier = 'gold'", ["a", "b"]),
        ("tags.team != 'risk'", ["b"]),
        ("tags.tier IS NOT NULL", ["b", "c"]),
        ("name ILIKE '%-A'", ["a"]),
        ("name NOT IN ('x')", ["a", "b", "c"]),
        ("tag.`mlflow.prompt.is_prompt` = 'false'", ["a", "b", "c"]),
        ("tags.`mlflow.prompt.is_prompt` = 'true'", []),
        ("creation_timestamp > 0", ["a", "b", "c"]),
    ],
)
def test_registered_model_filter_semantics(
    store: TrackingStore, unique: str, condition: str, expected: list[str]
) -> None:
    """OR, parentheses, IS NULL and missing tags mean the same on every store."""
    specs = {"a": [("team", "risk")], "b": [("team", "growth"), ("tier", "gold")]}
    specs["c"] = [("team", "risk"), ("tier", "silver")]
    for suffix, tags in specs.items():
        store.create_registered_model(f"{unique}-{suffix}", tags=tags)
    found = store.search_registered_models(f"name LIKE '{unique}-%' AND ({condition})")
    assert [m.name.rsplit("-", 1)[1] for m in found] == expected


def test_model_version_filter_semantics(store: TrackingStore, unique: str, run_id: str) -> None:
    name = f"{unique}-m"
    store.create_registered_model(name)
    for tags in ([("stage", "qa")], [], [("stage", "prod")]):
        _register(store, name, run_id, tags=tags)
    pinned = f"name = '{name}'"
    cases = {
        "tags.stage IS NULL": [2],
        "tags.stage != 'qa'": [3],
        "version_number = 1 OR tags.stage = 'prod'": [3, 1],
        "version_number != 2 AND version_number < 3": [1],
    }
    for condition, expected in cases.items():
        found = store.search_model_versions(f"{pinned} AND ({condition})")
        assert [v.version for v in found] == expected, condition
    newest_first = store.search_model_versions(pinned, order_by=["creation_timestamp DESC"])
    assert newest_first[0].version == 3
    page = store.search_model_versions(pinned, max_results=2, page_token=None)
    rest = store.search_model_versions(pinned, max_results=2, page_token=page.token)
    assert [v.version for v in page] + [v.version for v in rest] == [3, 2, 1]


def test_a_name_a_file_system_cannot_hold(store: TrackingStore, unique: str, backend: str) -> None:
    """A 256-character (MLflow's limit) name of 2-byte letters: the file store, which keeps a
    model in a directory of that name, refuses it with 400 and keeps nothing; the others keep
    it. A rename to it is treated the same way."""
    long_name = f"{unique}-{'é' * 240}"
    store.create_registered_model(f"{unique}-short")
    if backend != "file":
        assert store.create_registered_model(long_name).name == long_name
        assert store.rename_registered_model(f"{unique}-short", f"{long_name}2").name
        return
    with pytest.raises(NameTooLong, match="longer than the 255"):
        store.create_registered_model(long_name)
    with pytest.raises(NameTooLong):
        store.rename_registered_model(f"{unique}-short", long_name)
    found = store.search_registered_models(f"name LIKE '{unique}%'")
    assert [m.name for m in found] == [f"{unique}-short"]
