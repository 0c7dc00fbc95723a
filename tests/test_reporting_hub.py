"""The reporting hub channel (Yamae): reporters, volunteers, surfacing, routing delay."""

from __future__ import annotations

import numpy as np
import pytest

import towns
from kyojosim import ScenarioError
from kyojosim.aid.channels.reporting_hub import ReportingHubChannel
from kyojosim.constants import (
    AID_REPORTER,
    AID_VOLUNTEER,
    CAT,
    CATEGORIES,
    CH,
    TIE_NEIGHBOUR,
    WILL_FREE,
    WILL_NONE,
)
from kyojosim.core.network import Ties
from kyojosim.model import KyojoModel
from kyojosim.params.scenario import load_scenario
from towns import hand_built_town, silence_needs

HUB = 1 << CH["reporting_hub"]
HUB_ON = {"interventions.reporting_hub.enabled": True, "interventions.reporting_hub.start_year": 2015}


def channel(model, name: str = "reporting_hub"):
    return next(ch for ch in model.aid.channels if ch.name == name)


def tiny_hub_town(**hub) -> KyojoModel:
    """A (no smartphone) and reporter C share a block; B is tied to C; D lives apart. Nobody is willing to help.

    Every report is kept (a large report budget) unless the test says otherwise.
    """
    config = {"enabled": True, "start_year": 2015, "reports_per_reporter_month": 90.0, **hub}
    model, (a, b, c, d) = hand_built_town([(42, "f"), (43, "m"), (47, "f"), (81, "m")],
                                          interventions={"reporting_hub": config})
    pop = model.population
    pop.smartphone[:4] = False
    pop.sns[:4] = False
    if pop.n_households < 4:
        pop.add_households(4 - pop.n_households, district=0, block=0)
    pop.household[[a, b, c, d]] = [0, 1, 2, 3]
    pop.hh.block[:4] = [0, 1, 0, 1]
    pop.hh.district[:4] = 0
    pop.will[:4] = WILL_NONE
    pop.aid_role[[a, b, c, d]] = [0, 0, AID_REPORTER, 0]
    ties = Ties()
    ties.add(np.array([b]), np.array([c]), TIE_NEIGHBOUR, 0.4)
    model.ties = ties
    model.aid.refresh()
    silence_needs(model)
    model.names = {"A": a, "B": b, "C": c, "D": d}
    return model


def add_need(model, who: str, category: str, hours: float, born: int = 0, surfaced: int = HUB) -> None:
    towns.add_need(model, model.names[who], category, hours, deadline=20, surfaced_bits=surfaced, born=born)


def test_reporter_notices_neighbours_in_the_block_and_ties_without_smartphones():
    model = tiny_hub_town(notice_rate=1.0)
    n = model.names
    ch = channel(model)
    slot = np.array([n["A"], n["B"], n["C"], n["D"]])
    info = np.full(4, CAT["information"])
    got = ch.surface(slot, info, np.random.default_rng(0))
    # A: same block as C; B: tied to C; C: their own block; D: another block, no tie
    assert got.tolist() == [True, True, True, False]
    # chores are not a trouble the village office can act on (categories): not reported
    assert not ch.surface(slot, np.full(4, CAT["chores"]), np.random.default_rng(0)).any()
    model = tiny_hub_town(notice_rate=0.0)
    assert not channel(model).surface(slot, info, np.random.default_rng(0)).any()
    model = tiny_hub_town(notice_rate=1.0, categories=["chores"])
    assert channel(model).surface(slot, np.full(4, CAT["chores"]), np.random.default_rng(0)).tolist() == \
        [True, True, True, False]


def test_a_reporter_posts_a_limited_number_of_need_reports():
    per_month = 4.0
    model = tiny_hub_town(notice_rate=1.0, reports_per_reporter_month=per_month)
    n = model.names
    slot = np.full(40, n["A"])  # 40 troubles in the reporter's block in one week
    kept = [channel(model).surface(slot, np.full(40, CAT["consultation"]), np.random.default_rng(i)).sum()
            for i in range(3000)]
    # a Poisson number of reports a week with mean per_month x 12 / 52 (fewer than the 40 noticed)
    assert np.mean(kept) == pytest.approx(per_month * 12 / 52, rel=0.05)
    assert np.var(kept) == pytest.approx(per_month * 12 / 52, rel=0.15)
    model = tiny_hub_town(notice_rate=1.0, reports_per_reporter_month=0.0)
    assert not channel(model).surface(slot, np.full(40, CAT["consultation"]), np.random.default_rng(0)).any()


