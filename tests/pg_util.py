"""A throwaway PostgreSQL cluster for the tests: Debian's PostgreSQL 15 binaries, ``initdb``
into a temporary directory as the unprivileged ``postgres`` user (PostgreSQL refuses to run
as root), on a free port of 127.0.0.1, trust authentication, stopped at the end.

``make test`` installs PostgreSQL when it is missing and sets ``NTM_REQUIRE_POSTGRES=1``:
there a missing server fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.telegram_util import free_port

BIN = Path("/usr/lib/postgresql/15/bin")


def available() -> bool:
    return (BIN / "initdb").exists() and (BIN / "pg_ctl").exists()


def require_or_skip() -> None:
    if available():
        return
    if os.environ.get("NTM_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL 15 is missing ({BIN}); `make test` installs it")
    pytest.skip("no PostgreSQL here: `make test` installs it (postgresql-15)")


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    runuser = shutil.which("runuser")
    return (
        [runuser, "-u", "postgres", "--", *args]
        if runuser
        else ["su", "postgres", "-c", " ".join(args)]
    )


class Cluster:
    """A throwaway cluster that can be stopped and started again (a database outage)."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="ntm-pg-"))
        self.data = self.base / "data"
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        self.port = free_port()
        subprocess.run(
            _as_postgres([str(BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A",
                          "trust", "-E", "UTF8", "--locale=C.UTF-8"]),
            check=True, capture_output=True,
        )  # fmt: skip
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres([str(BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l",
                          str(self.base / "log"), "-w", "start"]),
            check=True, capture_output=True,
        )  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        subprocess.run(
            _as_postgres([str(BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "stop"]),
            check=False, capture_output=True,
        )  # fmt: skip

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


@contextmanager
def cluster() -> Iterator[str]:
    """A running cluster; yields the URL of its ``postgres`` database."""
    with stoppable_cluster() as running:
        yield running.url


@contextmanager
def stoppable_cluster() -> Iterator[Cluster]:
    """A running cluster the test may stop and start again."""
    running = Cluster()
    running.start()
    try:
        yield running
    finally:
        running.remove()
