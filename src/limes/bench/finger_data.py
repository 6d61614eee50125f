"""Synthetic fingers for the fingerprint benchmarks, cached: a master print and the impressions a benchmark
asks for, extracted once and kept as template JSON under the var dir (never in the repository).

Growing a master print costs about 0.4 s of CPU, an impression and its extraction about 0.1 s more, so a
large gallery is prepared once (in worker processes) and read back on later runs. A finger enrolled only
in a gallery needs its first touch alone; a searched one its second. The cache is keyed by difficulty
(the folder) and seed (the file), and each file names the touches it holds and the CPU seconds they cost;
a file is written whole (to a temporary name, then renamed), so an interrupted preparation leaves nothing
half-written and the next run goes on where it stopped.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import time
from pathlib import Path

from common.settings import var_dir
from drivers.fingerprint import minutiae
from drivers.fingerprint.template import Template
from hardware_sim.fingerprints.impression import Touch, make_impression
from hardware_sim.fingerprints.master import make_master

BOTH_TOUCHES = (0, 1)


def cache_dir(difficulty: float) -> Path:
    path = var_dir() / "bench" / "finger-templates" / f"difficulty-{difficulty:g}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def fingers(seeds: list[int] | range, difficulty: float, workers: int = 0,
            touches: tuple[int, ...] = BOTH_TOUCHES) -> dict[int, dict[int, Template]]:
    """Each seed's templates by touch, made (by `workers` processes, 0: one per core) where missing."""
    prepare(seeds, difficulty, workers, touches)
    directory = cache_dir(difficulty)
    return {seed: _read(directory / f"{seed}.json") for seed in seeds}


def prepare(seeds: list[int] | range, difficulty: float, workers: int = 0,
            touches: tuple[int, ...] = BOTH_TOUCHES) -> int:
    """Makes the missing touches of the seeds, in seed order (so an interrupted run leaves a prefix);
    returns how many fingers were made."""
    directory = cache_dir(difficulty)
    missing = [seed for seed in seeds if not set(touches) <= set(_touches_held(directory / f"{seed}.json"))]
    if missing:
        with multiprocessing.get_context("fork").Pool(workers or os.cpu_count() or 1) as pool:
            jobs = [(seed, difficulty, touches) for seed in missing]
            for _ in pool.imap(_prepare, jobs, chunksize=4):
                pass
    return len(missing)


def generation_cpu_s(seeds: list[int] | range, difficulty: float) -> list[float]:
    """The CPU seconds each cached finger cost to make (files of the first cache format did not say)."""
    directory = cache_dir(difficulty)
    costs = []
    for seed in seeds:
        cost = json.loads((directory / f"{seed}.json").read_text()).get("cpu_s")
        if cost is not None:
            costs.append(cost)
    return costs


def _touches_held(path: Path) -> list[int]:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return [int(t) for t in value["touches"]] if "touches" in value else list(range(len(value["impressions"])))


def _prepare(job: tuple[int, float, tuple[int, ...]]) -> None:
    seed, difficulty, touches = job
    path = cache_dir(difficulty) / f"{seed}.json"
    held = _read(path) if path.exists() else {}
    started = time.process_time()
    master = make_master(seed)
    for touch in touches:
        if touch not in held:
            held[touch] = minutiae.extract(make_impression(master, Touch(touch, difficulty)))
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps({"seed": seed, "difficulty": difficulty, "pattern": master.pattern,
                                   "cpu_s": round(time.process_time() - started, 3),
                                   "touches": {str(t): template.to_json() for t, template in held.items()}}))
    partial.rename(path)


def _read(path: Path) -> dict[int, Template]:
    value = json.loads(path.read_text())
    if "touches" in value:
        return {int(t): Template.from_json(template) for t, template in value["touches"].items()}
    return {t: Template.from_json(template) for t, template in enumerate(value["impressions"])}
