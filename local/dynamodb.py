"""DynamoDB as the local stack needs it from moto: isolated, atomic, and as fast for one partition
of a big table as for a small one. `install()` patches moto's DynamoDB models in this process
(the stack's moto server runs in it); every change is checked against moto's own answers by
tests/integration/test_dynamodb_emulation.py.

- **One request at a time.** moto's server answers on many threads and its DynamoDB backend is
  not thread-safe, so every DynamoDB and DynamoDB Streams request is handled under `LOCK` (moto's
  request handlers are wrapped; the stack's own in-process calls take it too): DynamoDB requests
  are serialisable, which is what conditional writes and transactions promise.
- **Transactions without copying the table.** moto deep-copies every touched table (items and
  stream shard) before each TransactWriteItems and puts the copy back when one fails: O(table)
  time and garbage per write, and, with threads, a restored copy loses other requests' committed
  writes. Here every condition is checked first against the current state (a refused transaction
  raises TransactionCanceledException with per-item reasons and ALL_OLD items, and has written
  nothing); then the writes are applied with an undo log of the touched items and the stream's
  length, so a write that fails half-way (a validation error) is undone exactly. An UpdateItem
  that fails half-way (moto edits the stored item in place) is undone the same way.
- **Query reads one partition.** moto's Query sorts every item of the table on each call, for a
  base-table partition and for an index alike. Here a base-table Query starts from the partition
  (`table.items[hash]`) and an index Query from the items filed under the index's hash key
  (kept on every write); moto's own query logic then runs on those candidates only
  (order, key conditions, filters, Limit, pagination unchanged).
- **Items at rest are on disk.** moto keeps each item as Python objects (some 12 KB for a ticket,
  ~1 KB for a search posting), all in memory. Here a table's items (`Table.items`, `_Rows`) are
  rows of a private temporary SQLite database (SQLite unlinks its file at once; its page cache is
  2 MB), each pickled and compressed against a dictionary learned from the first items packed,
  keyed by the encoded hash and range keys, with the value of each global index's hash attribute
  filed beside it. An item a request reads or writes becomes moto's Item for that request (one
  object, so moto's in-place edits land on it); when the request ends, settle() writes the
  changed ones back and lets them all go. Between requests a table holds no Python object per item.
- **Streams are on disk, and trimmed.** moto's stream shard keeps every record forever, as
  Python objects (each with whole images of the item). Here a shard's records (`_Records`) are
  packed rows of the same SQLite database, read when a consumer asks for them: a consumer that
  falls behind (the 2 cores of a laptop under load) costs disk, not memory. `trim_stream` drops
  the records every consumer has processed (the local event sources call it with their
  checkpoint) and `housekeeping` those older than 24 hours, as DynamoDB Streams does; sequence
  numbers stay valid (the shard's starting sequence number advances), and an iterator behind the
  trim horizon gets TrimmedDataAccessException as in AWS. Shard iterators are forgotten after
  15 minutes, when AWS expires them."""

from __future__ import annotations

import collections
import contextvars
import copy
import dataclasses
import datetime
import decimal
import functools
import inspect
import itertools
import pickle
import sqlite3
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

LOCK = threading.RLock()  # every DynamoDB (and Streams) request, and the stack's own calls
STREAM_RETENTION = datetime.timedelta(hours=24)
ITERATOR_LIFETIME = 15 * 60  # seconds

_patched: list[tuple[Any, str, Any]] = []  # (class, attribute, moto's original)
_ABSENT = object()  # an attribute the class did not have
_db: list[sqlite3.Connection] = []  # the item store, once opened
_touched: set[Any] = set()  # the tables (_Rows) whose items the current request used (under LOCK)
_dictionary: list[bytes] = []  # the compression dictionary, once learned from the first items packed
_samples: list[bytes] = []
DICTIONARY_SAMPLES, DICTIONARY_STRIDE = 64, 8  # every 8th of the first 512 items packed
_CANDIDATES: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("local_query_candidates", default=None)

