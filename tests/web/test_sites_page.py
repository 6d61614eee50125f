"""The administrators' page of replication between sites (central.web.sites, docs/SITES.md).

Its content on a replicating database is checked in the PostgreSQL pass (tests/central/test_sites.py
reads the same state through central.sites.monitoring); here, its roles and the single site.
"""
from __future__ import annotations


def test_only_administrators_see_the_sites_page_and_a_single_site_says_so(desk):
    page = desk.signed_in("administrator").get("/sites")
    assert page.status_code == 200
    assert "A single site: this database neither publishes nor subscribes" in page.get_data(as_text=True)
    for role in ("officer", "supervisor", "analyst", "intelligence"):
        assert desk.signed_in(role).get("/sites").status_code == 403, role
    assert desk.client().get("/sites").status_code == 302  # to sign-in


def test_the_menu_links_the_sites_page_for_administrators_only(desk):
    assert 'href="/sites"' in desk.signed_in("administrator").get("/", follow_redirects=True).get_data(as_text=True)
    assert 'href="/sites"' not in desk.signed_in("analyst").get("/", follow_redirects=True).get_data(as_text=True)
