"""The local stack's fidelity to AWS, checked with a probe function added to a copy of the
template: payload v2.0 events and responses, the authorizer's claims, CORS, errors and timeouts,
and the event sources (SQS with partial failures and redrive, the table's stream with filters,
bisection and an on-failure destination, S3 notifications with async retries), mail capture and
presigned URL expiry."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.template import ROOT
from tests.integration.harness import RunningStack, start_stack, stop_stack, template_with_absolute_paths

pytestmark = pytest.mark.integration

PROBE_CODE = str(ROOT / "tests" / "integration" / "probe")


def _queue(**properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::SQS::Queue", "Properties": properties}


def _function(log: Path, events: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": PROBE_CODE,
            "Environment": {"Variables": {"PROBE_LOG": str(log)}},
            "Events": events,
            **properties,
        },
    }


def probe_template(log: Path) -> dict[str, Any]:
    """template.yaml with absolute code paths, plus the probe functions and their queues."""
    doc = template_with_absolute_paths()
    api = {"Ref": "HttpApi"}
    doc["Resources"].update(
        {
            "ProbeQueue": _queue(
                VisibilityTimeout=1,
                RedrivePolicy={
                    "deadLetterTargetArn": {"Fn::GetAtt": ["ProbeDeadLetterQueue", "Arn"]},
                    "maxReceiveCount": 2,
                },
            ),
            "ProbeDeadLetterQueue": _queue(),
            "ProbeStreamFailures": _queue(),
            "ProbeBucketFailures": _queue(),
            "ProbeHttpFunction": _function(
                log,
                {
                    "Any": {
                        "Type": "HttpApi",
                        "Properties": {"ApiId": api, "Method": "ANY", "Path": "/probe/{proxy+}"},
                    },
                    "Public": {
                        "Type": "HttpApi",
                        "Properties": {
                            "ApiId": api,
                            "Method": "GET",
                            "Path": "/probe-public",
                            "Auth": {"Authorizer": "NONE"},
                        },
                    },
                },
                Timeout=2,
            ),
            "ProbeQueueFunction": _function(
                log,
                {
                    "Queue": {
                        "Type": "SQS",
                        "Properties": {
                            "Queue": {"Fn::GetAtt": ["ProbeQueue", "Arn"]},
                            "BatchSize": 5,
                            "FunctionResponseTypes": ["ReportBatchItemFailures"],
                            "FilterCriteria": {
                                "Filters": [{"Pattern": json.dumps({"body": {"probe": [{"exists": True}]}})}]
                            },
                        },
                    }
                },
            ),
            "ProbeStreamFunction": _function(
                log,
                {
                    "Stream": {
                        "Type": "DynamoDB",
                        "Properties": {
                            "Stream": {"Fn::GetAtt": ["Table", "StreamArn"]},
                            "StartingPosition": "TRIM_HORIZON",
                            "BatchSize": 10,
                            "MaximumRetryAttempts": 1,
                            "BisectBatchOnFunctionError": True,
                            "FunctionResponseTypes": ["ReportBatchItemFailures"],
                            "FilterCriteria": {
                                "Filters": [
                                    {
                                        "Pattern": json.dumps(
                                            {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "PROBE#"}]}}}}
                                        )
                                    }
                                ]
                            },
                            "DestinationConfig": {
                                "OnFailure": {
                                    "Type": "SQS",
                                    "Destination": {"Fn::GetAtt": ["ProbeStreamFailures", "Arn"]},
                                }
                            },
                        },
                    }
                },
            ),
            "ProbeBucketFunction": _function(
                log,
                {
                    "Upload": {
                        "Type": "S3",
                        "Properties": {
                            "Bucket": {"Ref": "AttachmentsBucket"},
                            "Events": "s3:ObjectCreated:*",
                            "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "probe/"}]}},
                        },
                    }
                },
                EventInvokeConfig={
                    "MaximumRetryAttempts": 1,
                    "DestinationConfig": {
                        "OnFailure": {"Type": "SQS", "Destination": {"Fn::GetAtt": ["ProbeBucketFailures", "Arn"]}}
                    },
                },
            ),
        }
    )
    return doc


@dataclass
class Probe:
    stack: RunningStack
    log: Path

    def events(self, source: str) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        found = [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]
        return [event for event in found if event["Records"][0].get("eventSource") == source]

    def records(self, source: str) -> list[dict[str, Any]]:
        return [record for event in self.events(source) for record in event["Records"]]

    def queue_url(self, logical_id: str) -> str:
        return str(self.stack.info["names"][logical_id])

    def messages(self, logical_id: str) -> list[dict[str, Any]]:
        response = self.stack.aws("sqs").receive_message(QueueUrl=self.queue_url(logical_id), MaxNumberOfMessages=10)
        return [json.loads(message["Body"]) for message in response.get("Messages", [])]


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Probe]:
    tmp = tmp_path_factory.mktemp("probe")
    log = tmp / "probe.jsonl"
    path = tmp / "template.json"  # JSON is YAML
    path.write_text(json.dumps(probe_template(log), indent=1))
    running = start_stack(tmp, template=path)
    yield Probe(running, log)
    code = stop_stack(running)
    assert code == 0, f"the local stack exited with {code} on Ctrl-C:\n{running.log()[-3000:]}"
    assert "stopped." in running.log()


def echo(probe: Probe, method: str, path: str, token: str | None = None, **kwargs: Any) -> dict[str, Any]:
    token = token or probe.stack.tokens["support"]
    extra = kwargs.pop("headers", {})
    headers = [("Authorization", f"Bearer {token}"), *(extra.items() if isinstance(extra, dict) else extra)]
    response = httpx.request(method, probe.stack.url + path, headers=headers, **kwargs)
    assert response.status_code == 200, response.text
    event: dict[str, Any] = response.json()
    return event


# ---------------------------------------------------------------------------------- the gateway


def test_a_request_becomes_a_genuine_payload_v2_event(probe: Probe) -> None:
    token = probe.stack.mint(
        sub="u-probe", email="probe@acme.test", org_id="acme", roles=["admin", "support"], custom={"tier": "gold"}, n=5
    )
    event = echo(
        probe,
        "GET",
        "/probe/a%20b/c?x=1&x=2&y=&z=%2F",
        token=token,
        headers=[("Cookie", "a=1; b=2"), ("X-Dup", "one"), ("X-Dup", "two"), ("User-Agent", "probe/1.0")],
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /probe/{proxy+}"
    assert event["rawPath"] == "/probe/a%20b/c"
    assert event["rawQueryString"] == "x=1&x=2&y=&z=%2F"
    assert event["queryStringParameters"] == {"x": "1,2", "y": "", "z": "/"}
    assert event["pathParameters"] == {"proxy": "a b/c"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-dup"] == "one,two"
    assert all(name == name.lower() for name in event["headers"])
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    context = event["requestContext"]
    assert context["http"] == {
        "method": "GET",
        "path": "/probe/a%20b/c",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "probe/1.0",
    }
    assert context["routeKey"] == "ANY /probe/{proxy+}"
    assert context["stage"] == "$default"
    assert re.fullmatch(r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", context["time"])
    assert isinstance(context["timeEpoch"], int)
    claims = context["authorizer"]["jwt"]["claims"]
    assert claims["roles"] == "[admin support]"
    assert claims["custom"] == "map[tier:gold]"
    assert claims["n"] == "5"
    assert claims["exp"].isdigit()
    assert claims["sub"] == "u-probe"
    assert context["authorizer"]["jwt"]["scopes"] is None


def test_binary_and_multipart_bodies_arrive_base64_encoded(probe: Probe) -> None:
    multipart = echo(
        probe, "POST", "/probe/upload", files={"file": ("x.bin", bytes(range(256)))}, data={"payload": "{}"}
    )
    assert multipart["isBase64Encoded"] is True
    assert b"Content-Disposition: form-data" in base64.b64decode(multipart["body"])
    assert bytes(range(256)) in base64.b64decode(multipart["body"])

    as_json = echo(probe, "POST", "/probe/json", json={"a": "é"})
    assert as_json["isBase64Encoded"] is False
    assert json.loads(as_json["body"]) == {"a": "é"}

    octets = echo(probe, "PUT", "/probe/raw", content=b"\x00\x01", headers={"Content-Type": "application/octet-stream"})
    assert octets["isBase64Encoded"] is True
    assert base64.b64decode(octets["body"]) == b"\x00\x01"


def test_responses_are_mapped_back_faithfully(probe: Probe) -> None:
    client = probe.stack.as_user("support")
    binary = client.get("/probe/x", params={"mode": "binary"})
    assert binary.content == bytes(range(256))
    assert binary.headers["content-type"] == "application/octet-stream"

    cookies = client.get("/probe/x", params={"mode": "cookies"})
    assert cookies.status_code == 201
    assert cookies.headers.get_list("set-cookie") == ["session=abc; Path=/; HttpOnly", "theme=dark"]
    assert cookies.headers.get_list("x-multi") == ["a", "b"]
    assert cookies.headers["x-single"] == "one"
    assert cookies.content == b""

    inferred = client.get("/probe/x", params={"mode": "inferred"})
    assert inferred.status_code == 200
    assert inferred.headers["content-type"] == "application/json"
    assert inferred.json() == {"hello": "world"}


def test_a_failing_or_timed_out_function_is_a_500_and_the_next_call_works(probe: Probe) -> None:
    client = probe.stack.as_user("support")
    failed = client.get("/probe/x", params={"mode": "raise"})
    assert failed.status_code == 500
    assert failed.json() == {"message": "Internal Server Error"}

    started = time.monotonic()
    timed_out = client.get("/probe/x", params={"mode": "sleep", "seconds": "30"})
    assert timed_out.status_code == 500
    assert time.monotonic() - started < 10  # the template's Timeout is 2 s
    assert "Task timed out after 2.00 seconds" in probe.stack.log()

    assert client.get("/probe/x").status_code == 200


def test_a_function_gets_its_own_environment_and_context(probe: Probe) -> None:
    answer = probe.stack.as_user("support").get("/probe/x", params={"mode": "context"}).json()
    assert answer["function_name"] == "helpdesk-ProbeHttpFunction"
    assert 0 < answer["remaining_ms"] <= 2000
    assert answer["env"]["PROBE_LOG"] == str(probe.log)
    assert answer["env"]["TABLE_NAME"] == probe.stack.info["names"]["Table"]  # Globals
    assert answer["env"]["AWS_ENDPOINT_URL"] == probe.stack.info["aws_endpoint"]


def test_a_route_without_an_authorizer_needs_no_token(probe: Probe) -> None:
    response = httpx.get(probe.stack.url + "/probe-public")
    assert response.status_code == 200
    assert "authorizer" not in response.json()["requestContext"]


def test_a_token_not_valid_yet_is_401(probe: Probe) -> None:
    early = probe.stack.mint(sub="u1", org_id="acme", roles=[], nbf=int(time.time()) + 600)
    assert probe.stack.client(early).get("/probe/x").status_code == 401


def test_cors_follows_the_templates_configuration(probe: Probe) -> None:
    origin = probe.stack.info["parameters"].get("AppBaseUrl", "https://support.example.com")
    preflight = httpx.options(
        probe.stack.url + "/v1/tickets",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"]

    stranger = httpx.options(
        probe.stack.url + "/v1/tickets",
        headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in stranger.headers

    simple = probe.stack.as_user("support").get("/probe/x", headers={"Origin": origin})
    assert simple.headers["access-control-allow-origin"] == origin
    assert "etag" in simple.headers["access-control-expose-headers"]


# ---------------------------------------------------------------------------------- event sources


def test_sqs_batches_report_partial_failures_and_redrive_to_the_dlq(probe: Probe) -> None:
    sqs = probe.stack.aws("sqs")
    url = probe.queue_url("ProbeQueue")
    for body in ({"probe": "ok", "n": 1}, {"probe": "fail", "n": 2}, {"unrelated": True}):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))

    def dead_lettered() -> list[dict[str, Any]]:
        return probe.messages("ProbeDeadLetterQueue")

    parked = probe.stack.wait_for(dead_lettered, timeout=15, what="the failing message in the DLQ")
    assert parked == [{"probe": "fail", "n": 2}]
    bodies = [json.loads(record["body"]) for record in probe.records("aws:sqs")]
    assert bodies.count({"probe": "ok", "n": 1}) == 1  # succeeded once, deleted
    assert bodies.count({"probe": "fail", "n": 2}) == 2  # maxReceiveCount
    assert {"unrelated": True} not in bodies  # filtered out (and deleted)
    record = probe.records("aws:sqs")[0]
    assert record["eventSourceARN"].endswith(":helpdesk-ProbeQueue")
    assert record["awsRegion"] == "eu-west-1"
    assert {"ApproximateReceiveCount", "SentTimestamp"} <= set(record["attributes"])
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_stream_records_are_filtered_retried_bisected_and_parked(probe: Probe) -> None:
    dynamodb = probe.stack.aws("dynamodb")
    table = probe.stack.info["names"]["Table"]
    for pk, verdict in (("PROBE#ok", "ok"), ("PROBE#fail", "fail"), ("PROBE#raise", "raise"), ("OTHER#1", "ok")):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": pk}, "sk": {"S": "probe"}, "probe": {"S": verdict}})

    def parked() -> list[dict[str, Any]]:
        found = getattr(parked, "found", [])
        found += probe.messages("ProbeStreamFailures")
        parked.found = found  # type: ignore[attr-defined]
        return found if sum(doc["DDBStreamBatchInfo"]["batchSize"] for doc in found) >= 2 else []

    failures = probe.stack.wait_for(parked, timeout=15, what="the stream's on-failure destination")
    assert {doc["requestContext"]["condition"] for doc in failures} == {"RetryAttemptsExhausted"}
    assert {doc["DDBStreamBatchInfo"]["streamArn"] for doc in failures} == {probe.stack.info["arns"]["Table.StreamArn"]}
    records = probe.records("aws:dynamodb")
    keys = [record["dynamodb"]["Keys"]["pk"]["S"] for record in records]
    assert "OTHER#1" not in keys  # filtered out
    sequence = {record["dynamodb"]["Keys"]["pk"]["S"]: int(record["dynamodb"]["SequenceNumber"]) for record in records}
    ranges = [
        (int(doc["DDBStreamBatchInfo"]["startSequenceNumber"]), int(doc["DDBStreamBatchInfo"]["endSequenceNumber"]))
        for doc in failures
    ]

    def parked_record(pk: str) -> bool:
        return any(low <= sequence[pk] <= high for low, high in ranges)

    assert parked_record("PROBE#fail")  # a partial batch failure, retried once
    assert parked_record("PROBE#raise")  # a function error: the batch bisected down to it, retried once
    assert not parked_record("PROBE#ok")
    assert keys.count("PROBE#fail") >= 2
    last_try = [event["Records"] for event in probe.events("aws:dynamodb") if "PROBE#raise" in json.dumps(event)][-1]
    assert [record["dynamodb"]["Keys"]["pk"]["S"] for record in last_try] == ["PROBE#raise"]
    first = records[0]
    assert first["eventName"] == "INSERT"
    assert first["awsRegion"] == "eu-west-1"
    assert first["eventSourceARN"] == probe.stack.info["arns"]["Table.StreamArn"]
    assert isinstance(first["dynamodb"]["ApproximateCreationDateTime"], int)
    assert first["dynamodb"]["NewImage"]["probe"] == {"S": "ok"}


def test_s3_uploads_invoke_the_function_asynchronously_with_retries(probe: Probe) -> None:
    s3 = probe.stack.aws("s3")
    bucket = probe.stack.info["names"]["AttachmentsBucket"]
    s3.put_object(Bucket=bucket, Key="probe/ok.txt", Body=b"ok")
    s3.put_object(Bucket=bucket, Key="probe/raise.txt", Body=b"no")
    s3.put_object(Bucket=bucket, Key="elsewhere/x.txt", Body=b"not for the probe")

    (failure,) = probe.stack.wait_for(
        lambda: probe.messages("ProbeBucketFailures"), timeout=15, what="the S3 on-failure destination"
    )
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 2
    assert failure["requestPayload"]["Records"][0]["s3"]["object"]["key"] == "probe/raise.txt"
    assert failure["responseContext"]["functionError"] == "Unhandled"
    keys = [record["s3"]["object"]["key"] for record in probe.records("aws:s3")]
    assert keys.count("probe/ok.txt") == 1
    assert keys.count("probe/raise.txt") == 2
    assert "elsewhere/x.txt" not in keys
    record = next(r for r in probe.records("aws:s3") if r["s3"]["object"]["key"] == "probe/ok.txt")
    assert record["eventName"].startswith("ObjectCreated:")
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["object"]["size"] == 2


# ---------------------------------------------------------------------------------- AWS extras


def test_mail_is_captured_with_its_text_and_html(probe: Probe) -> None:
    sender = probe.stack.info["parameters"]["SenderEmail"]
    ses = probe.stack.aws("sesv2")
    ses.send_email(
        FromEmailAddress=sender,
        Destination={"ToAddresses": ["someone@acme.test"]},
        ReplyToAddresses=["support@helpdesk.test"],
        Content={
            "Simple": {
                "Subject": {"Data": "Probe mail"},
                "Body": {"Text": {"Data": "plain"}, "Html": {"Data": "<p>rich</p>"}},
            }
        },
    )
    with pytest.raises(Exception, match="not verified"):
        ses.send_email(
            FromEmailAddress="stranger@nowhere.test",
            Destination={"ToAddresses": ["someone@acme.test"]},
            Content={"Simple": {"Subject": {"Data": "Spoofed"}, "Body": {"Text": {"Data": "x"}}}},
        )
    mails = probe.stack.client().get("/_local/mail", params={"to": "someone@acme.test"}).json()
    assert [(m["subject"], m["text"], m["html"], m["reply_to"], m["from"]) for m in mails] == [
        ("Probe mail", "plain", "<p>rich</p>", ["support@helpdesk.test"], sender)
    ]


def test_presigned_urls_work_from_this_machine_until_they_expire(probe: Probe) -> None:
    s3 = probe.stack.aws("s3")
    bucket = probe.stack.info["names"]["AttachmentsBucket"]
    s3.put_object(Bucket=bucket, Key="elsewhere/presigned.txt", Body=b"secret")
    signed_at = time.time()
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "elsewhere/presigned.txt"}, ExpiresIn=3
    )
    assert url.startswith(probe.stack.info["aws_endpoint"])
    assert httpx.get(url).content == b"secret"
    time.sleep(max(0.0, signed_at + 4.1 - time.time()))
    expired = httpx.get(url)
    assert expired.status_code == 403
    assert "Request has expired" in expired.text