Key = tuple[Any, Any]  # (hash DynamoType, range DynamoType or None)


def install() -> None:
    """Patch moto's DynamoDB models in this process (idempotent)."""
    with LOCK:
        if _patched:
            return
        from moto.dynamodb.models import DynamoDBBackend
        from moto.dynamodb.models.dynamo_type import Item
        from moto.dynamodb.models.table import StreamRecord, StreamShard, Table
        from moto.dynamodb.responses import DynamoHandler
        from moto.dynamodbstreams.models import ShardIterator
        from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

        replacements: list[tuple[Any, str, Callable[[Any], Any]]] = [
            (DynamoHandler, "call_action", _one_at_a_time(settle_after=True)),
            (DynamoDBStreamsHandler, "call_action", _one_at_a_time(settle_after=False)),
            (Item, "attrs", lambda _: property(_attrs_get, _attrs_set)),
            (DynamoDBBackend, "transact_write_items", lambda _: _transact_write_items),
            (DynamoDBBackend, "update_item", _update_item),
            (Table, "put_item", _put_item),
            (Table, "delete_item", _delete_item),
            (Table, "query", _query),
            (Table, "all_items", _all_items),
            (Table, "__init__", _table_init),
            (Table, "__len__", lambda _: _table_len),
            (StreamShard, "get", lambda _: _shard_get),
            (StreamShard, "__init__", _shard_init),
            (StreamRecord, "__init__", _packed_record),
            (StreamRecord, "to_json", lambda _: _record_json),
            (ShardIterator, "__init__", _iterator_init),
        ]
        for cls, name, make in replacements:
            _patched.append((cls, name, cls.__dict__.get(name, _ABSENT)))
            setattr(cls, name, make(getattr(cls, name, None)))  # what the class has, maybe inherited
        for table in _tables():
            _adopt(table)
            if table.stream_shard is not None and not isinstance(table.stream_shard.items, _Records):
                table.stream_shard.items = _Records(table.stream_shard.items)


def uninstall() -> None:
    """moto as it was (for tests that compare with moto's own answers). Items stored while it was
    installed stay readable: they are moved back into moto's dicts, unpacked, first."""
    with LOCK:
        _unpack_everything()
        _touched.clear()
        while _patched:
            cls, name, original = _patched.pop()
            if original is _ABSENT:
                delattr(cls, name)
            else:
                setattr(cls, name, original)


