"""Any municipality tracks its IPSS 2018 projection: twelve drawn over size, built with ``kyojosim new``.

One municipality is drawn (fixed seed) from each of twelve size classes, from a village under 1,000
to a city over 1,000,000, among those the projection gives. Each is built as ``kyojosim new``
builds it, at a scale of at most about 3,000 simulated residents to keep the test short (the
default scale simulates up to 20,000), and run from 2015 to 2045 for seeds 1-3 with the model's
population alone (:class:`~kyojosim.demographic_run.DemographicRun`, which tests/test_demographic_run.py
shows is the full model's population, resident by resident). At every 5-year mark the mean of the
seeds must be within ±3% of the projected total and ±2 points of the projected 65+ and 75+ shares.
The migration shifts are fitted to the mean of seeds 1-4, as ``kyojosim new`` fits them, so these
seeds are (mostly) the fit's own; ``benchmarks/bench_japan.py`` does the same for a larger sample and
also reports seeds the fit never saw (docs/japan.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kyojosim import municipalities
from kyojosim.params.scenario import load_scenario
from kyojosim.runs import builder
from kyojosim.runs.calibration import compare_runs

CLASSES = (500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 350_000, 600_000, 1_000_000, 10 ** 8)
"""Edges of the twelve size classes (census 2015 population)."""
SEEDS = (1, 2, 3)
MAX_SIMULATED = 3_000


def draw(seed: int = 2018) -> list[str]:
    """One municipality with a projection from each size class, drawn at random (fixed seed)."""
    m = municipalities()
    m = m[m["ipss"]]
    rng = np.random.default_rng(seed)
    codes = []
    for lo, hi in zip(CLASSES[:-1], CLASSES[1:], strict=True):
        pool = m[(m["population"] >= lo) & (m["population"] < hi)].sort_values("code")
        codes.append(str(pool["code"].iloc[int(rng.integers(len(pool)))]))
    return codes


def small_scale(population: int) -> float:
    """The largest of the builder's scales with at most MAX_SIMULATED residents."""
    return next(s for s in builder.NICE_SCALES if population * s <= MAX_SIMULATED)


CODES = draw()


def test_the_draw_spans_village_to_city():
    pops = municipalities().set_index("code").loc[CODES, "population"]
    assert len(set(CODES)) == 12
    assert pops.iloc[0] < 1_000 and pops.iloc[-1] > 1_000_000


@pytest.fixture(scope="module")
def tracked() -> pd.DataFrame:
    frames = []
    for code in CODES:
        rec = builder.japan.lookup(code)
        built = builder.build(code, scale=small_scale(rec.population), progress=False)
        scn = load_scenario(built.data)
        t = compare_runs(scn, scn.demography.projection, SEEDS)
        frames.append(t.assign(code=code, name=rec.name, population=rec.population))
    return pd.concat(frames, ignore_index=True)


def test_every_municipality_is_compared_at_every_five_year_mark(tracked):
    assert sorted(tracked["code"].unique()) == sorted(CODES)
    for _, one in tracked.groupby("code"):
        assert one["year"].tolist() == [2015, 2020, 2025, 2030, 2035, 2040, 2045]


@pytest.mark.parametrize("code", CODES)
def test_total_within_three_percent_and_shares_within_two_points(tracked, code):
    mine = tracked[tracked["code"] == code]
    bad = mine[(mine["total_error"].abs() > 0.03) | (mine["share_65plus_diff"].abs() > 0.02)
               | (mine["share_75plus_diff"].abs() > 0.02)]
    assert bad.empty, f"{code} {mine['name'].iloc[0]} misses its projection:\n{bad.to_string()}"
