"""Custody: the registries and the lot lifecycle, checked on append and on replay."""
