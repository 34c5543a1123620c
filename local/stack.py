"""`python -m local.stack` (`make run`): the whole system on this machine, no Docker.

moto's server on a free loopback port stands in for AWS; every resource of template.yaml is
created in it; every function runs in its own Lambda-like environment (local.worker); the
gateway serves the template's HttpApi routes on 127.0.0.1:3000 (PORT overrides) with its JWT
authorizer; the template's event sources (SQS, DynamoDB stream, S3) are polled as Lambda polls
them; events put on the template's bus are recorded (GET /_local/events) and delivered to its
rules (local.events), functions invoke each other through Lambda's Invoke API (local.lambda_api),
and its schedules run every LOCAL_SCHEDULE_SECONDS (local.schedules). Demo tenants are seeded and their tokens written to .local/tokens.json; the stack describes
itself in .local/<port>/stack.json (for local.invoke, local.token, local.seed). Ctrl-C or SIGTERM
stops it."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from local import config
from local.template import ROOT

log = logging.getLogger("local.stack")
DEFAULT_PORT = 3000


class LocalStack:
    """The local stack, started and stopped in this process."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 3000,
        aws_port: int = 0,
        parameters: dict[str, str] | None = None,
        seed: bool = True,
    ) -> None:
        self.host, self.port, self.aws_port = host, port, aws_port
        # AppBaseUrl: the web app is served here (mail links, and the bucket's CORS for browser uploads)
        self.parameters = {**config.PARAMETERS, "AppBaseUrl": f"http://{host}:{port}", **(parameters or {})}
        self.seed_tenants = seed
        self.ready = threading.Event()
        self.tokens: dict[str, str] = {}

    # ------------------------------------------------------------------ start

    def start(self) -> None:
        started = time.perf_counter()
        import boto3

        from local import aws, functions, keys, template, web
        from local.gateway import Gateway, Server, routes_from_template
        from local.lambda_api import LambdaApi
        from local.runtime import Runtime
        from local.sources import EventSources

        self.state = config.state_dir()
        self.state.mkdir(parents=True, exist_ok=True)
        # its zygote preloads while AWS comes up (the endpoint is filled in once known)
        self.runtime = Runtime({}, {**_process_env(), **config.aws_environment("")})
        self.gateway = Gateway([], self.runtime)
        try:  # the port first: if it is taken, say so before anything else
            self.server = Server(self.gateway, self.host, self.port)
        except OSError as exc:
            raise SystemExit(
                f"cannot serve on {self.host}:{self.port} ({exc.strerror}); is a stack running already? Try PORT=..."
            ) from exc
        self.aws = aws.LocalAws(self.host, self.aws_port)
        self.aws_url = self.aws.start()
        aws_env = config.aws_environment(self.aws_url)
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            os.environ.pop(name, None)
        os.environ.update(aws_env)  # this process's own clients (pollers) talk to moto too
        session = boto3.Session(region_name=config.REGION)
        values = {**functions.pseudo_parameters(), **self.parameters}
        self.stack = template.create_all(session, config.PREFIX, self.aws_url, values)
        functions.register_functions(self.stack, values)
        aws.create_extras(session, self.stack, values, self.aws_url)
        key_set = keys.ensure(self.state)
        self.specs = functions.discover(self.stack, values)
        self._events_and_schedules(session, values)  # a rule or schedule the stack cannot run stops it here
        self.runtime.set_functions(self.specs, aws_env)
        init_errors = self.runtime.warm()
        for logical_id, error in sorted(init_errors.items()):
            log.error("%s cannot start (%s); its requests will fail until the code is fixed", logical_id, error)
        self.routes = self.gateway.routes = routes_from_template(self.specs, self.stack, values, key_set)
        self._local_endpoints(key_set)
        web.install(self.gateway, self)  # the web support center at /
        self.server.start()
        self.sources = EventSources(self.specs, self.stack, values, self.runtime, session, self.aws_url)
        self.sources.start()
        self.invoker.start()
        self.aws.events.listeners.append(self.delivery)
        self.aws.serve_functions(LambdaApi(self.runtime, self.invoker))
        self.scheduler.start()
        self.tokens = self._mint_tokens()
        if self.seed_tenants:
            self._seed()
        self._write_state()
        self.ready.set()
        self.startup_seconds = time.perf_counter() - started

    def _events_and_schedules(self, session: Any, values: dict[str, str]) -> None:
        """The template's event rules and schedules, the asynchronous invoker they use, and which
        buses /_local/events records (the template's own; the default bus when it has none)."""
        from local import events, schedules, template
        from local.sources import Destinations, async_config

        try:
            rules, skipped_rules = events.rules_from_template(self.specs, self.stack, values)
            found, skipped_schedules = schedules.schedules_from_template(self.specs, self.stack, values)
            period = schedules.period_from_environment()
        except ValueError as exc:
            raise SystemExit(str(exc)) from None
        self.not_emulated = skipped_rules + skipped_schedules
        destinations = Destinations(session, self.aws_url)
        configs = {logical_id: async_config(spec, self.stack, values) for logical_id, spec in self.specs.items()}
        self.invoker = events.AsyncInvoker(self.runtime, configs, destinations)
        self.delivery = events.Delivery(rules, self.invoker, destinations)
        self.scheduler = schedules.Scheduler(found, self.invoker, period)
        buses = {
            self.stack.names[logical_id] for logical_id in template.created("AWS::Events::EventBus", self.stack, values)
        }
        self.aws.events.recorded_buses = buses or {events.DEFAULT_BUS}

    def _local_endpoints(self, key_set: dict[str, Any]) -> None:
        from local.gateway import HttpRequest, HttpResponse, message

        def reply(status: int, document: Any) -> HttpResponse:
            return HttpResponse(
                status,
                [("Content-Type", "application/json")],
                json.dumps(document, indent=1, ensure_ascii=False).encode(),
            )

        def health(_: HttpRequest) -> HttpResponse:
            if not self.ready.is_set():
                return reply(503, {"status": "starting"})
            return reply(
                200,
                {
                    "status": "ok",
                    "aws_endpoint": self.aws_url,
                    "functions": sorted(self.specs),
                    "routes": len(self.routes),
                    "event_sources": [poller.description for poller in self.sources.pollers],
                    "rules": self.delivery.status(),
                    "schedules": self.scheduler.status(),
                    "asynchronous_pending": self.invoker.pending(),
                },
            )

        def mail(request: HttpRequest) -> HttpResponse:
            query = dict(parse_qsl(request.raw_query))
            mails = self.aws.mailbox.all()
            if "to" in query:
                wanted = query["to"].lower()
                mails = [
                    m
                    for m in mails
                    if wanted in [a.lower() for a in m.get("to", []) + m.get("cc", []) + m.get("bcc", [])]
                ]
            return reply(200, mails)

        def events(request: HttpRequest) -> HttpResponse:
            """The events put on the template's bus, oldest first (the last EVENTS_KEPT)."""
            known = ("detail-type", "source")
            query = dict(parse_qsl(request.raw_query, keep_blank_values=True))
            unknown = sorted(set(query) - set(known))
            if unknown:
                return reply(
                    400,
                    {
                        "message": f"unknown query parameter {', '.join(unknown)}; /_local/events takes {', '.join(known)}"
                    },
                )
            return reply(200, self.aws.events.log.all(query.get("detail-type"), query.get("source")))

        def clear_events(_: HttpRequest) -> HttpResponse:
            self.aws.events.log.clear()
            return HttpResponse(204, [], b"")

        def clear_mail(_: HttpRequest) -> HttpResponse:
            self.aws.mailbox.clear()
            return HttpResponse(204, [], b"")

        def routes(_: HttpRequest) -> HttpResponse:
            return reply(
                200, [{"route": r.key, "function": r.function, "auth": bool(r.authorizer)} for r in self.routes]
            )

        self.gateway.local.update(
            {
                ("GET", "/_local/health"): health,
                ("GET", "/_local/mail"): mail,
                ("DELETE", "/_local/mail"): clear_mail,
                ("GET", "/_local/events"): events,
                ("DELETE", "/_local/events"): clear_events,
                ("GET", "/_local/jwks.json"): lambda _: reply(200, key_set),
                ("GET", "/_local/routes"): routes,
                ("POST", "/_local/health"): lambda _: message(405, "Method Not Allowed"),
            }
        )

    def _mint_tokens(self) -> dict[str, str]:
        from local import keys

        audience = self.parameters["JwtAudience"].split(",")[0].strip()
        org_claim = self.parameters.get("OrgClaim", "org_id")
        roles_claim = self.parameters.get("RolesClaim", "roles")
        tokens = {}
        for user in config.DEMO_USERS:
            claims = keys.user_claims(
                user.sub, user.email, user.org, user.roles, org_claim=org_claim, roles_claim=roles_claim
            )
            tokens[user.key] = keys.mint(
                claims, issuer=self.parameters["JwtIssuer"], audience=audience, directory=self.state
            )
        return tokens

    def _seed(self) -> None:
        """The demo users introduce themselves (PATCH /v1/me), as members do by using the API."""
        from local.gateway import HttpRequest

        for user in config.DEMO_USERS:
            request = HttpRequest(
                method="PATCH",
                target="/v1/me",
                protocol="HTTP/1.1",
                headers=[
                    ("Host", f"{self.host}:{self.server.port}"),
                    ("Authorization", f"Bearer {self.tokens[user.key]}"),
                    ("Content-Type", "application/json"),
                    ("User-Agent", "local-stack-seed"),
                ],
                body=json.dumps({"email_notifications": True}).encode(),
                source_ip="127.0.0.1",
            )
            response, function = self.gateway.handle(request)
            if function is None:
                log.warning("no PATCH /v1/me route: demo members not seeded")
                return
            if response.status >= 300:
                log.warning("seeding %s: %s %s", user.key, response.status, response.body[:300])

    def _write_state(self) -> None:
        """This stack's description in .local/<port>/ (for local.invoke, local.token, local.seed), and
        the demo tokens there and in .local/tokens.json (the documented place: every stack of the
        checkout signs with the same key, so they work on each)."""
        tokens = json.dumps(self.tokens, indent=2) + "\n"
        self.own_state = config.stack_dir(self.server.port)
        self.own_state.mkdir(parents=True, exist_ok=True)
        (self.own_state / "tokens.json").write_text(tokens)
        (self.state / "tokens.json").write_text(tokens)
        info = {
            "pid": os.getpid(),
            "api_url": self.server.url,
            "aws_endpoint": self.aws_url,
            "region": config.REGION,
            "account_id": config.ACCOUNT_ID,
            "prefix": config.PREFIX,
            "parameters": self.parameters,
            "names": self.stack.names,
            "arns": self.stack.arns,
        }
        (self.own_state / "stack.json").write_text(json.dumps(info, indent=2) + "\n")

    # ------------------------------------------------------------------ stop

    def stop(self) -> None:
        self.ready.clear()
        state = getattr(self, "own_state", None)
        if state is not None:
            path = state / "stack.json"
            try:
                if json.loads(path.read_text()).get("pid") == os.getpid():
                    path.unlink()
            except (OSError, ValueError):
                pass
        # the front door first, then what feeds the functions, the functions, and AWS last
        for part, method in (
            ("server", "stop"),
            ("scheduler", "stop"),
            ("sources", "stop"),
            ("invoker", "stop"),
            ("runtime", "close"),
            ("aws", "stop"),
        ):
            component = self.__dict__.pop(part, None)
            if component is None:
                continue
            try:
                getattr(component, method)()
            except Exception:
                log.exception("while stopping the %s", part)

    # ------------------------------------------------------------------ banner

    def banner(self) -> str:
        url = self.server.url
        tokens = self.state / "tokens.json"
        shown = _relative(tokens)
        lines = [
            f"Helpdesk local stack on {url}  (ready in {self.startup_seconds:.1f} s)",
            f"  AWS (moto) {self.aws_url}   region {config.REGION}   state {_relative(self.state)}/",
            f"  {len(self.specs)} functions, {len(self.routes)} routes; GET {url}/_local/routes lists them",
        ]
        for poller in self.sources.pollers:
            lines.append(f"  event source: {poller.description}")
        for rule in self.delivery.rules:
            lines.append(f"  event {rule.description}")
        for schedule in self.scheduler.schedules:
            lines.append(
                f"  schedule {schedule.name} ({schedule.expression}) → {schedule.function}, "
                f"locally every {self.scheduler.period:g} s (LOCAL_SCHEDULE_SECONDS)"
            )
        for skipped in [*self.sources.skipped, *self.not_emulated]:
            lines.append(f"  not emulated: {skipped}")
        lines.append(f"  demo tokens (valid 24 h) in {shown}:")
        for user in config.DEMO_USERS:
            lines.append(f"    {user.key:<12} org {user.org:<9} roles {','.join(user.roles):<8} {user.email}")
        lines += [
            "",
            "Try it (paste into a shell):",
            f"  export API={url} TOKEN={self.tokens['acme_user']}",
            "  curl -s -X POST $API/v1/tickets -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\",
            '    -d \'{"category":"technical","body":"Node provisioning is stuck in fra1 since 14:00 UTC."}\'',
            '  curl -s $API/v1/tickets -H "Authorization: Bearer $TOKEN"',
            '  curl -s $API/v1/tickets/<id> -H "Authorization: Bearer $TOKEN"',
            "  curl -s $API/_local/mail",
            "  curl -s '$API/_local/events?detail-type=Ticket%20Created'",
            f"  other users: TOKEN=$(jq -r .support {shlex.quote(shown)})",
            f"  any user:    TOKEN=$({self.token_command()})",
            "",
            "Ctrl-C stops the stack.",
        ]
        return "\n".join(lines)

    def token_command(self) -> str:
        """How to mint a token for anyone, as it runs from the directory the stack was started in."""
        python = shlex.quote(_relative(Path(sys.executable).absolute()))
        command = f"{python} -m local.token --org initech --sub u-42 --email dev@initech.test --roles admin"
        if Path.cwd().resolve() != ROOT.resolve():
            command = f"cd {shlex.quote(str(ROOT))} && {command}"
        if self.server.port != DEFAULT_PORT:
            command += f" --port {self.server.port}"
        return command


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _process_env() -> dict[str, str]:
    """What the functions' environments inherit from this process (Lambda's are near empty)."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")
    return {name: os.environ[name] for name in keep if name in os.environ}


def parse_overrides(items: list[str]) -> dict[str, str]:
    overrides = {}
    for item in items:
        for pair in shlex.split(item):
            name, sep, value = pair.partition("=")
            if not sep:
                raise SystemExit(f"--parameter-overrides takes Name=Value pairs, not {pair!r}")
            overrides[name.removeprefix("ParameterKey=")] = value
    return overrides


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.stack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("PORT", DEFAULT_PORT)), help="gateway port (PORT)"
    )
    parser.add_argument(
        "--aws-port",
        type=int,
        default=int(os.environ.get("AWS_PORT", "0")),
        help="moto's port (AWS_PORT; default: a free one)",
    )
    parser.add_argument(
        "--parameter-overrides", nargs="*", default=[], metavar="Name=Value", help="template parameters"
    )
    parser.add_argument("--no-seed", action="store_true", help="do not seed the demo members")
    parser.add_argument("--quiet", "-q", action="store_true", help="no access log")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname).1s %(name)s: %(message)s", datefmt="%H:%M:%S"
    )
    for noisy in ("werkzeug", "botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.quiet:
        logging.getLogger("local.gateway").setLevel(logging.WARNING)

    stop = threading.Event()
    signals = {signal.SIGINT: signal.getsignal(signal.SIGINT), signal.SIGTERM: signal.getsignal(signal.SIGTERM)}

    def request_stop(signum: int, _: Any) -> None:
        if stop.is_set():  # a second Ctrl-C: leave now
            os._exit(130)
        stop.set()

    for signum in signals:
        signal.signal(signum, request_stop)

    stack = LocalStack(
        host=args.host,
        port=args.port,
        aws_port=args.aws_port,
        parameters=parse_overrides(args.parameter_overrides),
        seed=not args.no_seed,
    )
    try:
        starter = threading.Thread(target=_start_or_report, args=(stack, stop), name="start")
        starter.start()
        while starter.is_alive():
            starter.join(0.2)
        if getattr(stack, "failed", None):
            return 1
        if not stop.is_set():
            print(stack.banner(), flush=True)
            # poll: a signal the kernel hands to another thread sets no flag the main
            # thread would see while blocked in an untimed wait, so Ctrl-C could be lost
            while not stop.wait(0.2):
                pass
        print("\nstopping…", file=sys.stderr, flush=True)
        return 0
    finally:
        stack.stop()
        print("stopped.", file=sys.stderr, flush=True)


def _start_or_report(stack: LocalStack, stop: threading.Event) -> None:
    """Start on a thread, so that Ctrl-C during start-up stops cleanly too."""
    try:
        stack.start()
    except SystemExit as exc:
        print(f"error: {exc}", file=sys.stderr)
        stack.failed = True  # type: ignore[attr-defined]
    except Exception:
        log.exception("the local stack could not start")
        stack.failed = True  # type: ignore[attr-defined]


if __name__ == "__main__":
    code = main()
    # Everything is stopped and written; the interpreter's own teardown (freeing every object
    # moto holds, one by one) would take seconds more for a stack holding data, so skip it.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
