"""What the routers share: the services of the running app."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.storage.reader import LogReader
from ledger.storage.sequencer import GroupCommitter


@dataclass
class Services:
    """The sequencer for writes, a reader for everything else."""

    committer: GroupCommitter
    reader: LogReader
