"""A watched inbox folder: airlines' messages dropped as files are imported as they arrive.

Each file is imported once (central.passengers.intake) and then moved, so nothing is lost and nothing
is imported twice: to `done/` with a `.json` of what was stored beside it, or to `refused/` with a
`.error` file giving the reason. A file is taken only once its size has stayed the same between two
looks, so one still being written is left for the next round. Hidden files and folders are skipped.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from central.access.audit import Caller
from central.database.engine import Database
from central.errors import CentralError
from central.passengers.intake import import_message
from central.stays.regime import StayRules

DONE, REFUSED = "done", "refused"


@dataclass(frozen=True)
class InboxResult:
    file: str
    stored: bool
    detail: dict

    def as_dict(self) -> dict:
        return {"file": self.file, "stored": self.stored, **self.detail}


def _unique(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target, n = folder / name, 1
    while target.exists():
        target, n = folder / f"{name}.{n}", n + 1
    return target


def _ready(folder: Path, sizes: dict[str, int]) -> list[Path]:
    ready = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        size = path.stat().st_size
        if sizes.get(path.name) == size:
            ready.append(path)
        sizes[path.name] = size
    return ready


def process_once(database: Database, caller: Caller, folder: Path, sizes: dict[str, int],
                 stay_rules: StayRules | None = None) -> list[InboxResult]:
    """Import the files of `folder` whose size was the same at the last look (`sizes` remembers it), screened
    with `stay_rules` (default: StayRules())."""
    results = []
    for path in _ready(folder, sizes):
        sizes.pop(path.name, None)
        try:
            imported = import_message(database, caller, path.read_bytes(), dt.datetime.now(dt.timezone.utc),
                                      stay_rules=stay_rules)
        except (CentralError, OSError) as exc:
            target = _unique(folder / REFUSED, path.name)
            path.replace(target)
            target.with_name(target.name + ".error").write_text(str(exc) + "\n", encoding="utf-8")
            results.append(InboxResult(path.name, False, {"error": str(exc)}))
            continue
        target = _unique(folder / DONE, path.name)
        path.replace(target)
        target.with_name(target.name + ".json").write_text(json.dumps(imported.as_dict(), indent=2) + "\n",
                                                          encoding="utf-8")
        results.append(InboxResult(path.name, True, imported.as_dict()))
    return results


def watch(database: Database, caller: Caller, folder: Path, wait: Callable[[float], bool], interval: float = 2.0,
          report: Callable[[InboxResult], None] = lambda result: None, stay_rules: StayRules | None = None) -> None:
    """Process the inbox, then `wait(interval)`, until it returns True (stopped); `report` hears of each file.

    `wait` is threading.Event.wait or common.signals.StopSignals.wait."""
    folder.mkdir(parents=True, exist_ok=True)
    sizes: dict[str, int] = {}
    while True:
        for result in process_once(database, caller, folder, sizes, stay_rules):
            report(result)
        if wait(interval):
            return
