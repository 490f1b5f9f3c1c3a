"""``validate_key`` remembers keys it proved valid; a remembered key must never let an invalid
key through, and the memory stays bounded."""

from __future__ import annotations

import pytest
from runyard import validation
from runyard.errors import InvalidParameterValue


@pytest.mark.parametrize("bad", ["", "a/../b", "/abs", "x" * 251, "a\\b", "..", "a//b", "./a"])
def test_invalid_keys_stay_invalid_after_valid_ones_were_seen(bad: str) -> None:
    for good in ("loss", "a/b", "acc:top-1", "x" * 250):
        assert validation.validate_key(good) == good
        assert validation.validate_key(good) == good
    for _ in range(2):
        with pytest.raises(InvalidParameterValue):
            validation.validate_key(bad)


def test_error_names_the_field_even_for_a_key_seen_in_another_role() -> None:
    validation.validate_key("seen", "name")
    with pytest.raises(InvalidParameterValue, match="'name'"):
        validation.validate_key("", "name")
    with pytest.raises(InvalidParameterValue, match="parameter 'key'"):
        validation.validate_key(None, "key")


def test_memory_is_bounded() -> None:
    for i in range(validation._VALID_KEYS_MAX + 50):
        validation.validate_key(f"k{i}")
    assert len(validation._VALID_KEYS) <= validation._VALID_KEYS_MAX


def test_a_str_subclass_is_checked_every_time() -> None:
    class Sneaky(str):
        pass

    validation.validate_key(Sneaky("fine"))
    assert not any(type(k) is not str for k in validation._VALID_KEYS)
