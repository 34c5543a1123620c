"""Template invariants: every route has its function, every function a log group, no function
has more rights than its job, every event source has bounded retries and a failure destination."""

from __future__ import annotations

import importlib.util
import re
from typing import Any

import pytest

from local.template import ROOT
from tests.iam import resource_names

FUNCTION = "AWS::Serverless::Function"

# What each function's job needs, and nothing more: action -> the resources it may touch.
PERMISSIONS: dict[str, dict[str, set[str]]] = {
    "CreateTicketFunction": {
        "dynamodb:PutItem": {"Table"},
        "dynamodb:UpdateItem": {"Table"},
        "dynamodb:GetItem": {"Table"},
        "dynamodb:DeleteItem": {"Table"},
        "sqs:SendMessage": {"ReviewQueue"},
        "s3:PutObject": {"AttachmentsBucket"},  # multipart requests' files (tickets/* only)
        "s3:DeleteObject": {"AttachmentsBucket"},  # ... deleted again when the write fails
    },
    "ListTicketsFunction": {
        "dynamodb:Query": {"Table/index", "Table"},  # lists; a word's postings (WORD#* keys only)
        "dynamodb:BatchGetItem": {"Table"},  # word counts, and the tickets postings name with their words
    },
    "GetTicketFunction": {"dynamodb:Query": {"Table"}},
    "UpdateTicketFunction": {
        **{f"dynamodb:{a}": {"Table"} for a in ("PutItem", "UpdateItem", "GetItem", "DeleteItem")},
        "sqs:SendMessage": {"ReviewQueue"},  # an edited subject is indexed again
    },
    "ReplyTicketFunction": {
        **{f"dynamodb:{a}": {"Table"} for a in ("PutItem", "UpdateItem", "GetItem", "DeleteItem")},
        "dynamodb:Query": {"Table"},  # a full ticket's unused upload grants (reclaim_unused_uploads)
        "s3:PutObject": {"AttachmentsBucket"},
        "s3:DeleteObject": {"AttachmentsBucket"},
    },
    "UploadAttachmentFunction": {
        **{f"dynamodb:{a}": {"Table"} for a in ("PutItem", "UpdateItem", "GetItem", "DeleteItem")},
        "dynamodb:Query": {"Table"},  # a full ticket's unused upload grants (reclaim_unused_uploads)
        "s3:PutObject": {"AttachmentsBucket"},  # inline files, and the presigned POSTs it signs
        "s3:DeleteObject": {"AttachmentsBucket"},
    },
    "GetAttachmentFunction": {
        "dynamodb:BatchGetItem": {"Table"},  # the ticket and the attachment's record, together
        "s3:GetObject": {"AttachmentsBucket"},  # the presigned GETs it signs
    },
    "CheckAttachmentFunction": {
        "dynamodb:GetItem": {"Table"},  # TICKET#* keys only
        "dynamodb:UpdateItem": {"Table"},
        "dynamodb:PutItem": {"Table"},  # a rejection's timeline message (TICKET#* keys only)
        "s3:GetObject": {"AttachmentsBucket"},  # HeadObject and ranged reads
        "s3:DeleteObject": {"AttachmentsBucket"},  # rejected bytes
        "sqs:SendMessage": {"CheckAttachmentFailureQueue"},  # the async on-failure destination (SAM)
    },
    "CloseTicketFunction": {f"dynamodb:{a}": {"Table"} for a in ("PutItem", "UpdateItem", "GetItem", "DeleteItem")},
    "GetMeFunction": {"dynamodb:GetItem": {"Table"}},
    "UnmatchedRouteFunction": {},  # no AWS call: the route table is in its code
    "RequestReviewFunction": {
        **{f"dynamodb:{a}": {"Table"} for a in ("PutItem", "UpdateItem", "GetItem", "DeleteItem")},
        "sqs:SendMessage": {"ReviewQueue"},
    },
    "GetReviewFunction": {"dynamodb:GetItem": {"Table"}},
    "ReviewTicketFunction": {
        **{f"dynamodb:{a}": {"Table"} for a in ("GetItem", "BatchGetItem", "PutItem", "UpdateItem")},
        "bedrock:InvokeModel": {
            "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/*",
            "arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:inference-profile/*",
        },
        "lambda:InvokeFunction": {"DescribeClusterFunction", "ClusterContextFunctionArn"},  # the provider only
    },
    "PublishEventsFunction": {
        "dynamodb:GetItem": {"Table"},  # a message's ticket, for its org (TICKET#* keys only)
        "events:PutEvents": {"EventBus"},
        "sqs:SendMessage": {"PublishEventsFailureQueue"},  # the stream's on-failure destination (SAM)
    },
    "WatchDeadlinesFunction": {
        **{f"dynamodb:{a}": {"Table"} for a in ("PutItem", "UpdateItem", "GetItem", "DeleteItem")},
        "dynamodb:Query": {"Table/index"},  # ByDeadline only
    },
    "DescribeClusterFunction": {},
    "UpdateMeFunction": {f"dynamodb:{a}": {"Table"} for a in ("PutItem", "UpdateItem", "GetItem", "DeleteItem")},
    "NotifyFunction": {
        "dynamodb:GetItem": {"Table"},  # tickets (TICKET#* keys only) and members (ORG#*)
        "dynamodb:Query": {"Table"},
        "dynamodb:PutItem": {"Table"},  # claims of sent mail (NOTIFIED#* keys only)
        "dynamodb:DeleteItem": {"Table"},
        "ses:SendEmail": {
            "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*"
        },  # From: the sender only
        "sqs:SendMessage": {"NotifyFailureQueue"},  # the stream's on-failure destination (SAM)
    },
}
PERMISSIONS["IndexTicketsFunction"] = {
    "dynamodb:GetItem": {"Table"},  # a ticket's indexed words (INDEXED#*), its ticket (TICKET#*)
    "dynamodb:PutItem": {"Table"},  # postings, counts, indexed words: WORD#*, COUNT#*, INDEXED#* keys only
    "dynamodb:UpdateItem": {"Table"},
    "dynamodb:BatchWriteItem": {"Table"},
    "sqs:SendMessage": {"IndexTicketsFailureQueue"},  # the stream's on-failure destination (SAM)
}
ALWAYS_ALLOWED = {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}  # the basic execution role
TRACING = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"}


