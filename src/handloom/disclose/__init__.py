"""Disclosure: datasets with per-label provenance, and the records that explain them."""
