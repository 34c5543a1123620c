"""Lambda event filtering (an event source's FilterCriteria): a record is delivered when any
filter's pattern matches it. Patterns use EventBridge's syntax: a list of values to match,
nested objects, and the operators prefix, suffix, anything-but, numeric, exists,
equals-ignore-case and wildcard. For SQS, a JSON message body is matched as an object."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

_MISSING = object()


def compile_filters(criteria: dict[str, Any] | None) -> list[dict[str, Any]]:
    patterns = []
    for item in (criteria or {}).get("Filters", []):
        pattern = item.get("Pattern")
        patterns.append(json.loads(pattern) if isinstance(pattern, str) else pattern)
    return patterns


def matches_any(patterns: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    return not patterns or any(_match_object(pattern, record) for pattern in patterns)


def sqs_view(record: dict[str, Any]) -> dict[str, Any]:
    """An SQS record as filters see it: its body parsed when it is a JSON object."""
    try:
        body = json.loads(record.get("body", ""))
    except ValueError:
        return record
    return {**record, "body": body} if isinstance(body, dict) else record


def _match_object(pattern: dict[str, Any], value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    for key, expected in pattern.items():
        actual = value.get(key, _MISSING)
        if isinstance(expected, dict):
            if actual is _MISSING or not _match_object(expected, actual):
                return False
        elif isinstance(expected, list):
            if not _match_list(expected, actual):
                return False
        else:
            raise ValueError(f"filter pattern values must be lists or objects, not {expected!r}")
    return True


def _match_list(rules: list[Any], actual: Any) -> bool:
    values = actual if isinstance(actual, list) else [actual]
    return any(_match_rule(rule, value) for rule in rules for value in values)


def _match_rule(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        return value is not _MISSING and rule == value
    operator, argument = next(iter(rule.items()))
    if operator == "exists":
        return (value is not _MISSING) == bool(argument)
    if value is _MISSING:
        return False
    if operator == "prefix":
        return isinstance(value, str) and (
            value.startswith(argument)
            if isinstance(argument, str)
            else value.lower().startswith(argument.get("equals-ignore-case", "").lower())
        )
    if operator == "suffix":
        return isinstance(value, str) and (
            value.endswith(argument)
            if isinstance(argument, str)
            else value.lower().endswith(argument.get("equals-ignore-case", "").lower())
        )
    if operator == "equals-ignore-case":
        return isinstance(value, str) and value.lower() == str(argument).lower()
    if operator == "wildcard":
        return isinstance(value, str) and fnmatch.fnmatchcase(value, argument)
    if operator == "anything-but":
        if isinstance(argument, dict):
            return not _match_rule(argument, value)
        excluded = argument if isinstance(argument, list) else [argument]
        return value not in excluded
    if operator == "numeric":
        return _numeric(argument, value)
    raise ValueError(f"unsupported filter operator {operator!r}")


def _numeric(conditions: list[Any], value: Any) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    checks = {
        "=": number.__eq__,
        "<": number.__lt__,
        "<=": number.__le__,
        ">": number.__gt__,
        ">=": number.__ge__,
    }
    for index in range(0, len(conditions), 2):
        operator, operand = conditions[index], float(conditions[index + 1])
        if not checks[operator](operand):
            return False
    return True
