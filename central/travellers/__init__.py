"""Traveller files: the Entry/Exit System's individual file of a third-country national (docs/CENTRAL.md)."""
