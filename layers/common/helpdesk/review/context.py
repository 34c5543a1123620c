"""Cluster context (SPEC §6): when a ticket or draft names `properties.cluster_id`, the reviewer asks
the cluster-context provider about it (≤ 3 s, a validated answer of ≤ 16 KB). The context is shown in
the review and stored on the ticket as a `system` message; the review uses it (a degraded cluster
raises the suggested severity; what it answers is not asked). A provider failure, timeout or bad
answer never blocks the review: the review says the context was unavailable."""

from time import monotonic

from pydantic import ValidationError

from helpdesk.domain.models import SYSTEM, Message, Severity, Stamps
from helpdesk.domain.reviews import ClusterContext, ReviewResult
from helpdesk.observability import MetricUnit, logger, metrics
from helpdesk.settings import settings

MAX_BYTES = 16 * 1024
SEVERITIES = list(Severity)
# Questions the context answers: the cluster, where it runs, what runs on it.
ANSWERED = ("cluster", "region", "version", "which environment", "node")


def lookup(org_id: str, properties: dict[str, str]) -> tuple[ClusterContext | None, str | None]:
    """The context of the cluster a ticket names, or why there is none (None, None: no cluster named
    or no provider configured)."""
    cluster_id = properties.get("cluster_id")
    function = settings().cluster_context_function
    if not cluster_id or not function:
        return None, None
    from botocore.exceptions import BotoCoreError, ClientError

    from helpdesk.adapters import clusters

    started = monotonic()
    try:
        raw = clusters.invoke(function, {"org_id": org_id, "cluster_id": cluster_id}, MAX_BYTES)
        if len(raw) > MAX_BYTES:
            raise ValueError(f"the answer is larger than {MAX_BYTES} bytes")
        context = ClusterContext.model_validate_json(raw)
        if context.cluster_id != cluster_id:
            raise ValueError("the answer is about another cluster")
    except (BotoCoreError, ClientError, clusters.ProviderFailed, ValidationError, ValueError) as exc:
        reason = (
            "the cluster-context provider did not answer in time"
            if "timeout" in str(exc).lower()
            else (f"the cluster-context provider failed ({type(exc).__name__})")
        )
        logger.warning("Cluster context unavailable", extra={"cluster_id": cluster_id, "error": str(exc)[:300]})
        metrics.add_metric(name="ClusterContextUnavailable", unit=MetricUnit.Count, value=1)
        return None, reason
    logger.info("Cluster context", extra={"cluster_id": cluster_id, "ms": round((monotonic() - started) * 1000)})
    return context, None


def applied(result: ReviewResult, context: ClusterContext | None, unavailable: str | None) -> ReviewResult:
    """The review with the cluster's context taken into account (whichever engine wrote it)."""
    if context is None:
        return result.model_copy(update={"cluster_context_unavailable": unavailable})
    updates: dict[str, object] = {"cluster_context": context.model_dump(mode="json", exclude_none=True)}
    if context.degraded:
        position = min(SEVERITIES.index(result.suggested_severity) + 1, len(SEVERITIES) - 1)
        updates["suggested_severity"] = SEVERITIES[position]
    updates["questions"] = [q for q in result.questions if not any(word in q.lower() for word in ANSWERED)]
    return result.model_copy(update=updates)


def describe(context: ClusterContext) -> str:
    """The `system` message that stores the context on the ticket."""
    title = context.name or context.cluster_id
    facts = [f"cluster `{context.cluster_id}`"]
    facts += [
        f"{label} {value}" for label, value in (("region", context.region), ("version", context.version)) if value
    ]
    if context.nodes is not None:
        facts.append(f"{context.nodes.ready}/{context.nodes.total} nodes ready")
    if context.status:
        facts.append(f"status **{context.status}**")
    lines = [f"**Cluster context: {title}** — " + ", ".join(facts) + "."]
    if context.recent_warnings:
        lines += ["", "Recent warning events:"]
        lines += [f"- {w.reason} ×{w.count}: {w.message}" for w in context.recent_warnings[:10]]
    return "\n".join(lines)


def message(result: ReviewResult, stamps: Stamps) -> Message | None:
    """The `system` message that stores the cluster's context on the ticket (none without one)."""
    if not result.cluster_context:
        return None
    message_id, at = stamps.next()
    return Message(
        id=message_id,
        author=SYSTEM,
        body=describe(ClusterContext.model_validate(result.cluster_context)),
        created_at=at,
    )
