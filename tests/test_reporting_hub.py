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
    WILL_PAID,
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
    """A (no smartphone) and reporter C share a block; B is tied to C; D lives apart. B, D volunteer."""
    model, (a, b, c, d) = hand_built_town([(42, "f"), (43, "m"), (47, "f"), (81, "m")],
                                          interventions={"reporting_hub": {"enabled": True, "start_year": 2015, **hub}})
    pop = model.population
    pop.smartphone[:4] = False
    pop.sns[:4] = False
    if pop.n_households < 4:
        pop.add_households(4 - pop.n_households, district=0, block=0)
    pop.household[[a, b, c, d]] = [0, 1, 2, 3]
    pop.hh.block[:4] = [0, 1, 0, 1]
    pop.hh.district[:4] = 0
    will = np.full((4, len(CATEGORIES)), WILL_NONE, dtype=np.int8)
    will[b, CAT["chores"]] = WILL_FREE
    will[c, CAT["chores"]] = WILL_PAID  # the reporter is no volunteer
    will[d, CAT["shopping"]] = WILL_FREE
    pop.will[:4] = will
    pop.aid_role[[a, b, c, d]] = [0, AID_VOLUNTEER, AID_REPORTER, AID_VOLUNTEER]
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
    got = ch.surface(slot, np.zeros(4, dtype=np.int64), np.random.default_rng(0))
    # A: same block as C; B: tied to C; C: their own block; D: another block, no tie
    assert got.tolist() == [True, True, True, False]
    model = tiny_hub_town(notice_rate=0.0)
    assert not channel(model).surface(slot, np.zeros(4, dtype=np.int64), np.random.default_rng(0)).any()


def test_routing_delay_on_a_hand_built_town():
    model = tiny_hub_town(routing_delay_weeks=2)
    n = model.names
    names = {v: k for k, v in n.items()}
    add_need(model, "A", "chores", 1.5, born=0)    # routed from week 2
    add_need(model, "A", "chores", 1.0, born=1)    # routed from week 3
    add_need(model, "D", "shopping", 1.0, born=0)  # the only free shopping volunteer is D itself
    add_need(model, "C", "chores", 1.0, born=0, surfaced=0)  # nobody knows of it
    ch = channel(model)
    book = model.aid.book
    req = model.population.slots_of(book.requester[:3])
    need, helper, weight = ch.candidates(req, book.category[:3].astype(np.int64), book.born[:3], 2)
    assert [(int(i), names[int(h)]) for i, h in zip(need, helper)] == [(0, "B"), (2, "D")]
    assert np.allclose(weight, model.scenario.interventions.reporting_hub.dispatch_weight)
    model.aid.week(1)
    assert len(model.aid.book) == 4 and model.aid.total["matched"].sum() == 0
    model.aid.week(2)  # the first need is routed to B; D cannot help itself
    assert model.aid.total["matched"].sum() == 1
    assert sorted(model.aid.book.born.tolist()) == [0, 0, 1]
    model.aid.week(3)  # the second: B has 5 - 1.5 = 3.5 h left this week again (a new week: 5 h)
    assert model.aid.total["matched"].sum() == 2
    assert model.aid.total["matched"][CAT["chores"]] == 2
    assert sum(model.aid.by_channel)[CH["reporting_hub"]] == 2
    assert not hasattr(model.aid, "money") or model.aid.money.total("received_by_helpers") == 0


def test_zero_delay_routes_in_the_week_the_need_arises():
    model = tiny_hub_town(routing_delay_weeks=0)
    add_need(model, "A", "chores", 1.5, born=1)
    model.aid.week(1)
    assert model.aid.total["matched"].sum() == 1


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


def test_volunteers_register_once_at_the_share():
    # willingness held fixed (no yearly turnover), so that whether a volunteer was willing free when registering
    # can be read from the willingness at the end
    model = KyojoModel("yamae", seed=5, years=2, overrides={**HUB_ON, "trust.willingness_turnover": 0.0})
    cfg = model.scenario.interventions.reporting_hub
    pop = model.population
    free = (pop.will == WILL_FREE).any(axis=1)
    vol = (pop.aid_role & AID_VOLUNTEER) != 0
    assert not (vol & ~free).any()
    assert abs(vol[free].mean() - cfg.volunteer_share) < 0.04
    start_uid = int(pop.uid.max())
    model.run_model()
    pop = model.population
    vol = (pop.aid_role & AID_VOLUNTEER) != 0
    free = (pop.will == WILL_FREE).any(axis=1)
    assert not (vol & ~free).any()
    old = pop.uid <= start_uid
    assert abs(vol[old & free].mean() - cfg.volunteer_share) < 0.05  # no second chance for the old
    assert (vol & ~old).any()  # newcomers get theirs


def test_the_hub_reaches_residents_without_smartphones():
    on = {**HUB_ON, "interventions.sharing_platform.enabled": True,
          "interventions.sharing_platform.start_year": 2015}
    model = KyojoModel("yamae", seed=6, years=1, overrides=on)
    pop = model.population
    no_phone = np.flatnonzero(~pop.smartphone & (pop.age >= 20))
    cat = np.full(no_phone.size, CAT["shopping"])
    rng = np.random.default_rng(0)
    hub = channel(model).surface(no_phone, cat, rng)
    platform = channel(model, "sharing_platform").surface(no_phone, cat, rng)
    assert hub.sum() > 0.05 * no_phone.size
    assert not platform.any()
    # and over a year, needs of residents without smartphones are matched through the hub
    matched_no_phone = 0

    def count(cand, hours, capacity, res):
        nonlocal matched_no_phone
        via = res.channel == HUB
        slots = model.population.slots_of(model.aid.book.requester[res.need[via]])
        matched_no_phone += int((~model.population.smartphone[slots]).sum())

    with towns.watch_matching(count):
        model.run_model()
    assert matched_no_phone > 0


def test_the_channel_is_listed_even_when_off():
    model = KyojoModel("yamae", seed=1, years=0)
    ch = channel(model)
    assert isinstance(ch, ReportingHubChannel) and not ch.active()
    assert not ((model.population.aid_role & (AID_REPORTER | AID_VOLUNTEER)) != 0).any()


def test_dispatch_and_reporters_are_the_scenarios():
    model = tiny_hub_town(routing_delay_weeks=0, dispatch_weight=0.7, dispatch_candidates=1)
    add_need(model, "A", "chores", 1.5, born=0)
    book = model.aid.book
    need, helper, weight = channel(model).candidates(model.population.slots_of(book.requester),
                                                     book.category.astype(np.int64), book.born, 0)
    assert need.size == 1 and np.allclose(weight, 0.7)
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
