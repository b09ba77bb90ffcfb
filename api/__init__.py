"""Tizbek's HTTP API: thin routers over the ledger core, one per audience.

The core (:mod:`ledger`) holds every rule; this package parses requests,
authorises readers and renders answers.
"""
