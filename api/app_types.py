"""What the routers share: the services of the running app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ledger.events import Submission
from ledger.labels.links import Links
from ledger.note import NoteSigner
from ledger.share import ShareLinks
from ledger.storage.reader import LogReader
from ledger.storage.sqllog import Appended


class Committer(Protocol):
    """Where submissions go: the sequencer in this process
    (:class:`~ledger.storage.sequencer.GroupCommitter`) or the serving process's one
    (:class:`~ledger.storage.relay.RelayClient`)."""

    async def append(self, submission: Submission) -> Appended:
        """Append ``submission``; return once it is durable (or raise why it was refused)."""
        ...

    def close(self) -> None:
        """Stop taking submissions."""
        ...


@dataclass
class Services:
    """The sequencer for writes, a reader for everything else, the log's checkpoint
    key (which also signs reports), and the label and share links."""

    committer: Committer
    reader: LogReader
    signer: NoteSigner
    links: Links
    share: ShareLinks
