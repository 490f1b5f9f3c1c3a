"""``parse_mlmodel``: an untrusted MLmodel file read safely, every field optional."""

from __future__ import annotations

from runyard.registry.mlmodel import parse_mlmodel


def test_flavors_signature_and_metadata() -> None:
    parsed = parse_mlmodel(
        "flavors:\n  sklearn: {}\n  python_function: {}\nrun_id: r1\nsignature:\n"
        '  inputs: \'[{"name": "age", "type": "double", "required": true}]\'\n'
    )
    assert parsed["flavors"] == ["python_function", "sklearn"]
    assert parsed["inputs"] == [{"name": "age", "type": "double", "detail": '{"required": true}'}]
    assert parsed["outputs"] == [] and parsed["meta"] == {"run_id": "r1"}


def test_hostile_or_malformed_files_give_an_error_not_an_exception() -> None:
    assert "error" in parse_mlmodel("!!python/object/apply:os.system ['echo pwned']")
    assert "error" in parse_mlmodel("flavors: [unclosed")
    assert parse_mlmodel("- a list") == {"error": "MLmodel is not a mapping"}
    odd = parse_mlmodel("flavors: 3\nsignature:\n  inputs: 'not json'\n  outputs: 5\n")
    assert (odd["flavors"], odd["inputs"], odd["outputs"]) == ([], [], [])
