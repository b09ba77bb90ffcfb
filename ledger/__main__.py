"""``python -m ledger`` runs the ``tizbek`` command."""

from ledger.cli import main

main()
