"""``LocalRegistry``: the registry's rules, written once for the stores that keep the data
themselves (file and SQL).

Every public ``RegistryStore`` method here validates its input, checks existence, resolves a
new version's source, and then calls a few storage primitives (``_reg_*``) that a backend
implements over its own storage. Searches filter and sort with ``runyard.search`` and page with
MLflow's offset tokens.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import replace

from runyard import search
from runyard.clock import now_ms
from runyard.entities import PagedList
from runyard.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from runyard.registry.entities import (
    STAGE_DELETED,
    ModelVersion,
    RegisteredModel,
    aliases_of,
    latest_per_stage,
)
from runyard.registry.sources import ResolvedSource, resolve_version_source
from runyard.registry.validation import (
    SEARCH_MODELS_DEFAULT,
    SEARCH_MODELS_MAX,
    SEARCH_VERSIONS_DEFAULT,
    SEARCH_VERSIONS_MAX,
    canonical_stage,
    validate_alias,
    validate_description,
    validate_model_name,
    validate_new_alias,
    validate_tag,
    validate_version,
)
from runyard.search.evaluate import DEFAULT_VERSION_ORDER
from runyard.store.registry_base import RegistryStore
from runyard.validation import validate_max_results

#: Stages whose other occupants ``archive_existing_versions`` moves to Archived.
_ARCHIVING_STAGES = ("Staging", "Production")


def model_not_found(name: str) -> ResourceDoesNotExist:
    return ResourceDoesNotExist(f"Registered Model with name={name} not found")


def model_taken(name: str) -> ResourceAlreadyExists:
    return ResourceAlreadyExists(f"Registered Model (name={name}) already exists.")


def version_not_found(name: str, version: int | str) -> ResourceDoesNotExist:
    return ResourceDoesNotExist(f"Model Version (name={name}, version={version}) not found")


class LocalRegistry(RegistryStore):
    """The public registry methods over ``_reg_*`` primitives. Primitives get validated names
    and int versions; ``_reg_model`` and ``_reg_versions`` return None / [] for what is not
    there, and writers may assume the model (and version) exist."""

    # ---- primitives a backend implements -----------------------------------------------------
    @abc.abstractmethod
    def _reg_model(self, name: str) -> RegisteredModel | None:
        """The model with tags and aliases (``latest_versions`` is filled in here)."""

    @abc.abstractmethod
    def _reg_models(self) -> list[RegisteredModel]:
        """Every model, with tags and aliases."""

    @abc.abstractmethod
    def _reg_versions(self, name: str | None) -> list[ModelVersion]:
        """Every version of ``name`` (of all models when None), deleted ones included, with
        tags; ``aliases`` is filled in here."""

    @abc.abstractmethod
    def _reg_insert_model(self, model: RegisteredModel) -> None:
        """Store a new model; ``ResourceAlreadyExists`` when the name is taken."""

    @abc.abstractmethod
    def _reg_update_model(self, name: str, last_updated: int, description: str | None) -> None: ...

    @abc.abstractmethod
    def _reg_rename_model(self, name: str, new_name: str, last_updated: int) -> None:
        """``ResourceAlreadyExists`` when ``new_name`` is taken."""

    @abc.abstractmethod
    def _reg_delete_model(self, name: str) -> None: ...

    @abc.abstractmethod
    def _reg_set_model_tag(self, name: str, key: str, value: str | None) -> None:
        """Set a tag, or delete it when ``value`` is None (no error when missing)."""

    @abc.abstractmethod
    def _reg_set_alias(self, name: str, alias: str, version: int | None) -> None:
        """Point an alias at a version, or drop it when ``version`` is None."""

    @abc.abstractmethod
    def _reg_insert_version(self, version: ModelVersion) -> ModelVersion:
        """Store ``version`` under the next free number (its ``version`` field is ignored),
        with its tags, and bump the model's ``last_updated_timestamp``; return it numbered."""

    @abc.abstractmethod
    def _reg_update_version(
        self,
        name: str,
        version: int,
        last_updated: int,
        description: str | None = None,
        stage: str | None = None,
    ) -> None: ...

    @abc.abstractmethod
    def _reg_set_version_tag(
        self, name: str, version: int, key: str, value: str | None
    ) -> None: ...

    @abc.abstractmethod
    def _reg_set_stage(
        self, name: str, version: int, stage: str, archive_others: bool, now: int
    ) -> None:
        """Move ``version`` to ``stage`` and, with ``archive_others``, every other version in
        that stage to Archived, as one step: of concurrent transitions to Production with
        archiving, one version is left there."""

    # ---- helpers -----------------------------------------------------------------------------
    def _existing_model(self, name: object) -> RegisteredModel:
        name = validate_model_name(name)
        model = self._reg_model(name)
        if model is None:
            raise model_not_found(name)
        return model

    def _existing_version(self, name: object, version: object) -> ModelVersion:
        model = self._existing_model(name)
        number = validate_version(version)
        for mv in self._reg_versions(model.name):
            if mv.version == number and mv.current_stage != STAGE_DELETED:
                return with_aliases(mv, model.aliases)
        raise version_not_found(model.name, version)

    def _complete(self, model: RegisteredModel) -> RegisteredModel:
        latest = latest_per_stage(self._reg_versions(model.name))
        return full_model(model, latest)

    # ---- registered models -------------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: Sequence[tuple[str, str]] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        name = validate_model_name(name)
        checked = dict(validate_tag(k, v) for k, v in tags or ())
        now = now_ms()
        model = RegisteredModel(
            name, now, now, description=validate_description(description), tags=checked
        )
        self._reg_insert_model(model)
        return model

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._complete(self._existing_model(name))

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        model = self._existing_model(name)
        new_name = validate_model_name(new_name, "new_name")
        if new_name != model.name:
            self._reg_rename_model(model.name, new_name, now_ms())
        return self.get_registered_model(new_name)

    def update_registered_model(self, name: str, description: str) -> RegisteredModel:
        model = self._existing_model(name)
        self._reg_update_model(model.name, now_ms(), validate_description(description))
        return self.get_registered_model(model.name)

    def delete_registered_model(self, name: str) -> None:
        self._reg_delete_model(self._existing_model(name).name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODELS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        expr = search.parse_registered_model_filter(filter_string)
        keys = search.parse_registered_model_order_by(order_by)
        max_results = validate_max_results(max_results, SEARCH_MODELS_MAX)
        offset = search.decode_offset_token(page_token)
        models, more = self._reg_search_models(expr, keys, offset, max_results)
        return PagedList(models, _next_token(offset, len(models), more))

    def _reg_search_models(
        self, expr: search.Expr | None, keys: list[search.OrderKey], offset: int, limit: int
    ) -> tuple[list[RegisteredModel], bool]:
        """A page of matching models, complete with latest versions, and whether more match.
        This evaluates in Python over every model; a backend may push it down."""
        found = [m for m in self._reg_models() if search.matches_registered_model(expr, m)]
        page = search.sort_registered_models(found, keys)[offset : offset + limit]
        latest = _latest_by_model(self._reg_versions(None)) if page else {}
        models = [full_model(m, latest.get(m.name, [])) for m in page]
        return models, offset + len(models) < len(found)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        model = self._existing_model(name)
        wanted = None if not stages else [canonical_stage(s) for s in stages]
        versions = [with_aliases(mv, model.aliases) for mv in self._reg_versions(model.name)]
        return latest_per_stage(versions, wanted)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        model = self._existing_model(name)
        key, value = validate_tag(key, value)
        self._reg_set_model_tag(model.name, key, value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        model = self._existing_model(name)
        key, _ = validate_tag(key, "")
        self._reg_set_model_tag(model.name, key, None)

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        alias = validate_new_alias(alias)
        mv = self._existing_version(name, version)
        self._reg_set_alias(mv.name, alias, mv.version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        alias = validate_alias(alias)
        model = self._existing_model(name)
        self._reg_set_alias(model.name, alias, None)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        alias = validate_alias(alias)
        model = self._existing_model(name)
        if alias not in model.aliases:
            raise InvalidParameterValue(f"Registered model alias {alias} not found.")
        return self._existing_version(model.name, model.aliases[alias])

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
        model = self._existing_model(name)
        checked = dict(validate_tag(k, v) for k, v in tags or ())
        resolved = self._resolve_source(source, run_id, model_id)
        now = now_ms()
        return self._reg_insert_version(
            ModelVersion(
                name=model.name,
                version=0,
                creation_timestamp=now,
                last_updated_timestamp=now,
                source=source,
                storage_location=resolved.storage_location,
                description=validate_description(description),
                run_id=resolved.run_id,
                run_link=run_link or "",
                model_id=resolved.model_id,
                tags=checked,
            )
        )

    def _logged_model_location(self, model_id: str) -> tuple[str, str | None]:
        logged = self.get_logged_model(model_id)  # type: ignore[attr-defined]
        return logged.artifact_location, logged.source_run_id

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        return self._existing_version(name, version)

    def update_model_version(self, name: str, version: int | str, description: str) -> ModelVersion:
        mv = self._existing_version(name, version)
        text = validate_description(description)
        self._reg_update_version(mv.name, mv.version, now_ms(), description=text)
        return self._existing_version(mv.name, mv.version)

    def delete_model_version(self, name: str, version: int | str) -> None:
        mv = self._existing_version(name, version)
        for alias in mv.aliases:
            self._reg_set_alias(mv.name, alias, None)
        self._reg_update_version(mv.name, mv.version, now_ms(), stage=STAGE_DELETED)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_VERSIONS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        expr = search.parse_model_version_filter(filter_string)
        keys = search.parse_model_version_order_by(order_by) or list(DEFAULT_VERSION_ORDER)
        max_results = validate_max_results(max_results, SEARCH_VERSIONS_MAX)
        offset = search.decode_offset_token(page_token)
        versions, more = self._reg_search_versions(expr, keys, offset, max_results)
        return PagedList(versions, _next_token(offset, len(versions), more))

    def _reg_search_versions(
        self, expr: search.Expr | None, keys: list[search.OrderKey], offset: int, limit: int
    ) -> tuple[list[ModelVersion], bool]:
        """A page of matching (not deleted) versions and whether more match; evaluated in
        Python, reading only one model's versions when the filter pins ``name``."""
        found = [
            mv
            for mv in self._reg_versions(_only_name(expr))
            if mv.current_stage != STAGE_DELETED and search.matches_model_version(expr, mv)
        ]
        page = search.sort_model_versions(found, keys)[offset : offset + limit]
        return page, offset + len(page) < len(found)

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """Where the version's files are, checked by the source rule on every use: a version
        stored before the rule (or by another tool) whose location does not lie inside its
        run's or logged model's artifacts is refused, never read. ``runs:/`` and ``models:/``
        locations (as MLflow's file store records them) are resolved the same way."""
        mv = self._existing_version(name, version)
        location = mv.storage_location or mv.source
        try:
            return self._resolve_source(location, mv.run_id, mv.model_id).storage_location
        except InvalidParameterValue as exc:
            raise InvalidParameterValue(
                f"Version {mv.version} of model {mv.name!r} has a stored location that is not "
                f"allowed, so its files are not used. {exc.message}"
            ) from None

    def _resolve_source(
        self, source: str, run_id: str | None, model_id: str | None
    ) -> ResolvedSource:
        return resolve_version_source(
            source,
            run_id,
            model_id,
            run_artifact_uri=lambda rid: self.get_run(rid).info.artifact_uri,  # type: ignore[attr-defined]
            logged_model_location=self._logged_model_location,
            registered_version=self._registered_version_location,
        )

    def _registered_version_location(self, name: str, version: str) -> tuple[str, str, str | None]:
        mv = self._existing_version(name, version)
        return self.get_model_version_download_uri(mv.name, mv.version), mv.run_id, mv.model_id

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: str) -> None:
        mv = self._existing_version(name, version)
        key, value = validate_tag(key, value)
        self._reg_set_version_tag(mv.name, mv.version, key, value)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        mv = self._existing_version(name, version)
        key, _ = validate_tag(key, "")
        self._reg_set_version_tag(mv.name, mv.version, key, None)

    def transition_model_version_stage(
        self,
        name: str,
        version: int | str,
        stage: str,
        archive_existing_versions: bool = False,
    ) -> ModelVersion:
        stage = canonical_stage(stage)
        mv = self._existing_version(name, version)
        archive = archive_existing_versions and stage in _ARCHIVING_STAGES
        self._reg_set_stage(mv.name, mv.version, stage, archive, now_ms())
        return self._existing_version(mv.name, mv.version)


def with_aliases(mv: ModelVersion, aliases: Mapping[str, int]) -> ModelVersion:
    return replace(mv, aliases=aliases_of(aliases, mv.version))


def full_model(model: RegisteredModel, latest: list[ModelVersion]) -> RegisteredModel:
    return replace(model, latest_versions=tuple(with_aliases(v, model.aliases) for v in latest))


def _latest_by_model(versions: list[ModelVersion]) -> dict[str, list[ModelVersion]]:
    by_model: dict[str, list[ModelVersion]] = {}
    for mv in versions:
        by_model.setdefault(mv.name, []).append(mv)
    return {name: latest_per_stage(group) for name, group in by_model.items()}


def _next_token(offset: int, returned: int, more: bool) -> str | None:
    return search.encode_offset_token(offset + returned) if returned and more else None


def _only_name(expr: search.Expr | None) -> str | None:
    """The (valid) model name a filter pins with ``name = '...'`` at its top level, so a backend
    can read only that model's versions."""
    items = expr.items if isinstance(expr, search.And) else (expr,)
    for item in items:
        if (
            isinstance(item, search.Comparison)
            and item.ident == search.Identifier("attribute", "name")
            and item.op == "="
            and isinstance(item.value, str)
        ):
            try:
                return validate_model_name(item.value)
            except InvalidParameterValue:
                return None
    return None


__all__ = [
    "LocalRegistry",
    "full_model",
    "model_not_found",
    "model_taken",
    "version_not_found",
    "with_aliases",
]
