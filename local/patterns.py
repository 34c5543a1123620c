"""EventBridge event patterns: checked once (`compile_pattern`, a clear PatternError for a pattern
EventBridge would refuse) and matched against events (`Pattern.matches`).

A pattern is a JSON object whose leaves are lists of rules; an event matches when every field the
pattern names matches one of its rules (a list in the event matches when any element does):
- a value: string, number or null, matched exactly (a string never matches a number; true/false only
  themselves);
- {"prefix": "ab"} / {"suffix": "yz"} (either also as {"equals-ignore-case": "..."}),
  {"equals-ignore-case": "x"}, {"wildcard": "a*b"};
- {"anything-but": value | [values] | {"prefix"|"suffix"|"equals-ignore-case"|"wildcard": ...}};
- {"numeric": [">", 0, "<=", 5]} (numbers only), {"cidr": "10.0.0.0/24"};
- {"exists": true|false} (exists matches leaves only: a field holding an object does not "exist");
- nested objects, and "$or": [pattern, ...] at any level.
A field missing from the event matches only {"exists": false}."""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any

_MISSING = object()
_TEXT_OPERATORS = ("prefix", "suffix", "equals-ignore-case", "wildcard")
_NUMERIC_OPERATORS = ("=", "<", "<=", ">", ">=")


class PatternError(ValueError):
    """A pattern EventBridge would refuse (InvalidEventPatternException); says where and why."""


@dataclass(frozen=True)
class Pattern:
    """A checked event pattern."""

    source: dict[str, Any]

    def matches(self, event: Any) -> bool:
        return _match_object(self.source, event)


def compile_pattern(pattern: Any) -> Pattern:
    """A pattern from its JSON text or its parsed form; PatternError when EventBridge would refuse it."""
    if isinstance(pattern, str | bytes):
        try:
            pattern = json.loads(pattern)
        except ValueError as exc:
            raise PatternError(f"the event pattern is not JSON ({exc})") from None
    if not isinstance(pattern, dict) or not pattern:
        raise PatternError("an event pattern must be a non-empty JSON object")
    _check_object(pattern, "")
    return Pattern(pattern)


def matches(pattern: Any, event: Any) -> bool:
    """Whether `event` matches `pattern` (checked first)."""
    return compile_pattern(pattern).matches(event)


# ---------------------------------------------------------------------------------- checking


def _check_object(pattern: dict[str, Any], path: str) -> None:
    for key, value in pattern.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2 or not all(isinstance(v, dict) and v for v in value):
                raise PatternError(f"{where}: $or takes a list of at least two non-empty objects")
            for n, alternative in enumerate(value):
                _check_object(alternative, f"{where}[{n}]")
        elif isinstance(value, dict):
            if not value:
                raise PatternError(f"{where}: an empty object matches nothing")
            _check_object(value, where)
        elif isinstance(value, list):
            if not value:
                raise PatternError(f"{where}: an empty list of values matches nothing")
            for rule in value:
                _check_rule(rule, where)
        else:
            raise PatternError(f"{where}: a pattern's values must be lists or objects, not {json.dumps(value)}")


def _check_rule(rule: Any, where: str) -> None:
    if rule is None or isinstance(rule, str | bool | int | float):
        return
    if not isinstance(rule, dict):
        raise PatternError(f"{where}: {json.dumps(rule)} is neither a value nor a rule object")
    if len(rule) != 1:
        raise PatternError(f"{where}: a rule object has exactly one operator, not {json.dumps(rule)}")
    operator, argument = next(iter(rule.items()))
    if operator in ("prefix", "suffix"):
        if isinstance(argument, dict) and set(argument) == {"equals-ignore-case"}:
            argument = argument["equals-ignore-case"]
        if not isinstance(argument, str):
            raise PatternError(f"{where}: {operator} takes a string (or {{'equals-ignore-case': string}})")
    elif operator in ("equals-ignore-case", "wildcard"):
        if not isinstance(argument, str):
            raise PatternError(f"{where}: {operator} takes a string")
    elif operator == "exists":
        if not isinstance(argument, bool):
            raise PatternError(f"{where}: exists takes true or false")
    elif operator == "numeric":
        _check_numeric(argument, where)
    elif operator == "cidr":
        try:
            ipaddress.ip_network(str(argument), strict=False)
        except ValueError:
            raise PatternError(f"{where}: cidr takes an IP prefix such as 10.0.0.0/24, not {argument!r}") from None
    elif operator == "anything-but":
        if isinstance(argument, dict):
            if len(argument) != 1 or next(iter(argument)) not in _TEXT_OPERATORS:
                raise PatternError(
                    f"{where}: anything-but takes a value, a list, or one of {', '.join(_TEXT_OPERATORS)}"
                )
            _check_rule(argument, where)
        elif isinstance(argument, list):
            if not argument or not all(v is None or isinstance(v, str | int | float) for v in argument):
                raise PatternError(f"{where}: anything-but's list must hold strings or numbers")
        elif argument is not None and not isinstance(argument, str | int | float):
            raise PatternError(f"{where}: anything-but takes a value, a list, or a text rule")
    else:
        raise PatternError(f"{where}: unknown operator {operator!r}")