def test_the_office_answers_routed_reports_oldest_first_up_to_its_capacity():
    # 4 residents: 500 cases per 1,000 residents a week = 2 cases a week exactly
    model = tiny_hub_town(routing_delay_weeks=1, office_cases_per_1000=500.0)
    add_need(model, "A", "information", 1.5, born=2)   # n0: routed from week 3
    add_need(model, "A", "consultation", 1.0, born=0)  # n1: the oldest
    add_need(model, "D", "mobility", 1.0, born=1)      # n2
    add_need(model, "B", "family_care", 2.0, born=1)   # n3
    add_need(model, "C", "consultation", 1.0, born=0, surfaced=0)  # nobody knows of it
    model.aid.week(2)
    # week 2: n0 is not routed yet; n1 (born 0) goes first, then one of n2, n3 (born 1)
    assert model.aid.total["matched"].sum() == 2
    book = model.aid.book
    left = {(CATEGORIES[int(c)], int(b)) for c, b in zip(book.category, book.surfaced)}
    assert ("information", HUB) in left and ("consultation", HUB) not in left and len(book) == 3
    assert len(left & {("mobility", HUB), ("family_care", HUB)}) == 1
    assert sum(model.aid.by_channel)[CH["reporting_hub"]] == 2
    model.aid.week(3)  # the other born-1 need and n0, routed now
    assert model.aid.total["matched"].sum() == 4
    assert model.aid.book.surfaced.tolist() == [0]  # only the need nobody knew of is left
    # nobody helped: no resident's hours were used, nothing was paid, every match is the office's
    assert model.aid.helper_hours.sum() == 0 and model.aid.money.total("received_by_helpers") == 0
    model.aid.monthly(3, dynamics=False)
    hub = model.table("channel_months").set_index("channel").loc["reporting_hub"]
    assert (hub["matched"], hub["answered"], hub["closed_matched"], hub["members"]) == (4, 4, 4, 1)


def test_routing_delay_on_a_hand_built_town():
    model = tiny_hub_town(routing_delay_weeks=2, office_cases_per_1000=250.0)  # 1 case a week
    add_need(model, "A", "information", 1.5, born=1)
    model.aid.week(1)
    model.aid.week(2)
    assert model.aid.total["matched"].sum() == 0
    model.aid.week(3)
    assert model.aid.total["matched"].sum() == 1


def test_zero_delay_routes_in_the_week_the_need_arises():
    model = tiny_hub_town(routing_delay_weeks=0, office_cases_per_1000=250.0)
    add_need(model, "A", "information", 1.5, born=1)
    model.aid.week(1)
    assert model.aid.total["matched"].sum() == 1


def test_without_office_capacity_reports_wait_and_lapse():
    model = tiny_hub_town(routing_delay_weeks=0, office_cases_per_1000=0.0)
    towns.add_need(model, model.names["A"], "information", 1.0, deadline=2, surfaced_bits=HUB, born=1)
    for week in (1, 2):
        model.aid.week(week)
    assert model.aid.total["matched"].sum() == 0 and model.aid.total["lapsed"].sum() == 1


def test_reporters_per_district_prefer_association_members_and_are_replaced():
    model = KyojoModel("yamae", seed=2, years=4, overrides={
        **HUB_ON, "interventions.reporting_hub.reporters_per_district": 2})

    def check(model):
        pop = model.population
        rep = np.flatnonzero((pop.aid_role & AID_REPORTER) != 0)
        counts = np.bincount(pop.district[rep], minlength=int(pop.district.max()) + 1)
        assert (counts >= 2).all()
        return set(pop.uid[rep].tolist())

    first = check(model)
    pop = model.population
    rep = np.flatnonzero((pop.aid_role & AID_REPORTER) != 0)
    hub = model.scenario.interventions.reporting_hub
    lo, hi = hub.reporter_min_age, hub.reporter_max_age
    assert ((pop.age[rep] >= lo) & (pop.age[rep] <= hi) & ~pop.frail[rep]).all()
    # a district with enough eligible members of the neighbourhood association takes members only
    for d in np.unique(pop.district):
        members = (pop.district == d) & (pop.groups[:, 0] >= 0) & (pop.age >= lo) & (pop.age <= hi) & ~pop.frail
        if members.sum() >= 2:
            assert (pop.groups[rep[pop.district[rep] == d], 0] >= 0).all()
    seen = [first]

    def yearly(m):
        if m.steps % 52 == 0:
            now = check(m)
            alive = {int(u) for u in seen[-1] if m.slot_of(int(u)) >= 0}
            assert alive <= now  # reporters keep their role while they live there
            seen.append(now)

    model.run_model(progress=yearly)


