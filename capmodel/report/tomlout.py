"""A small TOML writer for spec dicts (tomllib reads TOML but does not write it)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k, ensure_ascii=False)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v if x is not None) + "]"
    if isinstance(v, dict):
        return (
            "{"
            + ", ".join(f"{_key(str(k))} = {_value(x)}" for k, x in v.items() if x is not None)
            + "}"
        )
    return json.dumps(str(v), ensure_ascii=False)


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list | tuple) and bool(v) and all(isinstance(x, dict) for x in v)


def dumps(d: dict[str, Any], _path: tuple[str, ...] = ()) -> str:
    """TOML text of a dict of plain values (None values are left out)."""
    lines: list[str] = []
    nested: list[tuple[str, Any]] = []
    for k, v in d.items():
        if v is None:
            continue
        if isinstance(v, dict) or _is_table_array(v):
            nested.append((str(k), v))
        else:
            lines.append(f"{_key(str(k))} = {_value(v)}")
    for k, v in nested:
        path = (*_path, k)
        name = ".".join(_key(p) for p in path)
        if isinstance(v, dict):
            lines += ["", f"[{name}]", dumps(v, path).strip("\n")]
        else:
            for item in v:
                lines += ["", f"[[{name}]]", dumps(item, path).strip("\n")]
    return "\n".join(x for x in lines) + ("\n" if not _path else "")
