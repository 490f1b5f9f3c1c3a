"""``RegistryDecisions``: the model registry's store methods as one user may call them, decided
as MLflow 3.17's basic-auth app decides its registry routes (``AuthorizedStore`` inherits them,
so REST, ajax, ``get-artifact`` and the registry pages all pass here).

Registered models are keyed by name. Reading a model, its versions, aliases and files needs
``READ``; changing them (description, tags, stages, aliases, new versions, a new name) ``EDIT``;
deleting the model, a version, a version's tag or an alias ``MANAGE`` (MLflow's ``can_delete``).
A new version also needs ``READ`` on what its source comes from (its run, its logged model, or
the registered model it copies): otherwise a user could register a run they may not read into a
model they may, and download its files from there. The creator gets ``MANAGE``; deleting a model
drops the grants on its name, renaming moves them. Searches return only what the caller may
read. ``*`` names every model in a grant, so no model may take that name while auth is on.

The version tier, as MLflow 3.17 has it: a grant on ``registered_model_version`` (``*`` only)
governs what may be done to versions when the caller holds one, and the model's permission
does otherwise. Reading a version needs ``READ`` on the model and no ``DENY`` on the tier;
changing or deleting one needs ``READ`` on the model and the tier's (else the model's)
``EDIT`` or ``MANAGE``; a new version needs ``EDIT`` on the model and no ``DENY`` on the tier;
an alias needs the model's level for the alias change and no ``DENY`` on the tier; deleting a
model deletes its versions, so it needs ``MANAGE`` on both. A model shown to a caller denied
the tier carries no ``latest_versions``. A ``DENY`` on the ``run`` tier withholds a version's
``run_id`` and ``run_link``, one on ``logged_model`` its ``model_id``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from runyard.auth.access import Access
from runyard.auth.permissions import (
    LOGGED_MODEL,
    REGISTERED_MODEL,
    REGISTERED_MODEL_VERSION,
    RUN,
    WILDCARD,
)
from runyard.auth.store import AuthStore
from runyard.entities import PagedList
from runyard.errors import InvalidParameterValue, PermissionDenied, ResourceDoesNotExist
from runyard.registry.entities import ModelVersion, RegisteredModel
from runyard.registry.sources import (
    OWNER_LOGGED_MODEL,
    OWNER_REGISTERED_MODEL,
    OWNER_RUN,
    source_owner,
)
from runyard.registry.validation import SEARCH_MODELS_DEFAULT, SEARCH_VERSIONS_DEFAULT
from runyard.validation import validate_model_id

T = TypeVar("T")
#: Store pages a search reads at most to fill one page of what the caller may read.
MAX_ROUNDS = 20


def readable_page(
    fetch: Callable[[int, str | None], PagedList[T]],
    readable: Callable[[T], bool],
    max_results: int,
    page_token: str | None,
) -> PagedList[T]:
    """At most ``max_results`` readable items from successive store pages. A store page is
    taken whole or not at all, so the token returned always points at the first item not yet
    looked at; a page that would overflow is left for the next call (a short page with a token
    is ordinary paging)."""
    found: list[T] = []
    token = page_token
    for _ in range(MAX_ROUNDS):
        page = fetch(max_results, token)
        visible = [item for item in page if readable(item)]
        if found and len(found) + len(visible) > max_results:
            break
        found.extend(visible)
        token = page.token
        if not token or len(found) >= max_results:
            break
    return PagedList(found, token)


class RegistryDecisions:
    """The registry half of ``AuthorizedStore``; method names and arguments are
    ``RegistryStore``'s."""

    _inner: Any
    _access: Access
    _auth: AuthStore

    if TYPE_CHECKING:  # provided by AuthorizedStore

        def can(self, resource_type: str, resource_id: str, need: str) -> bool: ...
        def require(self, resource_type: str, resource_id: str, need: str) -> None: ...
        def require_run(self, run_id: str, need: str) -> None: ...
        def require_logged_model(self, model_id: str, need: str) -> None: ...
        def granted_on_create(self, resource_type: str, resource_id: str) -> None: ...
        def require_in_tier(
            self, tier: str, parent_type: str, parent_id: str, need: str
        ) -> None: ...
        def require_create_in_tier(self, tier: str, parent_type: str, parent_id: str) -> None: ...
        def tier_denied(self, tier: str) -> bool: ...

    # ---- decisions ---------------------------------------------------------------------------
    def _model(self, name: str, need: str) -> None:
        self.require(REGISTERED_MODEL, str(name), need)

    def _readable(self, entity: RegisteredModel | ModelVersion) -> bool:
        return self.can(REGISTERED_MODEL, entity.name, "read")

    def _version_readable(self, version: ModelVersion) -> bool:
        return self._readable(version) and not self.tier_denied(REGISTERED_MODEL_VERSION)

    def _versions(self, name: str, need: str, model_need: str = "read") -> None:
        """``model_need`` on the model, then ``need`` on its versions (the version tier)."""
        if model_need != "read":
            self._model(name, model_need)
        self.require_in_tier(REGISTERED_MODEL_VERSION, REGISTERED_MODEL, name, need)

    def _shown_version(self, version: ModelVersion) -> ModelVersion:
        """A version without the links the caller's ``run`` or ``logged_model`` tier denies."""
        hidden: dict[str, Any] = {}
        if (version.run_id or version.run_link) and self.tier_denied(RUN):
            hidden.update(run_id=None, run_link=None)
        if version.model_id and self.tier_denied(LOGGED_MODEL):
            hidden["model_id"] = None
        return dataclasses.replace(version, **hidden) if hidden else version

    def _shown_model(self, model: RegisteredModel) -> RegisteredModel:
        """A model as the caller may see it: no latest versions when the tier is denied."""
        if self._access.is_admin or not model.latest_versions:
            return model
        if self.tier_denied(REGISTERED_MODEL_VERSION):
            return dataclasses.replace(model, latest_versions=())
        shown = tuple(self._shown_version(v) for v in model.latest_versions)
        return dataclasses.replace(model, latest_versions=shown)

    def _may_take_name(self, name: str) -> None:
        """A new or renamed model's name: never the wildcard, never one the caller is denied."""
        if name == WILDCARD:
            raise InvalidParameterValue(
                "Invalid model name '*': with accounts on, '*' stands for every registered model "
                "in a permission, so no model may be called that."
            )
        if self._access.denied(REGISTERED_MODEL, name):
            raise PermissionDenied(f"Permission denied: registered model name {name!r}.")

    def _require_source_readable(
        self, source: str, run_id: str | None, model_id: str | None
    ) -> None:
        """``READ`` on what a new version comes from; an owner that does not exist is refused
        like one that may not be read, so the answer does not tell which ids exist. An id that
        cannot be one is a 400 first: that tells nothing about which ids exist."""
        if model_id:
            validate_model_id(model_id)
        if self._access.is_admin:
            return
        owner = source_owner(source)
        if owner is not None and owner.kind == OWNER_REGISTERED_MODEL:
            self._model(owner.id, "read")  # the copied model is the boundary, as in MLflow
            return
        runs = {run_id, owner.id if owner and owner.kind == OWNER_RUN else None}
        models = {model_id, owner.id if owner and owner.kind == OWNER_LOGGED_MODEL else None}
        try:
            for run in runs - {None, ""}:
                self.require_run(str(run), "read")
            for logged in models - {None, ""}:
                self.require_logged_model(str(logged), "read")
        except ResourceDoesNotExist:
            raise PermissionDenied(
                "Permission denied: a model version needs READ on the run or model it comes from."
            ) from None

    # ---- registered models -------------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: Sequence[tuple[str, str]] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        self._may_take_name(name)
        model = self._inner.create_registered_model(name, tags=tags, description=description)
        self.granted_on_create(REGISTERED_MODEL, model.name)
        return model

    def get_registered_model(self, name: str) -> RegisteredModel:
        self._model(name, "read")
        return self._shown_model(self._inner.get_registered_model(name))

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        self._model(name, "update")
        self._may_take_name(new_name)
        model = self._inner.rename_registered_model(name, new_name)
        if name != WILDCARD:  # a model named '*' before auth: its grants are everyone's
            self._auth.rename_grants(REGISTERED_MODEL, name, model.name)
        return self._shown_model(model)

    def update_registered_model(self, name: str, description: str) -> RegisteredModel:
        self._model(name, "update")
        return self._shown_model(self._inner.update_registered_model(name, description))

    def delete_registered_model(self, name: str) -> None:
        self._versions(name, "manage", model_need="manage")  # its versions go with it
        self._inner.delete_registered_model(name)
        if name != WILDCARD:
            self._auth.delete_grants(REGISTERED_MODEL, name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODELS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        def fetch(limit: int, token: str | None) -> PagedList[RegisteredModel]:
            return self._inner.search_registered_models(filter_string, limit, order_by, token)

        if self._access.is_admin:
            return fetch(max_results, page_token)
        page = readable_page(fetch, self._readable, max_results, page_token)
        return PagedList([self._shown_model(m) for m in page], page.token)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        self._versions(name, "read")
        return [self._shown_version(v) for v in self._inner.get_latest_versions(name, stages)]

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        self._model(name, "update")
        self._inner.set_registered_model_tag(name, key, value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._model(name, "update")
        self._inner.delete_registered_model_tag(name, key)

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        # an alias points at a version: the versions must not be denied either
        self._versions(name, "read", model_need="update")
        self._inner.set_registered_model_alias(name, alias, version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._versions(name, "read", model_need="manage")
        self._inner.delete_registered_model_alias(name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        self._versions(name, "read")
        return self._shown_version(self._inner.get_model_version_by_alias(name, alias))

    # ---- model versions ----------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Sequence[tuple[str, str]] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        self.require_create_in_tier(REGISTERED_MODEL_VERSION, REGISTERED_MODEL, name)
        self._require_source_readable(source, run_id, model_id)
        return self._shown_version(
            self._create_version(name, source, run_id, tags, run_link, description, model_id)
        )

    def _create_version(
        self,
        name: str,
        source: str,
        run_id: str | None,
        tags: Sequence[tuple[str, str]] | None,
        run_link: str | None,
        description: str | None,
        model_id: str | None,
    ) -> ModelVersion:
        return self._inner.create_model_version(
            name,
            source,
            run_id=run_id,
            tags=tags,
            run_link=run_link,
            description=description,
            model_id=model_id,
        )

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        self._versions(name, "read")
        return self._shown_version(self._inner.get_model_version(name, version))

    def update_model_version(self, name: str, version: int | str, description: str) -> ModelVersion:
        self._versions(name, "update")
        return self._shown_version(self._inner.update_model_version(name, version, description))

    def delete_model_version(self, name: str, version: int | str) -> None:
        self._versions(name, "manage")
        self._inner.delete_model_version(name, version)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_VERSIONS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        def fetch(limit: int, token: str | None) -> PagedList[ModelVersion]:
            return self._inner.search_model_versions(filter_string, limit, order_by, token)

        if self._access.is_admin:
            return fetch(max_results, page_token)
        page = readable_page(fetch, self._version_readable, max_results, page_token)
        return PagedList([self._shown_version(v) for v in page], page.token)

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        self._versions(name, "read")
        return self._inner.get_model_version_download_uri(name, version)

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: str) -> None:
        self._versions(name, "update")
        self._inner.set_model_version_tag(name, version, key, value)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        self._versions(name, "manage")
        self._inner.delete_model_version_tag(name, version, key)

    def transition_model_version_stage(
        self,
        name: str,
        version: int | str,
        stage: str,
        archive_existing_versions: bool = False,
    ) -> ModelVersion:
        self._versions(name, "update")
        return self._shown_version(
            self._inner.transition_model_version_stage(
                name, version, stage, archive_existing_versions
            )
        )
