"""``wire_json`` reads and writes what the standard library does, whichever parser answers."""

from __future__ import annotations

import json
import math

import pytest
from runyard import wire_json

READ_BY_BOTH = [
    b'{"a": 1, "b": [1.5, -0.0, 1e300, "x"], "c": null, "d": true}',
    '{"name": "é ☃ \\u00e9", "emoji": "\\ud83d\\ude00"}'.encode(),
    b'{"dup": 1, "dup": 2}',
    b"[]",
]
#: What orjson refuses and the standard library reads: these must still be read the same.
READ_BY_STDLIB_ONLY = [
    b'{"value": NaN, "big": Infinity, "small": -Infinity}',
    b'{"lone": "\\ud800"}',
    '{"text": "é"}'.encode("utf-16"),
    b'\xef\xbb\xbf{"bom": 1}',
]


@pytest.mark.parametrize("raw", READ_BY_BOTH + READ_BY_STDLIB_ONLY)
def test_reads_what_the_standard_library_reads(raw: bytes) -> None:
    got, expected = wire_json.loads(raw), json.loads(raw)
    assert json.dumps(got) == json.dumps(expected)  # NaN == NaN only as text


def test_an_integer_past_64_bits_reads_as_a_float_the_schema_refuses() -> None:
    """orjson's one answer that differs: the request schema refuses such a float for every
    integer field (tests/server/test_field_types.py), where it refused the integer before."""
    assert wire_json.loads(b"[18446744073709551615, -9223372036854775808]") == [2**64 - 1, -(2**63)]
    assert wire_json.loads(b"[123456789012345678901234567890]") == [1.2345678901234568e29]


@pytest.mark.parametrize("raw", [b"{", b'{"a": }', b"\xff\xfe\xfa", b"[1,]", b"nope"])
def test_refuses_what_the_standard_library_refuses(raw: bytes) -> None:
    with pytest.raises(ValueError):
        json.loads(raw)
    with pytest.raises(ValueError):
        wire_json.loads(raw)


def test_deep_nesting_is_still_a_recursion_error() -> None:
    raw = b"[" * 200_000
    with pytest.raises(RecursionError):
        wire_json.loads(raw)


def test_writes_compact_json_in_insertion_order() -> None:
    body = {"z": 1, "a": [math.pi, -0.0, 1e16, "é"], "m": None, "t": True}
    text = wire_json.dumps(body)
    assert isinstance(text, bytes)
    assert text.decode("utf-8").startswith('{"z":1,"a":[')
    assert b" " not in text
    assert json.loads(text) == body


def test_writes_what_orjson_cannot_through_the_standard_library() -> None:
    body = {"step": 2**80, 3: "integer key"}
    assert json.loads(wire_json.dumps(body)) == {"step": 2**80, "3": "integer key"}
