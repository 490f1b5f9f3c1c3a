"""Page tokens: MLflow's offset tokens, and generic tokens for keyset pagination.

Offset tokens are ``base64(json.dumps({"offset": N}))`` exactly as MLflow writes them, so a
client can carry a token across servers of either kind. Keyset tokens carry any small JSON
object (e.g. the sort values of the last row) in URL-safe base64 without padding.
Both decoders reject anything they did not make with ``InvalidParameterValue`` (HTTP 400).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from runyard.errors import InvalidParameterValue

__all__ = [
    "decode_offset_payload",
    "decode_offset_token",
    "decode_token",
    "encode_offset_token",
    "encode_token",
]

_NOT_BASE64 = "Invalid page token, could not base64-decode"


def encode_offset_token(offset: int, after: list[Any] | None = None) -> str:
    """The token for the page starting at row ``offset`` (≥ 1; the first page has no token).

    ``after``, the sort values of the last row shown, lets a store that can seek read the next
    page from an index instead of skipping ``offset`` rows; any server, MLflow's included,
    still reads the offset."""
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 1:
        raise ValueError(f"an offset page token needs a positive integer offset, got {offset!r}")
    payload: dict[str, Any] = {"offset": offset}
    if after is not None:
        payload["after"] = after
    return base64.b64encode(json.dumps(payload).encode("utf-8")).decode("ascii")


def decode_offset_token(token: str | None) -> int:
    """The row offset in ``token``; 0 when there is no token (None or empty)."""
    return decode_offset_payload(token)[0]


def decode_offset_payload(token: str | None) -> tuple[int, Any]:
    """The row offset in ``token`` and the ``after`` values it carries (None when it carries
    none); (0, None) when there is no token."""
    if not token:
        return 0, None
    try:
        decoded = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidParameterValue(_NOT_BASE64) from exc
    try:
        parsed = json.loads(decoded)
    except ValueError as exc:
        raise InvalidParameterValue(f"Invalid page token, decoded value={decoded!r}") from exc
    offset = parsed.get("offset") if isinstance(parsed, dict) else None
    if isinstance(offset, str) and offset.isdigit():
        offset = int(offset)
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 1:
        raise InvalidParameterValue(f"Invalid page token, parsed value={parsed}")
    return offset, parsed.get("after")


def encode_token(payload: dict[str, Any]) -> str:
    """An opaque URL-safe token for a JSON-serialisable ``payload`` object."""
    if not isinstance(payload, dict):
        raise TypeError(f"a page token payload must be a dict, got {type(payload).__name__}")
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True, allow_nan=False)
    return base64.urlsafe_b64encode(text.encode("utf-8")).rstrip(b"=").decode("ascii")


def decode_token(token: str) -> dict[str, Any]:
    """The payload of a token made by ``encode_token``."""
    if not isinstance(token, str) or not token:
        raise InvalidParameterValue(_NOT_BASE64)
    alphabet_ok = all(c.isascii() and (c.isalnum() or c in "-_") for c in token)
    try:
        if not alphabet_ok or len(token) % 4 == 1:
            raise ValueError(token)
        decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidParameterValue(_NOT_BASE64) from exc
    try:
        parsed = json.loads(decoded.decode("utf-8"))
    except ValueError as exc:
        raise InvalidParameterValue(f"Invalid page token, decoded value={decoded!r}") from exc
    if not isinstance(parsed, dict):
        raise InvalidParameterValue(f"Invalid page token, parsed value={parsed}")
    return parsed
