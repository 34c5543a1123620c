"""The local stack's EventBridge pieces without a stack: the bounded event log, the envelope of a
PutEvents entry, the hub (only accepted entries, only the template's buses), rules read from a
template (and the rules EventBridge would refuse), input transformation, asynchronous invocation
with retries and destinations, Lambda's Invoke API, and schedules."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from local import config, events, functions, lambda_api, schedules, template
from local.functions import FunctionSpec
from local.runtime import Invocation
from local.sources import AsyncConfig


def _spec(logical_id: str, events_: dict[str, Any] | None = None) -> FunctionSpec:
    return FunctionSpec(
        logical_id=logical_id,
        name=functions.function_name(logical_id),
        arn=functions.function_arn(logical_id),
        code_dir=Path("."),
        handler="app.handler",
        paths=[],
        environment={},
        timeout=3,
        memory=128,
        events=events_ or {},
    )


class FakeRuntime:
    """Records invocations; fails those whose event says {"fail": n} the first n times."""

    def __init__(self, *logical_ids: str) -> None:
        self.specs = {logical_id: _spec(logical_id) for logical_id in logical_ids}
        self.calls: list[tuple[str, Any]] = []
        self.lock = threading.Lock()

    def invoke(self, logical_id: str, event: Any, *, timeout: float | None = None) -> Invocation:
        with self.lock:
            self.calls.append((logical_id, event))
            failures = sum(1 for call in self.calls if call == (logical_id, event)) - 1
        if isinstance(event, dict) and failures < event.get("fail", 0):
            return Invocation("r", error={"errorType": "RuntimeError", "errorMessage": "asked to fail"})
        return Invocation("r", payload={"echo": event})


class FakeDestinations:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def send(self, arn: str, document: Any, attributes: dict[str, Any] | None = None) -> None:
        self.sent.append((arn, document))

    def send_text(self, arn: str, body: str, attributes: dict[str, Any] | None = None) -> None:
        self.sent.append((arn, body))


ENTRY = {
    "Source": "helpdesk",
    "DetailType": "Ticket Created",
    "Detail": json.dumps({"org_id": "acme", "ticket_id": "T-1", "severity": "high"}),
    "EventBusName": "helpdesk-eventbus",
}


def test_the_event_log_is_bounded_and_filters() -> None:
    log = events.EventLog(keep=3)
    for n in range(5):
        log.add({"id": str(n), "detail-type": "A" if n % 2 else "B", "source": "s"})
    assert [e["id"] for e in log.all()] == ["2", "3", "4"]  # the last three, oldest first
    assert [e["id"] for e in log.all("A")] == ["3"]
    assert log.all(source="other") == []
    log.clear()
    assert len(log) == 0


def test_an_accepted_entry_becomes_the_eventbridge_envelope() -> None:
    event = events.envelope({**ENTRY, "Time": 0, "Resources": ["arn:x"]}, "id-1")
    assert event == {
        "version": "0",
        "id": "id-1",
        "detail-type": "Ticket Created",
        "source": "helpdesk",
        "account": config.ACCOUNT_ID,
        "time": "1970-01-01T00:00:00Z",
        "region": config.REGION,
        "resources": ["arn:x"],
        "detail": {"org_id": "acme", "ticket_id": "T-1", "severity": "high"},
    }


def test_the_hub_records_only_what_was_accepted_on_the_recorded_buses() -> None:
    hub = events.EventHub()
    hub.recorded_buses = {"helpdesk-eventbus"}
    heard: list[tuple[str, str]] = []
    hub.listeners.append(lambda bus, event: heard.append((bus, event["id"])))
    request = {
        "Entries": [
            ENTRY,
            {**ENTRY, "Detail": "{not json"},
            {**ENTRY, "EventBusName": "arn:aws:events:eu-west-1:123456789012:event-bus/other"},
        ]
    }
    answer = {"Entries": [{"EventId": "a"}, {"ErrorCode": "MalformedDetail"}, {"EventId": "c"}]}
    accepted = hub.published(request, answer)
    assert [e["id"] for e in accepted] == ["a", "c"]
    assert [e["id"] for e in hub.log.all()] == ["a"]  # "c" went to another bus
    assert heard == [("helpdesk-eventbus", "a"), ("other", "c")]


def test_a_failing_listener_does_not_lose_the_event() -> None:
    hub = events.EventHub()

    def broken(bus: str, event: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    hub.listeners.append(broken)
    hub.published({"Entries": [ENTRY]}, {"Entries": [{"EventId": "a"}]})
    assert [e["id"] for e in hub.log.all()] == ["a"]


def test_json_paths_and_input_transformers() -> None:
    event = events.envelope(ENTRY, "id-1")
    assert events.json_path(event, "$") == event
    assert events.json_path(event, "$.detail.org_id") == "acme"
    assert events.json_path(event, "$['detail-type']") == "Ticket Created"
    assert events.json_path(event, "$.detail.missing.deeper") is None
    with pytest.raises(events.RuleError, match="unsupported JSON path"):
        events.json_path(event, "detail.org_id")
    rule = events.Rule("R", "b", events.compile_pattern({"source": ["helpdesk"]}), [], "arn:rule")
    transformer = {
        "InputPathsMap": {"org": "$.detail.org_id", "detail": "$.detail", "nothing": "$.detail.nope"},
        "InputTemplate": '{"org": "<org>", "detail": <detail>, "nothing": <nothing>, "rule": "<aws.events.rule-name>"}',
    }
    assert events.transform(event, transformer, rule) == {
        "org": "acme",
        "detail": event["detail"],
        "nothing": None,
        "rule": "R",
    }
    text = events.transform(event, {"InputPathsMap": {"org": "$.detail.org_id"}, "InputTemplate": "org <org>"}, rule)
    assert text == "org acme"  # not JSON: delivered as the text


def _rules_template(monkeypatch: pytest.MonkeyPatch, resources: dict[str, Any]) -> None:
    doc = {"Resources": {"Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "bus"}}, **resources}}
    monkeypatch.setattr(template, "load", lambda path=None: doc)


def test_rules_are_read_from_the_template(monkeypatch: pytest.MonkeyPatch) -> None:
    sam = {
        "Critical": {
            "Type": "EventBridgeRule",
            "Properties": {
                "EventBusName": {"Ref": "Bus"},
                "Pattern": {"detail": {"severity": ["critical"]}},
                "InputPath": "$.detail",
            },
        },
        "Off": {"Type": "CloudWatchEvent", "Properties": {"Pattern": {"source": ["x"]}, "Enabled": False}},
    }
    _rules_template(
        monkeypatch,
        {
            "Rule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "EventBusName": {"Fn::GetAtt": ["Bus", "Arn"]},
                    "EventPattern": '{"source": ["helpdesk"]}',
                    "Targets": [
                        {"Id": "f", "Arn": {"Fn::GetAtt": ["Other", "Arn"]}, "Input": '{"constant": true}'},
                        {"Id": "q", "Arn": "arn:aws:sqs:eu-west-1:123456789012:parked"},
                        {"Id": "s", "Arn": "arn:aws:states:eu-west-1:123456789012:stateMachine:x"},
                    ],
                },
            },
            "Scheduled": {"Type": "AWS::Events::Rule", "Properties": {"ScheduleExpression": "rate(1 hour)"}},
        },
    )
    stack = template.Stack(names={"Bus": "bus"}, arns={"Bus": "arn:aws:events:eu-west-1:123456789012:event-bus/bus"})
    specs = {"Fn": _spec("Fn", sam), "Other": _spec("Other")}
    stack.arns.update({logical_id: spec.arn for logical_id, spec in specs.items()})
    rules, skipped = events.rules_from_template(specs, stack, {})
    by_name = {rule.name: rule for rule in rules}
    assert set(by_name) == {"Rule", "Fn.Critical"}
    assert by_name["Rule"].bus == "bus" and by_name["Fn.Critical"].bus == "bus"
    assert [(t.function, t.arn, t.input) for t in by_name["Rule"].targets] == [
        ("Other", None, {"constant": True}),
        (None, "arn:aws:sqs:eu-west-1:123456789012:parked", None),
    ]
    assert any("target s" in s and "not emulated" in s for s in skipped)
    assert any("Fn.Off" in s and "disabled" in s for s in skipped)

    invoker = events.AsyncInvoker(FakeRuntime("Fn", "Other"), {}, None)  # type: ignore[arg-type]
    destinations = FakeDestinations()
    delivery = events.Delivery(rules, invoker, destinations)  # type: ignore[arg-type]
    queued: list[tuple[str, Any, str]] = []
    monkeypatch.setattr(invoker, "submit", lambda f, e, s, **_: queued.append((f, e, s)) or True)
    event = events.envelope({**ENTRY, "Detail": json.dumps({"severity": "critical"})}, "e1")
    delivery("bus", event)
    delivery("default", event)  # another bus: no rule
    assert sorted(queued) == [
        ("Fn", {"severity": "critical"}, "rule Fn.Critical"),
        ("Other", {"constant": True}, "rule Rule"),
    ]
    assert destinations.sent == [("arn:aws:sqs:eu-west-1:123456789012:parked", json.dumps(event))]


@pytest.mark.parametrize(
    ("properties", "complaint"),
    [
        ({"Pattern": {"source": "helpdesk"}}, "Fn.Bad: source: a pattern's values must be lists"),
        ({"Pattern": {"source": ["x"]}, "Input": "{not json"}, "Fn.Bad: Input is not JSON"),
        ({"Pattern": {"source": ["x"]}, "InputPath": "detail"}, "unsupported JSON path"),
        ({}, "Fn.Bad: an EventBridgeRule event needs a Pattern"),
    ],
)
def test_a_rule_eventbridge_would_refuse_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, properties: dict[str, Any], complaint: str
) -> None:
    _rules_template(monkeypatch, {})
    specs = {"Fn": _spec("Fn", {"Bad": {"Type": "EventBridgeRule", "Properties": properties}})}
    with pytest.raises(events.RuleError) as raised:
        events.rules_from_template(specs, template.Stack(), {})
    assert complaint in str(raised.value)


def _wait(check: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_asynchronous_invocations_retry_then_go_to_the_on_failure_destination(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = FakeRuntime("Fn")
    destinations = FakeDestinations()
    settings = {
        "Fn": AsyncConfig(retries=1, on_failure="arn:aws:sqs:eu-west-1:123456789012:failed", on_success="arn:ok")
    }
    invoker = events.AsyncInvoker(runtime, settings, destinations, workers=1)  # type: ignore[arg-type]
    monkeypatch.setattr(invoker._stop, "wait", lambda seconds: False)  # no back-off in the test
    invoker.start()
    try:
        assert invoker.submit("Fn", {"fail": 1, "n": 1}, "test")  # fails once, then succeeds
        assert invoker.submit("Fn", {"fail": 5, "n": 2}, "test")  # fails for good
        _wait(lambda: len(destinations.sent) == 2)
    finally:
        invoker.stop()
    assert [event["n"] for _, event in runtime.calls] == [1, 1, 2, 2]
    (failed_arn, failed), (ok_arn, ok) = sorted(destinations.sent, key=lambda sent: sent[0])
    assert ok_arn == "arn:ok" and ok["requestContext"]["condition"] == "Success"
    assert failed_arn.endswith(":failed") and failed["requestContext"]["condition"] == "RetriesExhausted"
    assert failed["requestContext"]["approximateInvokeCount"] == 2 and failed["requestPayload"]["n"] == 2
    assert invoker.counts["test"].invocations == 4 and invoker.counts["test"].errors == 3
    with pytest.raises(KeyError, match="no function 'Nope'"):
        invoker.submit("Nope", {}, "test")


def test_a_full_asynchronous_queue_drops_and_counts() -> None:
    invoker = events.AsyncInvoker(FakeRuntime("Fn"), {}, None, capacity=1)  # type: ignore[arg-type]
    assert invoker.submit("Fn", {}, "test", wait=0)
    assert not invoker.submit("Fn", {}, "test", wait=0)  # not started: nothing drains it
    assert invoker.counts["test"].dropped == 1 and invoker.pending() == 1


def _api() -> tuple[lambda_api.LambdaApi, FakeRuntime]:
    runtime = FakeRuntime("DescribeClusterFunction")
    return lambda_api.LambdaApi(runtime), runtime  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name",
    [
        "helpdesk-DescribeClusterFunction",
        "helpdesk-DescribeClusterFunction:$LATEST",
        "123456789012:function:helpdesk-DescribeClusterFunction",
        "arn:aws:lambda:eu-west-1:123456789012:function:helpdesk-DescribeClusterFunction",
        "arn:aws:lambda:eu-west-1:123456789012:function:helpdesk-DescribeClusterFunction:$LATEST",
    ],
)
def test_a_function_is_named_as_lambda_accepts(name: str) -> None:
    assert _api()[0].resolve(name) == "DescribeClusterFunction"


@pytest.mark.parametrize(
    "name",
    [
        "DescribeClusterFunction",  # the logical id is not its name
        "helpdesk-DescribeClusterFunction:7",
        "arn:aws:lambda:us-east-1:123456789012:function:helpdesk-DescribeClusterFunction",
        "arn:aws:lambda:eu-west-1:999999999999:function:helpdesk-DescribeClusterFunction",
        "arn:aws:sqs:eu-west-1:123456789012:helpdesk-DescribeClusterFunction",
        "a:b:c:d:e",
    ],
)
def test_other_names_are_not_found(name: str) -> None:
    assert _api()[0].resolve(name) is None


def _call(api: lambda_api.LambdaApi, name: str, body: bytes, **headers: str) -> tuple[int, dict[str, str], Any]:
    status, reply, payload = api("POST", f"/2015-03-31/functions/{name}/invocations", "", headers, body)
    return status, dict(reply), json.loads(payload) if payload else None


def test_invoke_answers_as_lambda_does() -> None:
    api, runtime = _api()
    status, headers, payload = _call(api, "helpdesk-DescribeClusterFunction", b'{"cluster_id": "c"}')
    assert status == 200 and payload == {"echo": {"cluster_id": "c"}} and "X-Amz-Function-Error" not in headers
    status, headers, payload = _call(api, "helpdesk-DescribeClusterFunction", b'{"fail": 1}')
    assert status == 200 and headers["X-Amz-Function-Error"] == "Unhandled" and payload["errorType"] == "RuntimeError"
    status, headers, payload = _call(api, "helpdesk-Nope", b"{}")
    assert status == 404 and headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert "function:helpdesk-Nope" in payload["message"]
    status, headers, _ = _call(api, "helpdesk-DescribeClusterFunction", b"{not json")
    assert status == 400 and headers["x-amzn-ErrorType"] == "InvalidRequestContentException"
    status, headers, _ = _call(api, "helpdesk-DescribeClusterFunction", b"{}", **{"x-amz-invocation-type": "Later"})
    assert status == 400 and headers["x-amzn-ErrorType"] == "InvalidParameterValueException"
    big = b'"' + b"x" * (lambda_api.MAX_ASYNC_PAYLOAD + 1) + b'"'
    status, headers, _ = _call(api, "helpdesk-DescribeClusterFunction", big, **{"x-amz-invocation-type": "Event"})
    assert status == 413
    status, _, _ = _call(api, "helpdesk-DescribeClusterFunction", b"{}", **{"x-amz-invocation-type": "DryRun"})
    assert status == 204
    status, _, _ = _call(api, "helpdesk-DescribeClusterFunction", b"{}", **{"x-amz-invocation-type": "Event"})
    assert status == 429  # no asynchronous queue to take it
    assert len(runtime.calls) == 2


@pytest.mark.parametrize(("value", "seconds"), [(None, 60.0), ("", 60.0), ("0.5", 0.5), ("2", 2.0)])
def test_the_schedule_period_comes_from_the_environment(value: str | None, seconds: float) -> None:
    environ = {} if value is None else {"LOCAL_SCHEDULE_SECONDS": value}
    assert schedules.period_from_environment(environ) == seconds


@pytest.mark.parametrize("value", ["soon", "0", "-1", "nan", "inf"])
def test_a_bad_schedule_period_is_a_clear_error(value: str) -> None:
    with pytest.raises(ValueError, match="LOCAL_SCHEDULE_SECONDS must be a"):
        schedules.period_from_environment({"LOCAL_SCHEDULE_SECONDS": value})


def test_schedules_are_read_from_the_template_with_their_payloads(monkeypatch: pytest.MonkeyPatch) -> None:
    _rules_template(
        monkeypatch,
        {
            "Nightly": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "ScheduleExpression": "cron(0 3 * * ? *)",
                    "Targets": [{"Id": "t", "Arn": {"Fn::GetAtt": ["Fn", "Arn"]}, "Input": '{"job": "nightly"}'}],
                },
            }
        },
    )
    sam = {
        "V2": {"Type": "ScheduleV2", "Properties": {"ScheduleExpression": "rate(1 minute)"}},
        "V2Input": {"Type": "ScheduleV2", "Properties": {"ScheduleExpression": "rate(1 day)", "Input": '{"a": 1}'}},
        "Classic": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 hour)"}},
        "Off": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 hour)", "Enabled": False}},
    }
    specs = {"Fn": _spec("Fn", sam)}
    stack = template.Stack(arns={"Fn": specs["Fn"].arn})
    found, skipped = schedules.schedules_from_template(specs, stack, {})
    by_name = {s.name: s for s in found}
    assert set(by_name) == {"Fn.V2", "Fn.V2Input", "Fn.Classic", "Nightly.t"}
    assert by_name["Fn.V2"].payload() == {} and by_name["Fn.V2Input"].payload() == {"a": 1}
    classic = by_name["Fn.Classic"].payload()
    assert classic["detail-type"] == "Scheduled Event" and classic["source"] == "aws.events"
    assert classic["resources"] == [by_name["Fn.Classic"].arn] and classic["detail"] == {}
    assert by_name["Nightly.t"].payload() == {"job": "nightly"}
    assert any("Fn.Off" in s for s in skipped)

    runtime = FakeRuntime("Fn")
    invoker = events.AsyncInvoker(runtime, {}, None)  # type: ignore[arg-type]
    scheduler = schedules.Scheduler(found, invoker, 0.05)
    invoker.start()
    scheduler.start()
    try:
        _wait(lambda: scheduler.ticks >= 2 and len(runtime.calls) >= 8)
    finally:
        scheduler.stop()
        invoker.stop()
    assert {json.dumps(event, sort_keys=True) for _, event in runtime.calls} >= {"{}", '{"a": 1}', '{"job": "nightly"}'}
    assert {row["schedule"]: row["invocations"] >= 2 for row in scheduler.status()} == {
        "Fn.V2": True,
        "Fn.V2Input": True,
        "Fn.Classic": True,
        "Nightly.t": True,
    }
