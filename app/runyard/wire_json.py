"""JSON of request and reply bodies: orjson where it gives the standard library's answer, the
standard library where orjson refuses.

Large bodies are where the server's time goes: a search page of 1,000 runs is 1.5 MB of JSON,
which the standard library wrote in 29 ms and orjson in 3.7 ms, and a ``log-batch`` of 1,000
points parsed in 1.0 ms against 0.29 ms. orjson is stricter than the standard library: no
``NaN`` or ``Infinity`` literals, no lone surrogates, no nesting past 1,024 levels, UTF-8 only.
A body it refuses goes to the standard library, so what is accepted, and how the rest is
refused, stays as it was. One answer differs: an integer literal beyond 64 bits reads as a
float, which the request schema refuses for every integer field (``wire_types``), as it
refused the integer.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(raw: bytes | str) -> Any:
    """``json.loads``, faster for the bodies orjson reads."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def dumps(body: Any) -> bytes:
    """Compact JSON, keys in insertion order.

    Floats must be finite: orjson writes NaN and the infinities as ``null``. The protocol never
    hands one over, as it writes them as MLflow's strings (``protocol.format_double``).
    """
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:  # an integer past 64 bits, a key that is not a string
        return json.dumps(body, separators=(",", ":")).encode()
