"""Response targets (SLA) and auto-close: when support owes the next response, and when an idle
resolved ticket closes by itself (SPEC §3). Pure: times in, times out.

The targets are template parameters (hours, wall-clock, per severity): a first-response target, from
the ticket's creation until support's first reply, and a next-response target, from a customer's
reply that hands the ticket back until support's next reply."""

from datetime import UTC, datetime, timedelta

from helpdesk.domain.models import WAITING_ON, Severity, Status, WaitingOn
from helpdesk.settings import settings

DEFAULT_HOURS = {"critical": (1.0, 4.0), "high": (4.0, 8.0), "medium": (8.0, 24.0), "low": (24.0, 72.0)}


def targets() -> dict[Severity, tuple[timedelta, timedelta]]:
    """(first response, next response) per severity, from RESPONSE_HOURS ("critical=1,4;high=4,8;...")."""
    hours = dict(DEFAULT_HOURS)
    for part in filter(None, settings().response_hours.split(";")):
        name, _, values = part.partition("=")
        first, _, following = values.partition(",")
        hours[name.strip()] = (float(first), float(following))
    return {
        severity: (timedelta(hours=hours[severity][0]), timedelta(hours=hours[severity][1])) for severity in Severity
    }


def parse(at: str) -> datetime:
    return datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(UTC)


def response_due(severity: Severity, clock_started: datetime, first: bool) -> datetime:
    """When support owes a response on a clock that started at `clock_started`."""
    first_target, next_target = targets()[severity]
    return clock_started + (first_target if first else next_target)


def auto_close_at(resolved: datetime) -> datetime:
    return resolved + timedelta(days=settings().auto_close_days)


def waits_on_us(status: Status) -> bool:
    return WAITING_ON[status] is WaitingOn.US
