"""Everything people see: rich tables, badges, the conversation with rendered markdown, reviews.

Text from the API (subjects, bodies, filenames) is written by customers and staff: control
characters are stripped before it reaches the terminal (no escape-sequence injection), and
markdown links are shown with their real URL (no hidden OSC-8 hyperlinks)."""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import UTC, datetime
from typing import Any

from markdown_it import MarkdownIt
from rich import box
from rich.console import Console, Group
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tickets_cli.errors import ApiError, TicketsError

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)

STATUS_STYLE = {
    "pending_review": "bold white on magenta",
    "open": "bold white on blue",
    "triaging": "bold black on cyan",
    "in_progress": "bold black on yellow",
    "waiting_customer": "bold white on red",
    "resolved": "bold black on green",
    "closed": "white on grey35",
}
SEVERITY_STYLE = {"low": "dim", "medium": "", "high": "yellow", "critical": "bold red"}
KIND_STYLE = {"user": "cyan", "support": "green", "ai": "magenta", "system": "dim"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(value: Any) -> str:
    """Server text made safe for a terminal: no ESC/CSI/OSC or other control characters."""
    return _CONTROL.sub("", "" if value is None else str(value))


def one_line(value: Any, limit: int = 120) -> str:
    text = " ".join(clean(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def emit_json(data: Any) -> None:
    """Raw API JSON for scripts, on stdout, nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def badge(status: str | None) -> Text:
    status = status or "?"
    return Text(f" {status.replace('_', ' ')} ", style=STATUS_STYLE.get(status, "reverse"))


def severity(value: str | None) -> Text:
    return Text(value or "—", style=SEVERITY_STYLE.get(value or "", ""))


def ago(timestamp: str | None) -> str:
    if not timestamp:
        return "—"
    try:
        when = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return clean(timestamp)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = int((datetime.now(UTC) - when).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in ((86400 * 30, "mo"), (86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return "just now"  # pragma: no cover


def stamp(timestamp: str | None) -> str:
    if not timestamp:
        return "—"
    try:
        when = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return clean(timestamp)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def human_size(size: Any) -> str:
    try:
        value = float(size)
    except (TypeError, ValueError):
        return "?"
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return "?"  # pragma: no cover


# -- errors ---------------------------------------------------------------------------------


def error(exc: TicketsError, *, as_json: bool = False) -> None:
    """An error on stderr: the problem document for `--output json`, a readable block otherwise."""
    if as_json and isinstance(exc, ApiError):
        sys.stderr.write(json.dumps(exc.problem(), ensure_ascii=False) + "\n")
        return
    if isinstance(exc, ApiError):
        title = clean(exc.title)
        line = Text.assemble(("Error: ", "bold red"), (title, "bold"), (f" (HTTP {exc.status})", "dim"))
        err.print(line)
        if exc.detail and exc.detail != exc.title:
            err.print(Text(clean(exc.detail)))
        for item in exc.errors:
            if not isinstance(item, dict):
                continue
            where = clean(item.get("field") or item.get("name") or item.get("pointer") or "")
            what = clean(item.get("message") or item.get("detail") or item.get("msg") or "")
            err.print(Text.assemble("  • ", (where, "bold"), ": " if where else "", what))
        return
    err.print(Text.assemble(("Error: ", "bold red"), clean(exc.message)))


def note(message: str) -> None:
    err.print(Text(message, style="dim"))


# -- tickets --------------------------------------------------------------------------------


def _due_cell(item: dict[str, Any]) -> Text:
    due = item.get("response_due_at")
    if not due:
        return Text("")
    if item.get("response_breached"):
        return Text("BREACHED", style="bold white on red")
    return Text(until(due))


def ticket_table(items: list[dict[str, Any]], width: int | None = None, *, show_due: bool = False) -> Table:
    """One row per ticket. The summary is cut to the room left by the other columns, and on a
    narrow terminal the category and activity columns go first, so the ID is never truncated."""
    columns = ["ID", "STATUS", "SEV", "CATEGORY", "SUMMARY", "ACTIVITY", "DUE"]
    rows: list[list[Any]] = [
        [
            Text(clean(item.get("id")), style="bold"),
            badge(item.get("status")),
            severity(item.get("severity")),
            Text(clean(item.get("category"))),
            " ".join(clean(item.get("summary") or item.get("subject")).split()),
            Text(ago(item.get("last_activity_at") or item.get("updated_at"))),
            _due_cell(item),
        ]
        for item in items
    ]
    width = width or out.width

    def room(keep: list[int]) -> int:
        others = [i for i in keep if i != 4]
        used = sum(max([len(columns[i]), *(len(row[i]) for row in rows)]) for i in others)
        return width - used - 3 * (len(keep) - 1) - 1  # padding + divider between columns, 1 spare

    keep = [0, 1, 2, 3, 4, 5] + ([6] if show_due else [])
    for drop in (3, 5):
        if room(keep) >= 20:
            break
        keep.remove(drop)
    summary_width = max(10, room(keep))
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, expand=False)
    for i in keep:
        table.add_column(columns[i], no_wrap=True, justify="right" if i in (5, 6) else "left")
    for row in rows:
        cells: list[Any] = [row[i] for i in keep]
        cells[keep.index(4)] = one_line(row[4], summary_width)
        table.add_row(*cells)
    return table


def print_ticket_list(page: dict[str, Any], *, show_hint: bool = True, show_due: bool = False) -> None:
    """`show_due`: a DUE column (when support owes the next response), for the support team's queue."""
    items = page.get("items") or []
    if not items:
        err.print("No tickets match.", style="dim")
    else:
        out.print(ticket_table(items, show_due=show_due))
    cursor = page.get("next_cursor")
    if cursor and show_hint:
        note(f"More tickets: --cursor {clean(cursor)}  (or --all)")


class LiteralHtmlMarkdown(Markdown):
    """Markdown whose raw HTML is shown as the text it is. rich drops HTML blocks and inline tags
    (a reply line starting with `<b>` vanished); with markdown-it's `html` off they are plain
    text, printed literally and never interpreted."""

    def __init__(self, markup: str, **options: Any) -> None:
        super().__init__("", **options)
        self.markup = markup
        self.parsed = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table").parse(markup)


def _markdown(body: str) -> Markdown:
    return LiteralHtmlMarkdown(clean(body) or "*(empty)*", hyperlinks=False)


def _attachment_lines(attachments: list[dict[str, Any]]) -> Text:
    text = Text()
    for i, att in enumerate(attachments):
        if i:
            text.append("\n")
        text.append("📎 ")
        text.append(one_line(att.get("filename"), 80), style="bold")
        text.append(f"  {human_size(att.get('size'))}  {clean(att.get('content_type'))}", style="dim")
        status = att.get("status")
        if status and status != "available":
            text.append(f"  [{clean(status)}]", style="yellow")
        text.append(f"  id {clean(att.get('id'))}", style="dim")
    return text


def is_support(ticket: dict[str, Any], reader: dict[str, Any]) -> bool:
    """Whether the reader (GET /v1/me) is on the support team: their roles name the support role
    (`support`, or TICKETS_SUPPORT_ROLE where the deployment renamed it), they see another org's
    ticket (customers see only their own), or the API wrote them down as support in it."""
    roles = {str(role) for role in reader.get("roles") or []}
    if roles & support_roles():
        return True
    if reader.get("org_id") and ticket.get("org_id") and reader["org_id"] != ticket["org_id"]:
        return True
    return any(
        (m.get("author") or {}).get("id") == reader.get("id") and (m.get("author") or {}).get("kind") == "support"
        for m in ticket.get("messages") or []
        if reader.get("id")
    )


def support_roles() -> set[str]:
    return {r.strip() for r in os.environ.get("TICKETS_SUPPORT_ROLE", "support").split(",") if r.strip()}


def waiting_text(ticket: dict[str, Any], reader: dict[str, Any] | None) -> str:
    """The API's `waiting_on` (`us` = the support team, `user` = the customer), worded for the reader."""
    waiting = ticket.get("waiting_on")
    if not waiting:
        return ""
    if reader is None:  # unknown reader: name both sides
        return "waiting on support" if waiting == "us" else "waiting on the customer"
    if is_support(ticket, reader):
        return "waiting on support (you)" if waiting == "us" else "waiting on the customer"
    return "waiting on support" if waiting == "us" else "waiting on you"


def ticket_header(ticket: dict[str, Any], reader: dict[str, Any] | None = None) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    status_line = Text.assemble(badge(ticket.get("status")))
    waiting = waiting_text(ticket, reader)
    if waiting:
        status_line.append(f"  {waiting}", style="dim")
    grid.add_row("ID", Text(clean(ticket.get("id")), style="bold"))
    grid.add_row("Status", status_line)
    grid.add_row("Category", clean(ticket.get("category")))
    grid.add_row("Severity", severity(ticket.get("severity")))
    creator = ticket.get("created_by") or {}
    grid.add_row(
        "Opened",
        f"{stamp(ticket.get('created_at'))} by {clean(creator.get('email') or creator.get('id'))}"
        f" via {clean(ticket.get('source'))}",
    )
    grid.add_row("Last activity", ago(ticket.get("last_activity_at")))
    due = response_due(ticket)
    if due is not None:
        grid.add_row("Response due", due)
    if ticket.get("auto_close_at"):
        grid.add_row("Auto-closes", stamp(ticket.get("auto_close_at")))
    grid.add_row("Assignee", clean(ticket.get("assignee")) or "—")
    props = ticket.get("properties") or {}
    if props:
        grid.add_row("Properties", ", ".join(f"{clean(k)}={clean(v)}" for k, v in props.items()))
    if ticket.get("summary"):
        grid.add_row("Summary", one_line(ticket.get("summary"), 300))
    review = ticket.get("review") or {}
    if review.get("status"):
        grid.add_row("AI review", clean(review.get("status")))
    return Panel(grid, title=Text(one_line(ticket.get("subject"), 100), style="bold"), title_align="left")


def response_due(ticket: dict[str, Any]) -> Text | None:
    """When support owes the next response (the severity's target), red once it has passed."""
    due = ticket.get("response_due_at")
    if not due:
        return None
    if ticket.get("response_breached"):
        return Text.assemble((f"{stamp(due)}  BREACHED", "bold white on red"), (f" ({ago(due)})", "dim"))
    return Text.assemble(stamp(due), (f" ({until(due)})", "dim"))


def until(timestamp: str | None) -> str:
    """How long until a time to come ("in 3h")."""
    if not timestamp:
        return ""
    try:
        then = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return ""
    left = int((then - datetime.now(UTC)).total_seconds())
    if left <= 0:
        return "now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if left >= size:
            return f"in {left // size}{unit}"
    return f"in {left}s"


def timeline_line(message: dict[str, Any]) -> Text:
    """A `system` message of the timeline, on one line: what changed, from what to what, who, when."""
    change = message.get("change") or {}
    when = ("  " + stamp(message.get("created_at")), "dim")
    if not change:
        return Text.assemble(("• ", "dim"), one_line(message.get("body"), 200), when)
    by = change.get("by") or {}
    who = clean(by.get("email") or by.get("id") or "system")
    label = ("INTERNAL ", "bold black on yellow") if message.get("internal") else ""
    return Text.assemble(
        ("• ", "dim"),
        label,
        (clean(change.get("field")), "bold"),
        f" {clean(change.get('before')) or '-'} → {clean(change.get('after')) or '-'}",
        (f"  by {who}", "dim"),
        when,
    )


def message_panel(message: dict[str, Any]) -> Panel:
    author = message.get("author") or {}
    kind = author.get("kind") or "user"
    who = clean(author.get("email") or author.get("id") or kind)
    title = Text.assemble(
        (who, "bold"), (f" ({kind})", KIND_STYLE.get(kind, "")), ("  " + stamp(message.get("created_at")), "dim")
    )
    border = KIND_STYLE.get(kind, "") or "white"
    if message.get("internal"):
        title = Text.assemble(("INTERNAL NOTE ", "bold black on yellow"), " ", title)
        border = "yellow"
    parts: list[Any] = [_markdown(message.get("body") or "")]
    if message.get("attachments"):
        parts.append(Text(""))
        parts.append(_attachment_lines(message["attachments"]))
    subtitle = Text("not visible to the customer", style="yellow") if message.get("internal") else None
    return Panel(Group(*parts), title=title, title_align="left", border_style=border, subtitle=subtitle)


def print_ticket(ticket: dict[str, Any], reader: dict[str, Any] | None = None) -> None:
    """The ticket and its conversation; `reader` (GET /v1/me) words "waiting on …" for them."""
    out.print(ticket_header(ticket, reader))
    messages = ticket.get("messages") or []
    in_messages = {a.get("id") for m in messages for a in (m.get("attachments") or [])}
    for message in messages:
        if (message.get("author") or {}).get("kind") == "system" and message.get("change"):
            out.print(timeline_line(message))  # the timeline: changes inline, one line each
        else:
            out.print(message_panel(message))
    loose = [a for a in ticket.get("attachments") or [] if a.get("id") not in in_messages]
    if loose:
        out.print(Panel(_attachment_lines(loose), title="Attachments", title_align="left", border_style="dim"))
    if not messages:
        note("No messages.")


def print_created(ticket: dict[str, Any]) -> None:
    out.print(
        Text.assemble(
            ("Created ticket ", "green"),
            (clean(ticket.get("id")), "bold"),
            "  ",
            badge(ticket.get("status")),
            "  ",
            one_line(ticket.get("subject"), 80),
        )
    )


def print_closed(ticket_id: str, closed: dict[str, Any]) -> None:
    what = ("Already closed ", "yellow") if closed.get("already_closed") else ("Closed ", "green")
    line = Text.assemble(what, (clean(closed.get("id") or ticket_id), "bold"), "  ", badge(closed.get("status")))
    if closed.get("already_closed"):
        line.append("  (nothing changed)", style="dim")
    out.print(line)


def print_replied(ticket_id: str, message: dict[str, Any]) -> None:
    kind = "internal note" if message.get("internal") else "reply"
    out.print(
        Text.assemble(
            ("Added ", "green"), kind, " ", (clean(message.get("id") or ""), "bold"), " to ", (clean(ticket_id), "bold")
        )
    )


# -- reviews --------------------------------------------------------------------------------


def _confidence(value: Any) -> str:
    try:
        return f" ({float(value):.0%} confident)"
    except (TypeError, ValueError):
        return ""


def review_panel(review: dict[str, Any], draft: dict[str, Any] | None = None) -> Panel:
    result = review.get("result") or {}
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    grid.add_row("Review", Text(clean(review.get("review_id")), style="bold"))
    if result.get("summary"):
        grid.add_row("Summary", one_line(result.get("summary"), 300))
    draft = draft or {}
    for label, key, chosen in (
        ("Category", "suggested_category", draft.get("category")),
        ("Severity", "suggested_severity", draft.get("severity")),
    ):
        suggested = result.get(key)
        if suggested:
            conf = _confidence(result.get(key.replace("suggested_", "") + "_confidence"))
            line = Text.assemble((clean(suggested), "bold"), (conf, "dim"))
            if chosen and chosen != suggested:
                line.append(f"  (you chose {clean(chosen)})", style="yellow")
            grid.add_row(f"Suggested {label.lower()}", line)
    quality = result.get("quality") or {}
    if quality:
        score = quality.get("score")
        style = "green" if isinstance(score, int | float) and score >= 70 else "yellow"
        grid.add_row("Quality", Text(f"{score}/100", style=style))
        for issue in quality.get("issues") or []:
            grid.add_row("", Text.assemble("• ", (clean(issue.get("code")), "bold"), " ", clean(issue.get("message"))))
    questions = result.get("questions") or []
    for i, question in enumerate(questions, 1):
        grid.add_row("Questions" if i == 1 else "", Text(f"{i}. {one_line(question, 300)}"))
    parts: list[Any] = [grid]
    duplicates = result.get("duplicates") or []
    if duplicates:
        table = Table(
            box=box.SIMPLE_HEAD, title="Possible duplicates", title_justify="left", pad_edge=False, show_edge=False
        )
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("TICKET", no_wrap=True, style="bold")
        table.add_column("STATUS", no_wrap=True)
        table.add_column("SCORE", justify="right", no_wrap=True)
        table.add_column("SUBJECT / EVIDENCE", ratio=1)
        for i, dup in enumerate(duplicates, 1):
            score = dup.get("score")
            cell = Text(one_line(dup.get("subject"), 100))
            evidence = [one_line(e, 60) for e in (dup.get("evidence") or [])[:3]]
            if evidence:
                cell.append("\n" + ", ".join(f"“{e}”" for e in evidence), style="dim")
            table.add_row(
                str(i),
                clean(dup.get("ticket_id")),
                badge(dup.get("status")),
                f"{score:.2f}" if isinstance(score, int | float) else clean(score),
                cell,
            )
        parts.append(table)
    status = review.get("status")
    border = {"completed": "green", "failed": "red"}.get(str(status), "yellow")
    return Panel(Group(*parts), title=f"AI review: {clean(status)}", title_align="left", border_style=border)
