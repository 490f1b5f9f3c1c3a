"""One canonical form for every artifact location and artifact path, computed once.

A location arrives as text (``file:///data/x``, ``/data/x``, ``s3://bucket/prefix``,
``mlflow-artifacts:/team``). ``parse_location`` turns it into a frozen ``Location``:

1. refuse what has no meaning in a location: a query (``?``), a fragment (``#``), path
   parameters (``;``), user info or a remote host on ``file:``, control characters, NUL,
   backslashes, text longer than ``MAX_LOCATION_LENGTH``;
2. percent-decode the path **exactly once** (strict UTF-8, so overlong encodings fail); what is
   still encoded after that (``%252e``) is a disguise and refused;
3. refuse ``.`` and ``..`` segments, also in look-alike forms (``%2e``, fullwidth dots), and
   collapse empty segments, so the value is already normal.

``canonical_location(raw, allowed_roots)`` then checks the decoded value against the roots; a
local path is compared after ``realpath`` (symlinks included). Stores and repositories receive
``Location.uri``, which decodes back to the same path, so nothing downstream re-parses raw text.

A new scheme (``sftp``, ``gs``) plugs in with ``register_scheme(name, SchemeRules(...))``.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

from runyard.errors import InvalidParameterValue, NameTooLong

#: Longest file or directory name, in UTF-8 bytes, that common file systems (ext4, XFS, APFS,
#: NTFS in characters) and S3 tools accept; longer ones are refused before anything is written.
MAX_NAME_BYTES = 255

#: Longest location accepted. Stores keep ``<location>/<run id>/artifacts`` in 2,000-character
#: columns, so the location leaves room for that suffix (and for logged models' longer one).
MAX_LOCATION_LENGTH = 1900

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+):")
_STILL_ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")
_DOT_SEGMENTS = (".", "..")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://)[^/@]*@")
_HOST = re.compile(r"[A-Za-z0-9._\-]*|\[[0-9A-Fa-f:.]+\]")
_USER = re.compile(r"[A-Za-z0-9._\-]+")

#: Schemes MLflow knows that runyard cannot test yet: a clear answer instead of a guess.
NOT_SUPPORTED_YET: dict[str, str] = {
    "wasbs": "Azure Blob Storage",
    "wasb": "Azure Blob Storage",
    "abfss": "Azure Data Lake Storage",
    "abfs": "Azure Data Lake Storage",
    "azure": "Azure Blob Storage",
    "hdfs": "HDFS",
    "viewfs": "HDFS",
}


@dataclass(frozen=True)
class SchemeRules:
    """What a location of one scheme may carry besides its path."""

    #: ``"none"``: no host (``file:`` also takes ``localhost``); ``"required"``: a bucket or
    #: host; ``"optional"``: either.
    authority: str = "none"
    #: ``user@`` in the authority (an SFTP or FTP login); never for ``file:`` or buckets. A
    #: password given with it (``user:pw@``) is kept in memory (``Location.password``), never
    #: in ``Location.uri``, so it is never stored or shown.
    userinfo: bool = False
    #: A path on this machine: compared after ``realpath`` and served by the local repository.
    local: bool = False


_RULES: dict[str, SchemeRules] = {
    "file": SchemeRules(authority="none", local=True),
    "s3": SchemeRules(authority="required"),
    "mlflow-artifacts": SchemeRules(authority="optional"),
    "runyard-artifacts": SchemeRules(authority="optional"),
}


def register_scheme(scheme: str, rules: SchemeRules) -> None:
    """Teach the canonicaliser a new artifact scheme (one line per backend)."""
    _RULES[scheme.lower()] = rules


@dataclass(frozen=True)
class Location:
    """A parsed, decoded, normalised location. ``path`` is absolute (``/a/b``, ``/`` for the
    root) and decoded; ``uri`` is the one text form stores keep."""

    scheme: str
    authority: str
    path: str
    #: Written as a plain local path (no ``file:``); kept so ``written`` reads back as given.
    plain: bool = field(default=False, compare=False)
    #: The password of a ``user:pw@`` login, for the process it was given to only.
    password: str | None = field(default=None, repr=False, compare=False)

    @property
    def rules(self) -> SchemeRules:
        return _RULES[self.scheme]

    @property
    def uri(self) -> str:
        encoded = quote(self.path, safe="/")
        if self.rules.local:
            return f"file://{encoded}"
        if self.authority:
            return f"{self.scheme}://{self.authority}{'' if encoded == '/' else encoded}"
        return f"{self.scheme}:{encoded}"

    @property
    def written(self) -> str:
        """The canonical form in the style it was written: the path for a plain local path,
        else ``uri``. For values stores keep beside one written that way (a run's location)."""
        return self.path if self.plain else self.uri

    @property
    def resolved_path(self) -> str:
        """What the path names on disk (symlinks followed); for other schemes, the path."""
        return os.path.realpath(self.path) if self.rules.local else self.path

    def contains(self, other: Location) -> bool:
        """Whether ``other`` is this location or lies below it, compared resolved."""
        if (other.scheme, other.authority) != (self.scheme, self.authority):
            return False
        mine, theirs = self.resolved_path, other.resolved_path
        return mine == "/" or theirs == mine or theirs.startswith(mine.rstrip("/") + "/")

    def __str__(self) -> str:
        return self.uri


def shown(raw: str) -> str:
    """``raw`` as it may appear in an error or a log: user info masked, at most 200 characters."""
    masked = _USERINFO.sub(r"\1***@", raw)
    return masked if len(masked) <= 200 else masked[:200] + "…"


def _refuse(raw: str, why: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Invalid artifact location {shown(raw)!r}: {why}.")


def _check_text(raw: object) -> str:
    if not isinstance(raw, str) or not raw:
        raise InvalidParameterValue(f"Invalid artifact location {raw!r}: it must be a string.")
    if len(raw) > MAX_LOCATION_LENGTH:
        raise _refuse(raw, f"longer than {MAX_LOCATION_LENGTH} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        raise _refuse(raw, "control characters are not allowed")
    if "\\" in raw:
        raise _refuse(raw, "backslashes are not allowed")
    return raw


def _clean_segments(raw: str, path: str) -> list[str]:
    """Decoded path segments without empty ones; dot segments and look-alikes refused."""
    segments = []
    for segment in path.split("/"):
        if not segment:
            continue
        folded = unicodedata.normalize("NFKC", segment)
        if folded in _DOT_SEGMENTS or segment in _DOT_SEGMENTS:
            raise _refuse(raw, "'.' and '..' segments are not allowed")
        if "/" in folded or "\\" in folded:
            raise _refuse(raw, "look-alike path separators are not allowed")
        segments.append(segment)
    return segments


def _decode_once(raw: str, path: str) -> str:
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError:
        raise _refuse(raw, "its percent-encoding is not valid UTF-8") from None
    if _STILL_ENCODED.search(decoded):
        raise _refuse(raw, "it is percent-encoded more than once")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in decoded) or "\\" in decoded:
        raise _refuse(raw, "it encodes control characters or backslashes")
    return decoded


def _plain_path(raw: str) -> Location:
    """A local path written without a scheme: made absolute and normalised, never decoded."""
    if _STILL_ENCODED.search(raw):
        raise _refuse(raw, "a plain path cannot be percent-encoded")
    path = os.path.abspath(os.path.expanduser(raw))
    _clean_segments(raw, path)
    return _fits(raw, Location("file", "", path, plain=True))


def parse_location(raw: str, *, localhost: bool = True) -> Location:
    """``raw`` in canonical form, or ``InvalidParameterValue`` saying what is wrong.
    Checks form only; ``canonical_location`` also checks where it points. With
    ``localhost=False``, ``file://localhost/...`` is refused too: for text a remote client
    chose, whose ``localhost`` is not this machine."""
    _check_text(raw)
    match = _SCHEME.match(raw)
    if match is None:
        return _plain_path(raw)
    scheme = match.group(1).lower()
    rules = _RULES.get(scheme)
    if rules is None and scheme in NOT_SUPPORTED_YET:
        raise _refuse(
            raw,
            f"{NOT_SUPPORTED_YET[scheme]} ({scheme}://) artifact locations are not supported "
            f"yet; use one of {sorted(_RULES)}",
        )
    if rules is None:
        raise _refuse(raw, f"scheme {scheme!r} is not one of {sorted(_RULES)}")
    for mark, what in (("?", "a query"), ("#", "a fragment"), (";", "parameters")):
        if mark in raw:
            raise _refuse(raw, f"{what} ({mark}) has no meaning in a location")
    parts = urlsplit(raw)
    authority, password = _login(raw, parts.netloc, rules)
    if rules.local and authority.lower() not in ("", "localhost"):
        raise _refuse(raw, "a file: location cannot name another host")
    if rules.local and authority and not localhost:
        raise _refuse(raw, "it must name no host, not even localhost")
    if rules.local:
        authority = ""
    if rules.authority == "none" and authority:
        raise _refuse(raw, f"a {scheme}: location names no host")
    if rules.authority == "required" and not authority:
        raise _refuse(raw, f"a {scheme}: location needs a bucket or host")
    decoded = _decode_once(raw, parts.path)
    if rules.local and not decoded.startswith("/"):
        decoded = os.path.abspath(decoded or ".")  # file:relative/path, relative to here
    segments = _clean_segments(raw, decoded)
    return _fits(raw, Location(scheme, authority, "/" + "/".join(segments), password=password))


def _login(raw: str, netloc: str, rules: SchemeRules) -> tuple[str, str | None]:
    """The authority as stored (``user@host:port``, never a password) and the password given,
    if any; a host, port or user name with characters it cannot have is refused."""
    userinfo, at, host = netloc.rpartition("@")
    if at and not rules.userinfo:
        raise _refuse(raw, "user information is not allowed")
    name, colon, port = host.rpartition(":") if not host.endswith("]") else ("", "", host)
    if not colon:
        name = host
    if not _HOST.fullmatch(name):
        raise _refuse(raw, "the host or bucket name has characters it cannot have")
    if colon and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise _refuse(raw, "Invalid port: it must be a number from 1 to 65535")
    if not at:
        return host, None
    user, colon, secret = userinfo.partition(":")
    try:
        user, password = unquote(user, errors="strict"), unquote(secret, errors="strict")
    except UnicodeDecodeError:
        raise _refuse(raw, "its user information is not valid UTF-8") from None
    if user and not _USER.fullmatch(user):
        raise _refuse(raw, "the user name has characters it cannot have")
    return (f"{user}@{host}" if user else host), (password if colon else None)


def _fits(raw: str, location: Location) -> Location:
    """Encoding can lengthen a location; what is stored must still fit."""
    if len(location.uri) > MAX_LOCATION_LENGTH:
        raise _refuse(raw, f"longer than {MAX_LOCATION_LENGTH} characters once encoded")
    return location


def parse_roots(patterns: Iterable[str]) -> tuple[Location, ...]:
    """Roots from setting values like ``s3://team-bucket/*`` or ``file:/data/shared``: a
    trailing ``*`` means "and everything below", which every root means anyway."""
    roots = []
    for pattern in patterns:
        text = pattern.strip()
        if text.endswith("*"):
            text = text[:-1] or "/"
        if "*" in text:
            raise InvalidParameterValue(
                f"Allowed artifact location {pattern!r}: only a trailing '*' is supported."
            )
        if text:
            roots.append(parse_location(text))
    return tuple(roots)


def canonical_location(raw: str, allowed_roots: Iterable[Location | str]) -> Location:
    """``raw`` in canonical form, if it lies under one of ``allowed_roots`` once decoded and
    resolved; otherwise ``InvalidParameterValue`` naming the roots allowed."""
    location = parse_location(raw)
    roots = [r if isinstance(r, Location) else parse_location(r) for r in allowed_roots]
    if any(root.contains(location) for root in roots):
        return location
    names = sorted({root.uri for root in roots})
    raise InvalidParameterValue(
        f"artifact_location {shown(raw)!r} is not allowed on this server; use a location under "
        f"one of {names or ['the default artifact root']} or omit it."
    )


def canonical_artifact_path(raw: str | None) -> str:
    """A path relative to an artifact root, as a client sent it (already URL-decoded once by
    HTTP), in canonical form: "" for the root, else ``a/b/c``. Refuses what could only be a
    disguise: ``#``, ``?``, what is still percent-encoded, dot look-alikes, plus everything
    ``safe_relative_path`` refuses (``..``, absolute paths, backslashes, control characters)."""
    from runyard.validation import safe_relative_path

    if raw is None or raw == "":
        return ""
    if not isinstance(raw, str):
        raise InvalidParameterValue(f"Invalid path: {raw!r}")
    if "#" in raw or "?" in raw or _STILL_ENCODED.search(raw):
        raise InvalidParameterValue(f"Invalid path: {raw[:200]!r}")
    rel = safe_relative_path(raw)
    for segment in rel.split("/") if rel else ():
        folded = unicodedata.normalize("NFKC", segment)
        if folded in _DOT_SEGMENTS or "/" in folded or "\\" in folded:
            raise InvalidParameterValue(f"Invalid path: {raw[:200]!r}")
        check_name_fits(segment, "Invalid path")
    return rel


def check_name_fits(name: str, what: str) -> str:
    """``name`` if a file system can hold it as one file or directory name, else
    ``NameTooLong`` (400) starting with ``what``: refused before anything is written."""
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise NameTooLong(
            f"{what}: the name {name[:40]!r}… is {size} bytes, longer than the "
            f"{MAX_NAME_BYTES} a file system allows."
        )
    return name


__all__ = [
    "MAX_LOCATION_LENGTH",
    "MAX_NAME_BYTES",
    "NOT_SUPPORTED_YET",
    "Location",
    "SchemeRules",
    "canonical_artifact_path",
    "canonical_location",
    "check_name_fits",
    "parse_location",
    "parse_roots",
    "register_scheme",
    "shown",
]
