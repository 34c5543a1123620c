"""Scheduled functions on the local stack: every schedule of the template runs every
LOCAL_SCHEDULE_SECONDS (default 60), whatever its expression says (a `rate(1 day)` or a `cron(...)`
would otherwise never be seen running locally); the first run is one period after start.

Schedules are the SAM function events of Type ScheduleV2 (EventBridge Scheduler) and Schedule
(an EventBridge rule), AWS::Scheduler::Schedule and AWS::Events::Rule with a ScheduleExpression
whose targets are template functions. Each run is an asynchronous invocation (local.events.AsyncInvoker:
the function's retries and destinations), with the payload AWS sends:
- EventBridge Scheduler: the target's `Input` (JSON), else `{}`;
- a schedule rule: its `Input`, else the "Scheduled Event" (source aws.events, the rule's ARN in
  resources, detail {}).
A schedule that is disabled (`Enabled: false`, `State: DISABLED`) does not run."""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from local import config, template
from local.events import AsyncInvoker, now_iso
from local.functions import FunctionSpec

log = logging.getLogger("local.schedules")

DEFAULT_SECONDS = 60.0


def period_from_environment(environ: dict[str, str] | None = None) -> float:
    """LOCAL_SCHEDULE_SECONDS, checked: a positive number of seconds (default 60)."""
    raw = (environ if environ is not None else os.environ).get("LOCAL_SCHEDULE_SECONDS", "").strip()
    if not raw:
        return DEFAULT_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"LOCAL_SCHEDULE_SECONDS must be a number of seconds, not {raw!r}") from None
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"LOCAL_SCHEDULE_SECONDS must be a positive number of seconds, not {raw!r}")
    return seconds


@dataclass
class Schedule:
    name: str  # Function.Event, or the resource's logical id
    function: str  # logical id
    kind: str  # ScheduleV2 | Schedule
    expression: str
    arn: str
    input: Any = None  # parsed Input, when given

    def payload(self) -> Any:
        if self.input is not None:
            return self.input
        if self.kind == "ScheduleV2":
            return {}
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": config.ACCOUNT_ID,
            "time": now_iso(),
            "region": config.REGION,
            "resources": [self.arn],
            "detail": {},
        }

    @property
    def source(self) -> str:
        return f"schedule {self.name}"


def _enabled(props: dict[str, Any]) -> bool:
    return props.get("Enabled") is not False and str(props.get("State", "ENABLED")).upper() != "DISABLED"


def schedules_from_template(
    specs: dict[str, FunctionSpec], stack: template.Stack, parameters: dict[str, str]
) -> tuple[list[Schedule], list[str]]:
    """The template's schedules of its functions, and those skipped (with why). ValueError for an
    Input that is not JSON."""
    by_arn = {spec.arn: logical_id for logical_id, spec in specs.items()}
    found: list[Schedule] = []
    skipped: list[str] = []

    def resolve(value: Any) -> str:
        return template.resolve(value, stack, parameters)

    def parsed(value: Any, where: str) -> Any:
        if value is None:
            return None
        text = resolve(value)
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError(f"{where}: Input is not JSON ({text[:80]!r})") from None

    prefix = f"arn:aws:scheduler:{config.REGION}:{config.ACCOUNT_ID}:schedule/default"
    rule_prefix = f"arn:aws:events:{config.REGION}:{config.ACCOUNT_ID}:rule"
    for spec in specs.values():
        for name, event in spec.events_of("Schedule", "ScheduleV2").items():
            props = event.get("Properties") or {}
            where = f"{spec.logical_id}.{name}"
            if not _enabled(props):
                skipped.append(f"{where} ({event['Type']}) is disabled in the template")
                continue
            kind = str(event["Type"])
            physical = props.get("Name") or f"{config.PREFIX}-{spec.logical_id}-{name}"
            arn = f"{prefix}/{physical}" if kind == "ScheduleV2" else f"{rule_prefix}/{physical}"
            found.append(
                Schedule(
                    where,
                    spec.logical_id,
                    kind,
                    resolve(props.get("ScheduleExpression", "")),
                    arn,
                    parsed(props.get("Input"), where),
                )
            )
    for logical_id, resource in template.created("AWS::Scheduler::Schedule", stack, parameters).items():
        props = resource.get("Properties") or {}
        target = props.get("Target") or {}
        function = by_arn.get(resolve(target.get("Arn")))
        if function is None:
            skipped.append(f"schedule {logical_id}: its target is not a function of the template")
        elif not _enabled(props):
            skipped.append(f"schedule {logical_id} is disabled in the template")
        else:
            found.append(
                Schedule(
                    logical_id,
                    function,
                    "ScheduleV2",
                    resolve(props.get("ScheduleExpression", "")),
                    f"{prefix}/{logical_id}",
                    parsed(target.get("Input"), logical_id),
                )
            )
    for logical_id, resource in template.created("AWS::Events::Rule", stack, parameters).items():
        props = resource.get("Properties") or {}
        if "ScheduleExpression" not in props:
            continue
        if not _enabled(props):
            skipped.append(f"rule {logical_id} is disabled in the template")
            continue
        for target in props.get("Targets") or []:
            function = by_arn.get(resolve(target.get("Arn")))
            if function is None:
                skipped.append(f"rule {logical_id} target {target.get('Id')}: not a function of the template")
                continue
            found.append(
                Schedule(
                    f"{logical_id}.{target.get('Id', function)}",
                    function,
                    "Schedule",
                    resolve(props["ScheduleExpression"]),
                    f"{rule_prefix}/{logical_id}",
                    parsed(target.get("Input"), logical_id),
                )
            )
    return found, skipped


class Scheduler(threading.Thread):
    """Runs every schedule each `period` seconds (asynchronously, through `invoker`)."""

    def __init__(self, schedules: list[Schedule], invoker: AsyncInvoker, period: float) -> None:
        super().__init__(name="schedules", daemon=True)
        self.schedules, self.invoker, self.period = schedules, invoker, period
        self.stop_event = threading.Event()
        self.ticks = 0

    def run(self) -> None:
        while not self.stop_event.wait(self.period):
            self.tick()

    def tick(self) -> None:
        self.ticks += 1
        for schedule in self.schedules:
            self.invoker.submit(schedule.function, schedule.payload(), schedule.source, wait=0)

    def stop(self) -> None:
        self.stop_event.set()
        if self.is_alive():
            self.join(timeout=5)

    def status(self) -> list[dict[str, Any]]:
        return [
            {
                "schedule": schedule.name,
                "function": schedule.function,
                "expression": schedule.expression,
                "every_seconds": self.period,
                **self.invoker.counts[schedule.source].as_json(),
            }
            for schedule in self.schedules
        ]
