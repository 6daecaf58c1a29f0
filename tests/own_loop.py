"""An event loop owned by a synchronous test (hypothesis drives examples synchronously)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def own_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh loop for the block, closed like ``asyncio.run`` closes its own.

    ``asyncio.Runner`` cancels the tasks left behind, finishes async generators and the default
    executor, and restores the event loop the test found: nothing depends on what earlier tests
    (or pytest-asyncio) left as the thread's current loop.
    """
    with asyncio.Runner() as runner:
        yield runner.get_loop()
