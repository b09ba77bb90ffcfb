"""Tizbek's ledger core.

Pure modules (no web framework, no database driver):

- :mod:`ledger.canonical`: RFC 8785 canonical bytes, strict JSON parsing
- :mod:`ledger.merkle`: RFC 9162 tree hashes, inclusion and consistency proofs
- :mod:`ledger.subtree`: subtree inclusion and consistency proofs
- :mod:`ledger.keys`: Ed25519 keys, PEM files, key ids
- :mod:`ledger.note`, :mod:`ledger.checkpoint`: C2SP signed notes and checkpoints
- :mod:`ledger.events`, :mod:`ledger.entries`, :mod:`ledger.genesis`: the protocol's objects
- :mod:`ledger.keyring`, :mod:`ledger.chain`: replaying entries and checking every rule
- :mod:`ledger.bundle`: offline audit bundles and their verification
- :mod:`ledger.memlog`, :mod:`ledger.demo`: an in-memory log and a demo story
- :mod:`ledger.errors`: the one error hierarchy

:mod:`ledger.cli` is the ``tizbek`` command (one module per command group).
"""
