"""Permissions for the model registry's store methods, keyed by registered-model name as MLflow
keys them, so a registry store plugs into ``AuthorizedStore`` without further auth code.

Each method MLflow's model-registry store has is listed with what it needs on the model named by
its ``name`` argument (the first positional one, as in MLflow's store API). Searches are
filtered to the models the caller may read. Creating a model makes the caller its manager;
deleting it drops every grant on its name; renaming it moves them to the new name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runyard.auth.permissions import REGISTERED_MODEL
from runyard.entities import PagedList

if TYPE_CHECKING:
    from runyard.server.auth.view import AuthorizedStore

NEEDS: dict[str, str] = {
    "get_registered_model": "read",
    "get_latest_versions": "read",
    "get_model_version": "read",
    "get_model_version_download_uri": "read",
    "get_model_version_by_alias": "read",
    "update_registered_model": "update",
    "set_registered_model_tag": "update",
    "delete_registered_model_tag": "update",
    "create_model_version": "update",
    "update_model_version": "update",
    "transition_model_version_stage": "update",
    "set_model_version_tag": "update",
    "delete_model_version_tag": "update",
    "set_registered_model_alias": "update",
    "delete_registered_model_alias": "update",
    "delete_model_version": "manage",
}
SEARCHES = frozenset({"search_registered_models", "search_model_versions"})


def _model_name(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    return str(kwargs["name"] if "name" in kwargs else args[0])


def guard(
    view: AuthorizedStore, method: str, target: Callable[..., Any]
) -> Callable[..., Any] | None:
    """``target`` wrapped with its permission check, or None if ``method`` is not the
    registry's (then the caller refuses it to non-admins)."""
    if method in NEEDS:
        need = NEEDS[method]

        def checked(*args: Any, **kwargs: Any) -> Any:
            view.require(REGISTERED_MODEL, _model_name(args, kwargs), need)
            return target(*args, **kwargs)

        return checked
    if method in SEARCHES:

        def filtered(*args: Any, **kwargs: Any) -> Any:
            page = target(*args, **kwargs)
            visible = [m for m in page if view.can(REGISTERED_MODEL, str(m.name), "read")]
            return PagedList(visible, getattr(page, "token", None))

        return filtered
    if method == "create_registered_model":

        def created(*args: Any, **kwargs: Any) -> Any:
            model = target(*args, **kwargs)
            view.granted_on_create(REGISTERED_MODEL, _model_name(args, kwargs))
            return model

        return created
    if method == "delete_registered_model":

        def deleted(*args: Any, **kwargs: Any) -> Any:
            name = _model_name(args, kwargs)
            view.require(REGISTERED_MODEL, name, "manage")
            result = target(*args, **kwargs)
            view.auth_store.delete_grants(REGISTERED_MODEL, name)
            return result

        return deleted
    if method == "rename_registered_model":

        def renamed(*args: Any, **kwargs: Any) -> Any:
            name = _model_name(args, kwargs)
            new_name = str(kwargs["new_name"] if "new_name" in kwargs else args[1])
            view.require(REGISTERED_MODEL, name, "manage")
            result = target(*args, **kwargs)
            view.auth_store.rename_grants(REGISTERED_MODEL, name, new_name)
            return result

        return renamed
    return None
