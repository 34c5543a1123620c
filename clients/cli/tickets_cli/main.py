"""The `tickets` command line: flags, help and aliases.

Only typer and the stdlib are imported at module level so that `tickets --help` stays fast;
httpx, rich and mcp are imported inside the commands (see `tickets_cli.commands`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from tickets_cli import __version__
from tickets_cli.cloudfleet import command_class
from tickets_cli.errors import TicketsError
from tickets_cli.state import Output, State
from tickets_cli.vocabulary import Category, Severity, Status

F = TypeVar("F", bound=Callable[..., Any])

EPILOG = (
    "[b]Exit codes[/b]: 0 ok · 1 the API refused the request (4xx) or you aborted · "
    "2 usage error or not logged in · 3 server error (5xx) or the AI review failed · "
    "4 network error (API unreachable after 3 tries).\n\n"
    "[b]Environment[/b]: TICKETS_TOKEN and TICKETS_API_URL override the profile; "
    "TICKETS_PROFILE picks one; TICKETS_CONFIG relocates ~/.config/helpdesk/profiles.toml."
)
ALIASES = "Cloudfleet-compatible aliases"
MAX_ATTACHMENTS = 3
MAX_FILE_BYTES = 10 * 1024 * 1024


app = typer.Typer(
    name="tickets",
    help="Helpdesk support tickets from the command line: file, follow, reply, close. "
    "`tickets mcp` serves the same as MCP tools to AI assistants.",
    epilog=EPILOG,
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,  # locals would include the bearer token
    context_settings={"help_option_names": ["-h", "--help"]},
)
attachment_app = typer.Typer(help="Download attachments.", no_args_is_help=True, epilog=EPILOG)
app.add_typer(attachment_app, name="attachment")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tickets {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    profile: Annotated[
        str | None,
        typer.Option("--profile", "-p", envvar="TICKETS_PROFILE", metavar="NAME", help="Profile to use (see `login`)."),
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url", envvar="TICKETS_API_URL", metavar="URL", help="API base URL; overrides the profile's."
        ),
    ] = None,
    output: Annotated[Output, typer.Option("--output", help="`json` prints the raw API JSON.")] = Output.text,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    ctx.obj = State(profile=profile, api_url=api_url, output=output)


def _state(ctx: Any) -> State:
    obj = ctx.find_object(State) if ctx is not None else None
    return obj if obj is not None else State()


def guarded(fn: F) -> F:
    """Report TicketsError on stderr (problem JSON with --output json) and exit with its code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = kwargs.get("ctx")
        try:
            return fn(*args, **kwargs)
        except TicketsError as exc:
            from tickets_cli import render

            as_json = hasattr(ctx, "find_object") and _state(ctx).wants_json(kwargs.get("output"))
            render.error(exc, as_json=as_json)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


# -- shared option types ------------------------------------------------------------------------

OutputOpt = Annotated[Output | None, typer.Option("--output", help="`json` prints the raw API JSON.")]
BodyOpt = Annotated[
    str | None, typer.Option("--body", "-b", metavar="TEXT", help="Message in markdown; `-` reads stdin.")
]
BodyFileOpt = Annotated[
    str | None, typer.Option("--body-file", "-f", metavar="FILE", help="Read the message from a file; `-` reads stdin.")
]
AttachOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--attach",
        "-a",
        metavar="FILE",
        exists=True,
        dir_okay=False,
        readable=True,
        resolve_path=True,
        help=f"File to attach (repeat, at most {MAX_ATTACHMENTS}, 10 MB each).",
    ),
]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key", metavar="KEY", help="Reuse a key when re-running the same command so it applies once."
    ),
]
TicketArg = Annotated[str, typer.Argument(help="Ticket ID.", show_default=False)]


def read_body(body: str | None, body_file: str | None) -> str:
    import sys

    if body is not None and body_file is not None:
        raise typer.BadParameter("use either --body or --body-file, not both", param_hint="--body")
    if body == "-" or body_file == "-":
        text = sys.stdin.read()
    elif body_file is not None:
        try:
            text = Path(body_file).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"cannot read {body_file}: {exc}", param_hint="--body-file") from exc
    elif body is not None:
        text = body
    else:
        raise typer.BadParameter(
            "give the message with --body TEXT, --body-file FILE, or `--body -` for stdin", param_hint="--body"
        )
    if not text.strip():
        raise typer.BadParameter("the message is empty", param_hint="--body")
    return text


def check_attachments(files: list[Path] | None) -> list[Path]:
    files = list(files or [])
    if len(files) > MAX_ATTACHMENTS:
        raise typer.BadParameter(f"at most {MAX_ATTACHMENTS} attachments per message", param_hint="--attach")
    for path in files:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise typer.BadParameter(
                f"{path.name} is {size / 1048576:.1f} MB; the limit is 10 MB per file", param_hint="--attach"
            )
        if size == 0:
            raise typer.BadParameter(f"{path.name} is empty", param_hint="--attach")
    return files


def parse_properties(pairs: list[str] | None) -> dict[str, str]:
    props: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--property")
        props[key.strip()] = value.strip()
    return props


