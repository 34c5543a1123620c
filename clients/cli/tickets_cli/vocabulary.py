"""The API's enums, generated from openapi.json by scripts/client_vocabulary.py (`make openapi`).
Do not edit: a test fails when this file and openapi.json disagree."""

from enum import StrEnum
from typing import Literal


class Category(StrEnum):
    technical = "technical"
    bug = "bug"
    feature_request = "feature_request"
    account = "account"
    billing = "billing"
    general = "general"
    other = "other"


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class Status(StrEnum):
    pending_review = "pending_review"
    open = "open"
    triaging = "triaging"
    in_progress = "in_progress"
    waiting_customer = "waiting_customer"
    resolved = "resolved"
    closed = "closed"


class Source(StrEnum):
    portal = "portal"
    api = "api"
    cli = "cli"
    agent = "agent"


class AuthorKind(StrEnum):
    user = "user"
    support = "support"
    ai = "ai"
    system = "system"


class WaitingOn(StrEnum):
    us = "us"
    user = "user"


class AttachmentStatus(StrEnum):
    pending_upload = "pending_upload"
    available = "available"
    rejected = "rejected"
    expired = "expired"


class ReviewStatus(StrEnum):
    pending = "pending"
    completed = "completed"
    failed = "failed"


CategoryName = Literal["technical", "bug", "feature_request", "account", "billing", "general", "other"]
SeverityName = Literal["low", "medium", "high", "critical"]
StatusName = Literal["pending_review", "open", "triaging", "in_progress", "waiting_customer", "resolved", "closed"]
SourceName = Literal["portal", "api", "cli", "agent"]
AuthorKindName = Literal["user", "support", "ai", "system"]
WaitingOnName = Literal["us", "user"]
AttachmentStatusName = Literal["pending_upload", "available", "rejected", "expired"]
ReviewStatusName = Literal["pending", "completed", "failed"]
