"""Crossings, travellers and referrals: what the gates record and officers decide, with their evidence."""
