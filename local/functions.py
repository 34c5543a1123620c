"""The template's functions as the local runtime runs them: code, layers, handler, timeout and the
environment Lambda would give them (the template's variables plus the runtime's own)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local import config, template

FUNCTION = "AWS::Serverless::Function"
LAYER = "AWS::Serverless::LayerVersion"


@dataclass
class FunctionSpec:
    logical_id: str
    name: str  # the physical function name
    arn: str
    code_dir: Path
    handler: str  # module.attribute, e.g. app.lambda_handler
    paths: list[Path]  # sys.path entries: the code, then the layers (Lambda's /var/task, /opt/python)
    environment: dict[str, str]
    timeout: float
    memory: int
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)  # merged with Globals, unresolved

    def events_of(self, *kinds: str) -> dict[str, dict[str, Any]]:
        return {name: event for name, event in self.events.items() if event.get("Type") in kinds}

    def runtime_environment(self) -> dict[str, str]:
        """What Lambda adds to the template's variables."""
        return {
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{self.logical_id}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "LAMBDA_TASK_ROOT": str(self.code_dir),
            "TZ": "UTC",
        }


def merged_properties(logical_id: str) -> dict[str, Any]:
    """A function's properties with the template's Globals.Function under them (SAM's merge rules:
    maps merge, Layers concatenate, the function's own scalars win)."""
    doc = template.load()
    globals_ = dict(doc.get("Globals", {}).get("Function", {}))
    own = doc["Resources"][logical_id]["Properties"]
    merged: dict[str, Any] = {**globals_, **own}
    if "Environment" in globals_ or "Environment" in own:
        variables = {
            **globals_.get("Environment", {}).get("Variables", {}),
            **own.get("Environment", {}).get("Variables", {}),
        }
        merged["Environment"] = {"Variables": variables}
    if "Layers" in globals_ and "Layers" in own:
        merged["Layers"] = [*globals_["Layers"], *own["Layers"]]
    return merged


def function_name(logical_id: str) -> str:
    return f"{config.PREFIX}-{logical_id}"


def function_arn(logical_id: str) -> str:
    return f"arn:aws:lambda:{config.REGION}:{config.ACCOUNT_ID}:function:{function_name(logical_id)}"


def register_functions(stack: template.Stack, parameters: dict[str, str] | None = None) -> None:
    """Let `!Ref Function` / `!GetAtt Function.Arn` resolve like the created resources do (the
    functions whose `Condition` holds for `parameters`, template defaults where not given)."""
    for logical_id in template.created(FUNCTION, stack, parameters):
        stack.names[logical_id] = function_name(logical_id)
        stack.arns[logical_id] = function_arn(logical_id)


def pseudo_parameters() -> dict[str, str]:
    return {
        "AWS::Region": config.REGION,
        "AWS::AccountId": config.ACCOUNT_ID,
        "AWS::StackName": config.PREFIX,
        "AWS::StackId": f"arn:aws:cloudformation:{config.REGION}:{config.ACCOUNT_ID}:stack/{config.PREFIX}/local",
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NoValue": "",
    }


def discover(stack: template.Stack, parameters: dict[str, str]) -> dict[str, FunctionSpec]:
    """Every AWS::Serverless::Function of the template that exists for these parameters (its
    resource `Condition` holds), ready to run against `stack`."""
    base = template.TEMPLATE.parent
    layers = template.resources(LAYER)
    values = {**pseudo_parameters(), **parameters}
    specs: dict[str, FunctionSpec] = {}
    for logical_id in template.created(FUNCTION, stack, values):
        props = merged_properties(logical_id)
        code_dir = (base / str(props.get("CodeUri", "."))).resolve()
        paths = [code_dir]
        for layer in props.get("Layers", []):
            if isinstance(layer, dict) and layer.get("Ref") in layers:
                content = (base / str(layers[layer["Ref"]]["Properties"]["ContentUri"])).resolve()
                paths += [path for path in (content / "python", content) if path.is_dir()]
            # a published layer (an ARN) is not fetched: its packages must be in the virtualenv
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            name=function_name(logical_id),
            arn=function_arn(logical_id),
            code_dir=code_dir,
            handler=str(props.get("Handler", "app.lambda_handler")),
            paths=paths,
            environment=template.function_environment(stack, logical_id, values),
            timeout=float(template.resolve(props.get("Timeout", 3), stack, values)),
            memory=int(template.resolve(props.get("MemorySize", 128), stack, values)),
            events=dict(props.get("Events", {})),
            properties=props,
        )
    return specs
