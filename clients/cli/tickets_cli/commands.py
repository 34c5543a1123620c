"""What the CLI commands do, once their flags are parsed (imported lazily by `tickets_cli.main`)."""

from __future__ import annotations

import contextlib
import mimetypes
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.prompt import Confirm, Prompt
from rich.text import Text

from tickets_cli import config, render
from tickets_cli.client import HelpdeskClient, Upload, normalise_api_url
from tickets_cli.errors import ConfigError, ReviewFailed, TicketsError

if TYPE_CHECKING:
    from tickets_cli.state import Output, State

SOURCE = "cli"
#: Files are sent inline (multipart) while the request stays under API Gateway/Lambda's ~6 MB
#: cap; larger ones go through the presigned upload path after the ticket/message exists.
INLINE_BUDGET_BYTES = 4 * 1024 * 1024


def client_for(state: State) -> HelpdeskClient:
    settings = config.resolve(state.profile, state.api_url)
    return HelpdeskClient(settings.api_url, settings.token)


# -- login / whoami -----------------------------------------------------------------------------


def login(
    state: State, *, api_url: str | None, token: str | None, profile: str | None, make_default: bool, verify: bool
) -> None:
    name = config.profile_name(profile)
    if not api_url:
        stored = (config.load().get("profiles") or {}).get(name) or {}
        default = stored.get("api_url") or config.DEFAULT_API_URL
        api_url = Prompt.ask("API URL", default=default, console=render.err) if sys.stdin.isatty() else default
    if token == "-":
        token = sys.stdin.readline().strip()
    elif not token:
        if not sys.stdin.isatty():
            token = sys.stdin.readline().strip()
        else:
            token = Prompt.ask("Token", password=True, console=render.err).strip()
    if not token:
        raise ConfigError("No token given.")
    api_url = normalise_api_url(api_url)
    who: dict[str, Any] = {}
    if verify:
        with HelpdeskClient(api_url, token) as client:
            who = client.me() or {}
    path = config.save_profile(name, api_url, token, make_default=make_default)
    identity = (
        f" as {render.clean(who.get('email') or who.get('id'))} (org {render.clean(who.get('org_id'))})" if who else ""
    )
    render.err.print(Text.assemble(("Logged in", "green"), identity, f"; profile '{name}' saved to {path}"))


def whoami(state: State, *, output: Output | None) -> None:
    with client_for(state) as client:
        me = client.me()
    if state.wants_json(output):
        render.emit_json(me)
        return
    roles = ", ".join(me.get("roles") or []) or "member"
    render.out.print(
        Text.assemble(
            (render.clean(me.get("email") or me.get("id")), "bold"),
            f"  org {render.clean(me.get('org_id'))}",
            f"  roles: {render.clean(roles)}",
            f"  email notifications: {'on' if me.get('email_notifications', True) else 'off'}",
        )
    )


# -- uploads ------------------------------------------------------------------------------------


def load_uploads(paths: list[Path]) -> list[Upload]:
    uploads = []
    for path in paths:
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix.lower() in (".log", ".txt", ".out"):
            content_type = "text/plain"
        uploads.append(Upload(filename=path.name, content=path.read_bytes(), content_type=content_type))
    return uploads


def split_uploads(uploads: list[Upload]) -> tuple[list[Upload], list[Upload]]:
    """(sent inline with the request, sent afterwards through presigned URLs)."""
    inline: list[Upload] = []
    later: list[Upload] = []
    budget = INLINE_BUDGET_BYTES
    for upload in uploads:
        if upload.size <= budget:
            inline.append(upload)
            budget -= upload.size
        else:
            later.append(upload)
    return inline, later


@contextlib.contextmanager
def progress_bar(description: str, enabled: bool) -> Iterator[Any]:
    """A rich transfer bar on stderr; yields a progress(done, total) callback (None when disabled)."""
    if not enabled or not render.err.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=render.err,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield update


def _names(uploads: list[Upload]) -> str:
    return ", ".join(u.filename for u in uploads)


def upload_later(client: HelpdeskClient, ticket_id: str, uploads: list[Upload]) -> None:
    for upload in uploads:
        with progress_bar(f"Uploading {upload.filename}", True) as progress:
            client.upload_attachment(ticket_id, upload, progress=progress)
        render.note(f"Uploaded {upload.filename}; it becomes downloadable once it has been checked.")


# -- create / review ----------------------------------------------------------------------------


def _draft(
    category: str, body: str, subject: str | None, severity: str | None, properties: dict[str, str]
) -> dict[str, Any]:
    draft: dict[str, Any] = {"category": category, "body": body}
    if subject:
        draft["subject"] = subject
    if severity:
        draft["severity"] = severity
    if properties:
        draft["properties"] = properties
    return draft