def _one_at_a_time(*, settle_after: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A DynamoDB (Streams) request handled under LOCK, its items written back when it is done."""

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def call_action(self: Any) -> Any:
            with LOCK:
                try:
                    return original(self)
                finally:
                    if settle_after:
                        settle()

        return call_action

    return wrap


# ---------------------------------------------------------------------------------- items at rest


def _attrs_get(self: Any) -> Any:
    """Item.attrs: unpacked when first used (an item lives for one request; see _Rows)."""
    state = self.__dict__
    attrs = state.get("_attrs")
    if attrs is None:
        if "_packed" not in state:
            raise AttributeError("attrs")
        attrs = state["_attrs"] = _unpack(state["_packed"])
    return attrs


def _attrs_set(self: Any, value: Any) -> None:
    state = self.__dict__
    state["_attrs"] = value
    state.pop("_packed", None)


def _pack(attrs: dict[str, Any]) -> bytes:
    """Pickled and compressed; once enough items have been seen, against a dictionary made of some
    of them (attribute names, key prefixes, pickle's own framing: what every item repeats)."""
    raw = pickle.dumps(dict(attrs), protocol=pickle.HIGHEST_PROTOCOL)
    if _dictionary:
        packer = zlib.compressobj(1, zdict=_dictionary[0])
        return b"\x01" + packer.compress(raw) + packer.flush()
    _samples.append(raw)
    if len(_samples) >= DICTIONARY_SAMPLES * DICTIONARY_STRIDE:
        _dictionary.append(b"".join(_samples[::DICTIONARY_STRIDE])[-32768:])  # zlib's window
        _samples.clear()
    return b"\x00" + zlib.compress(raw, 1)


def _unpack(packed: bytes) -> Any:
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    if packed[0] == 1:
        raw = zlib.decompressobj(zdict=_dictionary[0]).decompress(packed[1:])
    else:
        raw = zlib.decompress(packed[1:])
    attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(attrs, pickle.loads(raw))  # noqa: S301 - our own bytes, this process
    return attrs


def _database() -> sqlite3.Connection:
    """The process's item store: a private temporary SQLite database (a file SQLite has already
    unlinked, gone with the process however it ends; its page cache is SQLite's 2 MB)."""
    if not _db:
        connection = sqlite3.connect("", check_same_thread=False, isolation_level=None)
        connection.executescript(
            """
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            CREATE TABLE items (t INTEGER, h TEXT, r TEXT, packed BLOB, PRIMARY KEY (t, h, r)) WITHOUT ROWID;
            CREATE TABLE filed (t INTEGER, a TEXT, v TEXT, h TEXT, r TEXT, PRIMARY KEY (t, a, v, h, r)) WITHOUT ROWID;
            CREATE INDEX filed_by_key ON filed (t, h, r);
            CREATE TABLE records (s INTEGER, n INTEGER, created TEXT, packed BLOB, PRIMARY KEY (s, n)) WITHOUT ROWID;
            """
        )
        _db.append(connection)
    return _db[0]


def _encode(value: Any) -> str:
    """A key attribute (DynamoType) as text, equal when moto finds them equal (numbers by value)."""
    if value is None:
        return ""
    raw = value.value
    if value.type == "N":
        raw = str(decimal.Decimal(raw).normalize())
    return f"{value.type}\x1f{raw}"


def _decode(text: str) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType

    if not text:
        return None
    kind, raw = text.split("\x1f", 1)
    return DynamoType({kind: raw})


class _Rows:
    """A table's items (moto's `Table.items`): on disk in the process's SQLite database, packed,
    keyed by their encoded hash and range keys, with the value of each global index's hash
    attribute filed beside them. An item read or written in a request lives as moto's Item
    (`live`, so that moto's in-place edits land on one object) until settle() writes it back and
    lets it go: between requests the table holds no Python objects per item.

    It answers what moto asks of `Table.items`: with a range key, `items[h]` is a partition (a
    mapping of range key to item, empty when nothing is stored: moto's defaultdict); without,
    `items[h]` is the item."""

    _tables = itertools.count(1)

    def __init__(self, table: Any) -> None:
        self.t = next(self._tables)
        self.ranged = table.range_key_attr is not None
        self.attributes = {
            str(k["AttributeName"])
            for index in table.global_indexes or []
            for k in index.schema
            if k["KeyType"] == "HASH"
        }
        self.live: dict[tuple[str, str], Any] = {}
        self.dirty: set[tuple[str, str]] = set()
        weakref.finalize(self, _forget, self.t)

    # moto's side: Table.items
    def __getitem__(self, hash_key: Any) -> Any:
        if self.ranged:
            return _Partition(self, _encode(hash_key))
        item = self.get((_encode(hash_key), ""))
        if item is None:
            raise KeyError(hash_key)
        return item

    def __setitem__(self, hash_key: Any, item: Any) -> None:
        self.put((_encode(hash_key), ""), item)

    def __contains__(self, hash_key: Any) -> bool:
        if self.ranged:
            return bool(self.keys_of(_encode(hash_key)))
        return self.get((_encode(hash_key), "")) is not None

    def get(self, key: tuple[str, str]) -> Any | None:
        """The item under an encoded key (live, or read from disk), None when nothing is stored there."""
        item = self.live.get(key)
        if item is None:
            row = (
                _database()
                .execute("SELECT packed FROM items WHERE t = ? AND h = ? AND r = ?", (self.t, *key))
                .fetchone()
            )
            item = self._materialise(key, row[0]) if row else None
        return item

    def pop(self, hash_key: Any, *default: Any) -> Any:
        key = (_encode(hash_key), "")
        item = self.get(key)
        if item is None:
            if default:
                return default[0]
            raise KeyError(hash_key)
        self.delete(key)
        return item

    def values(self) -> Iterator[Any]:
        if self.ranged:
            self.flush()
            for (h,) in _database().execute("SELECT DISTINCT h FROM items WHERE t = ?", (self.t,)).fetchall():
                yield _Partition(self, h)
        else:
            yield from self.items_of(None)

    # the emulation's side
    def put(self, key: tuple[str, str], item: Any) -> None:
        self.live[key] = item
        self.dirty.add(key)
        _touched.add(self)

    def delete(self, key: tuple[str, str]) -> None:
        self.live.pop(key, None)
        self.dirty.discard(key)
        database = _database()
        database.execute("DELETE FROM items WHERE t = ? AND h = ? AND r = ?", (self.t, *key))
        database.execute("DELETE FROM filed WHERE t = ? AND h = ? AND r = ?", (self.t, *key))

    def written(self, key: tuple[str, str]) -> None:
        """The item under `key` was changed in place (or put, or deleted): write it back."""
        if key in self.live:
            self.dirty.add(key)
            _touched.add(self)

    def keys_of(self, h: str) -> list[tuple[str, str]]:
        self.flush()
        rows = _database().execute("SELECT r FROM items WHERE t = ? AND h = ?", (self.t, h)).fetchall()
        return [(h, r) for (r,) in rows]

    def items_of(self, h: str | None) -> list[Any]:
        """Every item of a partition (h), or of the table (None)."""
        self.flush()
        database = _database()
        if h is None:
            rows = database.execute("SELECT h, r, packed FROM items WHERE t = ?", (self.t,))
        else:
            rows = database.execute("SELECT h, r, packed FROM items WHERE t = ? AND h = ?", (self.t, h))
        return [self.live.get((h, r)) or self._materialise((h, r), packed) for h, r, packed in rows.fetchall()]

    def filed_under(self, attribute: str, value: Any) -> list[Any]:
        """Every item whose `attribute` (a global index's hash key) is `value`."""
        if attribute not in self.attributes:  # an index added since: file what is stored
            self.flush()
            self.attributes.add(attribute)
            for item in self.items_of(None):
                self._file((_encode(item.hash_key), _encode(item.range_key)), item)
        self.flush()
        rows = _database().execute(
            "SELECT i.h, i.r, i.packed FROM filed f JOIN items i ON i.t = f.t AND i.h = f.h AND i.r = f.r"
            " WHERE f.t = ? AND f.a = ? AND f.v = ?",
            (self.t, attribute, _encode(value)),
        )
        return [self.live.get((h, r)) or self._materialise((h, r), packed) for h, r, packed in rows.fetchall()]

    def count(self) -> int:
        self.flush()
        return int(_database().execute("SELECT COUNT(*) FROM items WHERE t = ?", (self.t,)).fetchone()[0])

    def flush(self) -> None:
        """Write the items changed in this request to disk (they stay live until settle())."""
        if not self.dirty:
            return
        database = _database()
        for key in sorted(self.dirty):
            item = self.live[key]
            state = item.__dict__
            state["_packed"] = packed = _pack(item.attrs)
            database.execute("INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?)", (self.t, *key, packed))
            self._file(key, item)
        self.dirty.clear()

    def settle(self) -> None:
        self.flush()
        self.live.clear()

    def _file(self, key: tuple[str, str], item: Any) -> None:
        database = _database()
        database.execute("DELETE FROM filed WHERE t = ? AND h = ? AND r = ?", (self.t, *key))
        attrs = item.attrs
        for attribute in self.attributes:
            value = attrs.get(attribute)
            if value is not None:
                database.execute(
                    "INSERT OR REPLACE INTO filed VALUES (?, ?, ?, ?, ?)", (self.t, attribute, _encode(value), *key)
                )

    def _materialise(self, key: tuple[str, str], packed: bytes) -> Any:
        from moto.dynamodb.models.dynamo_type import Item

        item = Item.__new__(Item)
        item.__dict__.update(hash_key=_decode(key[0]), range_key=_decode(key[1]), _packed=packed)
        self.live[key] = item
        _touched.add(self)
        return item


class _Partition:
    """`Table.items[hash_key]` of a table with a range key: its items by range key."""

    def __init__(self, rows: _Rows, h: str) -> None:
        self.rows, self.hash = rows, h

    def __getitem__(self, range_key: Any) -> Any:
        item = self.rows.get((self.hash, _encode(range_key)))
        if item is None:
            raise KeyError(range_key)
        return item

    def __setitem__(self, range_key: Any, item: Any) -> None:
        self.rows.put((self.hash, _encode(range_key)), item)

    def pop(self, range_key: Any, *default: Any) -> Any:
        key = (self.hash, _encode(range_key))
        item = self.rows.get(key)
        if item is None:
            if default:
                return default[0]
            raise KeyError(range_key)
        self.rows.delete(key)
        return item

    def values(self) -> list[Any]:
        return self.rows.items_of(self.hash)


def settle() -> None:
    """At the end of a request: the items it changed are written back, and every item it used is let go."""
    while _touched:
        _touched.pop().settle()


def _adopt(table: Any) -> None:
    """Move a table's items (moto's dicts) into the store."""
    if isinstance(table.items, _Rows):
        return
    held = table.items
    rows = table.items = _Rows(table)
    for value in held.values():
        for item in value.values() if rows.ranged else [value]:
            rows.put((_encode(item.hash_key), _encode(item.range_key)), item)
    rows.settle()


def _release(table: Any) -> None:
    """Give a table its items back as moto keeps them (dicts of unpacked items)."""
    rows = table.items
    if not isinstance(rows, _Rows):
        return
    items = rows.items_of(None)
    for item in items:
        item.attrs = item.attrs  # unpacked for good
    held: Any = collections.defaultdict(dict)
    for item in items:
        if rows.ranged:
            held[item.hash_key][item.range_key] = item
        else:
            held[item.hash_key] = item
    rows.live.clear()
    _forget(rows.t)
    table.items = held


def _forget(t: int) -> None:
    """A table's rows, when the table is gone (or has its items back)."""
    with LOCK:  # a finalizer runs on whichever thread collects the table
        database = _database()
        database.execute("DELETE FROM items WHERE t = ?", (t,))
        database.execute("DELETE FROM filed WHERE t = ?", (t,))


def _tables() -> list[Any]:
    from moto.dynamodb.models import dynamodb_backends

    return [
        table
        for backends in list(dynamodb_backends.values())
        for backend in list(backends.values())
        for table in list(backend.tables.values())
    ]


def _table_init(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        _adopt(self)

    return init


def _table_len(self: Any) -> int:
    return int(self.items.count())


def _unpack_everything() -> None:
    for table in _tables():
        _release(table)
        shard = table.stream_shard
        if shard is not None and isinstance(shard.items, _Records):
            records = list(shard.items)
            shard.items.clear()
            for record in records:
                record.record = _record_json(record)
            shard.items = records


def _encoded(key: Key) -> tuple[str, str]:
    return _encode(key[0]), _encode(key[1])


def _stored(table: Any, key: Key) -> Any | None:
    """The item stored under a key."""
    return table.items.get(_encoded(key))


def _written(table: Any, key: Key | None) -> None:
    """After a write to `key`: the stored item is written back when the request ends."""
    if key is not None:
        table.items.written(_encoded(key))


def _key_from(table: Any, attributes: dict[str, Any]) -> Key | None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        hash_key = DynamoType(attributes[table.hash_key_attr])
        range_key = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
    except (KeyError, TypeError, AttributeError):
        return None
    return hash_key, range_key


# ---------------------------------------------------------------------------------- writes


def _put_item(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def put_item(self: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, item_attrs, *args, **kwargs)
        finally:
            _written(self, _key_from(self, item_attrs))

    return put_item


def _delete_item(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        try:
            return original(self, hash_key, range_key)
        finally:
            _written(self, (hash_key, range_key if self.range_key_attr else None))

    return delete_item


def _update_item(original: Callable[..., Any]) -> Callable[..., Any]:
    """UpdateItem all or nothing: moto edits the stored item in place and can fail half-way (a
    validation error met while applying the expression); the item is then put back as it was."""

    @functools.wraps(original)
    def update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        with LOCK:
            table = self.get_table(table_name)
            item_key = _key_from(table, key)
            before = _snapshot(table, item_key)
            shard = table.stream_shard
            length = len(shard.items) if shard is not None else 0
            try:
                return original(self, table_name, key, *args, **kwargs)
            except BaseException:
                if item_key is not None:
                    _restore(table, item_key, before)
                if shard is not None:
                    del shard.items[length:]
                raise
            finally:
                _written(table, item_key)

    return update_item


@dataclasses.dataclass(frozen=True)
class _Packed:
    data: bytes


def _snapshot(table: Any, key: Key | None) -> Any | None:
    """The stored item as it is now, to put back if a write fails: its packed bytes when they are
    current (no copy), else a deep copy."""
    item = _stored(table, key) if key is not None else None
    if item is None:
        return None
    if "_packed" in item.__dict__ and _encoded(key) not in table.items.dirty:  # type: ignore[arg-type]
        return _Packed(item.__dict__["_packed"])
    return copy.deepcopy(item)


def _restore(table: Any, key: Key, snapshot: Any | None) -> None:
    from moto.dynamodb.models.dynamo_type import Item

    hash_key, range_key = key
    item = snapshot
    if isinstance(snapshot, _Packed):
        item = Item.__new__(Item)
        item.__dict__.update(hash_key=hash_key, range_key=range_key, _packed=snapshot.data)
    if item is None:
        table.items.delete(_encoded(key))
    else:
        table.items.put(_encoded(key), item)


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """TransactWriteItems: conditions first, then the writes, undone exactly if one fails."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with LOCK:
        # 1. every item's shape, uniqueness and condition, against the current state
        targets: set[tuple[str, str]] = set()
        plans: list[tuple[str, dict[str, Any], Any, dict[str, Any]]] = []
        errors: list[tuple[Any, Any, Any]] = []
        for entry in transact_items:
            if len(entry) > 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(entry.items()))
            old_image: dict[str, Any] | None = None
            try:
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")
                table_name = op["TableName"]
                table = self.get_table(table_name)
                if op_type == "Put":
                    attrs = op["Item"]
                    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = attrs[table.range_key_attr]
                else:
                    key = op["Key"]
                target = (str(table_name), str(dict(sorted(key.items()))))
                if target in targets:
                    raise MultipleTransactionsException()
                targets.add(target)
                current = self.get_item(table_name, key)
                condition = op.get("ConditionExpression")
                if condition is not None:
                    check = get_filter_expression(
                        condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                    )
                    if not check.expr(current):
                        if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                            old_image = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=old_image)
                plans.append((op_type, op, table, key))
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                raise
            except ConditionalCheckFailed as exc:
                errors.append(("ConditionalCheckFailed", str(exc.message), old_image))
            except Exception as exc:  # as moto: any other failure cancels with its name
                errors.append((type(exc).__name__, str(exc), None))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)

        # 2. the writes, with an undo log of the items they touch and of the streams' lengths
        undo: list[tuple[Any, Key, Any]] = []
        lengths: dict[int, tuple[Any, int]] = {}
        position = 0  # of the write being applied
        try:
            for op_type, op, table, key in plans:
                if op_type == "ConditionCheck":
                    position += 1
                    continue
                shard = table.stream_shard
                if shard is not None and id(shard) not in lengths:
                    lengths[id(shard)] = (shard, len(shard.items))
                item_key = _key_from(table, key)
                if item_key is not None:
                    undo.append((table, item_key, _snapshot(table, item_key)))
                names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                if op_type == "Put":
                    self.put_item(op["TableName"], op["Item"])
                elif op_type == "Delete":
                    self.delete_item(op["TableName"], key)
                else:
                    self.update_item(
                        op["TableName"],
                        key,
                        update_expression=op["UpdateExpression"],
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
                position += 1
        except BaseException as exc:
            for table, item_key, before in reversed(undo):
                _restore(table, item_key, before)
            for shard, length in lengths.values():
                del shard.items[length:]
            if isinstance(exc, MultipleTransactionsException | MockValidationException) or not isinstance(
                exc, Exception
            ):
                raise
            errors[position] = (type(exc).__name__, str(exc), None)
            raise TransactionCanceledException(errors) from exc


# ---------------------------------------------------------------------------------- queries


def _query(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    @functools.wraps(original)
    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        given = signature.bind(self, hash_key, *args, **kwargs).arguments  # moto passes the index positionally
        candidates = _candidates(self, hash_key, given.get("index_name"), given.get("hash_key_conditions"))
        if candidates is None:
            return original(self, hash_key, *args, **kwargs)
        candidates.sort(key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)  # as all_items()
        token = _CANDIDATES.set(candidates)
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            _CANDIDATES.reset(token)

    return query


def _all_items(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def all_items(self: Any) -> Any:
        candidates = _CANDIDATES.get()
        if candidates is None and isinstance(self.items, _Rows):  # a Scan: the table in one read
            candidates = self.items.items_of(None)
            candidates.sort(key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)
        return list(candidates) if candidates is not None else original(self)

    return all_items


def _candidates(
    table: Any, hash_key: Any, index_name: str | None, hash_key_conditions: list[tuple[str, Any]] | None
) -> list[Any] | None:
    """The only items a Query can return: its partition (None: let moto look at every item)."""
    if index_name is None or any(index.name == index_name for index in table.indexes or []):
        if hash_key is None:  # a local index shares the table's partition
            return None
        if table.range_key_attr:
            return table.items.items_of(_encode(hash_key))
        item = table.items.get((_encode(hash_key), ""))
        return [item] if item is not None else []
    index = next((index for index in table.global_indexes or [] if index.name == index_name), None)
    if index is None:
        return None  # moto answers the unknown index
    attribute = next((str(k["AttributeName"]) for k in index.schema if k["KeyType"] == "HASH"), None)
    if attribute is None:
        return None
    value = dict(hash_key_conditions).get(attribute) if hash_key_conditions else hash_key
    if value is None:
        return None
    return table.items.filed_under(attribute, value)


# ---------------------------------------------------------------------------------- streams


def _shard_get(self: Any, start: int, quantity: int) -> list[dict[str, Any]]:
    """StreamShard.get that answers a position behind the trim horizon as DynamoDB Streams does."""
    from moto.core.exceptions import JsonRESTError

    offset = start - self.starting_sequence_number
    if offset < 0:
        raise JsonRESTError(
            "TrimmedDataAccessException",
            f"The requested sequence number {start} is beyond the trim horizon "
            f"(records from {self.starting_sequence_number} are kept)",
        )
    return [record.to_json() for record in self.items[offset : offset + quantity]]


def _packed_record(original: Callable[..., Any]) -> Callable[..., Any]:
    """A stream record kept packed (its images are whole items) until a consumer reads it."""

    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        record = self.__dict__.pop("record")
        self.created = record["dynamodb"]["ApproximateCreationDateTime"]
        self.packed = zlib.compress(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL), 1)

    return init


def _record_json(self: Any) -> dict[str, Any]:
    record: dict[str, Any] = pickle.loads(zlib.decompress(self.packed))  # noqa: S301 - our own bytes
    return record


def _shard_init(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.items = _Records()

    return init


class _Records:
    """A stream shard's records (moto's `StreamShard.items`, a list): packed rows of the item
    store, numbered from the shard's oldest kept record, read when a consumer asks for them. It
    answers what moto and this module ask of that list: append, len, an index or a slice, and
    deleting from the front (trim) or the back (undo)."""

    _shards = itertools.count(1)

    def __init__(self, records: Iterable[Any] = ()) -> None:
        self.s = next(self._shards)
        self.first = 0  # the number of the oldest record kept
        self.length = 0
        weakref.finalize(self, _forget_records, self.s)
        for record in records:
            self.append(record)

    def append(self, record: Any) -> None:
        _database().execute(
            "INSERT INTO records VALUES (?, ?, ?, ?)",
            (self.s, self.first + self.length, record.created.isoformat(), record.packed),
        )
        self.length += 1

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            start, stop, step = index.indices(self.length)
            if step != 1:
                raise ValueError("records are read in order")
            rows = _database().execute(
                "SELECT created, packed FROM records WHERE s = ? AND n >= ? AND n < ? ORDER BY n",
                (self.s, self.first + start, self.first + stop),
            )
            return [_stored_record(created, packed) for created, packed in rows.fetchall()]
        position = index + self.length if index < 0 else index
        if not 0 <= position < self.length:
            raise IndexError(index)
        return self[position : position + 1][0]

    def __iter__(self) -> Iterator[Any]:
        return iter(self[:])

    def __delitem__(self, index: slice) -> None:
        start, stop, _ = index.indices(self.length)
        database = _database()
        if start == 0:  # the oldest: trimmed
            database.execute("DELETE FROM records WHERE s = ? AND n < ?", (self.s, self.first + stop))
            self.first += stop
            self.length -= stop
        elif stop == self.length:  # the newest: undone
            database.execute("DELETE FROM records WHERE s = ? AND n >= ?", (self.s, self.first + start))
            self.length = start
        else:
            raise ValueError("records are deleted from either end")

    def clear(self) -> None:
        del self[:]


def _stored_record(created: str, packed: bytes) -> Any:
    from moto.dynamodb.models.table import StreamRecord

    record = StreamRecord.__new__(StreamRecord)
    record.__dict__.update(created=datetime.datetime.fromisoformat(created), packed=packed)
    return record


def _forget_records(s: int) -> None:
    with LOCK:  # a finalizer runs on whichever thread collects the shard
        _database().execute("DELETE FROM records WHERE s = ?", (s,))


def _iterator_init(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.local_created = time.monotonic()

    return init


def _backend() -> Any:
    from moto.dynamodb.models import dynamodb_backends

    from local import config

    return dynamodb_backends[config.ACCOUNT_ID][config.REGION]


def trim_stream(stream_arn: str, through: str | None) -> int:
    """Drop a table's stream records up to sequence number `through` (every consumer has handled
    them) and those older than 24 hours; how many were dropped."""
    table_name = stream_arn.split(":table/", 1)[-1].split("/", 1)[0]
    with LOCK:
        try:
            table = _backend().get_table(table_name)
        except Exception:  # the table is gone
            return 0
        return _trim(table.stream_shard, int(through) if through is not None else None)


def _trim(shard: Any, through: int | None) -> int:
    from moto.core.utils import utcnow

    if shard is None:
        return 0
    count = 0
    if through is not None:
        count = max(0, min(len(shard.items), through - shard.starting_sequence_number + 1))
    cutoff = utcnow() - STREAM_RETENTION
    while count < len(shard.items) and shard.items[count].created < cutoff:
        count += 1
    if count:
        del shard.items[:count]
        shard.starting_sequence_number += count
    return count


def housekeeping() -> None:
    """What AWS expires on its own: stream records after 24 h, shard iterators after 15 minutes."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    from local import config

    with LOCK:
        for table in list(_backend().tables.values()):
            _trim(table.stream_shard, None)
        iterators = dynamodbstreams_backends[config.ACCOUNT_ID][config.REGION].shard_iterators
        expired = time.monotonic() - ITERATOR_LIFETIME
        for arn in [arn for arn, it in iterators.items() if getattr(it, "local_created", expired) < expired]:
            iterators.pop(arn, None)
