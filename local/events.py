"""EventBridge on the local stack: every event PutEvents puts on a bus is recorded (`GET
/_local/events`) and delivered to the rules of the template, as EventBridge delivers it.

How events are captured: PutEvents requests are read off the wire in front of moto
(local.aws.LocalAwsMiddleware hands each request and moto's answer to `EventHub.published`), not
through a rule with an SQS target that the stack would poll. That way
- an event is recorded the moment PutEvents returns, with the EventId moto answered (no polling
  delay, no extra queue, nothing for tests to wait for), and only what moto accepted: an entry moto
  refuses (no Source, malformed Detail, …) is neither recorded nor delivered;
- moto keeps nothing: it holds events only for rules it knows, and the stack creates none in moto
  (moto cannot run a Lambda target without Docker; the stack delivers itself).

Rules come from the template: AWS::Events::Rule with an EventPattern (and State not DISABLED), its
Targets being template functions, SQS queues or SNS topics; and SAM function events of Type
EventBridgeRule / CloudWatchEvent (Pattern, EventBusName, Input, InputPath, InputTransformer). A
matched Lambda target is invoked asynchronously, as EventBridge invokes it: `AsyncInvoker`, with the
function's EventInvokeConfig (retries, then its OnFailure destination or DeadLetterQueue).

Memory stays bounded: the log keeps the last EVENTS_KEPT events (compressed JSON), the
asynchronous queue holds at most ASYNC_QUEUE_LIMIT invocations (PutEvents waits for room a few
seconds, then the delivery is dropped and logged, as EventBridge counts a FailedInvocation)."""

from __future__ import annotations

import collections
import datetime
import json
import logging
import queue
import re
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local import config, template
from local.functions import FunctionSpec
from local.patterns import Pattern, PatternError, compile_pattern
from local.runtime import Invocation, Runtime
from local.sources import AsyncConfig, Destinations, async_record

log = logging.getLogger("local.events")

EVENTS_KEPT = 10_000  # /_local/events keeps the most recent ones
ASYNC_QUEUE_LIMIT = 10_000  # asynchronous invocations waiting for an environment
ASYNC_WORKERS = 4
ENQUEUE_WAIT_SECONDS = 5.0
DEFAULT_BUS = "default"


def now_iso() -> str:
    """EventBridge's `time`: UTC, to the second."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bus_name(value: str | None) -> str:
    """A bus named by name or ARN (absent: the default bus)."""
    if not value:
        return DEFAULT_BUS
    return value.split(":event-bus/", 1)[1] if ":event-bus/" in value else value


# ---------------------------------------------------------------------------------- the log


class EventLog:
    """The most recent `keep` events, each kept as compressed JSON (older ones are dropped)."""

    def __init__(self, keep: int = EVENTS_KEPT) -> None:
        self._events: collections.deque[tuple[str, bytes]] = collections.deque(maxlen=keep)
        self._lock = threading.Lock()

    def add(self, event: dict[str, Any]) -> None:
        packed = zlib.compress(json.dumps(event, ensure_ascii=False).encode(), 1)
        with self._lock:
            self._events.append((str(event.get("detail-type", "")), packed))

    def all(self, detail_type: str | None = None, source: str | None = None) -> list[dict[str, Any]]:
        """Oldest first; only those of `detail_type` / `source` when given."""
        with self._lock:
            packed = [p for kind, p in self._events if detail_type is None or kind == detail_type]
        events = [json.loads(zlib.decompress(p)) for p in packed]
        return [e for e in events if source is None or e.get("source") == source]

    def clear(self) -> None:
        with self._lock:
            self._events.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)


def envelope(entry: dict[str, Any], event_id: str) -> dict[str, Any]:
    """The event EventBridge delivers for an accepted PutEvents entry."""
    when = entry.get("Time")
    if isinstance(when, int | float):
        stamp = datetime.datetime.fromtimestamp(when, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif isinstance(when, str) and when:
        stamp = when
    else:
        stamp = now_iso()
    try:
        detail = json.loads(entry.get("Detail") or "{}")
    except ValueError:
        detail = {}
    return {
        "version": "0",
        "id": event_id,
        "detail-type": entry.get("DetailType", ""),
        "source": entry.get("Source", ""),
        "account": config.ACCOUNT_ID,
        "time": stamp,
        "region": config.REGION,
        "resources": list(entry.get("Resources") or []),
        "detail": detail,
    }


Listener = Callable[[str, dict[str, Any]], None]


class EventHub:
    """Where captured PutEvents go: the log (events on the recorded buses) and the listeners (the
    rules' delivery). Until `recorded_buses` is set, events on every bus are recorded."""

    def __init__(self, keep: int = EVENTS_KEPT) -> None:
        self.log = EventLog(keep)
        self.recorded_buses: set[str] | None = None
        self.listeners: list[Listener] = []

    def published(self, request: dict[str, Any], response: dict[str, Any]) -> list[dict[str, Any]]:
        """A PutEvents request and moto's answer (both parsed): the accepted entries, as events."""
        entries = request.get("Entries") or []
        answers = response.get("Entries") or []
        accepted = []
        for entry, answer in zip(entries, answers, strict=False):
            if not isinstance(entry, dict) or not isinstance(answer, dict) or not answer.get("EventId"):
                continue
            bus = bus_name(entry.get("EventBusName"))
            event = envelope(entry, str(answer["EventId"]))
            if self.recorded_buses is None or bus in self.recorded_buses:
                self.log.add(event)
            for listener in list(self.listeners):
                try:
                    listener(bus, event)
                except Exception:  # a failing delivery never fails the PutEvents that was accepted
                    log.exception("delivering event %s failed", event["id"])
            accepted.append(event)
        return accepted


# ---------------------------------------------------------------------------------- asynchronous invocation


@dataclass
class _Job:
    logical_id: str
    event: Any
    source: str
    queued_at: float = field(default_factory=time.time)


@dataclass
class Counts:
    invocations: int = 0
    errors: int = 0
    dropped: int = 0
    last_at: str | None = None
    last_error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "invocations": self.invocations,
            "errors": self.errors,
            "dropped": self.dropped,
            "last_at": self.last_at,
            "last_error": self.last_error,
        }


