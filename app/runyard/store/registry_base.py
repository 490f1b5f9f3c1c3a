"""``RegistryStore``: the model registry interface every backend implements.

The file, SQL and REST stores each implement it next to ``TrackingStore`` (the registry lives
in the same place as the runs its versions come from), and all pass one contract suite
(``tests/contract/test_store_contract_registry.py``). Names and semantics are MLflow's; every
method validates before it writes (``runyard.registry.validation``), a new version's source is
checked by ``runyard.registry.sources``, and errors are ``RunyardError`` subclasses.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from runyard.entities import PagedList
from runyard.registry.entities import ModelVersion, RegisteredModel
from runyard.registry.validation import SEARCH_MODELS_DEFAULT, SEARCH_VERSIONS_DEFAULT


class RegistryStore(abc.ABC):
    """Registered models, their versions, tags, aliases and stages."""

    # ---- registered models -------------------------------------------------------------------
    @abc.abstractmethod
    def create_registered_model(
        self,
        name: str,
        tags: Sequence[tuple[str, str]] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        """A taken name is ``ResourceAlreadyExists``."""

    @abc.abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel:
        """With tags, aliases and the latest version of each stage; missing: 404."""

    @abc.abstractmethod
    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Versions, tags and aliases move with the model; a taken new name is 400."""

    @abc.abstractmethod
    def update_registered_model(self, name: str, description: str) -> RegisteredModel: ...

    @abc.abstractmethod
    def delete_registered_model(self, name: str) -> None:
        """The model with every version, tag and alias."""

    @abc.abstractmethod
    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODELS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """``runyard.search`` filters on ``name`` and tags; default order ``name ASC``."""

    @abc.abstractmethod
    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The highest version of each stage (of ``stages`` when given), in version order."""

    @abc.abstractmethod
    def set_registered_model_tag(self, name: str, key: str, value: str) -> None: ...

    @abc.abstractmethod
    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """A missing key is fine (MLflow's behaviour); a missing model is 404."""

    @abc.abstractmethod
    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` at ``version`` (moving it if it pointed elsewhere)."""

    @abc.abstractmethod
    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """A missing alias is fine; a missing model is 404."""

    @abc.abstractmethod
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """An unknown alias is ``InvalidParameterValue`` (400), as in MLflow."""

    # ---- model versions ----------------------------------------------------------------------
    @abc.abstractmethod
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
        """The next version (never a reused number). ``source`` must lie inside the artifact
        location of ``run_id`` / ``model_id`` (or be ``runs:/``, ``models:/<model_id>``)."""

    @abc.abstractmethod
    def get_model_version(self, name: str, version: int | str) -> ModelVersion: ...

    @abc.abstractmethod
    def update_model_version(
        self, name: str, version: int | str, description: str
    ) -> ModelVersion: ...

    @abc.abstractmethod
    def delete_model_version(self, name: str, version: int | str) -> None:
        """Also removes the aliases pointing at it."""

    @abc.abstractmethod
    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_VERSIONS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """Filters on ``name``, ``version_number``, ``run_id``, ``source_path`` and tags;
        default order ``name ASC, version_number DESC``."""

    @abc.abstractmethod
    def get_model_version_download_uri(self, name: str, version: int | str) -> str: ...

    @abc.abstractmethod
    def set_model_version_tag(
        self, name: str, version: int | str, key: str, value: str
    ) -> None: ...

    @abc.abstractmethod
    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None: ...

    @abc.abstractmethod
    def transition_model_version_stage(
        self,
        name: str,
        version: int | str,
        stage: str,
        archive_existing_versions: bool = False,
    ) -> ModelVersion:
        """With ``archive_existing_versions``, other versions in ``Staging``/``Production``
        (the target stage) move to ``Archived``."""
