"""Cloudfleet's argument form on the Cloudfleet-named commands, so a runbook written for
`cloudfleet tickets …` runs with `tickets …` in its place:

    tickets create-ticket \\
      .category: technical, \\
      .body: "Node provisioning is stuck in fra1 since 14:00 UTC.", \\
      .properties.cluster_id: 60c72b2f9f1b2c001f8e4d3a
    tickets reply-ticket 01J… .body: "Confirmed, the fix works."

Each `.field: value` (also `.field:value`) becomes the command's own option before click parses
the line (`.body: x` → `--body=x`, `.properties.KEY: v` → `--property=KEY=v`), so values are
checked exactly as the options are. A value is the one word after the key, as the shell hands it
over (quote values with spaces); one trailing comma, the separator, is dropped (`"a,",` keeps
`a,`), and a lone `,` is skipped. IDs given as arguments may carry the separator too (`ID,`).
Stdlib and typer only: imported on every run."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import typer
from typer.core import TyperCommand

KEY = re.compile(r"^\.([A-Za-z_][\w-]*(?:\.[\w-]+)*):(.*)$", re.S)
PROPERTIES = "properties"


def _value(token: str) -> str:
    return token[:-1] if token.endswith(",") else token


def _refuse(field: str, message: str, ctx: Any) -> typer.BadParameter:
    return typer.BadParameter(message, ctx=ctx, param_hint=f"'.{field}:'")


class CloudfleetCommand(TyperCommand):
    """A command that also takes `.field: value` arguments; FIELDS maps each field to its option
    (`properties` to the repeatable `--property KEY=VALUE`)."""

    FIELDS: ClassVar[dict[str, str]] = {}

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            args = self.translate(ctx, args)
        except typer.BadParameter:
            if not ctx.resilient_parsing:  # shell completion parses half-typed lines: no errors there
                raise
        rest = super().parse_args(ctx, args)
        for param in self.params:  # `close-ticket ID,`: an ID never holds a comma
            value = ctx.params.get(param.name)
            if param.param_type_name == "argument" and isinstance(value, str):
                ctx.params[param.name] = _value(value)
        return rest

    def translate(self, ctx: Any, args: list[str]) -> list[str]:
        """The arguments with every `.field: value` replaced by its option (`--body=value`)."""
        out: list[str] = []
        seen: set[str] = set()
        i = 0
        while i < len(args):
            token = args[i]
            i += 1
            if token == "--":
                out.extend(args[i - 1 :])
                break
            if token == ",":
                continue
            match = KEY.match(token)
            if not match:
                out.append(token)
                continue
            field, inline = match.group(1), match.group(2).lstrip()
            if inline:
                raw = inline
            elif i < len(args):
                raw = args[i]  # the word after the key is its value, whatever it looks like
                i += 1
            else:
                raise _refuse(field, "has no value", ctx)
            out.append(self._option(ctx, field, _value(raw), seen, args))
        return out

    def _option(self, ctx: Any, field: str, value: str, seen: set[str], args: list[str]) -> str:
        top, _, sub = field.partition(".")
        if top not in self.FIELDS:
            raise _refuse(field, self._takes(), ctx)
        if top == PROPERTIES:
            if not sub:
                raise _refuse(field, "give each property as `.properties.KEY: VALUE`", ctx)
            return f"{self.FIELDS[top]}={sub}={value}"
        if sub:
            raise _refuse(field, f"`.{top}` has no fields", ctx)
        if field in seen:
            raise _refuse(field, "given twice", ctx)
        seen.add(field)
        flag = self.FIELDS[top]
        if self._given(flag, args):
            raise _refuse(field, f"give `.{field}:` or {flag}, not both", ctx)
        return f"{flag}={value}"

    def _given(self, flag: str, args: list[str]) -> bool:
        """Whether the line also sets the option itself (`--body x`, `-b x`, `--body=x`)."""
        opts = next((list(p.opts) for p in self.params if flag in getattr(p, "opts", ())), [flag])
        return any(arg in opts or any(arg.startswith(f"{o}=") for o in opts if o.startswith("--")) for arg in args)

    def _takes(self) -> str:
        if not self.FIELDS:
            return f"{self.name} takes IDs as arguments, not `.field: value`"
        fields = [f".{name}.KEY:" if name == PROPERTIES else f".{name}:" for name in self.FIELDS]
        return f"{self.name} takes {', '.join(fields)}"


def command_class(**fields: str) -> type[CloudfleetCommand]:
    """A CloudfleetCommand whose `.field:` arguments stand for these options."""
    return type("CloudfleetCommand", (CloudfleetCommand,), {"FIELDS": dict(fields)})
