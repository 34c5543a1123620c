"""EventBridge event patterns (local.patterns): what matches, what does not, and the patterns
EventBridge refuses."""

from __future__ import annotations

from typing import Any

import pytest

from local.patterns import PatternError, compile_pattern, matches

EVENT: dict[str, Any] = {
    "version": "0",
    "id": "e-1",
    "source": "helpdesk",
    "detail-type": "Ticket Created",
    "account": "123456789012",
    "region": "eu-west-1",
    "resources": [],
    "detail": {
        "org_id": "acme",
        "ticket_id": "T-42",
        "severity": "critical",
        "version": 1,
        "score": 7.5,
        "internal": False,
        "assignee": None,
        "tags": ["billing", "eu"],
        "actor": {"id": "u-1", "role": "member", "ip": "10.0.3.17"},
        "messages": [{"kind": "customer"}, {"kind": "system"}],
    },
}


@pytest.mark.parametrize(
    "pattern",
    [
        {"source": ["helpdesk"]},
        {"source": ["other", "helpdesk"]},
        {"detail-type": ["Ticket Created"], "detail": {"org_id": ["acme"]}},
        {"detail": {"tags": ["eu"]}},  # a list in the event: any element
        {"detail": {"version": [1]}},
        {"detail": {"version": [1.0]}},
        {"detail": {"internal": [False]}},
        {"detail": {"assignee": [None]}},
        {"detail": {"actor": {"role": ["member"]}}},
        {"detail": {"messages": {"kind": ["system"]}}},
        {"detail": {"ticket_id": [{"prefix": "T-"}]}},
        {"detail": {"ticket_id": [{"prefix": {"equals-ignore-case": "t-"}}]}},
        {"detail": {"ticket_id": [{"suffix": "42"}]}},
        {"detail": {"severity": [{"suffix": {"equals-ignore-case": "CAL"}}]}},
        {"detail": {"severity": [{"equals-ignore-case": "CRITICAL"}]}},
        {"detail": {"severity": [{"wildcard": "cri*al"}]}},
        {"detail": {"severity": [{"anything-but": "low"}]}},
        {"detail": {"severity": [{"anything-but": ["low", "medium"]}]}},
        {"detail": {"severity": [{"anything-but": {"prefix": "lo"}}]}},
        {"detail": {"severity": [{"anything-but": {"suffix": "um"}}]}},
        {"detail": {"version": [{"anything-but": [2, 3]}]}},
        {"detail": {"score": [{"numeric": [">", 5]}]}},
        {"detail": {"score": [{"numeric": [">=", 7.5, "<", 10]}]}},
        {"detail": {"version": [{"numeric": ["=", 1]}]}},
        {"detail": {"ticket_id": [{"exists": True}]}},
        {"detail": {"closed_at": [{"exists": False}]}},
        {"detail": {"actor": {"ip": [{"cidr": "10.0.0.0/16"}]}}},
        {"detail": {"$or": [{"severity": ["low"]}, {"org_id": ["acme"]}]}},
        {"$or": [{"source": ["nope"]}, {"detail": {"tags": ["billing"]}}]},
    ],
)
def test_a_pattern_matches(pattern: dict[str, Any]) -> None:
    assert matches(pattern, EVENT), pattern


