"""Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`) for the template's
functions, so that a function calling another (the reviewer asking the cluster-context provider,
`CLUSTER_CONTEXT_FUNCTION`) reaches the local runtime.

Served on the local AWS endpoint itself (local.aws.LocalAwsMiddleware, in front of moto): the
functions' boto3 already talks to it (AWS_ENDPOINT_URL), so no extra port or variable is needed,
and `AWS_ENDPOINT_URL_LAMBDA`, when a function's environment sets one, still wins in boto3. A
function is named as Lambda accepts it: its name, its ARN, or a partial ARN
(`123456789012:function:name`), with no qualifier or `$LATEST`.

- RequestResponse (the default): the function's result as the body, 200; a function error is
  200 with `X-Amz-Function-Error: Unhandled` and the error document, as in Lambda.
- Event: 202 at once; the invocation goes to the asynchronous queue (local.events.AsyncInvoker:
  retries, destinations).
- DryRun: 204.
Errors as Lambda answers them (`x-amzn-ErrorType`, a JSON `message`): an unknown function or
qualifier is 404 ResourceNotFoundException, a payload that is not JSON 400
InvalidRequestContentException, one over 6 MB (256 KB for Event) 413 RequestTooLargeException, an
unknown invocation type 400 InvalidParameterValueException, a full asynchronous queue 429."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs, unquote

from local import config
from local.events import AsyncInvoker
from local.runtime import MAX_SYNC_PAYLOAD, Runtime

log = logging.getLogger("local.lambda")

MAX_ASYNC_PAYLOAD = 256 * 1024
Reply = tuple[int, list[tuple[str, str]], bytes]


def _error(status: int, kind: str, text: str) -> Reply:
    body = json.dumps({"Type": "User", "message": text}).encode()
    return status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", kind)], body


class LambdaApi:
    """Answers Invoke for the runtime's functions (see the module docstring)."""

    def __init__(self, runtime: Runtime, invoker: AsyncInvoker | None = None) -> None:
        self.runtime, self.invoker = runtime, invoker

    def resolve(self, name: str) -> str | None:
        """The logical id of the function `name` designates (name, ARN or partial ARN, optionally
        `:$LATEST`), or None."""
        qualifier = None
        parts = name.split(":")
        if name.startswith("arn:"):
            # arn:aws:lambda:region:account:function:name[:qualifier]
            if len(parts) not in (7, 8) or parts[2] != "lambda" or parts[5] != "function":
                return None
            if parts[3] != config.REGION or parts[4] != config.ACCOUNT_ID:
                return None
            function, qualifier = parts[6], (parts[7] if len(parts) == 8 else None)
        elif len(parts) in (3, 4) and parts[1] == "function":  # account:function:name[:qualifier]
            if parts[0] != config.ACCOUNT_ID:
                return None
            function, qualifier = parts[2], (parts[3] if len(parts) == 4 else None)
        elif len(parts) in (1, 2):
            function, qualifier = parts[0], (parts[1] if len(parts) == 2 else None)
        else:
            return None
        if qualifier not in (None, "$LATEST"):
            return None
        for logical_id, spec in self.runtime.specs.items():
            if spec.name == function:
                return logical_id
        return None

    def __call__(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Reply:
        if method != "POST":
            return _error(405, "MethodNotAllowedException", f"{method} is not allowed on {path}; Invoke is a POST")
        name = unquote(path.split("/functions/", 1)[1].rsplit("/invocations", 1)[0])
        qualifier = parse_qs(query).get("Qualifier", [None])[0]
        target = f"{name}:{qualifier}" if qualifier and name.count(":") in (0, 2, 6) else name  # not qualified yet
        logical_id = self.resolve(target)
        if logical_id is None:
            arn = (
                name
                if name.startswith("arn:")
                else f"arn:aws:lambda:{config.REGION}:{config.ACCOUNT_ID}:function:{name}"
            )
            suffix = f":{qualifier}" if qualifier else ""
            return _error(404, "ResourceNotFoundException", f"Function not found: {arn}{suffix}")
        kind = headers.get("x-amz-invocation-type", "RequestResponse")
        if kind not in ("RequestResponse", "Event", "DryRun"):
            return _error(
                400,
                "InvalidParameterValueException",
                f"invocation type {kind!r} is not one of RequestResponse, Event, DryRun",
            )
        limit = MAX_ASYNC_PAYLOAD if kind == "Event" else MAX_SYNC_PAYLOAD
        if len(body) > limit:
            return _error(
                413, "RequestTooLargeException", f"Request must be smaller than {limit} bytes for the Invoke operation"
            )
        try:
            event: Any = json.loads(body) if body.strip() else {}
        except ValueError as exc:
            return _error(400, "InvalidRequestContentException", f"Could not parse request body into json: {exc}")
        if kind == "DryRun":
            return 204, [], b""
        if kind == "Event":
            if self.invoker is None or not self.invoker.submit(logical_id, event, f"invoke {logical_id}", wait=0):
                return _error(429, "TooManyRequestsException", "Rate Exceeded.")
            return 202, [("X-Amz-Executed-Version", "$LATEST")], b""
        invocation = self.runtime.invoke(logical_id, event)
        reply = [("Content-Type", "application/json"), ("X-Amz-Executed-Version", "$LATEST")]
        if invocation.ok:
            payload = json.dumps(invocation.payload).encode()
            if len(payload) > MAX_SYNC_PAYLOAD:
                error = {
                    "errorType": "Function.ResponseSizeTooLarge",
                    "errorMessage": f"Response payload size exceeded maximum allowed payload size ({MAX_SYNC_PAYLOAD} bytes).",
                }
                return 200, [*reply, ("X-Amz-Function-Error", "Unhandled")], json.dumps(error).encode()
            return 200, reply, payload
        error = {k: v for k, v in (invocation.error or {}).items() if k != "requestId"}
        return 200, [*reply, ("X-Amz-Function-Error", "Unhandled")], json.dumps(error).encode()
