"""Interchange formats: GS1 EPCIS 2.0 documents of the custody log."""
