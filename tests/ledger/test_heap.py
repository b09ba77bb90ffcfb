"""Freezing a server's start-up heap: garbage is collected first, the living are frozen."""

from __future__ import annotations

import gc
import weakref

from ledger.heap import freeze_startup_heap


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_garbage_goes_first_and_what_lives_is_frozen() -> None:
    cycle = _Node()
    cycle.other = _Node()
    cycle.other.other = cycle  # only the cyclic collector can free this
    gone = weakref.ref(cycle)
    kept = [_Node() for _ in range(1_000)]
    del cycle
    before = gc.get_freeze_count()
    try:
        freeze_startup_heap()
        assert gone() is None
        assert gc.get_freeze_count() >= before + len(kept)
        assert not any(kept[0] is obj for obj in gc.get_objects())  # out of the walks
    finally:
        gc.unfreeze()
