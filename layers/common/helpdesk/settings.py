"""The environment, validated once per cold start."""

import os
from functools import cache

from pydantic import BaseModel, ConfigDict


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str
    review_queue_url: str = ""
    attachments_bucket: str = ""
    org_claim: str = "org_id"
    roles_claim: str = "roles"
    support_role: str = "support"
    admin_role: str = "admin"
    support_email: str = ""
    sender_email: str = ""
    app_base_url: str = "https://support.example.com"
    review_engine: str = "builtin"
    bedrock_model_id: str = ""
    cursor_key: str = ""


@cache
def settings() -> Settings:
    """The function's settings, read from its environment variables (upper-case field names)."""
    fields = Settings.model_fields
    values = {name: os.environ[name.upper()] for name in fields if name.upper() in os.environ}
    return Settings.model_validate(values)
