"""Field checks shared by the custody rules: each refuses with rule ``format`` and says why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ledger.custody import codes
from ledger.errors import RuleError
from ledger.events import ID_RE


def parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def day(at: str) -> str:
    return at[:10]


def need(event: Mapping[str, Any], name: str, rule: str = "format") -> Any:
    if name not in event:
        raise RuleError(f"{event['type']} needs the field {name!r}", rule=rule)
    return event[name]


def text(event: Mapping[str, Any], name: str, *, optional: bool = False) -> str | None:
    if optional and name not in event:
        return None
    value = need(event, name)
    if not isinstance(value, str) or not value.strip() or len(value) > 500:
        raise RuleError(f"{name} must be a non-empty text of at most 500 characters", rule="format")
    return value


def ident(event: Mapping[str, Any], name: str, *, optional: bool = False) -> str | None:
    if optional and name not in event:
        return None
    value = need(event, name)
    if not isinstance(value, str) or not ID_RE.match(value):
        raise RuleError(f"{name} must be an id of 1-64 letters, digits or ._:-", rule="format")
    return value


def count(value: object, name: str, *, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise RuleError(f"{name} must be a whole number of at least {minimum}", rule="format")
    return value


def flag(event: Mapping[str, Any], name: str) -> bool:
    value = need(event, name)
    if not isinstance(value, bool):
        raise RuleError(f"{name} must be true or false", rule="format")
    return value


def waste_code(value: object, name: str = "waste_code") -> str:
    if not isinstance(value, str) or not codes.WASTE_CODE_RE.match(value):
        raise RuleError(
            f"{name} must be a List-of-Waste code like '16 02 14' or '20 01 35*'", rule="format"
        )
    return value


def category(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value not in codes.CATEGORIES:
        raise RuleError("category must be a WEEE category 1-6", rule="format")
    return value


def day_field(event: Mapping[str, Any], name: str) -> str:
    value = need(event, name)
    if not isinstance(value, str) or not codes.DATE_RE.match(value):
        raise RuleError(f"{name} must be a date like 2026-11-01", rule="format")
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise RuleError(f"{name} {value!r} is not a real date", rule="format") from None
    return value


def listed(event: Mapping[str, Any], name: str, *, nonempty: bool = True) -> list[Any]:
    value = need(event, name)
    if not isinstance(value, list) or (nonempty and not value):
        raise RuleError(f"{name} must be a {'non-empty ' if nonempty else ''}list", rule="format")
    return value


def roles(value: object) -> list[str]:
    if not isinstance(value, list) or not value:
        raise RuleError("roles must be a non-empty list", rule="format")
    for role in value:
        if role not in codes.ROLES:
            raise RuleError(f"role {role!r} is not one of {sorted(codes.ROLES)}", rule="format")
    if len(set(value)) != len(value):
        raise RuleError("roles are listed twice", rule="format")
    return sorted(value)


def scale(origins: Mapping[str, int], part: int, whole: int) -> dict[str, int]:
    """The share ``part / whole`` of each origin's grams (rounded down; never negative)."""
    if whole <= 0:
        return {k: 0 for k in origins}
    return {k: v * part // whole for k, v in origins.items()}