def test_no_roster_by_default_and_a_capped_roster_as_a_what_if():
    model = KyojoModel("yamae", seed=5, years=0, overrides=HUB_ON)
    assert not ((model.population.aid_role & AID_VOLUNTEER) != 0).any()
    assert model.scenario.interventions.reporting_hub.roster_per_1000 == 0
    model = KyojoModel("yamae", seed=5, years=2, overrides={
        **HUB_ON, "interventions.reporting_hub.roster_per_1000": 29,
        "trust.willingness_turnover": 0.0})  # willingness held fixed: a volunteer stays willing free
    cfg = model.scenario.interventions.reporting_hub

    def check(m):
        pop = m.population
        alive = pop.alive[: pop.n]
        vol = ((pop.aid_role & AID_VOLUNTEER) != 0) & alive
        # about 100 villagers: topped up to the number for the population, and kept while they live there
        assert round(29 * int(alive.sum()) / 1000) <= int(vol.sum()) <= round(29 * 3422 / 1000)
        served = np.array([c in cfg.categories for c in CATEGORIES])
        assert ((pop.will[vol] == WILL_FREE) & served).any(axis=1).all()

    check(model)
    model.run_model(progress=lambda m: check(m) if m.steps % 52 == 1 else None)
    with pytest.raises(ScenarioError, match="roster_per_1000: out of range: got 40.*100-person committee"):
        load_scenario("yamae", {"interventions.reporting_hub.roster_per_1000": 40})


def test_the_hub_reaches_residents_without_smartphones():
    on = {**HUB_ON, "interventions.sharing_platform.enabled": True,
          "interventions.sharing_platform.start_year": 2015}
    model = KyojoModel("yamae", seed=6, years=1, overrides={
        **on, "interventions.sharing_platform.categories": list(CATEGORIES)})
    pop = model.population
    no_phone = np.flatnonzero(~pop.smartphone & (pop.age >= 20))
    cat = np.full(no_phone.size, CAT["consultation"])
    rng = np.random.default_rng(0)
    hub = channel(model).surface(no_phone, cat, rng)
    platform = channel(model, "sharing_platform").surface(no_phone, cat, rng)
    assert hub.sum() > 0  # within the reporters' weekly reports
    assert not platform.any()
    # and over a year, the office answers needs of residents without smartphones
    hub_channel = channel(model)
    answer = hub_channel.respond
    answered_no_phone = 0

    def counting(slot, category, born, step, rng):
        nonlocal answered_no_phone
        got = answer(slot, category, born, step, rng)
        answered_no_phone += int((~model.population.smartphone[slot[got]]).sum())
        return got

    hub_channel.respond = counting
    model.run_model()
    assert answered_no_phone > 0


def test_the_channel_is_listed_even_when_off():
    model = KyojoModel("yamae", seed=1, years=0)
    ch = channel(model)
    assert isinstance(ch, ReportingHubChannel) and not ch.active()
    assert not ((model.population.aid_role & (AID_REPORTER | AID_VOLUNTEER)) != 0).any()


def test_dispatch_and_reporters_are_the_scenarios():
    model = tiny_hub_town(routing_delay_weeks=0, dispatch_weight=0.7, dispatch_candidates=1)
    pop = model.population
    n = model.names
    pop.will[n["B"], CAT["information"]] = WILL_FREE
    pop.aid_role[n["B"]] |= AID_VOLUNTEER
    model.aid.refresh()
    silence_needs(model)
    add_need(model, "A", "information", 1.5, born=0)
    book = model.aid.book
    need, helper, weight = channel(model).candidates(model.population.slots_of(book.requester),
                                                     book.category.astype(np.int64), book.born, 0)
    assert need.tolist() == [0] and helper.tolist() == [n["B"]] and np.allclose(weight, 0.7)
    model.aid.week(1)  # B, on the roster, helps (no office capacity needed)
    assert model.aid.helper_hours[n["B"]] == 1.5
    model = KyojoModel("yamae", seed=2, years=1, overrides={
        **HUB_ON, "interventions.reporting_hub.reporter_min_age": 60,
        "interventions.reporting_hub.reporter_max_age": 70})
    pop = model.population
    rep = np.flatnonzero((pop.aid_role & AID_REPORTER) != 0)
    assert rep.size > 0 and ((pop.age[rep] >= 60) & (pop.age[rep] <= 70)).all()
    with pytest.raises(ScenarioError, match="reporter_max_age: empty age range: got 40; allowed: an age >= "
                       r"reporter_min_age \(50\)"):
        load_scenario("yamae", {"interventions.reporting_hub.reporter_min_age": 50,
                                "interventions.reporting_hub.reporter_max_age": 40})


def test_the_number_of_reporters_scales_with_the_town():
    def reporters(scale: float, seed: int) -> np.ndarray:
        model = KyojoModel("yamae", seed=seed, years=0, scale=scale, overrides=HUB_ON)
        pop = model.population
        rep = (pop.aid_role & AID_REPORTER) != 0
        return np.bincount(pop.district[rep], minlength=len(model.scenario.municipality.districts))

    assert (reporters(1.0, 1) == 2).all()  # yamae.yaml: 2 per district
    assert (reporters(0.5, 1) == 1).all()
    # 2 x 0.25 = 0.5 a district: each district has 0 or 1, half of them 1 on average
    counts = np.concatenate([reporters(0.25, seed) for seed in range(8)])
    assert set(counts.tolist()) <= {0, 1} and 0.3 < counts.mean() < 0.7
