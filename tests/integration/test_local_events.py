"""The local stack delivers events: PutEvents on the template's bus is recorded at GET
/_local/events and delivered to the rules with Lambda targets (a SAM EventBridgeRule event and an
AWS::Events::Rule with an InputTransformer, on probe functions added to a copy of the template);
the reviewer's Lambda Invoke of the demo cluster-context provider works; schedules run every
LOCAL_SCHEDULE_SECONDS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.template import ROOT
from tests.integration.harness import RunningStack, start_stack, stop_stack, template_with_absolute_paths

pytestmark = pytest.mark.integration

PROBE_CODE = str(ROOT / "tests" / "integration" / "probe")
DEMO_CLUSTER = "60c72b2f9f1b2c001f8e4d3a"  # acme's, in the demo provider (functions/describe_cluster)


def _probe(log: Path, events: dict[str, Any] | None = None, **properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": PROBE_CODE,
            "Environment": {"Variables": {"PROBE_LOG": str(log)}},
            "Events": events or {},
            **properties,
        },
    }


def events_template(log: Path) -> dict[str, Any]:
    """template.yaml (absolute code paths) plus probe functions behind rules and schedules."""
    doc = template_with_absolute_paths()
    bus = {"Ref": "EventBus"}
    doc["Resources"].update(
        {
            # SAM's EventBridgeRule: acme's tickets that are not low severity
            "ProbeRuleFunction": _probe(
                log,
                {
                    "AcmeTickets": {
                        "Type": "EventBridgeRule",
                        "Properties": {
                            "EventBusName": bus,
                            "Pattern": {
                                "source": ["helpdesk"],
                                "detail-type": ["Ticket Created"],
                                "detail": {"org_id": ["acme"], "severity": [{"anything-but": "low"}]},
                            },
                        },
                    }
                },
            ),
            "ProbeTargetFunction": _probe(log),
            # an AWS::Events::Rule: globex's ticket events, transformed
            "ProbeRule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "EventBusName": {"Fn::GetAtt": ["EventBus", "Arn"]},
                    "EventPattern": json.dumps(
                        {
                            "source": ["helpdesk"],
                            "detail-type": [{"prefix": "Ticket "}],
                            "detail": {"org_id": ["globex"], "ticket_id": [{"exists": True}]},
                        }
                    ),
                    "Targets": [
                        {
                            "Id": "probe",
                            "Arn": {"Fn::GetAtt": ["ProbeTargetFunction", "Arn"]},
                            "InputTransformer": {
                                "InputPathsMap": {"ticket": "$.detail.ticket_id", "kind": "$.detail-type"},
                                "InputTemplate": '{"ticket": "<ticket>", "kind": "<kind>", "rule": "<aws.events.rule-name>"}',
                            },
                        }
                    ],
                },
            },
            "ProbeScheduleFunction": _probe(
                log,
                {
                    "WithInput": {
                        "Type": "ScheduleV2",
                        "Properties": {"ScheduleExpression": "rate(1 day)", "Input": '{"probe": "schedule"}'},
                    },
                    "Classic": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 hour)"}},
                    "Off": {
                        "Type": "ScheduleV2",
                        "Properties": {"ScheduleExpression": "rate(1 day)", "State": "DISABLED"},
                    },
                },
            ),
        }
    )
    return doc


@dataclass
class Events:
    stack: RunningStack
    log: Path

    def received(self, function: str) -> list[Any]:
        if not self.log.exists():
            return []
        lines = [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]
        return [line["event"] for line in lines if line.get("function") == f"helpdesk-{function}"]

    def recorded(self, **query: str) -> list[dict[str, Any]]:
        response = self.stack.client().get("/_local/events", params=query)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Events]:
    tmp = tmp_path_factory.mktemp("events")
    log = tmp / "probe.jsonl"
    path = tmp / "template.json"
    path.write_text(json.dumps(events_template(log), indent=1))
    running = start_stack(tmp, template=path, env={"LOCAL_SCHEDULE_SECONDS": "1"})
    yield Events(running, log)
    code = stop_stack(running)
    assert code == 0, f"the local stack exited with {code} on Ctrl-C:\n{running.log()[-3000:]}"


def _file(stack: RunningStack, user: str, body: str, **extra: Any) -> dict[str, Any]:
    with stack.as_user(user) as client:
        response = client.post("/v1/tickets", json={"category": "technical", "body": body, **extra})
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


def test_the_local_stack_delivers_events_to_the_log_and_to_rules_with_lambda_targets(events: Events) -> None:
    stack = events.stack
    acme = _file(stack, "acme_user", "Nodes in our prod cluster are NotReady since 09:58 UTC; pods stay Pending.")
    globex = _file(stack, "globex_user", "Our invoices page shows the wrong currency since this morning.")

    def created(ticket_id: str) -> dict[str, Any] | None:
        found = [
            e for e in events.recorded(**{"detail-type": "Ticket Created"}) if e["detail"]["ticket_id"] == ticket_id
        ]
        return found[0] if found else None

    event = stack.wait_for(lambda: created(acme["id"]), what="the Ticket Created event at /_local/events")
    # the EventBridge envelope, and the detail SPEC §5 describes
    assert event["source"] == "helpdesk" and event["detail-type"] == "Ticket Created"
    assert {"version", "id", "account", "time", "region", "resources", "detail"} <= set(event)
    detail = event["detail"]
    assert detail["org_id"] == "acme" and detail["ticket_id"] == acme["id"]
    assert detail["version"] and detail["event_id"] and detail["actor"]["id"] == "u-acme-user"
    assert detail["severity"] == acme["severity"] != "low"
    assert all(e["detail-type"] == "Ticket Created" for e in events.recorded(**{"detail-type": "Ticket Created"}))
    everything = events.recorded()
    assert [e["time"] for e in everything] == sorted(e["time"] for e in everything)  # oldest first

    # the SAM EventBridgeRule's function got that very event (acme, not low): not globex's
    delivered = stack.wait_for(
        lambda: [e for e in events.received("ProbeRuleFunction") if e["detail"]["ticket_id"] == acme["id"]],
        what="the EventBridgeRule's function to be invoked",
    )
    assert delivered == [event]
    # the AWS::Events::Rule's target got globex's events, through its InputTransformer
    transformed = stack.wait_for(
        lambda: [e for e in events.received("ProbeTargetFunction") if e.get("kind") == "Ticket Created"],
        what="the AWS::Events::Rule's target to be invoked",
    )
    assert transformed == [{"ticket": globex["id"], "kind": "Ticket Created", "rule": "ProbeRule"}]
    stack.wait_for(lambda: created(globex["id"]), what="globex's Ticket Created event")
    assert not [e for e in events.received("ProbeRuleFunction") if e["detail"]["org_id"] != "acme"]
    assert not [e for e in events.received("ProbeTargetFunction") if e["ticket"] == acme["id"]]
    rules = {rule["rule"]: rule for rule in stack.client().get("/_local/health").json()["rules"]}
    assert rules["ProbeRule"]["matched"] >= 1 and rules["ProbeRuleFunction.AcmeTickets"]["errors"] == 0


def test_a_ticket_on_a_demo_cluster_gets_its_context_in_the_review(events: Events) -> None:
    stack = events.stack
    ticket = _file(
        stack,
        "acme_user",
        "Pods are stuck Pending on our production cluster since 10:00 UTC; scheduling fails.",
        properties={"cluster_id": DEMO_CLUSTER},
    )
    with stack.as_user("acme_user") as client:

        def reviewed() -> dict[str, Any] | None:
            found: dict[str, Any] = client.get(f"/v1/tickets/{ticket['id']}").json()
            return found if found["status"] != "pending_review" else None

        opened = stack.wait_for(reviewed, timeout=30, what="the review")
    system = [m["body"] for m in opened["messages"] if m["author"]["kind"] == "system"]
    assert any("Cluster context: prod-eu" in body and DEMO_CLUSTER in body for body in system), system
    assert opened["review"]["result"]["cluster_context"]["name"] == "prod-eu"
    assert not opened["review"]["result"].get("cluster_context_unavailable")


def test_lambda_invoke_reaches_the_template_functions(events: Events) -> None:
    lam = events.stack.aws("lambda")
    request = json.dumps({"org_id": "acme", "cluster_id": DEMO_CLUSTER}).encode()
    arn = events.stack.info["arns"]["DescribeClusterFunction"]
    for name in ("helpdesk-DescribeClusterFunction", arn, f"{arn}:$LATEST"):
        answer = lam.invoke(FunctionName=name, Payload=request)
        assert answer["StatusCode"] == 200 and "FunctionError" not in answer
        assert json.loads(answer["Payload"].read())["name"] == "prod-eu"
    failed = lam.invoke(FunctionName="helpdesk-ProbeTargetFunction", Payload=b'{"probe": "raise"}')
    assert failed["FunctionError"] == "Unhandled"
    assert "asked to fail" in json.loads(failed["Payload"].read())["errorMessage"]
    assert (
        lam.invoke(FunctionName="helpdesk-ProbeTargetFunction", InvocationType="Event", Payload=b'{"n": 1}')[
            "StatusCode"
        ]
        == 202
    )
    events.stack.wait_for(lambda: {"n": 1} in events.received("ProbeTargetFunction"), what="the Event invocation")
    with pytest.raises(ClientError) as missing:
        lam.invoke(FunctionName="helpdesk-NoSuchFunction", Payload=b"{}")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as qualified:
        lam.invoke(FunctionName="helpdesk-DescribeClusterFunction", Qualifier="7", Payload=b"{}")
    assert qualified.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as malformed:
        lam.invoke(FunctionName="helpdesk-DescribeClusterFunction", Payload=b"{not json")
    assert malformed.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_schedules_run_every_local_schedule_seconds(events: Events) -> None:
    stack = events.stack
    received = stack.wait_for(
        lambda: len(events.received("ProbeScheduleFunction")) >= 4 and events.received("ProbeScheduleFunction"),
        timeout=15,
        what="two runs of each schedule",
    )
    assert {"probe": "schedule"} in received  # ScheduleV2 with Input
    classic = [e for e in received if e.get("detail-type") == "Scheduled Event"]
    assert classic and classic[0]["source"] == "aws.events" and classic[0]["resources"][0].endswith("Classic")
    assert all(
        e == {"probe": "schedule"} or e.get("detail-type") == "Scheduled Event" for e in received
    )  # Off never ran
    schedules = {s["schedule"]: s for s in stack.client().get("/_local/health").json()["schedules"]}
    assert "ProbeScheduleFunction.Off" not in schedules
    sweep = stack.wait_for(
        lambda: (
            (s := stack.client().get("/_local/health").json()["schedules"])
            and [x for x in s if x["function"] == "WatchDeadlinesFunction" and x["invocations"] >= 1]
        ),
        what="the deadlines sweep to run",
    )
    assert sweep[0]["errors"] == 0 and sweep[0]["every_seconds"] == 1


def test_the_event_log_refuses_unknown_filters_and_can_be_cleared(events: Events) -> None:
    client = events.stack.client()
    wrong = client.get("/_local/events", params={"detail_type": "Ticket Created"})
    assert wrong.status_code == 400 and "detail-type" in wrong.json()["message"]
    assert client.get("/_local/events", params={"detail-type": "No Such Thing"}).json() == []
    assert client.delete("/_local/events").status_code == 204
    assert client.get("/_local/events").json() == []


def test_a_bad_schedule_period_stops_the_stack_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AssertionError) as failed:
        start_stack(tmp_path, env={"LOCAL_SCHEDULE_SECONDS": "soon"})
    assert "exited with 1" in str(failed.value)
    assert "error: LOCAL_SCHEDULE_SECONDS must be a number of seconds, not 'soon'" in str(failed.value)
