"""`--set KEY=VALUE` overrides of a scenario's highway-env config: parsed, then checked against the type of
the key they override before any worker starts (`vehicles_density=abc` is a user error, not a hang)."""

from __future__ import annotations

import json
from typing import Any

from e2edrive.core.errors import UserError


def parse_overrides(pairs: list[str] | None) -> dict[str, Any]:
    """`["vehicles_density=1.5", "lanes_count=3"]` → {"vehicles_density": 1.5, "lanes_count": 3}.

    Values are parsed as JSON when they can be (numbers, booleans, lists), else kept as strings.
    """
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--set expects KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    return {str: "a string", list: "a list", dict: "a JSON object"}.get(type(value), type(value).__name__)


def _fits(value: Any, default: Any) -> bool:
    if default is None:
        return True  # highway-env leaves it open (None = its own choice)
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, (list, tuple)):
        return isinstance(value, list)
    return isinstance(value, type(default))


def check_overrides(defaults: dict[str, Any], overrides: dict[str, Any], where: str) -> None:
    """UserError unless every override names a key of `defaults` and has that key's type (numbers: int or
    float). `where` names the config in the message (a scenario)."""
    for key, value in overrides.items():
        if key not in defaults:
            raise UserError(f"--set {key}: no such key in {where}'s config; known: {', '.join(sorted(defaults))}")
        if not _fits(value, defaults[key]):
            raise UserError(
                f"--set {key}={json.dumps(value)}: expected {_type_name(defaults[key])} "
                f"(the default is {json.dumps(defaults[key], default=str)})"
            )
