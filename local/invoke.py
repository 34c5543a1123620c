"""`python -m local.invoke CreateTicketFunction -e events/create_ticket.json`: a docker-free
`sam local invoke`.

The function runs once, in a fresh execution environment (local.worker) with the environment the
template gives it. Against the running stack's AWS when one runs (`make run`: .local/<port>/stack.json;
`--port` chooses when several run), so the invocation sees and changes the same data as the API; otherwise against a throwaway moto
started for this invocation, with the template's resources created and discarded afterwards.
Like sam, the response goes to stdout and the function's logs to stderr; the exit code is 1 when
the function fails."""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from local import config


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 80), timeout=1):
            return True
    except OSError:
        return False


class _Unusable(Exception):
    pass


def _json_file(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise _Unusable(f"{what} file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _Unusable(f"cannot read {what} file {path} ({exc})") from None
    except ValueError as exc:
        raise _Unusable(f"{what} file {path} is not JSON ({exc})") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.invoke", description=__doc__.split("\n\n")[0])
    parser.add_argument("function", help="logical id of the function, e.g. CreateTicketFunction")
    parser.add_argument("-e", "--event", help="event file (JSON), or - for stdin; default {}")
    parser.add_argument(
        "-n", "--env-vars", help='JSON file of environment overrides, as sam\'s: {"Function": {"VAR": "value"}}'
    )
    parser.add_argument("--parameter-overrides", nargs="*", default=[], metavar="Name=Value")
    parser.add_argument("--throwaway", action="store_true", help="use a throwaway moto even when a stack runs")
    parser.add_argument(
        "--port", type=int, help="the running stack to use, by its gateway port (default: $PORT, or the one running)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname).1s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    try:
        event: Any = (
            json.load(sys.stdin) if args.event == "-" else _json_file(args.event, "event") if args.event else {}
        )
        env_vars = _json_file(args.env_vars, "--env-vars") if args.env_vars else None
        running = None if args.throwaway else config.running_stack(args.port)
    except (_Unusable, config.StackChoice) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except ValueError as exc:  # stdin
        print(f"error: the event on stdin is not JSON ({exc})", file=sys.stderr)
        return 2

    import boto3

    from local import aws, functions, template
    from local.runtime import Runtime
    from local.stack import parse_overrides

    if running and not _reachable(running["aws_endpoint"]):
        running = None  # its description outlived it (a reused pid)
    local_aws = None
    if running:
        endpoint = running["aws_endpoint"]
        stack = template.Stack(names=running["names"], arns=running["arns"])
        parameters = {**running["parameters"], **parse_overrides(args.parameter_overrides)}
        print(f"Invoking {args.function} against the running stack's AWS ({endpoint})", file=sys.stderr)
    else:
        local_aws = aws.LocalAws()
        endpoint = local_aws.start()
        why = "--throwaway" if args.throwaway else "no stack is running"
        print(f"Invoking {args.function} against a throwaway moto ({endpoint}; {why})", file=sys.stderr)
        parameters = {**config.PARAMETERS, **parse_overrides(args.parameter_overrides)}
    aws_env = config.aws_environment(endpoint)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update(aws_env)
    runtime = None
    try:
        if local_aws is not None:
            session = boto3.Session(region_name=config.REGION)
            values = {**functions.pseudo_parameters(), **parameters}
            stack = template.create_all(session, config.PREFIX, endpoint, values)
            aws.create_extras(session, stack, values, endpoint)
        functions.register_functions(stack, {**functions.pseudo_parameters(), **parameters})
        specs = functions.discover(stack, {**functions.pseudo_parameters(), **parameters})
        if args.function not in specs:
            print(
                f"error: no function {args.function!r} in the template; functions: {', '.join(sorted(specs))}",
                file=sys.stderr,
            )
            return 2
        spec = specs[args.function]
        if env_vars is not None:
            overrides = env_vars
            spec.environment.update({k: str(v) for k, v in overrides.get("Parameters", {}).items()})
            spec.environment.update({k: str(v) for k, v in overrides.get(args.function, {}).items()})
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
        # every function (environments start only when invoked): the one asked for may invoke another
        runtime = Runtime(
            {**specs, args.function: spec},
            {**{k: os.environ[k] for k in keep if k in os.environ}, **aws_env},
            watch=False,
        )
        if local_aws is not None:  # a running stack answers Lambda's Invoke itself
            from local.lambda_api import LambdaApi

            local_aws.serve_functions(LambdaApi(runtime))
        invocation = runtime.invoke(args.function, event)
        init = f"  Init Duration: {invocation.init_ms} ms" if invocation.init_ms is not None else ""
        print(
            f"REPORT RequestId: {invocation.request_id}  Duration: {invocation.duration_ms} ms{init}  "
            f"Memory Size: {spec.memory} MB",
            file=sys.stderr,
        )
        print(json.dumps(invocation.payload if invocation.ok else invocation.error))
        return 0 if invocation.ok else 1
    finally:
        if runtime is not None:
            runtime.close()
        if local_aws is not None:
            local_aws.stop()


if __name__ == "__main__":
    sys.exit(main())
