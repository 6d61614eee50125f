"""Advance passenger data: PAXLST and PNRGOV from carriers, read leniently, stored, screened before arrival,
reconciled on arrival, linked for analysis (docs/API.md).

Reading is pure (edifact/, paxlst, pnrgov, parsed, dates, reading: text in, values out); storage,
screening, targeting, reconciliation, links, retention and the inbox work on central's database.
`manifest` is the older screening of a CSV/JSON list of MRZs, which stores nothing.
"""
