"""What the routers share: the services of the running app."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.labels.links import Links
from ledger.share import ShareLinks
from ledger.storage.reader import LogReader
from ledger.storage.sequencer import GroupCommitter


@dataclass
class Services:
    """The sequencer for writes, a reader for everything else, and the label and share links."""

    committer: GroupCommitter
    reader: LogReader
    links: Links
    share: ShareLinks
