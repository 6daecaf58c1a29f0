"""The layers run one way and the wiring stays typed: read off the source with ``ast``.

- no import cycle among our modules, counting imports inside functions (a lazy import is
  still a dependency) but not those under ``if TYPE_CHECKING``;
- the conversation core, the plan and storage import nothing of the bot's channels, aiogram
  or aiohttp;
- no button text is parsed by hand outside the codec (``handlers/actions.py``);
- the runtime's wiring has no ``Any``; every channel is a registry entry.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "knowledge", "storage")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skipped.update(id(n) for n in ast.walk(child))
    return skipped


def _imports(name: str, path: Path) -> Iterator[str]:
    """The modules ``name`` imports at run time (absolute names, ours or not)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_nodes(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            subs = [f"{base}.{alias.name}" for alias in node.names]
            modules = [s for s in subs if s in MODULES]
            # ``from pkg import module`` depends on that module; ``from m import name`` on m
            yield from modules or [base]


def _graph() -> dict[str, set[str]]:
    return {
        name: {t for t in _imports(name, path) if t in MODULES and t != name}
        for name, path in MODULES.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_module_imports_itself_back() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("layer", ["handlers", "knowledge", "storage"])
def test_the_core_knows_no_platform(layer: str) -> None:
    offenders = {
        f"{name} imports {target}"
        for name, path in MODULES.items()
        if name.split(".")[0] == layer
        for target in _imports(name, path)
        if target.split(".")[0] in ("bot", "aiogram", "aiohttp")
    }
    assert offenders == set()


def test_buttons_are_read_only_by_the_codec() -> None:
    """A button's text is split on ":" in one place (handlers/actions.py)."""
    offenders = []
    for path in (REPO / "handlers").rglob("*.py"):
        if path.name == "actions.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("split", "partition", "rpartition")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value == ":"
            ):
                target = ast.unparse(node.func.value)
                if "action" in target or "data" in target or target in ("text", "chosen"):
                    offenders.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    assert offenders == []


def test_the_runtime_wiring_has_no_any() -> None:
    for module in ("bot/runner.py", "bot/channels/base.py", "bot/channels/__init__.py"):
        tree = ast.parse((REPO / module).read_text(encoding="utf-8"))
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        assert "Any" not in names, module


def test_every_channel_package_is_in_the_registry() -> None:
    from bot.channels import BUILTIN_CHANNELS

    packages = {
        p.name for p in (REPO / "bot" / "channels").iterdir() if (p / "__init__.py").exists()
    }
    assert packages == {"telegram", "zalo"}
    names = [kind.name for kind in BUILTIN_CHANNELS]
    assert names == ["telegram", "zalo_bot", "zalo_oa"]
    assert len(set(names)) == len(names)
