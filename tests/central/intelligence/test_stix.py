"""STIX 2.1 export: TLP 2.0 from classification and handling, C only with its conditions, refusals audited."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import stix2
from sqlalchemy import select

from central.access.audit import Caller
from central.database import models as m
from central.intelligence import clearance, stix
from central.intelligence import reports as intel
from central.intelligence.grading import Grading, grade
from tests.central.intelligence.conftest import TODAY

IVO = Caller("web-desk", "ivo")


@pytest.fixture
def unit(database):
    database.run(lambda s: clearance.set_clearance(s, Caller("cli", "admin"), "ivo", "RAU", "SECRET"))
    return database


def filed(database, **overrides) -> str:
    fields = dict(source_kind="partner", grading=grade("2", "B", "P"), classification="OFFICIAL",
                  text="SMITH drives the van", review_by=TODAY + dt.timedelta(days=30),
                  sanitised_text="A van is used to carry groups across.")
    fields.update(overrides)
    return database.run(lambda s: intel.file_report(s, IVO, clearance.reader(s, "ivo"), intel.NewReport(**fields),
                                                    TODAY).reference)


def export(database, reference, user="ivo") -> stix.Export:
    return database.run(lambda s: stix.export(s, Caller("web-desk", user), clearance.reader(s, user), reference,
                                              TODAY))


def objects(result: stix.Export) -> dict[str, dict]:
    parsed = stix2.parse(result.bundle, allow_custom=True)
    return {o["type"] + (":" + o.get("definition_type", "") if o["type"] == "marking-definition" else ""): json.loads(
        o.serialize()) for o in parsed.objects}


def test_a_p_coded_official_report_goes_out_sanitised_under_tlp_green(unit):
    result = export(unit, filed(unit))
    assert result.tlp == "green"
    found = objects(result)
    report = found["report"]
    assert report["description"] == "A van is used to carry groups across." and "SMITH" not in result.bundle
    assert report["x_limes_grading"] == "2B P"
    assert report["object_marking_refs"] == ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]
    marking = found["marking-definition:"]
    assert marking["name"] == "TLP:GREEN" and marking["extensions"][stix.TLP_EXTENSION]["tlp_2_0"] == "green"


def test_a_c_coded_report_carries_its_conditions_and_at_least_amber(unit):
    result = export(unit, filed(unit, grading=grade("1", "A", "C", "police forces of the Schengen area only")))
    assert result.tlp == "amber"
    statement = objects(result)["marking-definition:statement"]
    assert statement["definition"]["statement"] == "Handling conditions: police forces of the Schengen area only"
    assert export(unit, filed(unit, classification="CONFIDENTIAL")).tlp == "amber+strict"


@pytest.mark.parametrize("overrides, reason", [
    ({"classification": "SECRET"}, "a SECRET report is not exported"),
    ({"sanitised_text": ""}, "no sanitised version"),
])
def test_what_is_not_shareable_is_refused_and_audited(unit, overrides, reason):
    result = export(unit, filed(unit, **overrides))
    assert result.bundle is None and result.refusal.startswith(reason)
    outcome = unit.run(lambda s: s.scalar(select(m.AuditEntry.outcome).where(
        m.AuditEntry.action == "ExportIntelReport")))
    assert outcome.startswith(f"REFUSED: {reason}")


def test_c_without_conditions_and_readers_without_need_to_know_are_refused(unit):
    reference = filed(unit)
    # A legacy row could hold a C code without conditions; grade() never makes one.
    unit.run(lambda s: setattr(s.scalar(select(m.IntelReport)), "handling_code", "C"))
    assert "without its conditions" in export(unit, reference).refusal
    assert export(unit, filed(unit), user="nobody").refusal == "you may not read it in full (no clearance)"
    assert Grading("1", "A", "C").shareable is False
