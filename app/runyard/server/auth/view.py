"""``AuthorizedStore``: the tracking store as one user may see it.

Every handler (REST, ajax, UI pages and their JSON) reaches the store through
``api_common.store()``, which hands out this view when auth is on; so every read and write is
decided here, once, whatever route asked. Reads are filtered, not just gated: searches only
cover experiments the user may read, so what they may not read never appears, counts included.
Registry methods are decided by model name (``RegistryDecisions``, in ``registry_rules``);
store methods not defined here are refused to everyone but admins (deny by default).

Levels follow MLflow: reading needs ``READ``; logging and changing runs, tags and names needs
``EDIT``; deleting or restoring experiments and runs needs ``MANAGE``. Whoever creates an
experiment gets ``MANAGE`` on it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from runyard.auth.access import Access
from runyard.auth.permissions import (
    EXPERIMENT,
    LOGGED_MODEL,
    RUN,
    WILDCARD,
    Permission,
    allows,
)
from runyard.auth.store import AuthStore
from runyard.entities import NO_RUNS, Experiment, ExperimentStats, PagedList, Run
from runyard.errors import PermissionDenied
from runyard.server.auth.registry_rules import RegistryDecisions
from runyard.store.base import TrackingStore


class RunExperiments:
    """run id -> experiment id, remembered per process: a run never changes experiment, so the
    logging path asks the store once per run, not once per request (bounded LRU)."""

    def __init__(self, size: int = 100_000) -> None:
        self._size = size
        self._map: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, run_id: str) -> str | None:
        with self._lock:
            experiment_id = self._map.get(run_id)
            if experiment_id is not None:
                self._map.move_to_end(run_id)
            return experiment_id

    def put(self, run_id: str, experiment_id: str) -> None:
        with self._lock:
            self._map[run_id] = experiment_id
            if len(self._map) > self._size:
                self._map.popitem(last=False)


class AuthorizedStore(RegistryDecisions):
    def __init__(
        self,
        inner: TrackingStore,
        access: Access,
        auth_store: AuthStore,
        runs: RunExperiments,
        reload_access: Callable[[], Access] | None = None,
        seen_version: object = None,
    ) -> None:
        self._inner = inner
        self._access = access
        self._auth = auth_store
        self._runs = runs
        self._reload_access = reload_access
        #: The auth store's version stamp when ``access`` was read (see ``read_version``).
        self._seen_version = seen_version

    # ---- decisions ---------------------------------------------------------------------------
    def can(self, resource_type: str, resource_id: str, need: str) -> bool:
        return allows(self._access.permission(resource_type, resource_id), need)

    def require(self, resource_type: str, resource_id: str, need: str) -> None:
        if not self.can(resource_type, resource_id, need) and not self._can_with_fresh_grants(
            resource_type, resource_id, need
        ):
            raise PermissionDenied(
                f"Permission denied: {need} on {resource_type.replace('_', ' ')} "
                f"{resource_id!r} needs a higher permission."
            )

    def _can_with_fresh_grants(self, resource_type: str, resource_id: str, need: str) -> bool:
        """Decide a denial once more if the grants changed since this process remembered
        them: an experiment created through another worker or replica a moment ago gives its
        creator MANAGE there, and the creator's next call may well come here. Compared with the
        stamp this request's grants were read at, not with whether this call saw the change:
        another request of this process may have refreshed in between."""
        if self._reload_access is None:
            return False
        self._auth.refresh(now=True)
        current = self._auth.read_version()
        if current == self._seen_version:
            return False
        self._seen_version = current
        self._access = self._reload_access()
        return self.can(resource_type, resource_id, need)

    def require_in_tier(self, tier: str, parent_type: str, parent_id: str, need: str) -> None:
        """``need`` on a sub-resource (a run, a logged model, a model version), decided as
        MLflow 3.17 does: ``READ`` on its parent, then the caller's grant on the ``tier``
        (``*`` only) when they hold one, else the parent's permission."""
        self.require(parent_type, parent_id, "read")
        if self._access.is_admin:
            return
        granted = self._access.granted(tier, WILDCARD)
        if granted is None:
            if need != "read":
                self.require(parent_type, parent_id, need)
            return
        if not allows(granted, need):
            raise PermissionDenied(
                f"Permission denied: {need} on {tier.replace('_', ' ')}s needs a higher permission."
            )

    def require_create_in_tier(self, tier: str, parent_type: str, parent_id: str) -> None:
        """A new sub-resource: ``EDIT`` on its parent and no ``DENY`` on the ``tier``."""
        self.require(parent_type, parent_id, "update")
        if self.tier_denied(tier):
            raise PermissionDenied(f"Permission denied: new {tier.replace('_', ' ')}s.")

    def tier_denied(self, tier: str) -> bool:
        return not self._access.is_admin and self._access.granted(tier, WILDCARD) is Permission.DENY

    def require_experiment(self, experiment_id: str, need: str) -> None:
        self.require(EXPERIMENT, str(experiment_id), need)

    def experiment_of_run(self, run_id: str) -> str:
        experiment_id = self._runs.get(run_id)
        if experiment_id is None:
            experiment_id = self._inner.get_run(run_id).info.experiment_id
            self._runs.put(run_id, experiment_id)
        return experiment_id

    def require_run(self, run_id: str, need: str) -> None:
        if not self._access.is_admin:
            self.require_in_tier(RUN, EXPERIMENT, self.experiment_of_run(run_id), need)

    def readable_experiment_ids(self, experiment_ids: Sequence[str]) -> list[str]:
        return [e for e in experiment_ids if self.can(EXPERIMENT, str(e), "read")]

    def granted_on_create(self, resource_type: str, resource_id: str) -> None:
        """The creator manages what they created (their own grant, replacing any other)."""
        self._auth.set_grant(self._access.user.id, resource_type, resource_id, "MANAGE")
        self._access.add(resource_type, resource_id, Permission.MANAGE)

    # ---- pass-through attributes that reveal nothing -------------------------------------------
    def check_ready(self) -> None:
        self._inner.check_ready()

    def __getattr__(self, name: str) -> Any:
        """Store methods outside the TrackingStore interface (the SQL store's engine
        helpers, say): absent stays absent, and only administrators reach them."""
        target = getattr(self._inner, name)
        if self._access.is_admin:
            return target
        raise PermissionDenied(f"Permission denied: {name} is for administrators.")

    # ---- experiments -------------------------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[tuple[str, str]] | None = None,
    ) -> str:
        if artifact_location and not self._access.is_admin:
            # A location of one's choosing could alias another experiment's artifacts.
            raise PermissionDenied(
                "Only administrators may choose an experiment's artifact location."
            )
        experiment_id = self._inner.create_experiment(name, artifact_location, tags)
        self.granted_on_create(EXPERIMENT, experiment_id)
        return experiment_id

    def get_experiment(self, experiment_id: str) -> Experiment:
        self.require_experiment(experiment_id, "read")
        return self._inner.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        experiment = self._inner.get_experiment_by_name(name)
        if experiment is not None:
            self.require_experiment(experiment.experiment_id, "read")
        return experiment

    def search_experiments(self, *args: Any, **kwargs: Any) -> PagedList[Experiment]:
        page = self._inner.search_experiments(*args, **kwargs)
        if self._access.is_admin:
            return page
        visible = [e for e in page if self.can(EXPERIMENT, e.experiment_id, "read")]
        return PagedList(visible, page.token)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.require_experiment(experiment_id, "update")
        self._inner.rename_experiment(experiment_id, new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self.require_experiment(experiment_id, "manage")
        self._inner.delete_experiment(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        self.require_experiment(experiment_id, "manage")
        self._inner.restore_experiment(experiment_id)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self.require_experiment(experiment_id, "update")
        self._inner.set_experiment_tag(experiment_id, key, value)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self.require_experiment(experiment_id, "update")
        self._inner.delete_experiment_tag(experiment_id, key)

    # ---- runs --------------------------------------------------------------------------------
    def create_run(self, experiment_id: str, *args: Any, **kwargs: Any) -> Run:
        self.require_create_in_tier(RUN, EXPERIMENT, experiment_id)
        run = self._inner.create_run(experiment_id, *args, **kwargs)
        self._runs.put(run.info.run_id, run.info.experiment_id)
        return run

    def get_run(self, run_id: str) -> Run:
        if self._access.is_admin:
            return self._inner.get_run(run_id)
        run = self._inner.get_run(run_id)
        self._runs.put(run_id, run.info.experiment_id)
        self.require_in_tier(RUN, EXPERIMENT, run.info.experiment_id, "read")
        return run

    def update_run_info(self, run_id: str, *args: Any, **kwargs: Any) -> Any:
        self.require_run(run_id, "update")
        return self._inner.update_run_info(run_id, *args, **kwargs)

    def delete_run(self, run_id: str) -> None:
        self.require_run(run_id, "manage")
        self._inner.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self.require_run(run_id, "manage")
        self._inner.restore_run(run_id)

    def log_batch(self, run_id: str, *args: Any, **kwargs: Any) -> None:
        self.require_run(run_id, "update")
        self._inner.log_batch(run_id, *args, **kwargs)

    def log_metric(self, run_id: str, metric: Any) -> None:
        self.require_run(run_id, "update")
        self._inner.log_metric(run_id, metric)

    def log_param(self, run_id: str, param: Any) -> None:
        self.require_run(run_id, "update")
        self._inner.log_param(run_id, param)

    def set_tag(self, run_id: str, tag: Any) -> None:
        self.require_run(run_id, "update")
        self._inner.set_tag(run_id, tag)

    def delete_tag(self, run_id: str, key: str) -> None:
        self.require_run(run_id, "update")
        self._inner.delete_tag(run_id, key)

    def log_inputs(self, run_id: str, *args: Any, **kwargs: Any) -> None:
        self.require_run(run_id, "update")
        self._inner.log_inputs(run_id, *args, **kwargs)

    def log_outputs(self, run_id: str, models: Any) -> None:
        self.require_run(run_id, "update")
        self._inner.log_outputs(run_id, models)

    def get_metric_history(self, run_id: str, *args: Any, **kwargs: Any) -> Any:
        self.require_run(run_id, "read")
        return self._inner.get_metric_history(run_id, *args, **kwargs)

    def get_metric_history_rows(self, run_id: str, *args: Any, **kwargs: Any) -> Any:
        self.require_run(run_id, "read")
        return self._inner.get_metric_history_rows(run_id, *args, **kwargs)

    def get_metric_history_json(self, run_id: str, *args: Any, **kwargs: Any) -> Any:
        self.require_run(run_id, "read")
        return self._inner.get_metric_history_json(run_id, *args, **kwargs)

    def get_metric_history_bulk_interval(
        self, run_ids: Sequence[str], *args: Any, **kw: Any
    ) -> Any:
        for run_id in run_ids:
            self.require_run(run_id, "read")
        return self._inner.get_metric_history_bulk_interval(run_ids, *args, **kw)

    def get_metric_summaries(self, run_ids: Sequence[str]) -> Any:
        for run_id in run_ids:
            self.require_run(run_id, "read")
        return self._inner.get_metric_summaries(run_ids)

    def search_runs(self, experiment_ids: Sequence[str], *args: Any, **kwargs: Any) -> Any:
        if not self._access.is_admin:
            experiment_ids = (
                [] if self.tier_denied(RUN) else self.readable_experiment_ids(experiment_ids)
            )
            if not experiment_ids:
                return PagedList([], None)
        return self._inner.search_runs(experiment_ids, *args, **kwargs)

    def experiment_stats(self, experiment_ids: Sequence[str]) -> dict[str, ExperimentStats]:
        """Counted like ``search_runs`` sees them: experiments whose runs this user may not
        read show none."""
        counted = list(experiment_ids)
        if not self._access.is_admin:
            counted = [] if self.tier_denied(RUN) else self.readable_experiment_ids(counted)
        stats = self._inner.experiment_stats(counted) if counted else {}
        return {eid: stats.get(eid, NO_RUNS) for eid in experiment_ids}

    # ---- logged models -----------------------------------------------------------------------
    def require_logged_model(self, model_id: str, need: str) -> None:
        if not self._access.is_admin:
            model = self._inner.get_logged_model(model_id)
            self.require_in_tier(LOGGED_MODEL, EXPERIMENT, model.experiment_id, need)

    def create_logged_model(self, experiment_id: str, *args: Any, **kwargs: Any) -> Any:
        self.require_create_in_tier(LOGGED_MODEL, EXPERIMENT, experiment_id)
        return self._inner.create_logged_model(experiment_id, *args, **kwargs)

    def get_logged_model(self, model_id: str) -> Any:
        self.require_logged_model(model_id, "read")
        return self._inner.get_logged_model(model_id)

    def finalize_logged_model(self, model_id: str, status: Any) -> Any:
        self.require_logged_model(model_id, "update")
        return self._inner.finalize_logged_model(model_id, status)

    def set_logged_model_tags(self, model_id: str, tags: Any) -> None:
        self.require_logged_model(model_id, "update")
        self._inner.set_logged_model_tags(model_id, tags)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self.require_logged_model(model_id, "update")
        self._inner.delete_logged_model_tag(model_id, key)

    def delete_logged_model(self, model_id: str) -> None:
        self.require_logged_model(model_id, "manage")
        self._inner.delete_logged_model(model_id)

    def search_logged_models(self, experiment_ids: Sequence[str], *args: Any, **kw: Any) -> Any:
        if not self._access.is_admin:
            experiment_ids = (
                []
                if self.tier_denied(LOGGED_MODEL)
                else (self.readable_experiment_ids(experiment_ids))
            )
            if not experiment_ids:
                return PagedList([], None)
        return self._inner.search_logged_models(experiment_ids, *args, **kw)
