"""Authorised stay: the Schengen short-stay rule of 90 days in any 180-day period, pure (no database).

`rule` computes it from a traveller's stays; `regime` says who it applies to (per nationality and
document) and narrows it by a short-stay visa; `batch` reads and answers the JSON lines of `limes stay check`.
Central's stays table (central.records.stays) builds on these, and through it the gate's CheckStay,
without this room knowing where the stays come from.
"""