def _file(
    client: HelpdeskClient, payload: dict[str, Any], uploads: list[Upload], idempotency_key: str | None
) -> dict[str, Any]:
    inline, later = split_uploads(uploads)
    with progress_bar(f"Uploading {_names(inline)}", bool(inline)) as progress:
        ticket = client.create_ticket(payload, inline, idempotency_key=idempotency_key, progress=progress)
    if later and ticket.get("id"):
        upload_later(client, ticket["id"], later)
    return ticket


def _reply(
    client: HelpdeskClient, ticket_id: str, payload: dict[str, Any], uploads: list[Upload], idempotency_key: str | None
) -> dict[str, Any]:
    inline, later = split_uploads(uploads)
    with progress_bar(f"Uploading {_names(inline)}", bool(inline)) as progress:
        message = client.reply(ticket_id, payload, inline, idempotency_key=idempotency_key, progress=progress)
    if later:
        upload_later(client, ticket_id, later)
    return message


def _wait_for_review(client: HelpdeskClient, draft: dict[str, Any], timeout: float) -> dict[str, Any]:
    with render.err.status("AI review in progress…", spinner="dots"):
        return client.review_draft(draft, timeout=timeout)


def create(
    state: State,
    *,
    category: str,
    body: str,
    subject: str | None,
    severity: str | None,
    properties: dict[str, str],
    files: list[Path],
    review: bool,
    yes: bool,
    review_timeout: float,
    idempotency_key: str | None,
    output: Output | None,
) -> None:
    as_json = state.wants_json(output)
    uploads = load_uploads(files)
    draft = _draft(category, body, subject, severity, properties)
    with client_for(state) as client:
        if not review:
            ticket = _file(client, {**draft, "source": SOURCE}, uploads, idempotency_key)
            _show_created(ticket, as_json)
            return
        result = _wait_for_review(client, draft, review_timeout)
        _review_then_file(client, draft, result, uploads, yes=yes, as_json=as_json, idempotency_key=idempotency_key)


def _show_created(ticket: dict[str, Any], as_json: bool) -> None:
    if as_json:
        render.emit_json(ticket)
    else:
        render.print_created(ticket)


def _review_then_file(
    client: HelpdeskClient,
    draft: dict[str, Any],
    review: dict[str, Any],
    uploads: list[Upload],
    *,
    yes: bool,
    as_json: bool,
    idempotency_key: str | None,
) -> None:
    console = render.err if as_json else render.out
    status = review.get("status")
    if status != "completed":
        why = "failed" if status == "failed" else "did not finish in time"
        render.err.print(Text(f"The AI review {why}.", style="yellow"))
        if not (yes or Confirm.ask("File the ticket without a review?", default=True, console=render.err)):
            raise typer.Abort()
        _show_created(_file(client, {**draft, "source": SOURCE}, uploads, idempotency_key), as_json)
        return

    console.print(render.review_panel(review, draft))
    result = review.get("result") or {}
    # A closed ticket takes no replies, so only open duplicates are offered as a place to add the text.
    duplicates = [d for d in result.get("duplicates") or [] if d.get("ticket_id") and d.get("status") != "closed"]
    payload: dict[str, Any] = {**draft, "source": SOURCE, "review_id": review.get("review_id")}
    if not draft.get("severity") and result.get("suggested_severity"):
        payload["severity"] = result["suggested_severity"]

    if not yes:
        choices = ["file", "abort"] + (["reply"] if duplicates else [])
        hint = "file it" + (", reply to a duplicate instead" if duplicates else "") + ", or abort"
        choice = Prompt.ask(f"What now? ({hint})", choices=choices, default="file", console=render.err)
        if choice == "abort":
            raise typer.Abort()
        if choice == "reply":
            target = _pick_duplicate(duplicates)
            message = _reply(client, target, {"body": draft["body"]}, uploads, idempotency_key)
            if as_json:
                render.emit_json(message)
            else:
                render.print_replied(target, message)
            return
        suggested = result.get("suggested_category")
        if (
            suggested
            and suggested != draft["category"]
            and Confirm.ask(
                f"Use the suggested category '{render.clean(suggested)}' instead of '{draft['category']}'?",
                default=False,
                console=render.err,
            )
        ):
            payload["category"] = suggested
        answers = {}
        for question in result.get("questions") or []:
            answer = Prompt.ask(
                Text.assemble(("? ", "bold cyan"), render.one_line(question, 300), (" (Enter to skip)", "dim")),
                default="",
                show_default=False,
                console=render.err,
            ).strip()
            if answer:
                answers[str(question)[:500]] = answer
        if answers:
            payload["answers"] = answers

    _show_created(_file(client, payload, uploads, idempotency_key), as_json)


def _pick_duplicate(duplicates: list[dict[str, Any]]) -> str:
    if len(duplicates) == 1:
        return str(duplicates[0]["ticket_id"])
    numbers = [str(i) for i in range(1, len(duplicates) + 1)]
    picked = Prompt.ask("Reply to which duplicate (#)?", choices=numbers, default="1", console=render.err)
    return str(duplicates[int(picked) - 1]["ticket_id"])