@pytest.mark.parametrize(
    "pattern",
    [
        {"source": ["Helpdesk"]},  # exact is case-sensitive
        {"detail-type": ["Ticket Created"], "detail": {"org_id": ["globex"]}},  # every field must match
        {"detail": {"version": ["1"]}},  # a string never matches a number
        {"detail": {"internal": [0]}},  # nor a number false
        {"detail": {"assignee": ["null"]}},
        {"detail": {"missing": [None]}},  # null matches a null field, not a missing one
        {"detail": {"actor": {"role": ["admin"]}}},
        {"detail": {"ticket_id": [{"prefix": "t-"}]}},
        {"detail": {"ticket_id": [{"suffix": "4"}]}},
        {"detail": {"version": [{"prefix": "1"}]}},  # text rules match strings only
        {"detail": {"severity": [{"wildcard": "cri*x"}]}},
        {"detail": {"severity": [{"wildcard": "crit?cal"}]}},  # only * is special
        {"detail": {"severity": [{"anything-but": "critical"}]}},
        {"detail": {"severity": [{"anything-but": ["critical", "high"]}]}},
        {"detail": {"severity": [{"anything-but": {"prefix": "crit"}}]}},
        {"detail": {"missing": [{"anything-but": "x"}]}},  # anything-but needs the field
        {"detail": {"score": [{"numeric": ["<", 5]}]}},
        {"detail": {"score": [{"numeric": [">", 7.5, "<=", 9]}]}},
        {"detail": {"severity": [{"numeric": [">", 0]}]}},  # numeric matches numbers only
        {"detail": {"internal": [{"numeric": ["=", 0]}]}},
        {"detail": {"ticket_id": [{"exists": False}]}},
        {"detail": {"closed_at": [{"exists": True}]}},
        {"detail": {"actor": [{"exists": True}]}},  # exists matches leaves, not objects
        {"detail": {"actor": {"ip": [{"cidr": "10.1.0.0/16"}]}}},
        {"detail": {"ticket_id": [{"cidr": "10.0.0.0/8"}]}},
        {"detail": {"org_id": {"nested": ["x"]}}},  # an object pattern against a string
        {"detail": {"$or": [{"severity": ["low"]}, {"org_id": ["globex"]}]}},
    ],
)
def test_a_pattern_does_not_match(pattern: dict[str, Any]) -> None:
    assert not matches(pattern, EVENT), pattern


def test_an_empty_list_in_the_event_holds_no_value() -> None:
    event = {"detail": {"tags": []}}
    assert not matches({"detail": {"tags": [{"exists": True}]}}, event)
    assert matches({"detail": {"tags": [{"exists": False}]}}, event)
    assert not matches({"detail": {"tags": [{"anything-but": "x"}]}}, event)


def test_a_pattern_is_read_from_its_json_text() -> None:
    pattern = compile_pattern('{"source": ["helpdesk"], "detail": {"severity": [{"anything-but": "low"}]}}')
    assert pattern.matches(EVENT)
    assert not pattern.matches({"source": "helpdesk", "detail": {"severity": "low"}})
    assert not pattern.matches("not an event")


@pytest.mark.parametrize(
    ("pattern", "complaint"),
    [
        ("{not json", "not JSON"),
        ([], "non-empty JSON object"),
        ({}, "non-empty JSON object"),
        ({"source": "helpdesk"}, "source: a pattern's values must be lists or objects"),
        ({"source": []}, "source: an empty list"),
        ({"detail": {}}, "detail: an empty object"),
        ({"detail": {"a": [["nested"]]}}, "detail.a: "),
        ({"detail": {"a": [{"prefix": "x", "suffix": "y"}]}}, "exactly one operator"),
        ({"detail": {"a": [{"prefix": 1}]}}, "prefix takes a string"),
        ({"detail": {"a": [{"wildcard": 1}]}}, "wildcard takes a string"),
        ({"detail": {"a": [{"exists": "yes"}]}}, "exists takes true or false"),
        ({"detail": {"a": [{"numeric": [">"]}]}}, "numeric takes"),
        ({"detail": {"a": [{"numeric": ["~", 1]}]}}, "unknown numeric operator"),
        ({"detail": {"a": [{"numeric": [">", "1"]}]}}, "compares with numbers"),
        ({"detail": {"a": [{"numeric": [">", 1, ">=", 2]}]}}, "lower and an upper bound"),
        ({"detail": {"a": [{"cidr": "not-an-ip"}]}}, "cidr takes"),
        ({"detail": {"a": [{"anything-but": {"numeric": [">", 1]}}]}}, "anything-but takes"),
        ({"detail": {"a": [{"anything-but": [{"x": 1}]}]}}, "anything-but's list"),
        ({"detail": {"a": [{"regex": "x"}]}}, "unknown operator 'regex'"),
        ({"$or": [{"source": ["a"]}]}, "$or: $or takes a list of at least two"),
    ],
)
def test_a_pattern_eventbridge_refuses_is_a_clear_error(pattern: Any, complaint: str) -> None:
    with pytest.raises(PatternError, match=None) as raised:
        compile_pattern(pattern)
    assert complaint in str(raised.value)
