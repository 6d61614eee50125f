"""Statistics for policy, with small cells suppressed, and the pseudonymised export."""
