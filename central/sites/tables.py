"""Each table of central has one writer side, and replicates one way or not at all (docs/SITES.md).

UP: written only at border posts (what their gates and officers record), replicated to headquarters.
DOWN: written only at headquarters (lists, profiles), replicated to every post.
LOCAL: each site's own, never replicated (its users, sessions, audit log, biometrics, analysis).

No table is in two of them: PostgreSQL 15 has no loop prevention, and a table written at both ends
would make conflicting keys. A test checks that every table of the models is in exactly one.
"""
from __future__ import annotations

# In the order of their foreign keys, parents first.
UP = ("border_points", "stations", "travellers", "travel_documents", "crossings", "referrals",
      "officer_decisions", "stays", "crossing_aggregates", "risk_profile_selections")

DOWN = ("document_alerts", "person_alerts", "alert_version", "risk_profiles", "federated_alerts", "trust_objects")

# Each with why it stays where it is written.
LOCAL = {
    "alembic_version": "each site's schema revision (migrations run per site)",
    "audit_log": "each site audits the reads and changes made there",
    "principals": "each site's stations and users",
    "principal_scopes": "each site's stations and users",
    "web_accounts": "each site's users",
    "web_sessions": "signed-in browsers of one site",
    "desk_sessions": "officers signed in at one post's desks",
    "counter_cases": "a post's counter queue, settled there",
    "face_images": "biometric evidence stays at the post, sealed under its own key",
    "traveller_files": "sealed templates under the post's key (not shared across posts: docs/SITES.md)",
    "traveller_fingers": "the files' fingerprints, sealed under the post's key like the files",
    "permitted_stays": "visas and permits entered at that site",
    "api_flights": "advance passenger data received where the flight lands",
    "api_manifests": "advance passenger data received where the flight lands",
    "api_persons": "advance passenger data received where the flight lands",
    "api_documents": "advance passenger data received where the flight lands",
    "pnr_records": "advance passenger data received where the flight lands",
    "pnr_links": "advance passenger data received where the flight lands",
    "intel_reports": "the risk analysis unit's work, at headquarters",
    "intel_links": "the risk analysis unit's work, at headquarters",
    "intel_cycle": "the risk analysis unit's work, at headquarters",
    "intel_clearances": "the risk analysis unit's work, at headquarters",
    "trend_counts": "counted where they are read, from the crossings there",
    "trend_counts_state": "counted where they are read, from the crossings there",
    "federation_state": "sharing with partner centrals is headquarters' business",
    "federation_bundles_seen": "sharing with partner centrals is headquarters' business",
    "federation_hit_notices": "sharing with partner centrals is headquarters' business",
    "federation_outbox": "sharing with partner centrals is headquarters' business",
}

# Where a post needs only part of a DOWN table: the alerts up to the classification the post is
# cleared for (central.intelligence.clearance.LEVELS). A filtered table publishes its whole old row
# (REPLICA IDENTITY FULL), so that an update is filtered on the columns it had and has.
FILTERED_BY_CLEARANCE = ("document_alerts", "person_alerts")

