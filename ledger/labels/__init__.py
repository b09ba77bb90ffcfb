"""Lot labels: ids, QR payloads and rendering."""
