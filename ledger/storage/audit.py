"""A full audit of a log stored in a database, as an inspector runs it.

It replays every entry (leaf hash, chain link, signature and every replay
rule), recomputes every Merkle node and compares the stored ones, and checks
every stored checkpoint's signature and that its root is the root of the
entries at its size (so all checkpoints are consistent with each other). A
deleted tail shows against the last signed checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from ledger.chain import ChainVerifier
from ledger.checkpoint import verify_checkpoint
from ledger.entries import Entry
from ledger.errors import TizbekError, VerificationError
from ledger.merkle import CompactRange, Node
from ledger.storage.tables import CHECKPOINTS, ENTRIES, NODES

#: Rows fetched per round trip while streaming the log.
BATCH = 1000

#: Told how far the audit is: entries checked so far, and how many the log holds.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class AuditReport:
    """What a database audit established."""

    entries: int
    nodes: int
    checkpoints: int
    root: bytes
    checked_from: int
    #: Every custody or registry rule the replay found broken, in log order.
    violations: tuple[VerificationError, ...] = ()
    #: The size of the latest signed checkpoint: entries from it on are not yet covered
    #: by one (a log with a checkpoint interval signs for them within the interval).
    covered: int | None = None

    @property
    def uncovered(self) -> int:
        """How many of the latest entries no signed checkpoint covers yet."""
        return 0 if self.covered is None else max(0, self.entries - self.covered)

    def summary(self) -> str:
        """A one-line human summary."""
        if self.violations:
            return (
                f"FAILED: {len(self.violations)} rule violation(s) in {self.entries} entries; "
                "the hashes, signatures, nodes and checkpoints verified"
            )
        waiting = (
            f"; the latest {self.uncovered} entries await a signed checkpoint"
            if self.uncovered
            else ""
        )
        return (
            f"OK: {self.entries} entries (signatures checked from seq {self.checked_from}), "
            f"{self.nodes} stored Merkle nodes and {self.checkpoints} signed checkpoints "
            f"verified; root {self.root.hex()[:16]}…{waiting}"
        )


def audit_database(
    engine: Engine, *, from_seq: int = 0, progress: Progress | None = None
) -> AuditReport:
    """Audit the whole stored log; raise :class:`VerificationError` naming the first bad seq.

    A broken custody or registry rule does not stop the audit: the entry is
    reported in :attr:`AuditReport.violations` and the replay goes on without
    its effects, so one audit lists every violation. Anything else wrong
    (a hash, a signature, a link, a node, a checkpoint) stops it at once.

    With ``from_seq``, entries before it are replayed for their state and
    hashes, but their signatures are taken as checked by an earlier audit.

    ``progress`` is called with (entries checked, entries stored) after every
    :data:`BATCH` entries and once all are checked, before the nodes and
    checkpoints are compared.
    """
    violations: list[VerificationError] = []
    chain = ChainVerifier(complete=True)
    tree = CompactRange()
    computed: dict[Node, bytes] = {}
    roots: dict[int, bytes] = {}
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # One snapshot for every query, so a log that grows while it is audited (a
            # running server) is audited as it stood when the audit began. SQLite's read
            # transaction already holds one.
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        sizes = set(conn.execute(select(CHECKPOINTS.c.size)).scalars())
        total = int(
            conn.execute(select(func.coalesce(func.max(ENTRIES.c.seq) + 1, 0))).scalar_one()
        )
        if progress is not None:
            progress(0, total)
        rows = conn.execute(
            select(ENTRIES.c.seq, ENTRIES.c.data, ENTRIES.c.leaf_hash).order_by(ENTRIES.c.seq),
            execution_options={"yield_per": BATCH},
        )
        for seq, data, stored_hash in rows:
            if seq != tree.size:
                raise VerificationError("entry is missing", seq=tree.size, check="order")
            try:
                entry = Entry.parse(data)
            except TizbekError as exc:
                raise VerificationError(exc.message, seq=seq, check="leaf") from None
            if entry.seq != seq or entry.hash != stored_hash:
                raise VerificationError(
                    "stored seq or leaf hash does not match the leaf data", seq=seq, check="leaf"
                )
            try:
                if seq < from_seq:
                    chain.apply(entry)  # checked by an earlier audit
                else:
                    chain.add(entry)
            except VerificationError as exc:
                if exc.check != "rule":
                    raise
                violations.append(exc)
                chain.skip(entry)
            for level, index, h in tree.append(entry.hash):
                computed[(level, index)] = h
            if tree.size in sizes:
                roots[tree.size] = tree.root()
            if progress is not None and tree.size % BATCH == 0:
                progress(tree.size, total)
        if progress is not None:
            progress(tree.size, max(total, tree.size))
        if sizes and max(sizes) > tree.size:
            raise VerificationError(
                f"entries are missing: a checkpoint was signed at size {max(sizes)}",
                seq=tree.size,
                check="checkpoint",
            )
        for level, index, stored in conn.execute(
            select(NODES.c.level, NODES.c.idx, NODES.c.hash).order_by(NODES.c.idx, NODES.c.level)
        ):
            expected = computed.pop((level, index), None)
            if expected != stored:
                first = index << level
                raise VerificationError(
                    f"stored Merkle node ({level}, {index}) does not match the entries",
                    seq=first,
                    check="node",
                )
        if computed:
            level, index = min(computed, key=lambda n: n[1] << n[0])
            raise VerificationError(
                f"Merkle node ({level}, {index}) is not stored", seq=index << level, check="node"
            )
        notes = conn.execute(
            select(CHECKPOINTS.c.size, CHECKPOINTS.c.root, CHECKPOINTS.c.note).order_by(
                CHECKPOINTS.c.size
            )
        ).all()
    if chain.genesis is None:
        raise VerificationError("the database holds no log", seq=0, check="order")
    for size, root, note in notes:
        try:
            cp = verify_checkpoint(note, chain.genesis.log_key)
        except TizbekError as exc:
            raise VerificationError(exc.message, seq=None, check="checkpoint") from None
        if cp.size != size or cp.root != root or roots.get(size) != root:
            raise VerificationError(
                f"the checkpoint at size {size} does not match the entries",
                seq=size - 1,
                check="checkpoint",
            )
    return AuditReport(
        entries=tree.size,
        nodes=_node_count(tree.size),
        checkpoints=len(notes),
        covered=max((size for size, _, _ in notes), default=None),
        root=tree.root(),
        checked_from=from_seq,
        violations=tuple(violations),
    )


def _node_count(size: int) -> int:
    """How many perfect nodes a tree of ``size`` leaves has."""
    return sum(size >> level for level in range(size.bit_length()))
