"""Handloom: human data enrichment with the labor behind every label made legible and fair."""

__version__ = "0.1.0"