def functions(sam: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in sam["Resources"].items() if res["Type"] == FUNCTION}


def http_routes(resource: dict[str, Any]) -> set[str]:
    events = resource["Properties"].get("Events", {}).values()
    return {
        f"{e['Properties']['Method']} {e['Properties']['Path']}"
        for e in events
        if e["Type"] == "HttpApi" and "Path" in e["Properties"]  # not the `$default` route's
    }


def declared_routes(code_uri: str) -> set[str]:
    path = ROOT / code_uri / "app.py"
    spec = importlib.util.spec_from_file_location(f"infra_{path.parent.name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return set(module.api.routes)


def role_statements(cfn: dict[str, Any], function: str) -> list[dict[str, Any]]:
    """Every statement the function's role carries: inline policies and the template's managed ones."""
    role = cfn["Resources"][f"{function}Role"]["Properties"]
    statements = [s for policy in role.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]
    statements = [s["Fn::If"][1] if "Fn::If" in s else s for s in statements]  # granted when the condition holds
    for arn in role.get("ManagedPolicyArns", []):
        if isinstance(arn, dict) and "Ref" in arn:
            statements += cfn["Resources"][arn["Ref"]]["Properties"]["PolicyDocument"]["Statement"]
    return statements


def granted(cfn: dict[str, Any], function: str) -> dict[str, set[str]]:
    actions: dict[str, set[str]] = {}
    for statement in role_statements(cfn, function):
        assert statement["Effect"] == "Allow"
        for action in [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]:
            actions.setdefault(action, set()).update(resource_names(statement["Resource"]))
    return actions


def test_every_route_is_served_by_the_function_that_declares_it(sam: dict[str, Any]) -> None:
    # Given every function with HttpApi events
    for name, resource in functions(sam).items():
        routes = http_routes(resource)
        if not routes:
            continue
        # Then its handler declares exactly the routes the template sends it
        assert declared_routes(resource["Properties"]["CodeUri"]) == routes, name


def test_no_route_is_served_twice(sam: dict[str, Any]) -> None:
    all_routes = [route for res in functions(sam).values() for route in http_routes(res)]
    assert len(all_routes) == len(set(all_routes))


@pytest.mark.parametrize("name", sorted(PERMISSIONS))
def test_function_has_no_more_rights_than_its_job(cfn: dict[str, Any], name: str) -> None:
    actions = granted(cfn, name)
    for action, resources in actions.items():
        assert "*" not in action, f"{name}: wildcard action {action}"
        assert action in PERMISSIONS[name], f"{name} may {action}, which its job does not need"
        assert resources <= PERMISSIONS[name][action], f"{name}: {action} on {resources}"


def test_every_function_is_listed_with_its_rights(sam: dict[str, Any]) -> None:
    missing = set(functions(sam)) - set(PERMISSIONS)
    assert not missing, f"add the rights of {missing} to PERMISSIONS"


def test_only_the_notifier_may_send_mail(cfn: dict[str, Any], sam: dict[str, Any]) -> None:
    for name in functions(sam):
        mailing = {a for a in granted(cfn, name) if a.startswith(("ses:", "sesv2:"))}
        assert not mailing or name == "NotifyFunction", f"{name} may send mail: {mailing}"


def test_read_functions_cannot_write(cfn: dict[str, Any], sam: dict[str, Any]) -> None:
    writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
    for name, resource in functions(sam).items():
        routes = http_routes(resource)
        if routes and all(route.startswith("GET ") for route in routes):
            assert not writes & set(granted(cfn, name)), name


def test_every_function_logs_to_a_log_group_with_retention(sam: dict[str, Any]) -> None:
    # Given the log group every function logs to (Globals; Lambda names each stream after its function)
    group = sam["Globals"]["Function"]["LoggingConfig"]["LogGroup"]["Ref"]
    assert sam["Resources"][group]["Type"] == "AWS::Logs::LogGroup"
    assert sam["Resources"][group]["Properties"]["RetentionInDays"], "the functions' logs are kept forever"
    # Then no function logs anywhere else
    for name, resource in functions(sam).items():
        assert "LoggingConfig" not in resource["Properties"], f"{name} overrides the log group"


def test_every_event_source_retries_a_bounded_number_of_times_then_parks_failures(sam: dict[str, Any]) -> None:
    resources = sam["Resources"]
    for name, resource in functions(sam).items():
        for event in resource["Properties"].get("Events", {}).values():
            props = event["Properties"]
            if event["Type"] == "SQS":
                queue = resources[props["Queue"]["Fn::GetAtt"][0]]["Properties"]
                assert queue["RedrivePolicy"]["maxReceiveCount"] <= 10, name
                assert "FunctionResponseTypes" in props, f"{name}: partial batch failures"
            if event["Type"] == "DynamoDB":
                assert 0 <= props["MaximumRetryAttempts"] <= 10, name
                assert props["DestinationConfig"]["OnFailure"]["Destination"], name
                assert props.get("BisectBatchOnFunctionError") is True, name
                assert "ReportBatchItemFailures" in props.get("FunctionResponseTypes", []), name


def test_api_checks_jwts_and_throttles_every_route(sam: dict[str, Any]) -> None:
    api = sam["Resources"]["HttpApi"]["Properties"]
    assert api["Auth"]["DefaultAuthorizer"] == "JwtAuthorizer"
    jwt = api["Auth"]["Authorizers"]["JwtAuthorizer"]["JwtConfiguration"]
    assert jwt["issuer"] == {"Ref": "JwtIssuer"}
    assert jwt["audience"] == {"Ref": "JwtAudience"}
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    assert api["DefaultRouteSettings"]["ThrottlingBurstLimit"] == {"Ref": "ThrottlingBurstLimit"}


def test_storage_is_private_encrypted_and_streamed(sam: dict[str, Any]) -> None:
    table = sam["Resources"]["Table"]["Properties"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} >= {"ByOrg", "ByOrgStatus", "Queue"}
    bucket = sam["Resources"]["AttachmentsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]


def test_functions_run_python313_on_arm64(sam: dict[str, Any]) -> None:
    function_globals = sam["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == ["arm64"]
    assert function_globals["Tracing"] == "Active"
    for name, resource in functions(sam).items():
        assert "Runtime" not in resource["Properties"], f"{name} overrides Globals"


def test_the_notifier_writes_only_its_mail_claims_and_mails_only_as_the_sender(cfn: dict[str, Any]) -> None:
    statements = role_statements(cfn, "NotifyFunction")
    writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
    for statement in statements:
        actions = {statement["Action"]} if isinstance(statement["Action"], str) else set(statement["Action"])
        if actions & writes:
            assert statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["NOTIFIED#*"]
        if "ses:SendEmail" in actions:
            assert statement["Condition"]["StringEquals"]["ses:FromAddress"] == {"Ref": "SenderEmail"}


def test_attachment_rights_stop_at_the_tickets_prefix(cfn: dict[str, Any], sam: dict[str, Any]) -> None:
    # Given every statement that grants an S3 action
    for name in functions(sam):
        for statement in role_statements(cfn, name):
            actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            if not any(action.startswith("s3:") for action in actions):
                continue
            # Then it names objects under tickets/ only (keys the functions choose), never the bucket
            resources = statement["Resource"]
            for resource in resources if isinstance(resources, list) else [resources]:
                text = resource["Fn::Sub"] if isinstance(resource["Fn::Sub"], str) else resource["Fn::Sub"][0]
                assert text.endswith("}/tickets/*"), f"{name}: {text}"


def test_the_check_function_is_the_buckets_target_without_a_circular_dependency(cfn: dict[str, Any]) -> None:
    # Given the bucket notifies the check function of new objects under tickets/
    bucket = cfn["Resources"]["AttachmentsBucket"]
    [target] = bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]
    assert target["Function"] == {"Fn::GetAtt": ["CheckAttachmentFunction", "Arn"]}
    assert target["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "tickets/"}]
    # Then no resource depends on itself through references (CloudFormation refuses such a stack)
    assert dependency_cycle(cfn["Resources"]) is None


def _references(node: Any, names: set[str]) -> set[str]:
    """The logical ids a template value refers to (Ref, GetAtt, Sub), as CloudFormation orders them."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= _references(item, names)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and value in names:
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".", 1)[0])
            elif key == "Fn::Sub":
                text, local = (value, {}) if isinstance(value, str) else value
                found |= {ref.split(".", 1)[0] for ref in re.findall(r"\$\{([^}!]+)\}", text)} & (names - set(local))
                found |= _references(local, names)
            else:
                found |= _references(value, names)
    return found & names


def dependency_cycle(resources: dict[str, Any]) -> list[str] | None:
    names = set(resources)
    graph = {}
    for name, resource in resources.items():
        depends = resource.get("DependsOn", [])
        graph[name] = _references(resource, names) | set([depends] if isinstance(depends, str) else depends)
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        for target in sorted(graph[name]):
            if target in path:
                return [*path, target]
            if target not in done:
                cycle = visit(target, [*path, target])
                if cycle:
                    return cycle
        done.add(name)
        return None

    for name in sorted(graph):
        if name not in done and (cycle := visit(name, [name])):
            return cycle
    return None


def test_every_scanner_finding_left_open_has_a_written_reason(sam: dict[str, Any]) -> None:
    """checkov (`make scan`) fails on any finding not skipped; each skip must say why, in one line."""
    for name, resource in sam["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert skip["id"].startswith("CKV"), (name, skip)
            assert len(skip.get("comment", "").strip()) > 20, f"{name}: {skip['id']} has no reason"


def test_the_api_logs_access_and_the_attachments_are_versioned_and_logged(sam: dict[str, Any]) -> None:
    resources = sam["Resources"]
    access = resources["HttpApi"]["Properties"]["AccessLogSettings"]
    group = resources[access["DestinationArn"]["Fn::GetAtt"][0]]
    assert group["Type"] == "AWS::Logs::LogGroup" and group["Properties"]["RetentionInDays"]
    bucket = resources["AttachmentsBucket"]["Properties"]
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert bucket["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogsBucket"}


def failure_queues(sam: dict[str, Any]) -> set[str]:
    """Every queue that holds work given up on: redrive targets, and event sources' failure destinations."""
    found: set[str] = set()
    for resource in sam["Resources"].values():
        props = resource.get("Properties", {})
        redrive = props.get("RedrivePolicy", {}).get("deadLetterTargetArn")
        if redrive:
            found.add(redrive["Fn::GetAtt"][0])
        failure = props.get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure", {})
        if failure:
            found.add(failure["Destination"]["Fn::GetAtt"][0])
        for event in props.get("Events", {}).values() if resource["Type"] == FUNCTION else ():
            destination = event["Properties"].get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            dead_letters = event["Properties"].get("DeadLetterConfig", {}).get("Arn")
            for arn in (destination, dead_letters):
                if arn:
                    found.add(arn["Fn::GetAtt"][0])
    return found


def test_every_failure_queue_has_an_alarm_that_can_page(sam: dict[str, Any]) -> None:
    # Given every queue where failed work is parked
    queues = failure_queues(sam)
    assert {"ReviewDeadLetterQueue", "NotifyFailureQueue", "CheckAttachmentFailureQueue"} <= queues
    # Then an alarm watches each for any message at all, and notifies the optional AlarmTopicArn
    alarmed = {}
    for resource in sam["Resources"].values():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            props = resource["Properties"]
            [dimension] = props["Dimensions"]
            alarmed[dimension["Value"]["Fn::GetAtt"][0]] = props
    for queue in queues:
        assert queue in alarmed, f"{queue} has no alarm"
        alarm = alarmed[queue]
        assert (alarm["MetricName"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
            "ApproximateNumberOfMessagesVisible", 0, "GreaterThanThreshold"
        )  # fmt: skip
        assert alarm["AlarmActions"] == {
            "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
        }
