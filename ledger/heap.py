"""The heap of a long-running process, kept out of the cyclic garbage collector's way.

A server builds most of its objects while it starts (modules, routes and
schemas, the SQL toolkit's caches, the log's state) and keeps them until it
stops. Python's collector would walk all of them on every full collection:
about 100 ms in a serving process on the two-core machine of
``docs/performance.md``, during which the process's every thread, the
sequencer among them, stands still. Frozen once start-up is over, they are
never walked again, and a full collection looks only at what came later.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Collect what start-up left as garbage, then move every object still alive out of
    the collector's sight for the rest of the process's life."""
    gc.collect()
    gc.freeze()
