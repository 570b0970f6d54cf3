"""Mapping files: ``extends`` a preset, and a mapping written back as TOML."""

import json
from collections.abc import Mapping
from typing import Any

from oppcore._errors import ConfigError

__all__ = ["extended", "toml_text"]


def extended(data: Mapping[str, Any], source: str) -> dict[str, Any]:
    """A mapping that ``extends`` a preset: the preset's entries, then the file's."""
    from ._presets import PRESET_NAMES, preset_data  # presets are built from mappings

    name = data["extends"]
    base = preset_data(name) if isinstance(name, str) else None
    if base is None:
        message = f"unknown preset {name!r}; known: {', '.join(PRESET_NAMES)}"
        raise ConfigError([("extends", message)], source=source)
    base.update((k, v) for k, v in data.items() if k != "extends")
    return base


def _toml_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_toml_value(k)} = {_toml_value(v)}"
                                for k, v in value.items()) + " }"
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def toml_text(data: Mapping[str, Any]) -> str:
    plain, tables = [], []
    for key, value in data.items():
        if value is None or value in ((), [], {}):
            continue
        if key == "references":
            for ref in value:
                rows = [f"{k} = {_toml_value(v)}" for k, v in ref.items() if v is not None]
                tables.append(f"\n[[{key}]]\n" + "\n".join(rows))
        elif isinstance(value, Mapping):
            rows = [f"{_toml_value(k)} = {_toml_value(v)}" for k, v in value.items()]
            tables.append(f"\n[{key}]\n" + "\n".join(rows))
        else:
            plain.append(f"{key} = {_toml_value(value)}")
    return "\n".join(plain) + "\n" + "\n".join(tables) + ("\n" if tables else "")
