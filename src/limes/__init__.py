"""The `limes` command and the few settings every component shares."""
