"""Names of images logged per step: written as MLflow writes them, read in every MLflow form."""

from __future__ import annotations

import pytest
from runyard.errors import InvalidParameterValue
from runyard.images import image_paths, parse_image_names, validate_image_key

UUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def test_paths_follow_mlflow_s_layout() -> None:
    full, small = image_paths("val/samples", 7, 1700000000000)
    assert full.startswith("images/val~samples+step+7+timestamp+1700000000000+")
    assert full.endswith(".png") and small == full[: -len(".png")] + "+compressed.webp"


def test_parse_reads_current_and_older_names() -> None:
    names = [
        f"a~b+step+2+timestamp+5+{UUID}.png",
        f"a~b+step+2+timestamp+5+{UUID}+compressed.webp",
        f"old#key%step%1%timestamp%3%{UUID[:-1]}1.png",
        "notes.txt",
        f"a~b+step+x+timestamp+5+{UUID}.png",
    ]
    parsed = parse_image_names(names)
    assert list(parsed) == ["a/b", "old/key"]
    (image,) = parsed["a/b"]
    assert (image.step, image.timestamp) == (2, 5)
    assert image.compressed == f"images/a~b+step+2+timestamp+5+{UUID}+compressed.webp"
    assert parsed["old/key"][0].compressed is None


@pytest.mark.parametrize("key", ["", "a:b", "a+b", "x\n"])
def test_bad_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidParameterValue):
        validate_image_key(key)
