"""Registered-model permissions by name, as a registry store will meet them through the view.

The registry store is being built elsewhere; a dictionary with MLflow's registry method names
stands in for it here, so these tests pin the rules it will plug into.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from runyard.auth.access import Access
from runyard.auth.permissions import Permission
from runyard.auth.store import AuthStore
from runyard.entities import PagedList
from runyard.errors import PermissionDenied
from runyard.server.auth.view import AuthorizedStore, RunExperiments


@dataclass
class Model:
    name: str


class DictRegistry:
    def __init__(self) -> None:
        self.models: dict[str, Model] = {}

    def create_registered_model(self, name: str) -> Model:
        self.models[name] = Model(name)
        return self.models[name]

    def get_registered_model(self, name: str) -> Model:
        return self.models[name]

    def rename_registered_model(self, name: str, new_name: str) -> Model:
        self.models[new_name] = Model(new_name)
        del self.models[name]
        return self.models[new_name]

    def delete_registered_model(self, name: str) -> None:
        del self.models[name]

    def search_registered_models(self, max_results: int = 100) -> PagedList[Model]:
        return PagedList(list(self.models.values()), None)

    def compact_everything(self) -> None:
        """A registry method no rule names."""


@pytest.fixture
def auth(tmp_path: Path) -> Iterator[AuthStore]:
    store = AuthStore(f"sqlite:///{tmp_path / 'auth.db'}")
    store.create_user("alice", "alice-password-1")
    store.create_user("bob", "bob-password-12")
    yield store
    store.close()


def view_for(auth: AuthStore, registry: DictRegistry, username: str) -> AuthorizedStore:
    user = auth.get_user(username)
    access = Access(user, auth.user_grants(user.id), Permission.READ)
    return AuthorizedStore(registry, access, auth, RunExperiments())  # type: ignore[arg-type]


def test_models_are_decided_by_name(auth: AuthStore) -> None:
    registry = DictRegistry()
    view_for(auth, registry, "alice").create_registered_model("churn")
    alice_id = auth.get_user("alice").id
    assert ("registered_model", "churn", "MANAGE") in {
        (g.resource_type, g.resource_pattern, g.permission) for g in auth.user_grants(alice_id)
    }
    bob = view_for(auth, registry, "bob")
    assert bob.get_registered_model("churn").name == "churn"  # the default READ
    with pytest.raises(PermissionDenied):
        bob.delete_registered_model("churn")
    with pytest.raises(PermissionDenied):
        bob.compact_everything()

    auth.grant("bob", "registered_model", "churn", "DENY")
    bob = view_for(auth, registry, "bob")
    with pytest.raises(PermissionDenied):
        bob.get_registered_model("churn")
    assert [m.name for m in bob.search_registered_models()] == []


def test_grants_follow_a_rename_and_go_with_a_delete(auth: AuthStore) -> None:
    registry = DictRegistry()
    view_for(auth, registry, "alice").create_registered_model("old")
    auth.grant("bob", "registered_model", "old", "EDIT")
    view_for(auth, registry, "alice").rename_registered_model("old", "new")
    bob = view_for(auth, registry, "bob")
    assert bob.can("registered_model", "new", "update")
    assert not bob.can("registered_model", "old", "update")

    view_for(auth, registry, "alice").delete_registered_model("new")
    registry.create_registered_model("new")  # someone else's model of the same name later
    assert not view_for(auth, registry, "bob").can("registered_model", "new", "update")
