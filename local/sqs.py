"""SQS as the local stack needs it from moto: a send or a receive that costs the same whatever the
queue holds. `install()` patches moto's SQS models in this process (the stack's moto server runs
in it).

moto computes every attribute of a queue — the approximate numbers of messages among them, each a
pass over all its messages — to read one: each SendMessage reads ContentBasedDeduplication, and
each message received reads MessageRetentionPeriod, that way. With a backlog (a review queue the
reviewer has not caught up with) every create then paid for the whole queue, several times over.
Here sending and receiving read the attributes they need without the counts, and a receive
takes the visible messages it wants without listing the whole queue first; GetQueueAttributes
still counts."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

_patched: list[tuple[Any, str, Any]] = []
_without_counts = threading.local()
COUNTS = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesDelayed",
    "ApproximateNumberOfMessagesNotVisible",
)


def install() -> None:
    """Patch moto's SQS models in this process (idempotent)."""
    if _patched:
        return
    from moto.sqs.models import Queue, SQSBackend

    counted = Queue.__dict__["attributes"]
    listed = Queue.__dict__["messages"]
    replacements: list[tuple[Any, str, Any]] = [
        (Queue, "attributes", property(_attributes(counted.fget))),
        (Queue, "messages", property(_messages(listed.fget))),
        (SQSBackend, "send_message", _without_counting(SQSBackend.send_message)),
        (SQSBackend, "send_message_batch", _without_counting(SQSBackend.send_message_batch)),
        (SQSBackend, "receive_message", _without_counting(SQSBackend.receive_message)),
    ]
    for cls, name, replacement in replacements:
        _patched.append((cls, name, cls.__dict__[name]))
        setattr(cls, name, replacement)


def uninstall() -> None:
    while _patched:
        cls, name, original = _patched.pop()
        setattr(cls, name, original)


def _without_counting(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def call(*args: Any, **kwargs: Any) -> Any:
        outer = getattr(_without_counts, "on", False)
        _without_counts.on = True
        try:
            return original(*args, **kwargs)
        finally:
            _without_counts.on = outer

    return call


def _attributes(counted: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    def attributes(self: Any) -> dict[str, Any]:
        if not getattr(_without_counts, "on", False):
            return counted(self)
        return _static(self)

    return attributes


def _messages(listed: Callable[[Any], list[Any]]) -> Callable[[Any], Any]:
    """Queue.messages, the visible messages: while receiving, handed out one by one (the receive
    stops at the batch it wants, instead of first listing the whole queue)."""

    def messages(self: Any) -> Any:
        if not getattr(_without_counts, "on", False):
            return listed(self)
        return _Visible(self)

    return messages


class _Visible:
    """A queue's visible messages, found as they are asked for (true when there is any)."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue

    def __iter__(self) -> Iterator[Any]:
        return (message for message in self.queue._messages if message.visible and not message.delayed)

    def __bool__(self) -> bool:
        return any(True for _ in self)


def _static(queue: Any) -> dict[str, Any]:
    """moto's Queue.attributes without the three counts (the same names, values and order)."""
    from moto.core.utils import camelcase_to_underscores

    names = [name for name in queue.BASE_ATTRIBUTES if name not in COUNTS]
    if queue.fifo_queue:
        names += queue.FIFO_ATTRIBUTES
    if queue.kms_master_key_id:
        names += queue.KMS_ATTRIBUTES
    result: dict[str, Any] = {name: getattr(queue, camelcase_to_underscores(name)) for name in names}
    if queue.policy:
        result["Policy"] = queue.policy
    if queue.redrive_policy:
        result["RedrivePolicy"] = json.dumps(queue.redrive_policy)
    return {name: str(value).lower() if isinstance(value, bool) else value for name, value in result.items()}