class AsyncInvoker:
    """Lambda's asynchronous invocation (InvocationType Event; what EventBridge and the Scheduler
    use): a bounded queue, ASYNC_WORKERS threads, on a function error EventInvokeConfig's
    MaximumRetryAttempts retries (default 2; 1 s, then 2 s apart locally, where Lambda waits about
    1 and 2 minutes), then the OnFailure destination or the DeadLetterQueue; OnSuccess too."""

    def __init__(
        self,
        runtime: Runtime,
        configs: dict[str, AsyncConfig],
        destinations: Destinations | None,
        *,
        workers: int = ASYNC_WORKERS,
        capacity: int = ASYNC_QUEUE_LIMIT,
    ) -> None:
        self.runtime, self.configs, self.destinations = runtime, configs, destinations
        self._queue: queue.Queue[_Job | None] = queue.Queue(maxsize=capacity)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.counts: dict[str, Counts] = collections.defaultdict(Counts)
        self._threads = [
            threading.Thread(target=self._work, name=f"async-invoke-{n + 1}", daemon=True) for n in range(workers)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for _ in self._threads:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                break
        deadline = time.monotonic() + 5  # an invocation under way ends when the runtime closes
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def submit(self, logical_id: str, event: Any, source: str, *, wait: float = ENQUEUE_WAIT_SECONDS) -> bool:
        """Queue an invocation; False (logged, counted as dropped) when the queue stays full."""
        if logical_id not in self.runtime.specs:
            raise KeyError(f"no function {logical_id!r}")
        try:
            self._queue.put(_Job(logical_id, event, source), timeout=wait if wait > 0 else None, block=wait > 0)
        except queue.Full:
            with self._lock:
                self.counts[source].dropped += 1
            log.error("%s: the asynchronous queue is full; an invocation of %s was dropped", source, logical_id)
            return False
        return True

    def pending(self) -> int:
        return self._queue.qsize()

    def _work(self) -> None:
        while not self._stop.is_set():
            job = self._queue.get()
            if job is None:
                return
            try:
                self._run(job)
            except Exception:
                log.exception("%s: invoking %s failed", job.source, job.logical_id)

    def _run(self, job: _Job) -> None:
        settings = self.configs.get(job.logical_id) or AsyncConfig()
        attempts = 0
        while True:
            attempts += 1
            invocation = self.runtime.invoke(job.logical_id, job.event)
            self._count(job.source, invocation)
            if invocation.ok:
                if settings.on_success and self.destinations:
                    self.destinations.send(
                        settings.on_success,
                        async_record(job.event, invocation, self._arn(job), attempts, "Success"),
                    )
                return
            too_old = time.time() - job.queued_at >= settings.max_age
            if attempts > settings.retries or too_old or self._stop.is_set():
                break
            log.info(
                "%s: %s failed (%s); retry %d in %d s",
                job.source,
                job.logical_id,
                (invocation.error or {}).get("errorType"),
                attempts,
                attempts,
            )
            if self._stop.wait(attempts):
                return
        condition = "RetriesExhausted" if attempts > settings.retries else "EventAgeExceeded"
        log.warning("%s: giving up on %s after %d attempt(s)", job.source, job.logical_id, attempts)
        if not self.destinations:
            return
        if settings.on_failure:
            self.destinations.send(
                settings.on_failure, async_record(job.event, invocation, self._arn(job), attempts, condition)
            )
        elif settings.dead_letter:
            error = invocation.error or {}
            attributes = {
                "RequestID": {"DataType": "String", "StringValue": invocation.request_id},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {
                    "DataType": "String",
                    "StringValue": str(error.get("errorMessage", ""))[:1000] or "error",
                },
            }
            self.destinations.send(settings.dead_letter, job.event, attributes)

    def _arn(self, job: _Job) -> str:
        return self.runtime.specs[job.logical_id].arn

    def _count(self, source: str, invocation: Invocation) -> None:
        with self._lock:
            counts = self.counts[source]
            counts.invocations += 1
            counts.last_at = now_iso()
            if not invocation.ok:
                counts.errors += 1
                error = invocation.error or {}
                counts.last_error = f"{error.get('errorType', 'Error')}: {str(error.get('errorMessage', ''))[:300]}"


# ---------------------------------------------------------------------------------- rules


@dataclass
class Target:
    """Where a matched event goes: a template function (`function`) or a queue / topic (`arn`),
    with the target's input transformation."""

    id: str
    function: str | None = None
    arn: str | None = None
    input: Any = None  # Input: constant JSON, instead of the event
    input_path: str | None = None
    transformer: dict[str, Any] | None = None

    def payload(self, event: dict[str, Any], rule: Rule) -> Any:
        if self.input is not None:
            return self.input
        if self.input_path:
            return json_path(event, self.input_path)
        if self.transformer:
            return transform(event, self.transformer, rule)
        return event

    @property
    def description(self) -> str:
        return self.function or (self.arn or "").rsplit(":", 1)[-1]


@dataclass
class Rule:
    name: str  # the template's: logical id, or Function.Event
    bus: str
    pattern: Pattern
    targets: list[Target]
    arn: str = ""

    @property
    def description(self) -> str:
        targets = ", ".join(target.description for target in self.targets)
        return f"rule {self.name} on bus {self.bus} → {targets}"


class RuleError(ValueError):
    """A rule of the template the stack cannot run (EventBridge would refuse it too); names the rule."""


_PATH = re.compile(r"^\$(\.[A-Za-z0-9_\-]+|\['[^']+'\])*$")


def json_path(event: Any, path: str) -> Any:
    """EventBridge's InputPath / InputPathsMap paths: `$`, `$.detail`, `$.detail.org_id`,
    `$['detail-type']` (None when the event has no such field)."""
    if not _PATH.match(path):
        raise RuleError(f"unsupported JSON path {path!r} (use $.field.field or $['field'])")
    value = event
    for dotted, quoted in re.findall(r"\.([A-Za-z0-9_\-]+)|\['([^']+)'\]", path):
        if not isinstance(value, dict):
            return None
        value = value.get(dotted or quoted)
    return value


_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def transform(event: dict[str, Any], transformer: dict[str, Any], rule: Rule) -> Any:
    """An InputTransformer: each `<name>` of InputTemplate replaced by its InputPathsMap value (a
    string as its text, inside the template's quotes; anything else, or a missing field as null,
    as JSON), and `<aws.events.event>` / `<aws.events.event.json>` / `<aws.events.rule-name>` /
    `<aws.events.rule-arn>` / `<aws.events.event.ingestion-time>`. JSON output is delivered parsed."""
    paths = transformer.get("InputPathsMap") or {}
    values = {name: json_path(event, str(path)) for name, path in paths.items()}
    values.update(
        {
            "aws.events.event": event,
            "aws.events.event.json": event,
            "aws.events.rule-name": rule.name,
            "aws.events.rule-arn": rule.arn,
            "aws.events.event.ingestion-time": event.get("time"),
        }
    )

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        value = values[name]
        return value if isinstance(value, str) else json.dumps(value)

    text = _PLACEHOLDER.sub(substitute, str(transformer.get("InputTemplate", "")))
    try:
        return json.loads(text)
    except ValueError:
        return text


def _enabled(props: dict[str, Any]) -> bool:
    return props.get("Enabled") is not False and str(props.get("State", "ENABLED")).upper() != "DISABLED"


def _input(value: Any, where: str, resolve: Callable[[Any], str]) -> Any:
    if value is None:
        return None
    text = resolve(value)
    try:
        return json.loads(text)
    except ValueError:
        raise RuleError(f"{where}: Input is not JSON ({text[:80]!r})") from None


def rules_from_template(
    specs: dict[str, FunctionSpec], stack: template.Stack, parameters: dict[str, str]
) -> tuple[list[Rule], list[str]]:
    """The template's event rules the stack delivers to, and what it skips (with why).
    RuleError for a rule EventBridge would refuse (a malformed pattern, Input that is not JSON)."""
    by_arn = {spec.arn: logical_id for logical_id, spec in specs.items()}
    rules: list[Rule] = []
    skipped: list[str] = []

    def resolve(value: Any) -> str:
        return template.resolve(value, stack, parameters)

    def pattern(value: Any, where: str) -> Pattern:
        try:
            return compile_pattern(resolve(value) if not isinstance(value, dict) else value)
        except PatternError as exc:
            raise RuleError(f"{where}: {exc}") from None

    def options(props: dict[str, Any], where: str) -> dict[str, Any]:
        transformer = props.get("InputTransformer")
        input_path = props.get("InputPath")
        if input_path is not None:
            json_path({}, str(input_path))  # checked now
        if transformer is not None:
            if not isinstance(transformer, dict) or "InputTemplate" not in transformer:
                raise RuleError(f"{where}: InputTransformer needs an InputTemplate")
            for path in (transformer.get("InputPathsMap") or {}).values():
                json_path({}, str(path))
        return {
            "input": _input(props.get("Input"), where, resolve),
            "input_path": str(input_path) if input_path is not None else None,
            "transformer": transformer,
        }

    for logical_id, resource in template.created("AWS::Events::Rule", stack, parameters).items():
        props = resource.get("Properties") or {}
        if "EventPattern" not in props:
            continue  # a schedule rule (local.schedules)
        if not _enabled(props):
            skipped.append(f"rule {logical_id} is disabled in the template")
            continue
        bus = bus_name(resolve(props["EventBusName"])) if props.get("EventBusName") else DEFAULT_BUS
        targets = []
        for n, target in enumerate(props.get("Targets") or []):
            where = f"rule {logical_id} target {target.get('Id', n)}"
            arn = resolve(target.get("Arn"))
            extra = options(target, where)
            if arn in by_arn:
                targets.append(Target(str(target.get("Id", n)), function=by_arn[arn], **extra))
            elif ":sqs:" in arn or ":sns:" in arn:
                targets.append(Target(str(target.get("Id", n)), arn=arn, **extra))
            else:
                skipped.append(f"{where} ({arn or 'no Arn'}) is not emulated")
        if targets:
            arn = f"arn:aws:events:{config.REGION}:{config.ACCOUNT_ID}:rule/{bus}/{logical_id}"
            rules.append(Rule(logical_id, bus, pattern(props["EventPattern"], f"rule {logical_id}"), targets, arn))

    for spec in specs.values():
        for name, event in spec.events_of("EventBridgeRule", "CloudWatchEvent").items():
            props = event.get("Properties") or {}
            rule_name = f"{spec.logical_id}.{name}"
            if not _enabled(props):
                skipped.append(f"{rule_name} ({event['Type']}) is disabled in the template")
                continue
            if "Pattern" not in props:
                raise RuleError(f"{rule_name}: an {event['Type']} event needs a Pattern")
            bus = bus_name(resolve(props["EventBusName"])) if props.get("EventBusName") else DEFAULT_BUS
            target = Target(str((props.get("Target") or {}).get("Id", name)), function=spec.logical_id)
            extra = options(props, rule_name)
            target.input, target.input_path, target.transformer = (
                extra["input"],
                extra["input_path"],
                extra["transformer"],
            )
            arn = f"arn:aws:events:{config.REGION}:{config.ACCOUNT_ID}:rule/{bus}/{spec.logical_id}-{name}"
            rules.append(Rule(rule_name, bus, pattern(props["Pattern"], rule_name), [target], arn))
    return rules, skipped


class Delivery:
    """Delivers each event to the rules of its bus whose pattern it matches (an EventHub listener)."""

    def __init__(self, rules: list[Rule], invoker: AsyncInvoker, destinations: Destinations | None) -> None:
        self.rules, self.invoker, self.destinations = rules, invoker, destinations
        self.matched: dict[str, int] = collections.defaultdict(int)

    def __call__(self, bus: str, event: dict[str, Any]) -> None:
        for rule in self.rules:
            if rule.bus != bus or not rule.pattern.matches(event):
                continue
            self.matched[rule.name] += 1
            for target in rule.targets:
                payload = target.payload(event, rule)
                if target.function:
                    self.invoker.submit(target.function, payload, f"rule {rule.name}")
                elif target.arn and self.destinations:
                    self.destinations.send_text(
                        target.arn, payload if isinstance(payload, str) else json.dumps(payload)
                    )

    def status(self) -> list[dict[str, Any]]:
        return [
            {
                "rule": rule.name,
                "bus": rule.bus,
                "pattern": rule.pattern.source,
                "targets": [target.description for target in rule.targets],
                "matched": self.matched.get(rule.name, 0),
                **{
                    name: value
                    for name, value in self.invoker.counts[f"rule {rule.name}"].as_json().items()
                    if name != "last_at"
                },
            }
            for rule in self.rules
        ]
