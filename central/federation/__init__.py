"""Federation between Limes centrals: trust, hit/no-hit, subscriptions, signed bundles (docs/CENTRAL.md)."""
