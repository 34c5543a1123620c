"""Profiles: where the API lives and which token to send. Stdlib only.

The file is TOML, `~/.config/helpdesk/profiles.toml` by default (`$XDG_CONFIG_HOME` honoured,
`TICKETS_CONFIG` relocates it), written with mode 0600 because it holds bearer tokens:

    default_profile = "default"

    [profiles.default]
    api_url = "http://127.0.0.1:3000"
    token = "eyJ..."

Precedence, highest first: `TICKETS_TOKEN` / `TICKETS_API_URL` (or `--api-url`), then the
profile chosen by `--profile` / `TICKETS_PROFILE`, then `default_profile`, then "default".
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tickets_cli.errors import ConfigError

DEFAULT_API_URL = "http://127.0.0.1:3000"
DEFAULT_PROFILE = "default"
PROFILE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Settings:
    """What a command needs to talk to the API."""

    api_url: str
    token: str | None
    profile: str


def config_path() -> Path:
    if explicit := os.environ.get("TICKETS_CONFIG"):
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "helpdesk" / "profiles.toml"


def load(path: Path | None = None) -> dict[str, Any]:
    path = path or config_path()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read {path}: {exc}") from exc
    return data


def profile_name(profile: str | None = None, data: dict[str, Any] | None = None) -> str:
    """The profile in effect: --profile, else TICKETS_PROFILE, else the file's default_profile, else "default"."""
    if data is None:
        data = load()
    return profile or os.environ.get("TICKETS_PROFILE") or data.get("default_profile") or DEFAULT_PROFILE


def resolve(profile: str | None = None, api_url: str | None = None) -> Settings:
    """The effective settings: flags and environment over the profile file."""
    data = load()
    name = profile_name(profile, data)
    profiles = data.get("profiles") or {}
    stored = profiles.get(name) or {}
    if profile and not stored and profile != DEFAULT_PROFILE and not os.environ.get("TICKETS_TOKEN"):
        raise ConfigError(f"No profile named {profile!r} in {config_path()}; run `tickets login --profile {profile}`.")
    url = api_url or os.environ.get("TICKETS_API_URL") or stored.get("api_url") or DEFAULT_API_URL
    token = os.environ.get("TICKETS_TOKEN") or stored.get("token")
    return Settings(api_url=url, token=token, profile=name)


def _toml_str(value: str) -> str:
    # A JSON string literal is a valid TOML basic string (same escapes, \uXXXX included).
    return json.dumps(value, ensure_ascii=True)


def dump(data: dict[str, Any]) -> str:
    lines = []
    if data.get("default_profile"):
        lines.append(f"default_profile = {_toml_str(data['default_profile'])}")
    for name, values in sorted((data.get("profiles") or {}).items()):
        lines.append("")
        lines.append(f"[profiles.{name}]")
        for key in ("api_url", "token"):
            if values.get(key):
                lines.append(f"{key} = {_toml_str(values[key])}")
    return "\n".join(lines).lstrip("\n") + "\n"


def save_profile(name: str, api_url: str, token: str, *, make_default: bool = False) -> Path:
    """Store (or replace) a profile atomically, readable by the owner only."""
    if not PROFILE_NAME.match(name):
        raise ConfigError("A profile name may use letters, digits, '-' and '_' (at most 64).")
    path = config_path()
    data = load(path)
    profiles = dict(data.get("profiles") or {})
    profiles[name] = {"api_url": api_url, "token": token}
    data["profiles"] = profiles
    if make_default or not data.get("default_profile"):
        data["default_profile"] = name
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".profiles-", suffix=".toml", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(dump(data))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
