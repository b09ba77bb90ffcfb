"""A child process that appends ``count`` lot registrations to a stored log (for the tests).

The lots carry the labels ``first``, ``first + 1``, ... of the block issued to the org.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ledger.demo import lot_fields
from ledger.events import make_event, sign_event
from ledger.keys import SigningKey
from ledger.storage.engine import make_engine
from ledger.storage.sqllog import SqlLog
from tests.storage.logs import label


def append_lots(
    url: str,
    keys: str,
    key_file: str,
    org: str,
    count: int,
    done: str,
    first: int,
    interval: float = 0.0,
) -> None:
    """Append ``count`` lots as ``org``, writing each acknowledged seq and hash to ``done``;
    with ``interval``, signing a checkpoint only every ``interval`` seconds."""
    engine = make_engine(url)
    log = SqlLog.open(engine, Path(keys) / "log.key")
    log.checkpoint_interval = interval
    key = SigningKey.load(Path(key_file))
    with Path(done).open("a", encoding="utf-8") as acknowledged:
        for i in range(count):
            event = make_event(
                "lot.registered",
                log=log.signer.name,
                actor=org,
                key=key,
                **lot_fields(label(org, first + i)),
            )
            entry, _ = log.append(sign_event(key, event))
            acknowledged.write(f"{entry.seq} {entry.hash.hex()}\n")
            acknowledged.flush()
    engine.dispose()


def main() -> None:
    url, keys, key_file, org, count, done = sys.argv[1:7]
    first = int(sys.argv[7]) if len(sys.argv) > 7 else 0
    append_lots(url, keys, key_file, org, int(count), done, first)


if __name__ == "__main__":
    main()
