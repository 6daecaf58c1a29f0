"""Shared fixtures. Tests never touch the network beyond 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from handlers.i18n import Catalogs
from handlers.qa import QA
from knowledge.base import KnowledgeBase
from knowledge.engine import QueryEngine
from knowledge.loader import load_knowledge
from tests.fakes.telegram import FakeTelegram
from tests.fakes.zalo import FakeZaloBot, FakeZaloOA

# Property tests run the same examples on every run unless asked to explore: a CI run must not
# depend on what a random search happens to find. `make test-explore` searches afresh.
settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=60,
    deadline=dt.timedelta(seconds=5),  # examples take milliseconds; a busy machine meets this
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "explore",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO = Path(__file__).resolve().parent.parent
PLAN_TODAY = dt.date(2021, 10, 15)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No setting leaks in from the developer's shell or a .env file."""
    for name in list(os.environ):
        if name.startswith(("NTM_", "TELEGRAM_", "ZALO_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge()


@pytest.fixture(scope="session")
def engine(kb: KnowledgeBase) -> QueryEngine:
    return QueryEngine(kb)


@pytest.fixture(scope="session")
def qa(kb: KnowledgeBase, engine: QueryEngine) -> QA:
    return QA(kb, Catalogs(), engine)


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def zalo_bot() -> AsyncIterator[FakeZaloBot]:
    server = await FakeZaloBot().start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def zalo_oa() -> AsyncIterator[FakeZaloOA]:
    server = await FakeZaloOA().start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the whole run (see ``tests/pg_util.py``)."""
    from tests import pg_util

    pg_util.require_or_skip()
    with pg_util.cluster() as url:
        yield url


@asynccontextmanager
async def fresh_pg_database(cluster: str) -> AsyncIterator[str]:
    """A fresh, empty database of its own (for one test) in the cluster."""
    import secrets

    import asyncpg

    name = f"t_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(cluster)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield cluster.rsplit("/", 1)[0] + f"/{name}"
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()
