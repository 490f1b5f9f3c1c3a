"""Where a model version's files may live: inside the artifact location of its run or of its
logged model, and nowhere else.

A version's ``source`` is chosen by the client, and the server later reads files from it (for
``get-artifact`` and downloads), so it is a way to make the server read any path it can reach
(MLflow's advisories: ``file:///etc``, ``..`` hidden in percent-encoding, ``file://host/...``).
The rule lives in ONE function, ``check_version_source``, on the project's one canonicaliser
(``runyard.locations``): source and root are each decoded once and brought to canonical form,
then the source must be the root or below it, compared resolved (symlinks followed for local
paths). Everything else is refused with ``INVALID_PARAMETER_VALUE`` (400): deny by default.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from runyard.errors import InvalidParameterValue, ResourceDoesNotExist
from runyard.locations import parse_location, shown
from runyard.protocol import missing_message
from runyard.validation import validate_model_id

#: A logged model's id, as in ``models:/<id>``.
LOGGED_MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")


def _refuse(source: str, why: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Invalid model version source: {shown(source)!r}. {why}")


def check_version_source(source: str, artifact_root: str) -> str:
    """The canonical form of ``source`` if it is ``artifact_root`` or lies below it; else 400.
    It is written as the root is (a plain path under a plain path), so a version's location
    reads like its run's.

    A root that is not canonical itself (an experiment location crafted to escape), or that is
    a whole file system or bucket, admits nothing. ``file://localhost/...`` is refused: the
    client's ``localhost`` is not the server's."""
    try:
        root = parse_location(artifact_root)
    except InvalidParameterValue as exc:
        why = f"The artifact location it must lie in is unsafe: {exc.message}"
        raise _refuse(source, why) from None
    if root.path == "/":
        raise _refuse(source, "The artifact location it must lie in is a whole disk or bucket.")
    try:
        location = parse_location(source, localhost=False)
    except InvalidParameterValue as exc:
        raise _refuse(source, f"Refused because: {exc.message}") from None
    if not root.contains(location):
        raise _refuse(
            source,
            "A model version source must lie inside the artifact location of the run given by "
            "run_id (or of the logged model given by model_id).",
        )
    return replace(location, plain=root.plain).written


@dataclass(frozen=True)
class ResolvedSource:
    """What a new version records: where its files are, and the run / logged model it came
    from."""

    storage_location: str
    run_id: str
    model_id: str | None


#: Lookups the resolver needs from the stores: a run's artifact URI; a logged model's (artifact
#: location, source run id); a registered version's (download URI, run id, logged model id).
#: Each raises ``ResourceDoesNotExist``.
RunArtifactUri = Callable[[str], str]
LoggedModelLocation = Callable[[str], tuple[str, str | None]]
RegisteredVersionLocation = Callable[[str, str], tuple[str, str, str | None]]


def resolve_version_source(
    source: object,
    run_id: str | None,
    model_id: str | None,
    run_artifact_uri: RunArtifactUri,
    logged_model_location: LoggedModelLocation,
    registered_version: RegisteredVersionLocation | None = None,
) -> ResolvedSource:
    """Check ``source`` against the run / logged model it claims, and say where its files are.

    ``runs:/<run_id>/<path>`` and ``models:/<model_id>`` name their owner, and
    ``models:/<name>/<version>`` (a copy of a registered version, MLflow's
    ``copy_model_version``) names a version whose location the store checks as it reads it;
    any other source must come with ``run_id`` or ``model_id`` and lie inside that owner's
    artifact location."""
    if not isinstance(source, str) or not source:
        raise InvalidParameterValue(missing_message("source"))
    if model_id:
        validate_model_id(model_id)
    run_id = run_id or ""
    if (run_reference := _source_reference(source, "runs")) is not None:
        source_run, rest = run_reference
        if run_id and run_id != source_run:
            raise _refuse(source, f"It names run {source_run!r}, not run_id {run_id!r}.")
        root = _lookup(source, lambda: run_artifact_uri(source_run))
        location = check_version_source(f"{root.rstrip('/')}/{rest}" if rest else root, root)
        return ResolvedSource(location, source_run, model_id)
    if (model_reference := _source_reference(source, "models")) is not None:
        source_model, rest = model_reference
        if rest.isdigit() and registered_version is not None:
            location, copied_run, copied_model = _lookup(
                source, lambda: registered_version(source_model, rest)
            )
            return ResolvedSource(
                check_version_source(location, location),
                run_id or copied_run,
                model_id or copied_model,
            )
        if rest or not LOGGED_MODEL_ID.match(source_model):
            raise _refuse(source, "Expected models:/<logged model id> or models:/<name>/<version>.")
        if model_id and model_id != source_model:
            raise _refuse(source, f"It names model {source_model!r}, not model_id {model_id!r}.")
        root, model_run = _lookup(source, lambda: logged_model_location(source_model))
        return ResolvedSource(
            check_version_source(root, root), run_id or model_run or "", source_model
        )
    roots: list[str] = []
    if run_id:
        roots.append(_lookup(source, lambda: run_artifact_uri(run_id)))
    if model_id:
        root, model_run = _lookup(source, lambda: logged_model_location(model_id))
        roots.append(root)
        run_id = run_id or model_run or ""
    if not roots:
        raise _refuse(
            source,
            "A run_id or model_id is required, and the source must lie inside its artifact "
            "location.",
        )
    refusal: InvalidParameterValue | None = None
    for root in roots:
        try:
            return ResolvedSource(check_version_source(source, root), run_id, model_id)
        except InvalidParameterValue as exc:
            refusal = refusal or exc
    assert refusal is not None
    raise refusal


#: Kinds of owner a ``runs:/`` or ``models:/`` source can name.
OWNER_RUN = "run"
OWNER_LOGGED_MODEL = "logged_model"
OWNER_REGISTERED_MODEL = "registered_model"


@dataclass(frozen=True)
class SourceOwner:
    """The run, logged model or registered model (by name) a source reference names."""

    kind: str
    id: str


def source_owner(source: object) -> SourceOwner | None:
    """What ``source`` names, read as ``resolve_version_source`` reads it, so a permission check
    can ask about the owner the version will come from; None for a plain location, or for a
    reference the resolver refuses anyway."""
    if not isinstance(source, str):
        return None
    try:
        run_reference = split_reference(source, "runs")
        model_reference = split_reference(source, "models")
    except InvalidParameterValue:
        return None
    if run_reference is not None:
        return SourceOwner(OWNER_RUN, run_reference[0])
    if model_reference is None:
        return None
    owner, rest = model_reference
    if rest.isdigit():
        return SourceOwner(OWNER_REGISTERED_MODEL, owner)
    if not rest and LOGGED_MODEL_ID.match(owner):
        return SourceOwner(OWNER_LOGGED_MODEL, owner)
    return None


def split_reference(uri: str, scheme: str) -> tuple[str, str] | None:
    """``runs:/<id>/<rest>`` -> ``(id, rest)`` (the same for ``models:``), None for a URI of
    another scheme; 400 for an authority (``runs://host/...``) or a missing id."""
    if uri.partition(":")[0].lower() != scheme:
        return None
    body = uri[len(scheme) + 1 :]
    owner, _, rest = body[1:].partition("/")
    if not body.startswith("/") or body.startswith("//") or not owner:
        raise InvalidParameterValue(f"Invalid URI {shown(uri)!r}: expected {scheme}:/<id>/<path>.")
    return owner, rest


def logged_model_reference(uri: str) -> tuple[str, str] | None:
    """``models:/<logged model id>/<rest>`` -> ``(id, rest)``; None for any other URI (such
    as ``models:/<name>/<version>``)."""
    reference = split_reference(uri, "models")
    return reference if reference and LOGGED_MODEL_ID.match(reference[0]) else None


def _source_reference(source: str, scheme: str) -> tuple[str, str] | None:
    try:
        return split_reference(source, scheme)
    except InvalidParameterValue:
        raise _refuse(source, f"Expected {scheme}:/<id>/<path>.") from None


def _lookup(source: str, call: Callable):
    """A lookup of the source's owner; a missing run or model is the source's fault (400)."""
    try:
        return call()
    except ResourceDoesNotExist as exc:
        raise _refuse(source, f"Its run or logged model does not exist ({exc.message}).") from None
