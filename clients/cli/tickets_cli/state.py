"""What every command knows of the invocation: the profile, the API URL and the output format."""

from dataclasses import dataclass
from enum import StrEnum


class Output(StrEnum):
    text = "text"
    json = "json"


@dataclass
class State:
    profile: str | None = None
    api_url: str | None = None
    output: Output = Output.text

    def wants_json(self, override: Output | None) -> bool:
        return (override or self.output) == Output.json