def _check_numeric(argument: Any, where: str) -> None:
    if not isinstance(argument, list) or len(argument) not in (2, 4):
        raise PatternError(f"{where}: numeric takes [op, number] or [op, number, op, number]")
    for n in range(0, len(argument), 2):
        operator, operand = argument[n], argument[n + 1]
        if operator not in _NUMERIC_OPERATORS:
            raise PatternError(f"{where}: unknown numeric operator {operator!r}")
        if isinstance(operand, bool) or not isinstance(operand, int | float):
            raise PatternError(f"{where}: numeric compares with numbers, not {json.dumps(operand)}")
    if len(argument) == 4 and ("=" in (argument[0], argument[2]) or argument[0][0] == argument[2][0]):
        raise PatternError(f"{where}: a numeric range needs a lower and an upper bound")


# ---------------------------------------------------------------------------------- matching


def _match_object(pattern: dict[str, Any], value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    for key, expected in pattern.items():
        if key == "$or":
            if not any(_match_object(alternative, value) for alternative in expected):
                return False
            continue
        actual = value.get(key, _MISSING)
        if isinstance(expected, dict):
            if isinstance(actual, list):
                if not any(_match_object(expected, item) for item in actual):
                    return False
            elif not _match_object(expected, actual):
                return False
        elif not _match_list(expected, actual):
            return False
    return True


def _match_list(rules: list[Any], actual: Any) -> bool:
    if isinstance(actual, list):
        if not actual:  # an empty list holds no value: only {"exists": false} matches it
            return any(isinstance(rule, dict) and rule.get("exists") is False for rule in rules)
        return any(_match_rule(rule, item) for rule in rules for item in actual)
    return any(_match_rule(rule, actual) for rule in rules)


def _same(rule: Any, value: Any) -> bool:
    """Exact matching: same JSON type (booleans are not numbers), same value."""
    if isinstance(rule, bool) or isinstance(value, bool):
        return rule is value
    if isinstance(rule, int | float) and isinstance(value, int | float):
        return float(rule) == float(value)
    return type(rule) is type(value) and rule == value


def _text(operator: str, argument: Any, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    ignore_case = isinstance(argument, dict)
    text = argument["equals-ignore-case"] if ignore_case else argument
    subject = value.lower() if ignore_case else value
    text = text.lower() if ignore_case else text
    if operator == "prefix":
        return bool(subject.startswith(text))
    if operator == "suffix":
        return bool(subject.endswith(text))
    if operator == "equals-ignore-case":
        return value.lower() == str(argument).lower()
    return _wildcard(str(argument)).fullmatch(value) is not None


@functools.lru_cache(maxsize=256)
def _wildcard(text: str) -> re.Pattern[str]:
    """A wildcard rule: `*` is any run of characters, everything else itself (`\\*` a star)."""
    parts = re.split(r"(\\\*|\*)", text)
    return re.compile(
        "".join(".*" if part == "*" else re.escape("*" if part == "\\*" else part) for part in parts), re.S
    )


def _match_rule(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        return value is not _MISSING and _same(rule, value)
    operator, argument = next(iter(rule.items()))
    if operator == "exists":
        present = value is not _MISSING and not isinstance(value, dict)
        return present == argument
    if value is _MISSING:
        return False
    if operator in _TEXT_OPERATORS:
        return _text(operator, argument, value)
    if operator == "anything-but":
        if isinstance(argument, dict):
            inner, text = next(iter(argument.items()))
            return isinstance(value, str) and not _text(inner, text, value)
        excluded = argument if isinstance(argument, list) else [argument]
        return not any(_same(item, value) for item in excluded)
    if operator == "numeric":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return all(_compare(argument[n], float(value), float(argument[n + 1])) for n in range(0, len(argument), 2))
    if operator == "cidr":
        try:
            return isinstance(value, str) and ipaddress.ip_address(value) in ipaddress.ip_network(
                argument, strict=False
            )
        except ValueError:
            return False
    raise PatternError(f"unknown operator {operator!r}")  # compile_pattern refuses these first


def _compare(operator: str, value: float, operand: float) -> bool:
    if operator == "=":
        return value == operand
    if operator == "<":
        return value < operand
    if operator == "<=":
        return value <= operand
    if operator == ">":
        return value > operand
    return value >= operand
