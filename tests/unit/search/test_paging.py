"""Page tokens: MLflow-compatible offset tokens and keyset tokens."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from runyard.errors import InvalidParameterValue
from runyard.search import decode_offset_token, decode_token, encode_offset_token, encode_token


def test_offset_token_is_mlflows_format():
    assert encode_offset_token(1) == "eyJvZmZzZXQiOiAxfQ=="
    assert base64.b64decode(encode_offset_token(25000)) == b'{"offset": 25000}'


def test_decodes_mlflows_token():
    assert decode_offset_token("eyJvZmZzZXQiOiAxfQ==") == 1


@pytest.mark.parametrize("token", [None, ""])
def test_no_token_is_offset_zero(token):
    assert decode_offset_token(token) == 0


@given(st.integers(min_value=1, max_value=2**53))
def test_offset_round_trip(offset):
    assert decode_offset_token(encode_offset_token(offset)) == offset


@pytest.mark.parametrize("offset", [0, -1, True, 1.5, "3"])
def test_encode_offset_refuses_non_positive_or_non_int(offset):
    with pytest.raises(ValueError):
        encode_offset_token(offset)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("garbage", "Invalid page token, could not base64-decode"),
        ("abc!", "Invalid page token, could not base64-decode"),
        ("é", "Invalid page token, could not base64-decode"),
        (_b64(b"not json"), "Invalid page token, decoded value=b'not json'"),
        (_b64(b"\xff\xfe"), "Invalid page token, decoded value=b'\\xff\\xfe'"),
        (_b64(b'{"offset": 0}'), "Invalid page token, parsed value={'offset': 0}"),
        (_b64(b'{"other": 1}'), "Invalid page token, parsed value={'other': 1}"),
        (_b64(b'{"offset": -5}'), "Invalid page token, parsed value={'offset': -5}"),
        (_b64(b'{"offset": 1.5}'), "Invalid page token, parsed value={'offset': 1.5}"),
        (_b64(b'{"offset": true}'), "Invalid page token, parsed value={'offset': True}"),
        (_b64(b'{"offset": "x"}'), "Invalid page token, parsed value={'offset': 'x'}"),
        (_b64(b"[1, 2]"), "Invalid page token, parsed value=[1, 2]"),
    ],
)
def test_bad_offset_tokens(token, message):
    with pytest.raises(InvalidParameterValue) as info:
        decode_offset_token(token)
    assert info.value.message == message
    assert info.value.http_status == 400


def test_offset_as_digit_string_is_accepted():
    assert decode_offset_token(_b64(b'{"offset": "7"}')) == 7


payloads = st.dictionaries(
    st.text(max_size=10),
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        st.lists(st.integers(), max_size=3),
    ),
    max_size=5,
)


@given(payloads)
def test_keyset_token_round_trip_and_url_safe(payload):
    token = encode_token(payload)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_token(token) == payload


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "Invalid page token, could not base64-decode"),
        ("a+b/", "Invalid page token, could not base64-decode"),
        ("abcde", "Invalid page token, could not base64-decode"),
        ("eyJ9==", "Invalid page token, could not base64-decode"),
        (
            base64.urlsafe_b64encode(b"nope").decode().rstrip("="),
            "Invalid page token, decoded value=b'nope'",
        ),
        (
            base64.urlsafe_b64encode(b"[1]").decode().rstrip("="),
            "Invalid page token, parsed value=[1]",
        ),
    ],
)
def test_bad_keyset_tokens(token, message):
    with pytest.raises(InvalidParameterValue) as info:
        decode_token(token)
    assert info.value.message == message


def test_keyset_token_refuses_non_dict_and_non_finite_payloads():
    with pytest.raises(TypeError):
        encode_token([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        encode_token({"x": float("nan")})


def test_keyset_token_is_compact_json():
    token = encode_token({"b": 1, "a": "x"})
    padded = token + "=" * (-len(token) % 4)
    assert json.loads(base64.urlsafe_b64decode(padded)) == {"a": "x", "b": 1}
