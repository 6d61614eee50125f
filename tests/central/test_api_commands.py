"""`limes central api ...` and the watched inbox."""
from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

from sqlalchemy import select

from central.access.audit import Caller
from central.database import models as m
from central.database.engine import Database
from central.passengers import inbox
from limes.cli import main

CORPUS = Path(__file__).parent / "api_messages"


def run(capsys, *argv: str) -> tuple[int, object]:
    status = main(list(argv))
    out = capsys.readouterr().out
    return status, json.loads(out) if out.strip() else None


def test_import_then_targets_flights_links_and_purge(capsys, database_url, tmp_path):
    db = ("--database", database_url, "--json")
    status, result = run(capsys, "central", "api", "import", str(CORPUS / "paxlst_d05b_crew.edi"), *db)
    assert status == 0 and result["lists"][0]["list_kind"] == "crew" and result["lists"][0]["persons"] == 3
    status, flights = run(capsys, "central", "api", "flights", *db)
    assert [f["flight_key"] for f in flights] == ["AF1218/FRA/2026-12-06"] and flights[0]["lists"] == {"crew": 1}
    status, targets = run(capsys, "central", "api", "targets", "AF1218/FRA/2026-12-06", "--everyone", *db)
    assert [t["surname"] for t in targets] == ["DUPONT", "MARTIN", "LEROY"]
    status, result = run(capsys, "central", "api", "import", str(CORPUS / "unusable_paxlst_empty.edi"), *db)
    assert status == 1 and "no flight and no person" in result["error"]
    run(capsys, "central", "api", "import", str(CORPUS / "pnrgov_13_1.edi"), *db)
    status, values = run(capsys, "central", "api", "links", "--kind", "payment", *db)
    assert status == 0 and [sorted(p["locator"] for p in v["pnrs"]) for v in values] == [["KL8M2N", "PQ4R5S"]]
    old = tmp_path / "old.edi"  # the crew list of a flight of 2020: long past the two days API is kept
    old.write_bytes((CORPUS / "paxlst_d05b_crew.edi").read_bytes().replace(b":2026", b":2020"))
    run(capsys, "central", "api", "import", str(old), *db)
    status, purged = run(capsys, "central", "api", "purge", *db)
    assert status == 0 and purged == {"api_persons_deleted": 3, "pnrs_depersonalised": 0, "pnrs_deleted": 0}
    assert main(["central", "api", "targets", "XX1/FRA/2026-12-06", *db]) == 1
    assert "advance passenger data of flight 'XX1/FRA/2026-12-06' not found" in capsys.readouterr().err


def test_the_inbox_imports_stable_files_once_and_moves_them(tmp_path, database_url):
    database = Database(database_url)
    database.migrate()
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(CORPUS / "paxlst_d02b_passengers.edi", folder)
    shutil.copy(CORPUS / "unusable_other_message.edi", folder)
    (folder / ".partial").write_text("UNA")
    caller = Caller(station="inbox", user="api-feed")
    sizes: dict[str, int] = {}
    assert inbox.process_once(database, caller, folder, sizes) == []  # first look: sizes noted only
    results = inbox.process_once(database, caller, folder, sizes)
    assert [(r.file, r.stored) for r in results] == [("paxlst_d02b_passengers.edi", True),
                                                    ("unusable_other_message.edi", False)]
    assert (folder / "done" / "paxlst_d02b_passengers.edi.json").exists()
    assert "INVOIC" in (folder / "refused" / "unusable_other_message.edi.error").read_text()
    assert sorted(p.name for p in folder.iterdir()) == [".partial", "done", "refused"]
    received_by = database.run(lambda s: list(s.scalars(select(m.ApiManifest.received_by))))
    assert received_by == ["api-feed"]

    stop = threading.Event()
    shutil.copy(CORPUS / "paxlst_in_transit.edi", folder)
    seen = []
    thread = threading.Thread(target=inbox.watch, args=(database, caller, folder, stop.wait, 0.05, seen.append))
    thread.start()
    for _ in range(200):
        if seen:
            break
        stop.wait(0.05)
    stop.set()
    thread.join(5)
    assert [(r.file, r.stored) for r in seen] == [("paxlst_in_transit.edi", True)]
    database.dispose()


def test_import_and_the_inbox_judge_stays_by_the_rules_given(capsys, database_url, tmp_path):
    """`--stay-rules` as for `limes central serve`: here the USA is visa-required, so DOE, with no visa on
    record, is to check on arrival; a rules file that cannot be used is refused before anything is stored."""
    rules = tmp_path / "stays.toml"
    rules.write_text('[stays]\nvisa_required = ["USA"]\n')
    db = ("--database", database_url, "--json")
    passengers = str(CORPUS / "paxlst_d02b_passengers.edi")
    status, _ = run(capsys, "central", "api", "import", passengers, "--stay-rules", str(rules), *db)
    assert status == 0
    status, targets = run(capsys, "central", "api", "targets", "LH400/FRA/2026-12-07", *db)
    doe = next(t for t in targets if t["surname"] == "DOE")
    assert any("ground C: no valid visa on record" in reason for reason in doe["reasons"])

    bad = tmp_path / "bad.toml"
    bad.write_text('[stays]\nvisa_required = "USA"\n')
    assert main(["central", "api", "import", passengers, "--stay-rules", str(bad), *db]) == 2
    assert "--stay-rules: stay rules: visa_required: a list of codes is required" in capsys.readouterr().err
    folder = tmp_path / "inbox"
    assert main(["central", "api", "watch", str(folder), "--once", "--stay-rules", str(tmp_path / "none.toml"),
                 *db]) == 2
    assert "--stay-rules" in capsys.readouterr().err and not folder.exists()
