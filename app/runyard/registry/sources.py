"""Where a model version's files may live: inside the artifact location of its run or of its
logged model, and nowhere else.

A version's ``source`` is chosen by the client, and the server later reads files from it (for
``get-artifact`` and downloads), so it is a way to make the server read any path it can reach
(MLflow's advisories: ``file:///etc``, ``..`` hidden in percent-encoding, ``file://host/...``).
The rule lives in ONE function, ``check_version_source``: the source and the root are each
decoded once and brought to one canonical form, then the source must be the root or below it.
Everything else is refused with ``INVALID_PARAMETER_VALUE`` (400): deny by default.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from runyard.errors import InvalidParameterValue, ResourceDoesNotExist
from runyard.protocol import missing_message

_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_LOGGED_MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")


@dataclass(frozen=True)
class Location:
    """A location in canonical form: lower-case scheme and authority, path segments with no
    empty, ``.`` or ``..`` segment, nothing left to decode."""

    scheme: str
    authority: str
    parts: tuple[str, ...]
    #: Written as a plain local path (no ``file:``); kept so a location reads back as given.
    plain: bool = field(default=False, compare=False)

    def uri(self) -> str:
        if self.plain:
            return "/" + "/".join(self.parts)
        path = "/" + "/".join(urllib.parse.quote(p, safe="@!$&'()*+,;=:~-._") for p in self.parts)
        if self.scheme == "file" or self.authority:
            return f"{self.scheme}://{self.authority}{path}"
        return f"{self.scheme}:{path}"

    def contains(self, other: Location) -> bool:
        return (
            self.scheme == other.scheme
            and self.authority == other.authority
            and bool(self.parts)
            and other.parts[: len(self.parts)] == self.parts
        )


def _refuse(source: str, why: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Invalid model version source: '{source}'. {why}")


def canonical_location(uri: str) -> Location:
    """``uri`` decoded once and canonicalised; ``ValueError`` (with the reason) when it cannot be
    made canonical without guessing: a second layer of percent-encoding, control characters,
    backslashes, ``..`` segments, or a ``file:`` URI naming a host (even ``localhost``)."""
    if not isinstance(uri, str) or not uri:
        raise ValueError("it is empty")
    decoded = urllib.parse.unquote(uri, errors="strict")
    if _ESCAPE.search(decoded):
        raise ValueError("it is percent-encoded more than once")
    if any(ord(c) < 32 or ord(c) == 127 for c in decoded) or "\\" in decoded:
        raise ValueError("it contains control characters or backslashes")
    match = _SCHEME.match(decoded)
    plain = match is None or len(match.group(1)) == 1  # a plain path (or a drive letter)
    if plain:
        scheme, rest = "file", decoded
    else:
        scheme, rest = match.group(1).lower(), decoded[match.end() :]
    authority = ""
    if rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        authority, path = authority.lower(), slash + path
    else:
        path = rest
    if "?" in path or "#" in path:
        raise ValueError("it has a query or fragment")
    if scheme == "file" and authority:
        raise ValueError("a file location may not name a host")
    if scheme == "file" and not path.startswith("/"):
        raise ValueError("a local path must be absolute")
    segments = [s for s in path.split("/") if s not in ("", ".")]
    if ".." in segments:
        raise ValueError("it contains '..'")
    return Location(scheme, authority, tuple(segments), plain)


def check_version_source(source: str, artifact_root: str) -> str:
    """The canonical URI of ``source`` if it is ``artifact_root`` or lies below it; else 400.
    A root that is not canonical itself (an experiment location crafted to escape) admits
    nothing."""
    try:
        root = canonical_location(artifact_root)
    except ValueError as exc:
        raise _refuse(source, f"The artifact location it must lie in is unsafe: {exc}.") from None
    try:
        location = canonical_location(source)
    except ValueError as exc:
        raise _refuse(source, f"Refused because {exc}.") from None
    if not root.contains(location):
        raise _refuse(
            source,
            "A model version source must lie inside the artifact location of the run given by "
            "run_id (or of the logged model given by model_id).",
        )
    return replace(location, plain=root.plain).uri()


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
    ``copy_model_version``) names a version whose location was checked when it was created;
    any other source must come with ``run_id`` or ``model_id`` and lie inside that owner's
    artifact location."""
    if not isinstance(source, str) or not source:
        raise InvalidParameterValue(missing_message("source"))
    run_id = run_id or ""
    scheme = (_SCHEME.match(source) or ["", ""])[1].lower()
    if scheme == "runs":
        source_run, rest = _split_reference(source, "runs")
        if run_id and run_id != source_run:
            raise _refuse(source, f"It names run {source_run!r}, not run_id {run_id!r}.")
        root = _lookup(source, lambda: run_artifact_uri(source_run))
        location = check_version_source(f"{root.rstrip('/')}/{rest}" if rest else root, root)
        return ResolvedSource(location, source_run, model_id)
    if scheme == "models":
        source_model, rest = _split_reference(source, "models")
        if rest.isdigit() and registered_version is not None:
            location, copied_run, copied_model = _lookup(
                source, lambda: registered_version(source_model, rest)
            )
            return ResolvedSource(
                check_version_source(location, location),
                run_id or copied_run,
                model_id or copied_model,
            )
        if rest or not _LOGGED_MODEL_ID.match(source_model):
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
    scheme = (_SCHEME.match(source) or ["", ""])[1].lower()
    if scheme not in ("runs", "models"):
        return None
    try:
        owner, rest = _split_reference(source, scheme)
    except InvalidParameterValue:
        return None
    if scheme == "runs":
        return SourceOwner(OWNER_RUN, owner)
    if rest.isdigit():
        return SourceOwner(OWNER_REGISTERED_MODEL, owner)
    if not rest and _LOGGED_MODEL_ID.match(owner):
        return SourceOwner(OWNER_LOGGED_MODEL, owner)
    return None


def _split_reference(source: str, scheme: str) -> tuple[str, str]:
    """``runs:/<id>/<rest>`` -> (id, rest); no authority allowed (``runs://host/...``)."""
    body = source[len(scheme) + 1 :]
    if not body.startswith("/") or body.startswith("//"):
        raise _refuse(source, f"Expected {scheme}:/<id>/<path>.")
    owner, _, rest = body[1:].partition("/")
    if not owner:
        raise _refuse(source, f"Expected {scheme}:/<id>/<path>.")
    return owner, rest


def _lookup(source: str, call: Callable):
    """A lookup of the source's owner; a missing run or model is the source's fault (400)."""
    try:
        return call()
    except ResourceDoesNotExist as exc:
        raise _refuse(source, f"Its run or logged model does not exist ({exc.message}).") from None
