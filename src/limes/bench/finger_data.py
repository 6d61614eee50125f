"""Synthetic fingers for the fingerprint benchmarks, cached: a master print and two impressions each,
extracted once and kept as template JSON under the var dir (never in the repository).

Growing a master print and its impressions and extracting them costs about a second a finger on this
machine, so a large gallery is prepared once (in worker processes) and read back on later runs. The
cache is keyed by seed and difficulty; a file is written whole (to a temporary name, then renamed), so
an interrupted preparation leaves nothing half-written.
"""
from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

from common.settings import var_dir
from drivers.fingerprint import minutiae
from drivers.fingerprint.template import Template
from hardware_sim.fingerprints.impression import Touch, make_impression
from hardware_sim.fingerprints.master import make_master

IMPRESSIONS = 2


def cache_dir(difficulty: float) -> Path:
    path = var_dir() / "bench" / "finger-templates" / f"difficulty-{difficulty:g}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def fingers(seeds: list[int] | range, difficulty: float, workers: int = 0) -> dict[int, tuple[Template, ...]]:
    """Each seed's impressions' templates, made (by `workers` processes, 0: one per core) where missing."""
    directory = cache_dir(difficulty)
    missing = [seed for seed in seeds if not (directory / f"{seed}.json").exists()]
    if missing:
        with multiprocessing.get_context("fork").Pool(workers or os.cpu_count() or 1) as pool:
            for _ in pool.imap_unordered(_prepare, [(seed, difficulty) for seed in missing], chunksize=4):
                pass
    return {seed: _read(directory / f"{seed}.json") for seed in seeds}


def _prepare(job: tuple[int, float]) -> None:
    seed, difficulty = job
    master = make_master(seed)
    templates = [minutiae.extract(make_impression(master, Touch(touch, difficulty))).to_json()
                 for touch in range(IMPRESSIONS)]
    path = cache_dir(difficulty) / f"{seed}.json"
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps({"seed": seed, "difficulty": difficulty, "pattern": master.pattern,
                                   "impressions": templates}))
    partial.rename(path)


def _read(path: Path) -> tuple[Template, ...]:
    return tuple(Template.from_json(t) for t in json.loads(path.read_text())["impressions"])
