"""Read template.yaml and create its resources (tables, bucket, queues) through boto3.

Used by the tests (against moto in-process) and by the local stack (against moto's server), so
both build exactly what the template declares."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
# HELPDESK_TEMPLATE points the local stack at another template (its integration tests add probe
# functions to a copy of this one); CodeUri / ContentUri are relative to the template's folder.
TEMPLATE = Path(os.environ.get("HELPDESK_TEMPLATE") or ROOT / "template.yaml").resolve()


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation's short-form tags (!Ref, !Sub, !GetAtt …)."""


def _tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


@cache
def load(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


def resources(kind: str, template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    template = template or load()
    return {name: res for name, res in template["Resources"].items() if res["Type"] == kind}


def policy_statements(function: dict[str, Any], template: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The statements a function's role is granted: its inline `Policies` statements and those of the
    template's managed policies it names (`- !Ref SomePolicy`)."""
    template = template or load()
    statements: list[dict[str, Any]] = []
    for policy in function["Properties"].get("Policies", []):
        if isinstance(policy, dict) and "Ref" in policy:
            managed = template["Resources"][policy["Ref"]]
            assert managed["Type"] == "AWS::IAM::ManagedPolicy", policy
            statements += managed["Properties"]["PolicyDocument"]["Statement"]
        elif isinstance(policy, dict):
            granted = (_granted(statement) for statement in policy.get("Statement", []))
            statements += [statement for statement in granted if statement is not None]
    return statements


def _granted(statement: dict[str, Any]) -> dict[str, Any] | None:
    """A statement, or the one a condition would add (`!If [Condition, statement, !Ref AWS::NoValue]`:
    counted as granted, as when the condition holds)."""
    if "Fn::If" in statement:
        _, granted, otherwise = statement["Fn::If"]
        return granted if isinstance(granted, dict) and "Ref" not in granted else otherwise
    return statement


@dataclass
class Stack:
    """Physical names of the resources created from the template."""

    names: dict[str, str] = field(default_factory=dict)  # logical id -> table name / bucket / queue url
    arns: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # secret ARN -> its generated value


def create_tables(dynamodb: Any, stack: Stack, prefix: str = "helpdesk") -> None:
    for logical_id, res in resources("AWS::DynamoDB::Table").items():
        props = res["Properties"]
        name = f"{prefix}-{logical_id}".lower()
        request: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if "GlobalSecondaryIndexes" in props:
            request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if "StreamSpecification" in props:
            request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        description = dynamodb.create_table(**request)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        stack.names[logical_id] = name
        stack.arns[logical_id] = description["TableArn"]
        if "LatestStreamArn" in description:
            stack.arns[f"{logical_id}.StreamArn"] = description["LatestStreamArn"]


def create_queues(sqs: Any, stack: Stack, prefix: str = "helpdesk") -> None:
    queues = resources("AWS::SQS::Queue")
    # dead-letter queues first: the others name them in their redrive policy
    ordered = sorted(queues, key=lambda logical_id: "RedrivePolicy" in queues[logical_id]["Properties"])
    for logical_id in ordered:
        props = queues[logical_id]["Properties"]
        attributes = {key: str(props[key]) for key in ("VisibilityTimeout", "MessageRetentionPeriod") if key in props}
        redrive = props.get("RedrivePolicy")
        if redrive:
            target = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": stack.arns[target], "maxReceiveCount": str(redrive["maxReceiveCount"])}
            )
        url = sqs.create_queue(QueueName=f"{prefix}-{logical_id}", Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        stack.names[logical_id] = url
        stack.arns[logical_id] = arn


def create_buckets(s3: Any, stack: Stack, prefix: str = "helpdesk") -> None:
    for logical_id in resources("AWS::S3::Bucket"):
        name = f"{prefix}-{logical_id}".lower()
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name})
        stack.names[logical_id] = name
        stack.arns[logical_id] = f"arn:aws:s3:::{name}"


def create_secrets(secretsmanager: Any, stack: Stack, prefix: str = "helpdesk") -> None:
    """Secrets the template generates (GenerateSecretString), generated here the same way."""
    for logical_id, res in resources("AWS::SecretsManager::Secret").items():
        spec = res["Properties"].get("GenerateSecretString", {})
        value = secretsmanager.get_random_password(
            PasswordLength=int(spec.get("PasswordLength", 32)),
            ExcludePunctuation=bool(spec.get("ExcludePunctuation", False)),
        )["RandomPassword"]
        arn = secretsmanager.create_secret(Name=f"{prefix}-{logical_id}", SecretString=value)["ARN"]
        stack.names[logical_id] = stack.arns[logical_id] = arn
        stack.secrets[arn] = value


def create_event_buses(events: Any, stack: Stack, prefix: str = "helpdesk") -> None:
    for logical_id in resources("AWS::Events::EventBus"):
        name = f"{prefix}-{logical_id}".lower()
        stack.arns[logical_id] = events.create_event_bus(Name=name)["EventBusArn"]
        stack.names[logical_id] = name


def create_all(session: Any, prefix: str = "helpdesk", endpoint_url: str | None = None) -> Stack:
    stack = Stack()
    create_event_buses(session.client("events", endpoint_url=endpoint_url), stack, prefix)
    create_secrets(session.client("secretsmanager", endpoint_url=endpoint_url), stack, prefix)
    create_tables(session.client("dynamodb", endpoint_url=endpoint_url), stack, prefix)
    create_queues(session.client("sqs", endpoint_url=endpoint_url), stack, prefix)
    create_buckets(session.client("s3", endpoint_url=endpoint_url), stack, prefix)
    return stack


def function_environment(stack: Stack, logical_id: str, parameters: dict[str, str]) -> dict[str, str]:
    """The environment the template gives a function (Globals merged with its own), resolved
    against the created resources and the given parameter values."""
    template = load()
    variables = dict(template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
    own = template["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {})
    variables.update(own)
    values = _values(stack, parameters)
    return {name: _resolve(value, values, stack) for name, value in variables.items()}


def resolve(value: Any, stack: Stack, parameters: dict[str, str]) -> str:
    """One template value (Ref, GetAtt, Sub, Join, Select, If) resolved against the created resources."""
    return _resolve(value, _values(stack, parameters), stack)


def _values(stack: Stack, parameters: dict[str, str]) -> dict[str, str]:
    defaults = {name: str(p.get("Default", "")) for name, p in load().get("Parameters", {}).items()}
    return {**defaults, **parameters, **stack.names}


def _condition(name: str, values: dict[str, str]) -> bool:
    """A template condition of the form !Equals [!Ref Parameter, "value"]."""
    left, right = load()["Conditions"][name]["Fn::Equals"]
    return str(values.get(left["Ref"], "")) == str(right)


def _resolve(value: Any, values: dict[str, str], stack: Stack) -> str:
    named = _named_resource(value, stack)
    if named is not None:
        return named
    if isinstance(value, dict) and "Ref" in value:
        return values.get(value["Ref"], "")
    if isinstance(value, dict) and "Fn::If" in value:
        condition, when_true, when_false = value["Fn::If"]
        return _resolve(when_true if _condition(condition, values) else when_false, values, stack)
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return _attribute(logical_id, attribute, stack)
    if isinstance(value, dict) and "Fn::Sub" in value:
        text, extra = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
        scope = {**values, **{name: _resolve(v, values, stack) for name, v in extra.items()}}
        substituted = _SUB.sub(lambda match: _substitute(match.group(1), scope, stack), text)
        return _DYNAMIC.sub(lambda match: stack.secrets.get(match.group(1), ""), substituted)
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_resolve_list(parts, values, stack))
    if isinstance(value, dict) and "Fn::Select" in value:
        index, items = value["Fn::Select"]
        return _resolve_list(items, values, stack)[int(_resolve(index, values, stack))]
    if isinstance(value, list):  # a CommaDelimitedList parameter's value, as Lambda would see it joined
        return ",".join(_resolve(item, values, stack) for item in value)
    return str(value)


def _resolve_list(value: Any, values: dict[str, str], stack: Stack) -> list[str]:
    if isinstance(value, list):
        return [_resolve(item, values, stack) for item in value]
    if isinstance(value, dict) and "Fn::Split" in value:
        separator, text = value["Fn::Split"]
        return _resolve(text, values, stack).split(separator)
    return _resolve(value, values, stack).split(",")  # a CommaDelimitedList parameter


_SUB = re.compile(r"\$\{([^}!][^}]*)\}")
# a dynamic reference CloudFormation resolves at deploy time: the secret's value
_DYNAMIC = re.compile(r"\{\{resolve:secretsmanager:(.+?):SecretString(?:::)?\}\}")


def _named_resource(value: Any, stack: Stack) -> str | None:
    """A value spelled exactly like a created resource's own name property (the attachments bucket's
    BucketName, spelled out where a !Ref would be a circular dependency) is that resource's name."""
    if not isinstance(value, dict):
        return None
    for logical_id, resource in load()["Resources"].items():
        if logical_id in stack.names and value == resource.get("Properties", {}).get("BucketName"):
            return stack.names[logical_id]
    return None


def _substitute(name: str, values: dict[str, str], stack: Stack) -> str:
    if "." in name and name not in values:
        logical_id, attribute = name.split(".", 1)
        return _attribute(logical_id, attribute, stack)
    return values.get(name, "")


def _attribute(logical_id: str, attribute: str, stack: Stack) -> str:
    """!GetAtt of a created resource: ARNs (and stream ARNs) from `stack.arns`, names from `stack.names`."""
    if f"{logical_id}.{attribute}" in stack.arns:
        return stack.arns[f"{logical_id}.{attribute}"]
    name = stack.names.get(logical_id, "")
    if attribute in ("QueueUrl", "Name", "BucketName") or (attribute == "QueueName" and "/" not in name):
        return name
    if attribute == "QueueName":
        return name.rsplit("/", 1)[-1]
    return stack.arns.get(logical_id, "")
