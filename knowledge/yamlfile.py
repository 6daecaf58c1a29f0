"""Reading the plan's YAML files, and saying where in a file a problem is.

Every error about a data file names the file, the line and the field (``evidence.yaml:41:
commune[3].reports[0].form: …``), so whoever edits a new plan finds the place at once. Lines are
looked up only when something is wrong: loading stays one fast parse.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from knowledge.errors import KnowledgeError

try:  # the C loader is several times faster; fall back where libyaml is missing
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

Loc = Sequence[str | int]


def read_yaml(path: Path) -> Any:
    """Parse one YAML file; syntax errors name the file and the line."""
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_Loader)  # noqa: S506 - safe loader
    except FileNotFoundError:
        raise KnowledgeError(f"{path}: không tìm thấy tệp") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (dòng {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise KnowledgeError(f"{path}{where}: YAML không hợp lệ: {problem}") from None


def line_of(path: Path, loc: Loc) -> int | None:
    """The line (from 1) where the value at ``loc`` (keys and list indexes) is written, or the
    nearest enclosing one that exists."""
    try:
        with path.open(encoding="utf-8") as handle:
            node = yaml.compose(handle, Loader=_Loader)
    except (OSError, yaml.YAMLError):
        return None
    if node is None:
        return None
    line: int = node.start_mark.line + 1
    for part in loc:
        found = _child(node, part)
        if found is None:
            break
        node, line = found
    return line


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node, int] | None:
    """The node under ``part`` and the line that names it (a key's own line, not the first
    line of the mapping it opens)."""
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                return value, key.start_mark.line + 1
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item = node.value[part]
        return item, item.start_mark.line + 1
    return None


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def problem(path: Path, loc: Loc, message: str) -> KnowledgeError:
    """``file:line: field.path: message``."""
    line = line_of(path, loc)
    where = f"{path}:{line}" if line is not None else str(path)
    return KnowledgeError(f"{where}: {format_loc(loc) or '(gốc)'}: {message}")


def describe(path: Path, exc: ValidationError) -> str:
    """``file:line: field.path: message`` for the first error (and how many more there are)."""
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    more = f" (và {len(errors) - 1} lỗi khác)" if len(errors) > 1 else ""
    message = str(first["msg"]).removeprefix("Value error, ")
    loc: Loc = tuple(first["loc"])
    named = _NAMED.match(message)
    if not loc and named:  # a check of the whole file names the field it is about
        loc = tuple(named[1].split("."))
        message = message[named.end() :]
    return str(problem(path, loc, message + more))


_NAMED = re.compile(r"^([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*): ")