def review(
    state: State,
    *,
    category: str,
    body: str,
    subject: str | None,
    severity: str | None,
    properties: dict[str, str],
    wait: bool,
    review_timeout: float,
    output: Output | None,
) -> None:
    draft = _draft(category, body, subject, severity, properties)
    as_json = state.wants_json(output)
    with client_for(state) as client:
        if not wait:
            started = client.start_review(draft)
            if as_json:
                render.emit_json(started)
            else:
                render.out.print(
                    Text.assemble(
                        "Review ",
                        (render.clean(started.get("review_id")), "bold"),
                        f" is {render.clean(started.get('status'))}.",
                    )
                )
            return
        result = _wait_for_review(client, draft, review_timeout)
    if as_json:
        render.emit_json(result)
    else:
        render.out.print(render.review_panel(result, draft))
    if result.get("status") == "failed":
        raise ReviewFailed("The AI review failed.")
    if result.get("status") != "completed":
        raise ReviewFailed(f"The review is still pending after {review_timeout:.0f}s; id {result.get('review_id')}.")


# -- list / describe / reply / close ------------------------------------------------------------


def list_tickets(state: State, *, all_pages: bool, output: Output | None, **filters: Any) -> None:
    as_json = state.wants_json(output)
    with client_for(state) as client:
        if not all_pages:
            page = client.list_tickets(**filters)
            if as_json:
                render.emit_json(page)
            else:
                render.print_ticket_list(page, show_due=_owes(page.get("items") or []))
            return
        items: list[dict[str, Any]] = []
        for page in client.iter_pages(**filters):
            items.extend(page.get("items") or [])
    combined = {"items": items, "next_cursor": None}
    if as_json:
        render.emit_json(combined)
    else:
        render.print_ticket_list(combined, show_due=_owes(items))


def _owes(items: list[dict[str, Any]]) -> bool:
    """A DUE column is worth its room when some listed ticket has a response target running."""
    return any(item.get("response_due_at") for item in items)


def describe(state: State, ticket_id: str, *, output: Output | None) -> None:
    as_json = state.wants_json(output)
    with client_for(state) as client:
        ticket = client.get_ticket(ticket_id)
        reader = None if as_json or not ticket.get("waiting_on") else _reader(client)
    if as_json:
        render.emit_json(ticket)
    else:
        render.print_ticket(ticket, reader=reader)


def _reader(client: HelpdeskClient) -> dict[str, Any] | None:
    """Who is reading (GET /v1/me), to word "waiting on …" for them; None if the API will not say."""
    try:
        return client.me()
    except TicketsError:
        return None


def reply(
    state: State,
    ticket_id: str,
    *,
    body: str,
    files: list[Path],
    internal: bool,
    idempotency_key: str | None,
    output: Output | None,
) -> None:
    payload: dict[str, Any] = {"body": body}
    if internal:
        payload["internal"] = True
    with client_for(state) as client:
        message = _reply(client, ticket_id, payload, load_uploads(files), idempotency_key)
    if state.wants_json(output):
        render.emit_json(message)
    else:
        render.print_replied(ticket_id, message)


def close(state: State, ticket_id: str, *, idempotency_key: str | None, output: Output | None) -> None:
    with client_for(state) as client:
        closed = client.close_ticket(ticket_id, idempotency_key=idempotency_key)
    if state.wants_json(output):
        render.emit_json(closed)
    else:
        render.print_closed(ticket_id, closed)


# -- attachments --------------------------------------------------------------------------------


def attachment_get(state: State, ticket_id: str, attachment_id: str, *, out: str | None, force: bool) -> None:
    to_stdout = out in (None, "-")
    if out is None and sys.stdout.isatty():
        raise typer.BadParameter(
            "refusing to write a file to the terminal: use -o FILE or redirect stdout", param_hint="--out"
        )
    with client_for(state) as client:
        if to_stdout:
            sink = sys.stdout.buffer
            info = client.download_attachment(ticket_id, attachment_id, sink)
            sink.flush()
            return
        target = Path(out or "").expanduser()
        if target.is_dir():
            raise typer.BadParameter(f"{target} is a directory", param_hint="--out")
        if target.exists() and not force:
            raise typer.BadParameter(f"{target} exists; add --force to overwrite", param_hint="--out")
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
        try:
            with os.fdopen(fd, "wb") as fh, progress_bar(f"Downloading {target.name}", True) as progress:
                info = client.download_attachment(ticket_id, attachment_id, fh, progress=progress)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    if state.wants_json(None):
        render.emit_json({"ticket_id": ticket_id, "attachment_id": attachment_id, "path": str(target), **info})
    else:
        render.err.print(Text.assemble(("Saved ", "green"), str(target), f" ({render.human_size(info['bytes'])})"))