# -- commands -----------------------------------------------------------------------------------


@app.command()
@guarded
def login(
    ctx: typer.Context,
    api_url: Annotated[
        str | None, typer.Option("--api-url", metavar="URL", help="API base URL, e.g. http://127.0.0.1:3000.")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token", metavar="TOKEN", help="Bearer token (prompted, hidden, when omitted); `-` reads stdin."
        ),
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", metavar="NAME", help="Profile name to store.")
    ] = None,
    make_default: Annotated[bool, typer.Option("--default", help="Make this the default profile.")] = False,
    verify: Annotated[bool, typer.Option("--verify/--no-verify", help="Check the token with GET /v1/me.")] = True,
) -> None:
    """Store an API URL and token in a profile (~/.config/helpdesk/profiles.toml)."""
    from tickets_cli import commands

    state = _state(ctx)
    commands.login(
        state,
        api_url=api_url or state.api_url,
        token=token,
        profile=profile or state.profile,
        make_default=make_default,
        verify=verify,
    )


@app.command()
@guarded
def whoami(ctx: typer.Context, output: OutputOpt = None) -> None:
    """Show the caller as the API sees it (GET /v1/me)."""
    from tickets_cli import commands

    commands.whoami(_state(ctx), output=output)


def create(
    ctx: typer.Context,
    category: Annotated[Category, typer.Option("--category", "-c", help="Routing category.", show_default=False)],
    body: BodyOpt = None,
    body_file: BodyFileOpt = None,
    subject: Annotated[
        str | None,
        typer.Option(
            "--subject", "-s", metavar="TEXT", help="Subject (≤ 200 chars); derived from the body if omitted."
        ),
    ] = None,
    severity: Annotated[
        Severity | None, typer.Option("--severity", help="Severity (suggested by review if omitted).")
    ] = None,
    prop: Annotated[
        list[str] | None,
        typer.Option("--property", "-P", metavar="KEY=VALUE", help="KEY=VALUE context, e.g. cluster_id=… (repeat)."),
    ] = None,
    attach: AttachOpt = None,
    review: Annotated[
        bool, typer.Option("--review", help="Run the AI review first, then choose to file or reply to a duplicate.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask; with --review, file the ticket.")] = False,
    review_timeout: Annotated[
        float, typer.Option("--review-timeout", metavar="SECONDS", help="Seconds to wait for the review.")
    ] = 120.0,
    idempotency_key: KeyOpt = None,
    output: OutputOpt = None,
) -> None:
    """Open a ticket (source `cli`). Attachments go up with a progress bar."""
    from tickets_cli import commands

    text = read_body(body, body_file)
    files = check_attachments(attach)
    props = parse_properties(prop)
    if review and not yes and (body == "-" or body_file == "-"):
        raise typer.BadParameter(
            "the body came from stdin, so --review cannot ask questions: add --yes", param_hint="--review"
        )
    commands.create(
        _state(ctx),
        category=category.value,
        body=text,
        subject=subject,
        severity=severity.value if severity else None,
        properties=props,
        files=files,
        review=review,
        yes=yes,
        review_timeout=review_timeout,
        idempotency_key=idempotency_key,
        output=output,
    )


def list_(
    ctx: typer.Context,
    status: Annotated[list[Status] | None, typer.Option("--status", help="Filter by status (repeat).")] = None,
    category: Annotated[Category | None, typer.Option("--category", "-c", help="Filter by category.")] = None,
    severity: Annotated[Severity | None, typer.Option("--severity", help="Filter by severity.")] = None,
    cluster_id: Annotated[
        str | None, typer.Option("--cluster-id", metavar="ID", help="Filter by properties.cluster_id.")
    ] = None,
    q: Annotated[
        str | None, typer.Option("-q", "--query", metavar="WORDS", help="Words in subject, body or summary.")
    ] = None,
    org_id: Annotated[
        str | None, typer.Option("--org-id", metavar="ORG", help="Support only: one org's tickets.")
    ] = None,
    by_due: Annotated[
        bool,
        typer.Option("--by-due", help="Support only: the queue by response target, soonest (and passed) first."),
    ] = False,
    breached: Annotated[
        bool, typer.Option("--breached", help="Support only: only tickets whose response target has passed.")
    ] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, max=100, metavar="N", help="Page size (1–100, server default 25).")
    ] = None,
    cursor: Annotated[
        str | None, typer.Option("--cursor", metavar="CURSOR", help="Continue from a previous page's next_cursor.")
    ] = None,
    all_pages: Annotated[bool, typer.Option("--all", help="Follow next_cursor to the last page.")] = False,
    output: OutputOpt = None,
) -> None:
    """List tickets, newest first, with status badges, one-line summaries and response targets."""
    from tickets_cli import commands

    commands.list_tickets(
        _state(ctx),
        status=[s.value for s in status or []],
        category=category.value if category else None,
        severity=severity.value if severity else None,
        cluster_id=cluster_id,
        q=q,
        org_id=org_id,
        sort="response_due" if by_due else None,
        breached="true" if breached else None,
        limit=limit,
        cursor=cursor,
        all_pages=all_pages,
        output=output,
    )


