"""Reports exported to partners as STIX 2.1 bundles (the stix2 library), marked from their grading.

What goes out is the sanitised version only (it names nobody and carries no links), with:
- a TLP 2.0 marking (the OASIS TLP 2.0 marking definitions, by their fixed ids): from the
  classification, OFFICIAL → TLP:GREEN, RESTRICTED → TLP:AMBER, CONFIDENTIAL → TLP:AMBER+STRICT,
  and a C handling code raises GREEN to AMBER;
- for a C handling code, a statement marking carrying its recorded conditions;
- the grading as custom properties (x_limes_grading, x_limes_legacy_grading).

Refused, with the reason: a SECRET report, a C code whose conditions are not recorded, a report with
no sanitised version, and any report the caller may not read in full. Every export and refusal is
audited.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import stix2
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.database import models as m
from central.errors import NotFound
from central.intelligence.clearance import Access, Reader, access_to

TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
# TLP 2.0 marking definitions as OASIS published them (fixed ids, so partners recognise them).
TLP = {"clear": "94868c89-83c2-464b-929b-a1a8aa3c8487", "green": "bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
       "amber": "55d920b0-5e8b-4f79-9ee9-91f868d9b421", "amber+strict": "939a9414-2ddd-4d32-a0cd-375ea402b003",
       "red": "e828b379-4e03-4974-9ac4-e53a884c97c1"}
BY_CLASSIFICATION = {"OFFICIAL": "green", "RESTRICTED": "amber", "CONFIDENTIAL": "amber+strict"}


@dataclass(frozen=True)
class Export:
    bundle: str | None  # the serialized bundle; None when refused
    tlp: str = ""
    refusal: str = ""


def tlp_marking(level: str) -> stix2.v21.MarkingDefinition:
    return stix2.v21.MarkingDefinition(
        id=f"marking-definition--{TLP[level]}", created="2022-10-01T00:00:00.000Z", name=f"TLP:{level.upper()}",
        extensions={TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}})


def refusal(report: m.IntelReport) -> str:
    """Why the report may not go to a partner; empty when it may."""
    if report.classification not in BY_CLASSIFICATION:
        return f"a {report.classification} report is not exported"
    if report.handling_code not in ("P", "C"):
        return f"handling code {report.handling_code!r} is not shareable"
    if report.handling_code == "C" and not report.handling_conditions.strip():
        return "handling code C without its conditions recorded: not shareable"
    if not report.sanitised_text.strip():
        return "no sanitised version: a report goes to partners only as its sanitised version"
    return ""


def tlp_of(report: m.IntelReport) -> str:
    level = BY_CLASSIFICATION[report.classification]
    return "amber" if level == "green" and report.handling_code == "C" else level


def bundle(report: m.IntelReport) -> tuple[str, str]:
    """(the STIX 2.1 bundle as JSON, its TLP level) of a shareable report."""
    level = tlp_of(report)
    markings = [tlp_marking(level)]
    if report.handling_code == "C":
        markings.append(stix2.v21.MarkingDefinition(
            definition_type="statement",
            definition=stix2.v21.StatementMarking(statement=f"Handling conditions: {report.handling_conditions}")))
    author = stix2.v21.Identity(name=f"Limes {report.unit}", identity_class="organization")
    created = report.created_at if report.created_at.tzinfo else report.created_at.replace(tzinfo=dt.timezone.utc)
    stix_report = stix2.v21.Report(
        name=f"Limes intelligence report {report.reference[:8]}", published=created, created=created,
        report_types=["threat-report"], description=report.sanitised_text, object_refs=[author.id],
        created_by_ref=author.id, object_marking_refs=[mark.id for mark in markings], allow_custom=True,
        x_limes_grading=f"{report.source_evaluation}{report.assessment} {report.handling_code}",
        x_limes_legacy_grading=report.legacy_grading or None)
    return stix2.v21.Bundle(objects=[*markings, author, stix_report], allow_custom=True).serialize(pretty=True), level


def export(session: Session, caller: Caller, who: Reader, reference: str, today: dt.date) -> Export:
    """The report as a STIX bundle for partners, or why not; audited either way."""
    report = session.scalar(select(m.IntelReport).where(m.IntelReport.reference == reference))
    if report is None:
        raise NotFound("intelligence report", reference)
    access, why = access_to(who, report, today)
    refused = f"you may not read it in full ({why})" if access is not Access.FULL else refusal(report)
    subject = f"intelligence report {reference}"
    if refused:
        audit(session, caller, "ExportIntelReport", subject, f"REFUSED: {refused}"[:200], "dissemination to partners")
        return Export(None, refusal=refused)
    text, level = bundle(report)
    audit(session, caller, "ExportIntelReport", subject, f"STIX 2.1, TLP:{level.upper()}", "dissemination to partners")
    return Export(text, level)
