"""Button actions: small typed values with one text form, for every dialog.

A button carries text (Telegram's ``callback_data`` holds at most 64 bytes; Zalo and the
terminal bring the same text back as a typed number or word). Each action is a frozen
dataclass registered with its dialog's :class:`Actions` under a name; :meth:`Actions.encode`
writes ``prefix:name:field:field`` and :meth:`Actions.decode` reads it back into the
dataclass, converting each field by its type (``int``, ``str``, a ``StrEnum``, ``int | None``
written as ``0``) — or gives ``None`` for anything malformed: a forged or stale button is
ignored, never an error. The text forms are those chats already hold, so buttons sent before
an upgrade keep working. The last ``str`` field may hold ":" ("crit:xa:17.4").
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

MAX_ACTION_BYTES = 64
T = TypeVar("T")


def prefix_of(text: str) -> str:
    """The prefix an action's text begins with: which dialog's :class:`Actions` read it."""
    return text.partition(":")[0]


class Actions:
    """The actions of one dialog, under one prefix ("task", "inv")."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._by_name: dict[str, type[Any]] = {}
        self._names: dict[type[Any], str] = {}

    def register(self, name: str = "") -> Callable[[type[T]], type[T]]:
        """Add an action under ``name``; with no name it is the prefix's own action and its
        fields follow the prefix directly ("crit:xa:17.4", "lvl:xa", "units")."""

        def add(cls: type[T]) -> type[T]:
            if not dataclasses.is_dataclass(cls):
                raise TypeError(f"{cls.__name__}: an action is a dataclass")
            self._by_name[name] = cls
            self._names[cls] = name
            return cls

        return add

    def encode(self, action: object) -> str:
        name = self._names[type(action)]
        values = [_text(getattr(action, f.name)) for f in dataclasses.fields(action)]  # type: ignore[arg-type]
        text = ":".join([self.prefix, *([name] if name else []), *values])
        if len(text.encode("utf-8")) > MAX_ACTION_BYTES:
            raise ValueError(f"action longer than {MAX_ACTION_BYTES} bytes: {text}")
        return text

    def decode(self, text: str) -> Any | None:
        prefix, _, rest = text.partition(":")
        if prefix != self.prefix:  # (what prefix_of reads)
            return None
        name, _, arguments = rest.partition(":")
        cls = self._by_name.get(name) if name else None
        if cls is None:
            cls, arguments = self._by_name.get(""), rest  # the prefix's own action
        if cls is None:
            return None
        fields = dataclasses.fields(cls)
        hints = typing.get_type_hints(cls)
        parts = arguments.split(":", len(fields) - 1) if fields else []
        if (fields and not arguments) or len(parts) != len(fields) or (not fields and arguments):
            return None
        values = []
        for field, part in zip(fields, parts, strict=True):
            value = _read(hints[field.name], part)
            if value is _BAD:
                return None
            values.append(value)
        return cls(*values)


_BAD = object()


def _text(value: object) -> str:
    if value is None:
        return "0"
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def _read(kind: Any, text: str) -> object:
    options = typing.get_args(kind) if isinstance(kind, types.UnionType) else ()
    if options and type(None) in options:
        inner = next(o for o in options if o is not type(None))
        return None if text in ("0", "") else _read(inner, text)
    if kind is int:
        return int(text) if text.isdigit() else _BAD
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(text)
        except ValueError:
            return _BAD
    if kind is str:
        return text if text else _BAD
    return _BAD