def describe(ctx: typer.Context, ticket_id: TicketArg, output: OutputOpt = None) -> None:
    """Show a ticket and its whole conversation (markdown rendered; internal notes marked)."""
    from tickets_cli import commands

    commands.describe(_state(ctx), ticket_id, output=output)


def reply(
    ctx: typer.Context,
    ticket_id: TicketArg,
    body: BodyOpt = None,
    body_file: BodyFileOpt = None,
    attach: AttachOpt = None,
    internal: Annotated[
        bool, typer.Option("--internal", help="Support only: an internal note customers never see.")
    ] = False,
    idempotency_key: KeyOpt = None,
    output: OutputOpt = None,
) -> None:
    """Reply to a ticket (409 if it is closed)."""
    from tickets_cli import commands

    text = read_body(body, body_file)
    files = check_attachments(attach)
    commands.reply(
        _state(ctx),
        ticket_id,
        body=text,
        files=files,
        internal=internal,
        idempotency_key=idempotency_key,
        output=output,
    )


def close(ctx: typer.Context, ticket_id: TicketArg, idempotency_key: KeyOpt = None, output: OutputOpt = None) -> None:
    """Close a ticket. One-way: a closed ticket cannot be reopened."""
    from tickets_cli import commands

    commands.close(_state(ctx), ticket_id, idempotency_key=idempotency_key, output=output)


def attachment_get(
    ctx: typer.Context,
    ticket_id: TicketArg,
    attachment_id: Annotated[str, typer.Argument(help="Attachment ID (see `describe`).", show_default=False)],
    out: Annotated[
        str | None,
        typer.Option(
            "--out", "-o", metavar="FILE", help="Write to FILE (`-` = stdout). Default: stdout if redirected."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
) -> None:
    """Download an attachment (the token is never sent to the storage host)."""
    from tickets_cli import commands

    commands.attachment_get(_state(ctx), ticket_id, attachment_id, out=out, force=force)


def review(
    ctx: typer.Context,
    category: Annotated[Category, typer.Option("--category", "-c", help="Routing category.", show_default=False)],
    body: BodyOpt = None,
    body_file: BodyFileOpt = None,
    subject: Annotated[
        str | None, typer.Option("--subject", "-s", metavar="TEXT", help="Subject of the draft.")
    ] = None,
    severity: Annotated[Severity | None, typer.Option("--severity", help="Severity you would pick.")] = None,
    prop: Annotated[
        list[str] | None, typer.Option("--property", "-P", metavar="KEY=VALUE", help="KEY=VALUE context (repeat).")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait for the result (else print the review id).")
    ] = True,
    review_timeout: Annotated[
        float, typer.Option("--review-timeout", metavar="SECONDS", help="Seconds to wait for the review.")
    ] = 120.0,
    output: OutputOpt = None,
) -> None:
    """AI review of a draft (nothing is filed): summary, suggestions, questions, duplicates."""
    from tickets_cli import commands

    text = read_body(body, body_file)
    commands.review(
        _state(ctx),
        category=category.value,
        body=text,
        subject=subject,
        severity=severity.value if severity else None,
        properties=parse_properties(prop),
        wait=wait,
        review_timeout=review_timeout,
        output=output,
    )


@app.command("mcp")
def mcp_command(ctx: typer.Context) -> None:
    """Serve the ticket tools to an AI assistant over MCP (stdio)."""
    from tickets_cli import mcp_server

    state = _state(ctx)
    mcp_server.run(profile=state.profile, api_url=state.api_url)


def _register(
    fn: Callable[..., Any],
    name: str,
    *aliases: str,
    target: typer.Typer = app,
    fields: dict[str, str] | None = None,
    form: str = "",
) -> None:
    """`name` on `target`; each alias on the root with Cloudfleet's argument form (`.field: value`
    for `fields`, see tickets_cli.cloudfleet)."""
    command = guarded(fn)
    target.command(name)(command)
    help_text = f"Same as `{_alias_of(target, name)}`." + (f" Also in Cloudfleet's form: {form}" if form else "")
    for alias in aliases:
        app.command(alias, rich_help_panel=ALIASES, help=help_text, cls=command_class(**(fields or {})))(command)


def _alias_of(target: typer.Typer, name: str) -> str:
    return f"attachment {name}" if target is attachment_app else name


_register(
    create,
    "create",
    "create-ticket",
    fields={
        "category": "--category",
        "body": "--body",
        "subject": "--subject",
        "severity": "--severity",
        "properties": "--property",
    },
    form='`.category: technical, .body: "…", .properties.cluster_id: …` (also .subject:, .severity:).',
)
_register(list_, "list")
_register(describe, "describe", "describe-ticket")
_register(reply, "reply", "reply-ticket", fields={"body": "--body"}, form='`reply-ticket ID .body: "…"`.')
_register(close, "close", "close-ticket")
_register(review, "review")
_register(attachment_get, "get", "get-ticket-attachment", target=attachment_app)


def main() -> None:
    app(prog_name="tickets")
