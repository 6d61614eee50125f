"""Synthetic face templates shaped like face_recognition's 128-d dlib templates.

An identity is a point; each photo of it is that point plus noise of the
identity's own spread. The scales put two photos of one person at an L2
distance of about 0.3-0.5 and two different people at about 0.85 (face_recognition:
same person up to ~0.55, different from ~0.6). A small share of identities are
look-alikes of another one (~0.65 apart), so false matches are possible and counted.

A large population is made block by block (`population_block`): each block of
BLOCK identities comes from its own seeded generator, so any block can be made
again on demand and a benchmark never has to hold ten million identities at once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DIMENSION = 128
IDENTITY_SPREAD = 0.053  # per coordinate: distance between identities ~ 16 x this
PHOTO_NOISE = (0.019, 0.034)  # per identity, per coordinate: two photos ~ 16 x this apart
LOOKALIKE_SHARE = 0.01
LOOKALIKE_SPREAD = 0.029  # a look-alike sits ~ 16 x this (~0.46) from its twin, ~0.6 once photographed
BLOCK = 100_000  # identities per block of a large population (look-alikes twin within their block)


@dataclass(frozen=True)
class Population:
    centres: np.ndarray  # (n, d) float32: the identities
    noise: np.ndarray  # (n,) each identity's photo noise


def population(rng: np.random.Generator, n: int, dimension: int = DIMENSION) -> Population:
    centres = rng.normal(0.0, IDENTITY_SPREAD, size=(n, dimension)).astype(np.float32)
    lookalikes = np.flatnonzero(rng.random(n) < LOOKALIKE_SHARE)
    if n > 1 and len(lookalikes):
        twins = rng.integers(0, n, size=len(lookalikes))
        centres[lookalikes] = centres[twins] + rng.normal(0.0, LOOKALIKE_SPREAD, size=(len(lookalikes), dimension))
    noise = rng.uniform(*PHOTO_NOISE, size=n).astype(np.float32)
    return Population(centres, noise)


def photos(rng: np.random.Generator, people: Population, which: np.ndarray) -> np.ndarray:
    """One template from a new photo of each identity in `which`."""
    centres = people.centres[which]
    return (centres + rng.normal(size=centres.shape).astype(np.float32) * people.noise[which, None]).astype(np.float32)


def blocks(n: int) -> list[tuple[int, int, int]]:
    """(block number, first identity, end) covering identities 0..n-1."""
    return [(b, first, min(first + BLOCK, n)) for b, first in enumerate(range(0, n, BLOCK))]


def population_block(seed: int, block: int, size: int) -> Population:
    """Identities block*BLOCK .. block*BLOCK+size-1 of population `seed`: the same every time."""
    return population(np.random.default_rng([seed, block]), size)


def enrolment_photos(seed: int, block: int, people: Population) -> np.ndarray:
    """The enrolment photo of every identity of a block: the same every time."""
    return photos(np.random.default_rng([seed, block, 1]), people, np.arange(len(people.noise)))
