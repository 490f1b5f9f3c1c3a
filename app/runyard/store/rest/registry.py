"""The model registry of a runyard (or MLflow) server, over its REST API.

A mixin for ``RestStore``: it maps each ``RegistryStore`` call to its endpoint and reads the
reply with ``runyard.registry.protocol``, the same code the server renders with. Filters and
``order_by`` are parsed here too, so a bad one fails before anything is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from runyard import protocol, search
from runyard.entities import PagedList
from runyard.registry import protocol as rp
from runyard.registry.entities import ModelVersion, RegisteredModel
from runyard.registry.validation import SEARCH_MODELS_DEFAULT, SEARCH_VERSIONS_DEFAULT
from runyard.store.registry_base import RegistryStore


class RestRegistryMixin(RegistryStore):
    """Uses ``RestStore``'s ``_get(endpoint, **params)`` and ``_send(method, endpoint, body)``,
    which drop fields that are None."""

    _get: Callable[..., dict[str, Any]]
    _send: Callable[[str, str, dict[str, Any]], dict[str, Any]]

    def _model(self, reply: dict[str, Any]) -> RegisteredModel:
        return rp.registered_model_from_json(reply["registered_model"])

    def _version(self, reply: dict[str, Any]) -> ModelVersion:
        return rp.model_version_from_json(reply["model_version"])

    # ---- registered models -------------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: Sequence[tuple[str, str]] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        body = {
            "name": name,
            "tags": protocol.key_values_to_json(dict(tags or ())) or None,
            "description": description or None,
        }
        return self._model(self._send("POST", "registered-models/create", body))

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._model(self._get("registered-models/get", name=name))

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        body = {"name": name, "new_name": new_name}
        return self._model(self._send("POST", "registered-models/rename", body))

    def update_registered_model(self, name: str, description: str) -> RegisteredModel:
        body = {"name": name, "description": description}
        return self._model(self._send("PATCH", "registered-models/update", body))

    def delete_registered_model(self, name: str) -> None:
        self._send("DELETE", "registered-models/delete", {"name": name})

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODELS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        search.parse_registered_model_filter(filter_string)
        search.parse_registered_model_order_by(order_by)
        reply = self._get(
            "registered-models/search",
            filter=filter_string or None,
            max_results=max_results,
            order_by=list(order_by) if order_by else None,
            page_token=page_token or None,
        )
        models = [rp.registered_model_from_json(m) for m in reply.get("registered_models", [])]
        return PagedList(models, reply.get("next_page_token") or None)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        body = {"name": name, "stages": list(stages) if stages else None}
        reply = self._send("POST", "registered-models/get-latest-versions", body)
        return [rp.model_version_from_json(v) for v in reply.get("model_versions", [])]

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        body = {"name": name, "key": key, "value": value}
        self._send("POST", "registered-models/set-tag", body)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._send("DELETE", "registered-models/delete-tag", {"name": name, "key": key})

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        body = {"name": name, "alias": alias, "version": str(version)}
        self._send("POST", "registered-models/alias", body)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._send("DELETE", "registered-models/alias", {"name": name, "alias": alias})

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._version(self._get("registered-models/alias", name=name, alias=alias))

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
        body = {
            "name": name,
            "source": source,
            "run_id": run_id or None,
            "tags": protocol.key_values_to_json(dict(tags or ())) or None,
            "run_link": run_link or None,
            "description": description or None,
            "model_id": model_id or None,
        }
        return self._version(self._send("POST", "model-versions/create", body))

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        return self._version(self._get("model-versions/get", name=name, version=str(version)))

    def update_model_version(self, name: str, version: int | str, description: str) -> ModelVersion:
        body = {"name": name, "version": str(version), "description": description}
        return self._version(self._send("PATCH", "model-versions/update", body))

    def delete_model_version(self, name: str, version: int | str) -> None:
        self._send("DELETE", "model-versions/delete", {"name": name, "version": str(version)})

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_VERSIONS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        search.parse_model_version_filter(filter_string)
        search.parse_model_version_order_by(order_by)
        reply = self._get(
            "model-versions/search",
            filter=filter_string or None,
            max_results=max_results,
            order_by=list(order_by) if order_by else None,
            page_token=page_token or None,
        )
        versions = [rp.model_version_from_json(v) for v in reply.get("model_versions", [])]
        return PagedList(versions, reply.get("next_page_token") or None)

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        reply = self._get("model-versions/get-download-uri", name=name, version=str(version))
        return str(reply["artifact_uri"])

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: str) -> None:
        body = {"name": name, "version": str(version), "key": key, "value": value}
        self._send("POST", "model-versions/set-tag", body)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        body = {"name": name, "version": str(version), "key": key}
        self._send("DELETE", "model-versions/delete-tag", body)

    def transition_model_version_stage(
        self,
        name: str,
        version: int | str,
        stage: str,
        archive_existing_versions: bool = False,
    ) -> ModelVersion:
        body = {
            "name": name,
            "version": str(version),
            "stage": stage,
            "archive_existing_versions": bool(archive_existing_versions),
        }
        return self._version(self._send("POST", "model-versions/transition-stage", body))
