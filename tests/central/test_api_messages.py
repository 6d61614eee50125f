"""Reading PAXLST and PNRGOV leniently: the corpus under api_messages/, each file a variant carriers send."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from central.passengers.edifact.segments import tokenise
from central.passengers.edifact.syntax import LEVEL_B, detect
from central.passengers.reading import Unusable, read_message

CORPUS = Path(__file__).parent / "api_messages"
TODAY = dt.date(2026, 12, 6)


def read(name: str):
    return read_message((CORPUS / name).read_bytes(), today=TODAY)


def test_the_corpus_has_at_least_fifteen_messages():
    assert len(list(CORPUS.glob("*.edi"))) >= 15


def test_a_d02b_manifest_gives_the_flight_and_its_passengers_with_documents():
    message = read("paxlst_d02b_passengers.edi")
    assert (message.message_type, message.version, message.problems) == ("PAXLST", "D02B", [])
    [flight] = message.flights
    assert (flight.number, flight.departure_airport, flight.arrival_airport) == ("LH400", "JFK", "FRA")
    assert (flight.departure_time, flight.arrival_time) == ("2026-12-06T18:30", "2026-12-07T08:15")
    erika = message.persons[0]
    assert (erika.role, erika.surname, erika.given_names, erika.sex) == ("passenger", "MUSTERMANN", "ERIKA", "F")
    assert (erika.birth_date, erika.nationality, erika.booking_reference, erika.seat) == (
        "1964-08-12", "DEU", "QX7Y2Z", "23C")
    assert erika.address == "HEIDESTRASSE 17 KOELN 51147 DEU"
    [passport] = erika.documents
    assert (passport.type, passport.number, passport.issuing_state, passport.expiry_date) == (
        "P", "C01X00T47", "DEU", "2031-10-31")
    assert [p.surname for p in message.persons] == ["MUSTERMANN", "DOE", "ROSSI"]


def test_a_d05b_crew_list_gives_crew_roles_and_functions():
    message = read("paxlst_d05b_crew.edi")
    assert message.crew_list and message.version == "D05B" and message.problems == []
    assert [(p.role, p.crew_function) for p in message.persons] == [
        ("crew", "CR1"), ("crew", "CR2"), ("transit_crew", "CR3")]
    assert message.flights[0].departure_time == "2026-12-06T09:00"


def test_in_transit_and_overflight_roles_and_both_counts():
    message = read("paxlst_in_transit.edi")
    assert [p.role for p in message.persons] == ["passenger", "transit_passenger", "overflight_crew"]
    assert message.persons[1].debarkation == "YYZ"
    assert message.flights[0].number == "ET706"  # TDT gave the number alone; the carrier came from TDT's 5th
    assert message.problems == []  # CNT 42 (2 passengers) and 41 (1 crew) agree


def test_default_separators_without_una():
    message = read("paxlst_default_separators.edi")
    assert message.persons[0].documents[0].number == "533401372" and message.problems == []


def test_release_characters_keep_separators_as_data():
    message = read("paxlst_release_characters.edi")
    obrien, dangelo = message.persons
    assert (obrien.surname, obrien.given_names) == ("O'BRIEN", "SEAN+PATRICK")
    assert obrien.address == "12 QUAY ST: APT 3 DUBLIN"
    assert dangelo.surname == "D?ANGELO"


def test_separators_declared_in_una_are_used():
    message = read("paxlst_custom_una.edi")
    assert [p.given_names for p in message.persons] == ["JAN", "EMMA*SOFIE"]
    assert message.persons[0].birth_date == "1970-06-21" and message.problems == []


def test_segments_broken_over_lines_are_joined():
    message = read("paxlst_wrapped_lines.edi")
    assert message.flights[0].number == "IB3614" and message.flights[0].arrival_time == "2026-12-06T15:40"
    assert [p.nationality for p in message.persons] == ["ESP", "ESP"] and message.problems == []


def test_garbage_after_the_interchange_trailer_is_reported_and_ignored():
    message = read("paxlst_garbage_after_unz.edi")
    assert len(message.persons) == 1
    [problem] = message.problems
    assert (problem.segment, problem.tag) == (17, "UNZ") and "after the interchange trailer" in problem.text


def test_separators_in_use_win_over_a_una_that_declares_others():
    message = read("paxlst_mismatched_una.edi")
    assert message.persons[0].surname == "YILMAZ"
    [problem] = message.problems
    assert problem.tag == "UNA" and "uses component '#', element '*'" in problem.text


def test_a_manifest_in_two_parts_with_vendor_oddities():
    message = read("paxlst_vendor_variant.edi")
    assert len(message.flights) == 1 and [p.surname for p in message.persons] == ["HANSEN", "NIELSEN", "BERG"]
    assert message.persons[0].documents[0].number == "20112233"  # spaces inside the number removed
    assert message.persons[0].birth_date == "1983-03-03"  # DTM format 102
    found = {(p.segment, p.tag) for p in message.problems}
    assert found == {(8, "DTM"), (18, "XYZ")}


def test_a_truncated_message_keeps_what_came_before_and_says_where_it_ended():
    message = read("paxlst_truncated.edi")
    assert [p.surname for p in message.persons] == ["MUELLER", "WEBER"]
    assert message.persons[0].birth_date == ""  # 29 February 1962 does not exist
    assert {(p.segment, p.tag) for p in message.problems} == {(11, "DTM"), (15, "NAD")}


def test_pnrgov_11_1_gives_pnrs_with_travellers_and_booking_details():
    message = read("pnrgov_11_1.edi")
    assert (message.message_type, message.version, message.problems) == ("PNRGOV", "11.1", [])
    assert message.flights[0].number == "LH400" and message.flights[0].arrival_time == "2026-12-07T08:15"
    first = message.pnrs[0]
    assert (first.locator, first.carrier, first.created) == ("QX7Y2Z", "LH", "2026-11-01T10:15")
    erika, john = first.travellers
    assert (erika.surname, erika.given_names, erika.birth_date, erika.sex) == ("MUSTERMANN", "ERIKA", "1964-08-12",
                                                                               "F")
    assert erika.documents[0].number == "C01X00T47" and erika.seats == ["23C"] and erika.frequent_flyer
    assert john.visas[0]["number"] == "X1234567" and john.tickets == ["2202345678902"]
    assert {c["kind"]: c["value"] for c in first.contacts} == {"phone": "4922112345678",
                                                              "email": "ERIKA.M@EXAMPLE.ORG"}
    assert first.payments[0]["account"] == "************1111"
    assert "4111111111111111" not in json.dumps(message.as_dict())
    assert first.agency["iata_number"] == "34567890"
    assert first.itinerary[0]["status"] == "HK" and first.bags[0]["weight"] == "23"
    # The history's seat 40A is a past state: it is kept as history, not given to the traveller.
    assert "40A" not in erika.seats and "40A" in first.history[0]["actions"][-1]


def test_pnrgov_13_1_with_contacts_in_ssr_and_checked_bags():
    message = read("pnrgov_13_1.edi")
    assert message.version == "13.1" and message.problems == []
    family, single = message.pnrs
    assert [t.given_names for t in family.travellers] == ["JEAN", "LEA"]
    assert family.contacts == [{"kind": "email", "value": "J.DURAND@EXAMPLE.FR"}]
    assert family.bags[0]["tag"] == "AF0057123456" and family.bags[0]["pieces"] == "2"
    assert single.contacts == [{"kind": "phone", "value": "33612345678"}]
    assert single.travellers[0].visas[0]["valid_for"] == "FRA" and single.history


def test_a_pnr_without_locator_or_traveller_and_a_bad_docs_are_listed():
    message = read("pnrgov_history_only_names.edi")
    [lars] = message.pnrs[0].travellers
    assert lars.birth_date == "1983-03-03"  # from the first DOCS; the second one's 31FEB83 is a problem
    assert [d.number for d in lars.documents] == ["201122334", "BROKEN"]
    assert {(p.segment, p.tag) for p in message.problems} == {(9, "SSR"), (12, "RCI"), (11, "SRC")}


def test_an_unknown_pnrgov_version_is_read_with_a_problem():
    message = read("pnrgov_unknown_version.edi")
    assert message.pnrs[0].contacts == [{"kind": "phone", "value": "902125550101"}]
    assert [(p.segment, p.tag) for p in message.problems] == [(2, "UNH")]


@pytest.mark.parametrize("name, reason", [
    ("unusable_not_edifact.edi", "no EDIFACT segment could be read"),
    ("unusable_other_message.edi", "not a PAXLST or PNRGOV message (INVOIC)"),
    ("unusable_paxlst_empty.edi", "a PAXLST with no flight and no person"),
])
def test_a_message_with_nothing_usable_is_refused_with_the_reason(name, reason):
    with pytest.raises(Unusable, match=reason.replace("(", r"\(").replace(")", r"\)")):
        read(name)


def test_syntax_level_b_information_separators():
    text = "UNB\x1dUNOB\x1f4\x1dA\x1dB\x1cUNH\x1d1\x1dPAXLST\x1fD\x1f02B\x1cNAD\x1dFL\x1d\x1d\x1dO'NEIL?\x1fANN\x1c"
    assert detect(text).separators == LEVEL_B
    nad = tokenise(text).segments[-1]
    assert nad.get(3, 0) == "O'NEIL?" and nad.get(3, 1) == "ANN"  # no release character at level B


def test_limes_api_parse_prints_the_message_or_the_reason(tmp_path):
    def run(name):
        done = subprocess.run([sys.executable, "-m", "limes", "api", "parse", str(CORPUS / name), "--json"],
                              capture_output=True, text=True, timeout=60)
        return done.returncode, json.loads(done.stdout)

    status, result = run("pnrgov_13_1.edi")
    assert status == 0 and result["message_type"] == "PNRGOV" and len(result["pnrs"]) == 2
    assert set(result) >= {"flights", "persons", "pnrs", "problems"}
    status, result = run("paxlst_truncated.edi")
    assert status == 0 and result["problems"][0] == {"segment": 15, "tag": "NAD",
                                                      "problem": "no segment terminator at the end: read as if "
                                                                 "there were one"}
    assert run("unusable_other_message.edi") == (1, {"error": "not a PAXLST or PNRGOV message (INVOIC)"})


def test_lower_case_in_a_level_a_interchange_is_read_and_reported():
    text = (CORPUS / "paxlst_default_separators.edi").read_text().replace("NAD+FL+++SMITH:ANNA", "NAD+FL+++Smith:Anna")
    message = read_message(text, today=TODAY)
    assert message.persons[0].surname == "SMITH"  # names are compared upper-cased
    assert [(p.segment, p.tag) for p in message.problems] == [(9, "NAD")]


def test_control_characters_never_reach_the_values():
    text = (CORPUS / "paxlst_default_separators.edi").read_text().replace("SMITH:ANNA", "SMI\x00TH:AN\x07NA")
    message = read_message(text, today=TODAY)
    assert (message.persons[0].surname, message.persons[0].given_names) == ("SMITH", "ANNA")


def test_a_una_declaring_unusable_separators_falls_back_to_those_in_use():
    text = "UNA++.? '" + (CORPUS / "paxlst_default_separators.edi").read_text()
    message = read_message(text, today=TODAY)
    assert message.persons[0].surname == "SMITH"
    assert [(p.segment, p.tag) for p in message.problems] == [(0, "UNA")]
    assert message.problems[0].text.startswith("UNA declares unusable separators")
