"""Tests of つながり力 (kyojosim.measures.tsunagari): the three steps by hand, and its monthly record in a run."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from kyojosim.constants import PARTICIPATION_GROUPS
from kyojosim.core.communities import ONLINE_BIT, K
from kyojosim.core.population import Population
from kyojosim.measures.outcomes import TABLES
from kyojosim.measures.tsunagari import (
    DECADE_GROUPS,
    FrameGroups,
    community_strengths,
    consciousness,
    summary_rows,
    tsunagari,
)
from kyojosim.model import KyojoModel
from kyojosim.runs.results import RunResult

R2 = np.sqrt(2.0)
LOCAL, FEED = ONLINE_BIT["local_sns"], ONLINE_BIT["feed_groups"]
NA, PTA = K["neighbourhood_association"], K["pta"]


def hand_population() -> Population:
    """Seven residents; all item values are exact in float32.

    slot  who  age district trust_off recip trust_on  communities
    0     A    30  0        0.25      0.25  1.0       NA group 0, PTA group 2, local SNS, feed groups
    1     B    45  0        0.5       0.5   0.5       NA group 0
    2     C    70  1        0.75      1.0   0.25      NA group 1, local SNS
    3     D    85  1        1.0       0.75  0.75      NA group 1, feed groups
    4     E    50  0        0.625     0.625 0.625     none
    5     F    10  0        0.875     0.875 0.875     none (a child: outside the 20+ frame)
    6     G    40  0        0.0       0.0   0.0       NA group 0, local SNS, but dead (removed)
    """
    pop = Population()
    pop.add(
        7,
        age=np.array([30, 45, 70, 85, 50, 10, 40]),
        district=np.array([0, 0, 1, 1, 0, 0, 0]),
        trust_offline=np.array([0.25, 0.5, 0.75, 1.0, 0.625, 0.875, 0.0]),
        reciprocity=np.array([0.25, 0.5, 1.0, 0.75, 0.625, 0.875, 0.0]),
        trust_online=np.array([1.0, 0.5, 0.25, 0.75, 0.625, 0.875, 0.0]),
        online=np.array([LOCAL | FEED, 0, LOCAL, FEED, 0, 0, LOCAL], dtype=np.uint8),
    )
    g = pop.groups
    g[[0, 1, 6], NA] = 0
    g[[2, 3], NA] = 1
    g[0, PTA] = 2
    pop.remove(np.array([6]))
    return pop


def test_consciousness_worked_by_hand():
    pop = hand_population()
    off, on = consciousness(pop)
    # frame: living residents 20+ = A, B, C, D, E (F is 10, G is dead)
    # trust_off: mean 0.625, deviations -0.375 -0.125 0.125 0.375 0; variance (0.140625*2 + 0.015625*2)/5 = 0.0625,
    #   sd 0.25 -> z_t = -1.5 -0.5 0.5 1.5 0
    # reciprocity: the same values permuted (C and D swapped) -> z_r = -1.5 -0.5 1.5 0.5 0
    # corr = mean(z_t z_r) = (2.25 + 0.25 + 0.75 + 0.75 + 0)/5 = 0.8 > 0: first component (1, 1)/sqrt2 (eigenvalue 1.8)
    # offline score = (z_t + z_r)/sqrt2 = (-3, -1, 2, 2, 0)/sqrt2
    # F (child): z_t = z_r = (0.875 - 0.625)/0.25 = 1 -> (1 + 1)/sqrt2; G dead -> 0
    assert np.allclose(off, np.array([-3, -1, 2, 2, 0, 2, 0]) / R2)
    # trust_on: z = 1.5 -0.5 -1.5 0.5 0; corr with z_r = (-2.25 + 0.25 - 2.25 + 0.25)/5 = -0.8 < 0:
    # first component (eigenvalue 1.8) is (1, -1)/sqrt2, sign chosen so that trust loads positively
    # online score = (z_on - z_r)/sqrt2 = (3, 0, -3, 0, 0)/sqrt2; F: (1 - 1)/sqrt2 = 0; G dead -> 0
    assert np.allclose(on, np.array([3, 0, -3, 0, 0, 0, 0]) / R2)


def test_community_strengths_and_tsunagari_worked_by_hand():
    pop = hand_population()
    cs = community_strengths(pop)
    # in units of 1/sqrt2 (consciousness above); dead G counts in none of its communities
    #   NA group 0 {A, B}:      (-3 - 1)/2 = -2        (offline consciousness)
    #   NA group 1 {C, D}:      ( 2 + 2)/2 =  2
    #   PTA group 2 {A}:        -3
    #   local SNS district 0 {A}: 3                  (online consciousness)
    #   local SNS district 1 {C}: -3
    #   feed groups district 0 {A}: 3
    #   feed groups district 1 {D}: 0
    # seven communities v = (-2, 2, -3, 3, -3, 3, 0): mean 0, variance (4+4+9+9+9+9+0)/7 = 44/7
    # z = v / sqrt(44/7) (the 1/sqrt2 unit cancels in the z-score); strength = 50 + 10 z (deviation score)
    v = np.array([-2, 2, -3, 3, -3, 3, 0], dtype=float)
    s = 1 / np.sqrt(44 / 7)
    assert list(cs["kind"]) == ["neighbourhood_association"] * 2 + ["pta"] + ["local_sns"] * 2 + ["feed_groups"] * 2
    assert list(cs["online"]) == [False] * 3 + [True] * 4
    assert list(cs["group"]) == [0, 1, 2, 0, 1, 0, 1]
    assert list(cs["members"]) == [2, 2, 1, 1, 1, 1, 1]
    assert np.allclose(cs["mean"], v / R2)
    assert np.allclose(cs["strength"], 50 + 10 * v * s)
    # つながり力 = sum of the strengths of one's communities: 50 per community plus 10 s per unit of v:
    #   A: NA0 -2 + PTA -3 + local SNS d0 3 + feed d0 3 -> 4 communities, v sum 1
    #   B: NA0 -2                                       -> 1 community,  v sum -2
    #   C: NA1 2 + local SNS d1 -3                       -> 2 communities, v sum -1
    #   D: NA1 2 + feed d1 0                             -> 2 communities, v sum 2
    #   E, F: in no community 0; G: dead 0
    expected = np.array([200 + 10 * s, 50 - 20 * s, 100 - 10 * s, 100 + 20 * s, 0, 0, 0])
    assert np.allclose(tsunagari(pop), expected)


def test_people_in_no_community_have_zero():
    pop = hand_population()
    value = tsunagari(pop)
    none = ~(pop.groups >= 0).any(axis=1) & (pop.online == 0)
    assert none.sum() == 2 and np.all(value[none] == 0.0)
    # on a synthesised town too
    model = KyojoModel("yamae", seed=1, years=1)
    pop = model.population
    value = tsunagari(pop)
    none = ~(pop.groups >= 0).any(axis=1) & (pop.online == 0)
    assert none.any() and np.all(value[none] == 0.0)
    assert value[~none].std() > 0


def test_degenerate_cases_count_every_community_as_average():
    pop = hand_population()
    for col in ("trust_offline", "trust_online", "reciprocity"):
        getattr(pop, col)[:] = 0.5  # no variance at all
    off, on = consciousness(pop)
    assert np.all(off == 0) and np.all(on == 0)
    # every community has the same strength, 50: つながり力 is 50 per community (A 4, B 1, C 2, D 2)
    assert np.all(community_strengths(pop)["strength"] == 50)
    assert np.array_equal(tsunagari(pop), np.array([200, 50, 100, 100, 0, 0, 0], dtype=float))
    assert tsunagari(Population()).size == 0


def _hand_model(pop: Population) -> SimpleNamespace:
    districts = [SimpleNamespace(name="north"), SimpleNamespace(name="south")]
    return SimpleNamespace(population=pop, steps=0, year=2015, month="2014-12", tsunagari_groups=FrameGroups(),
                           scenario=SimpleNamespace(municipality=SimpleNamespace(districts=districts)))


def test_summary_rows_of_the_hand_town():
    df = pd.DataFrame(summary_rows(_hand_model(hand_population())))
    assert list(df.columns) == list(TABLES["tsunagari"].columns)
    s = 1 / np.sqrt(44 / 7)
    row = df.set_index(["group_type", "group"])
    # the 20+ frame: A 200 + 10s, B 50 - 20s, C 100 - 10s, D 100 + 20s, E 0
    a, b, c, d = 200 + 10 * s, 50 - 20 * s, 100 - 10 * s, 100 + 20 * s
    frame = np.array([a, b, c, d, 0.0])
    assert row.loc[("all", "all"), "n"] == 5 and np.isclose(row.loc[("all", "all"), "mean"], frame.mean())
    assert np.isclose(row.loc[("all", "all"), "q50"], np.median(frame))
    assert np.isclose(row.loc[("all", "all"), "q25"], np.percentile(frame, 25))
    assert row.loc[("participation", "none"), "n"] == 1 and row.loc[("participation", "none"), "mean"] == 0
    assert np.isclose(row.loc[("participation", "offline_only"), "mean"], b)  # B
    assert np.isclose(row.loc[("participation", "both"), "mean"], (a + c + d) / 3)  # A, C, D
    assert row.loc[("participation", "online_only"), "n"] == 0
    assert np.isnan(row.loc[("participation", "online_only"), "mean"])
    assert np.isclose(row.loc[("age_group", "80+"), "mean"], d)  # D, 85
    assert row.loc[("age_group", "60s"), "n"] == 0
    assert np.isclose(row.loc[("district", "north"), "mean"], (a + b + 0) / 3)  # A, B, E
    assert np.isclose(row.loc[("district", "south"), "mean"], (c + d) / 2)  # C, D


def test_summary_rows_recorded_monthly_in_a_run():
    model = KyojoModel("yamae", seed=1, years=1)
    model.run_model()
    res = RunResult.from_model(model)
    df = res.to_pandas("tsunagari")
    assert list(df.columns) == list(TABLES["tsunagari"].columns)
    # the initial state, then one record per calendar month, in its last week (the run's last step closes December)
    months = df.drop_duplicates("step")
    assert months["month"].tolist() == ["2014-12", *(f"2015-{m:02d}" for m in range(1, 13))]
    weeks = res.to_pandas("steps").query("step > 0")
    assert months["step"].tolist() == [0, *weeks.groupby("month")["step"].max()]
    assert months["step"].iloc[-1] == model.steps
    names = [d.name for d in model.scenario.municipality.districts]
    expected = ([("all", "all")] + [("participation", g) for g in PARTICIPATION_GROUPS]
                + [("age_group", g) for g in DECADE_GROUPS] + [("district", n) for n in names])
    for _, rows in df.groupby("step"):
        assert list(zip(rows["group_type"], rows["group"], strict=True)) == expected
    first = df[df["step"] == 0].set_index(["group_type", "group"])
    assert first.loc[("all", "all"), "n"] == first.xs("participation")["n"].sum()
    assert first.loc[("all", "all"), "n"] == first.xs("age_group")["n"].sum() == first.xs("district")["n"].sum()
    assert df["year"].min() == model.start_year


def _participation_means(seeds=(1, 2, 3), years=1) -> dict[str, float]:
    frames = []
    for seed in seeds:
        model = KyojoModel("yamae", seed=seed, years=years)
        model.run_model()
        frames.append(model.table("tsunagari"))
    df = pd.concat(frames)
    part = df[df["group_type"] == "participation"]
    return part.groupby("group")["mean"].mean().to_dict()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_both_online_and_offline_have_the_highest_tsunagari_yamae(seed):
    """図表4-3-5-4: people in both kinds of community have higher つながり力 than online-only and offline-only."""
    means = _participation_means(seeds=(seed,), years=2)
    assert means["both"] > means["online_only"] and means["both"] > means["offline_only"], means
