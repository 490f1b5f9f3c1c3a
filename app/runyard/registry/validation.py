"""Checks on registry names, versions, tags, aliases and stages, run before anything is
written. Limits and messages are MLflow's (clients match on the messages)."""

from __future__ import annotations

import re

from runyard.errors import InvalidParameterValue
from runyard.protocol import missing_message
from runyard.registry.entities import STAGES
from runyard.validation import validate_key

MAX_MODEL_NAME_LENGTH = 256
MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 100_000
MAX_ALIAS_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 65_535
SEARCH_MODELS_DEFAULT = 100
SEARCH_MODELS_MAX = 1_000
SEARCH_VERSIONS_DEFAULT = 10_000
SEARCH_VERSIONS_MAX = 200_000

_ALIAS = re.compile(r"^[\w\-]*$")
_VERSION_ALIAS = re.compile(r"^[vV]\d+$")
#: Characters a name may not hold: MLflow's ``/`` and ``:``, plus what would make the name a
#: different path in the file store (``%``, backslash, control characters).
_BAD_NAME_CHARS = re.compile(r"[/:%\\\x00-\x1f\x7f]")
_STAGES_BY_LOWER = {stage.lower(): stage for stage in STAGES}


def validate_model_name(name: object, field: str = "name") -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameterValue(missing_message(field))
    if _BAD_NAME_CHARS.search(name):
        raise InvalidParameterValue(
            f"Invalid model name '{name}'. Names cannot contain '/' or ':' (nor '%', '\\' or "
            "control characters)."
        )
    if name in (".", "..") or name != name.strip():
        raise InvalidParameterValue(
            f"Invalid model name '{name}'. Names cannot be '.' or '..' or start or end with "
            "white space."
        )
    if len(name) > MAX_MODEL_NAME_LENGTH:
        raise InvalidParameterValue(
            f"Invalid model name: longer than {MAX_MODEL_NAME_LENGTH} characters."
        )
    return name


def validate_version(version: object) -> int:
    """A version number (``"3"`` or ``3``) as an int ≥ 1."""
    text = str(version).strip() if isinstance(version, (str, int)) else None
    if isinstance(version, bool) or text is None or not text.isdigit() or int(text) < 1:
        raise InvalidParameterValue(f"Parameter 'version' must be an integer, got '{version}'.")
    return int(text)


def validate_tag(key: object, value: object) -> tuple[str, str]:
    """A registry tag: a run tag's key rules, MLflow's registry value limit."""
    key = validate_key(key, "key")
    if value is None:
        raise InvalidParameterValue("Tag value cannot be None")
    text = str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise InvalidParameterValue(
            f"Tag value for key '{key}' is {len(text)} characters long; the limit is "
            f"{MAX_TAG_VALUE_LENGTH}."
        )
    return key, text


def validate_alias(alias: object) -> str:
    if not isinstance(alias, str) or alias == "":
        raise InvalidParameterValue("Registered model alias name cannot be empty.")
    if not _ALIAS.match(alias):
        raise InvalidParameterValue(
            f"Invalid alias name: '{alias}'. Names may only contain alphanumerics, underscores "
            "(_), and dashes (-)."
        )
    if len(alias) > MAX_ALIAS_LENGTH:
        raise InvalidParameterValue(
            f"Registered model alias name exceeds the maximum length of {MAX_ALIAS_LENGTH}"
        )
    return alias


def validate_new_alias(alias: object) -> str:
    """An alias being set: also not ``latest`` nor a version alias such as ``v3``."""
    alias = validate_alias(alias)
    if alias.lower() == "latest":
        raise InvalidParameterValue("'latest' alias name (case insensitive) is reserved.")
    if _VERSION_ALIAS.match(alias):
        raise InvalidParameterValue(f"Version alias name '{alias}' is reserved.")
    return alias


def canonical_stage(stage: object) -> str:
    """``staging`` -> ``Staging``; anything not a stage is MLflow's 400."""
    found = _STAGES_BY_LOWER.get(stage.lower()) if isinstance(stage, str) else None
    if found is None:
        raise InvalidParameterValue(
            f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(STAGES)}."
        )
    return found


def validate_description(description: object) -> str:
    text = "" if description is None else str(description)
    if len(text) > MAX_DESCRIPTION_LENGTH:
        raise InvalidParameterValue(
            f"Description is {len(text)} characters long; the limit is {MAX_DESCRIPTION_LENGTH}."
        )
    return text
