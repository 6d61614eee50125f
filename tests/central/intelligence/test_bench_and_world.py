"""The synthetic world (planted rings found by co-travel analysis) and `limes bench intel --json`."""
from __future__ import annotations

import datetime as dt
import json
import uuid

from central.intelligence import cotravel
from limes.bench.intel import score
from limes.cli import main
from limes.synthetic_crossings import world


def test_the_planted_rings_are_what_co_travel_analysis_finds():
    data = world(5000, 8)
    passages = [cotravel.Passage(i, r.traveller, f"{r.point} {r.direction.value}", r.at)
                for i, r in enumerate(data.rows)]
    found = cotravel.groups(cotravel.co_travellers(passages, dt.timedelta(minutes=10), 3))
    assert score(found, data.groups) == (1.0, 1.0)
    assert all(len(ring) == 7 for ring in data.groups)
    # A summer month holds more crossings than a winter one.
    months = [r.at.month for r in data.rows]
    assert months.count(7) > 1.5 * months.count(1)


def test_scoring_counts_a_ring_merged_with_strangers_as_not_found():
    ring = {1, 2, 3, 4, 5}
    assert score([ring | {10, 11, 12}], [ring]) == (0.0, 0.0)
    assert score([{1, 2, 3, 4}], [ring]) == (1.0, 1.0)
    assert score([], [ring]) == (0.0, 1.0)


def test_the_bench_reports_recall_precision_and_timings(capsys, tmp_path):
    assert main(["bench", "intel", "--crossings", "3000", "--groups", "4", "--queries", "3", "--json",
                 "--database", f"sqlite:///{tmp_path / 'bench.sqlite'}"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["planted_groups"], result["group_recall"], result["group_precision"]) == (4, 1.0, 1.0)
    assert result["network_ms"]["count"] == 3 and result["dashboard_ms"]["count"] == 20
    assert set(result["targets"]) == {"group_recall", "group_precision", "groups_built_s", "network_ms_p95",
                                      "dashboard_ms_p95"}
    assert result["network_cpu_ms"]["count"] == 3 and result["trend_counts_s"] >= 0


def test_the_bench_can_build_the_groups_alone(capsys):
    assert main(["bench", "intel", "--crossings", "3000", "--groups", "4", "--groups-only", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["group_recall"], result["group_precision"]) == (1.0, 1.0)
    assert "network_ms" not in result and result["meets_targets"] is False


def test_the_demo_seeds_the_analysts_world(database_url):
    from sqlalchemy import func, select

    from central.access.audit import Caller
    from central.database import models as m
    from central.database.engine import Database
    from central.intelligence import clearance
    from central.intelligence.network import CoTravelQuery, co_travel_groups
    from limes.borderpost import seed_analyst_world

    database = Database(database_url)
    database.migrate()
    now = dt.datetime(2026, 12, 6, 12, tzinfo=dt.timezone.utc)
    seeded = seed_analyst_world(database_url, crossings=4000, rings=3, now=now)
    assert seeded["crossings"] == database.run(lambda s: s.scalar(select(func.count(m.Crossing.id))))
    found = database.run(lambda s: co_travel_groups(s, Caller("t", "t"), CoTravelQuery(), now))
    assert [len(g.members) for g in found] == [7, 7, 7]
    ring = {t.id for t in found[0].members} | {t.id for g in found for t in g.members}
    linked = database.run(lambda s: {uuid.UUID(link.target) for link in s.scalars(select(m.IntelLink).where(
        m.IntelLink.kind == "person"))})
    assert linked and linked <= ring
    assert database.run(lambda s: clearance.clearance_of(s, "demo-intel").level) == "SECRET"
    assert database.run(lambda s: s.scalar(select(m.RiskProfile.name))) == "escorted groups"
    database.dispose()


def test_the_smuggling_ring_is_found_and_its_profile_selects_the_facilitator_only(database_url):
    import uuid

    from central.access.audit import Caller
    from central.database.engine import Database
    from central.intelligence import targeting
    from central.risk.rules import RiskRules
    from edge.gate import GateStation
    from hardware_sim.scenarios import select
    from limes.borderpost import seed_ring

    database = Database(database_url)
    database.migrate()
    [scenario] = select(["smuggling-ring"])
    [genuine] = select(["genuine"])
    station = GateStation()
    now = dt.datetime(2026, 12, 6, 12, tzinfo=dt.timezone.utc)
    assert database.run(lambda s: seed_ring(s, scenario.traveller, station, now)) == "ring of HOLLENBECK"

    def assess(traveller):
        return database.run(lambda s: targeting.assess(s, Caller(station.station_id, ""), targeting.Traveller(
            str(uuid.uuid4()), traveller.surname, traveller.given_names, traveller.birth_date, traveller.nationality,
            "P", station.border_point, station.direction, now), RiskRules.load(None)))
    facilitator = assess(scenario.traveller)
    assert "profile ring of HOLLENBECK v1" in facilitator.fired and facilitator.score >= 0.5
    assert "profile ring of HOLLENBECK v1" not in assess(genuine.traveller).fired
    database.dispose()
