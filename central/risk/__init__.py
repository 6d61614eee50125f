"""Risk indicators from a rule file, scored on every crossing."""
