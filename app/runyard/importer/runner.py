"""The import itself: experiments, logged models, then runs with their whole history; resumable
(finished runs are skipped), a dry run that only counts, and a verification pass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tqdm import tqdm

from runyard.errors import ResourceDoesNotExist
from runyard.importer.artifacts import ArtifactCopier
from runyard.importer.digest import registry_digest, run_digest
from runyard.importer.records import RegistryRecord, RunRecord, Source, Target
from runyard.importer.source_store import StoreSource

Echo = Callable[[str], None]


@dataclass
class ImportReport:
    experiments: int = 0
    logged_models: int = 0
    runs: int = 0
    runs_skipped: int = 0
    params: int = 0
    tags: int = 0
    points: int = 0
    registered_models: int = 0
    model_versions: int = 0
    differences: dict[str, list[str]] = field(default_factory=dict)

    def summary(self, dry_run: bool) -> str:
        verb = "would import" if dry_run else "imported"
        text = (
            f"{verb}: {self.experiments} experiments, {self.logged_models} logged models, "
            f"{self.runs} runs, {self.params} params, {self.tags} tags, "
            f"{self.points} metric points, {self.registered_models} registered models "
            f"with {self.model_versions} versions"
        )
        if self.runs_skipped:
            text += f"; {self.runs_skipped} runs were already imported"
        return text


def import_registered_models(
    source: Source, target: Target | None, report: ImportReport
) -> list[RegistryRecord]:
    """Every registered model with its versions (after the runs their sources name); writing
    a model again overwrites it with the source's state, so a re-run is idempotent."""
    records = list(source.registered_models())
    for record in records:
        report.registered_models += 1
        report.model_versions += len(record.versions)
        if target is not None:
            target.put_registered_model(record)
    return records


def run_import(
    source: Source,
    target: Target | None,
    *,
    dry_run: bool = False,
    verify: bool = True,
    progress: bool = True,
    echo: Echo = print,
    copier: ArtifactCopier | None = None,
) -> ImportReport:
    """Copy ``source`` into ``target`` (nothing is written when ``dry_run``); with ``copier``,
    artifacts are copied too and the imported URIs point at the copies."""
    source.check()
    if dry_run:
        target = None
    report = ImportReport()
    experiments = list(source.experiments())
    plan = [(experiment, source.run_ids(experiment.experiment_id)) for experiment in experiments]
    bar = tqdm(total=sum(len(ids) for _, ids in plan), unit="run", disable=not progress)
    checked: list[RunRecord] = []
    for experiment, run_ids in plan:
        report.experiments += 1
        if target is not None:
            target.put_experiment(copier.experiment(experiment) if copier else experiment)
        for model in source.logged_models(experiment.experiment_id):
            report.logged_models += 1
            if target is not None:
                target.put_logged_model(copier.logged_model(model) if copier else model)
        for run_id in run_ids:
            record = source.run(run_id)
            report.runs += 1
            report.params += len(record.params)
            report.tags += len(record.tags)
            if target is None:
                report.points += source.count_points(run_id)
            elif target.has_finished_run(record):
                report.runs_skipped += 1
            else:  # files first, then the run: a stopped import redoes both
                written = copier.run(record) if copier else record
                report.points += target.put_run(written, source.metric_points(run_id))
            checked.append(record)
            bar.update(1)
    bar.close()
    registry = import_registered_models(source, target, report)
    echo(report.summary(dry_run))
    if verify and target is not None:
        copy = StoreSource(target.store, "target")
        verify_runs(source, copy, checked, report, progress, echo)
        verify_registry(registry, copy, report, echo)
    return report


def verify_runs(
    source: Source,
    target: StoreSource,
    records: list[RunRecord],
    report: ImportReport,
    progress: bool,
    echo: Echo,
) -> None:
    """Compare counts and checksums of every run on both sides; print what differs."""
    for record in tqdm(records, unit="run", disable=not progress, desc="verify"):
        run_id = record.info.run_id
        expected = run_digest(record, source.metric_points(run_id))
        try:
            copy = target.run(run_id)
        except ResourceDoesNotExist as exc:
            report.differences[run_id] = [f"missing in target: {exc}"]
            continue
        found = run_digest(copy, target.metric_points(run_id))
        differences = expected.differences(found)
        if differences:
            report.differences[run_id] = differences
    if report.differences:
        echo(f"verification: {len(report.differences)} runs differ:")
        for run_id, differences in sorted(report.differences.items()):
            echo(f"  {run_id}: {'; '.join(differences)}")
    else:
        echo(f"verification: all {len(records)} runs match (counts and checksums)")


def verify_registry(
    records: list[RegistryRecord], target: StoreSource, report: ImportReport, echo: Echo
) -> None:
    """Compare every registered model and its live versions as the target's API serves them."""
    found = {record.model.name: record for record in target.registered_models()}
    for record in records:
        name = record.model.name
        copy = found.get(name)
        if copy is None:
            report.differences[f"model {name}"] = ["missing in target"]
        elif registry_digest(record) != registry_digest(copy):
            report.differences[f"model {name}"] = [
                f"{registry_digest(record)} -> {registry_digest(copy)}"
            ]
    if records:
        bad = sum(1 for key in report.differences if key.startswith("model "))
        echo(f"verification: {len(records) - bad} of {len(records)} registered models match")
