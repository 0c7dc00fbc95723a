"""The sharing platform channel (Ikoma + AsMama): registration, surfacing, candidates, payments, meetups."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import towns
from kyojosim.aid.channels.sharing_platform import SharingPlatformChannel
from kyojosim.aid.money import split_payment
from kyojosim.constants import (
    AID_CERTIFIED,
    AID_SUPPORTER,
    CAT,
    CATEGORIES,
    CH,
    TIE_COMMUNITY,
    TIE_NEIGHBOUR,
    WILL_FREE,
    WILL_NONE,
    WILL_PAID,
)
from kyojosim.core.network import Ties
from kyojosim.model import KyojoModel
from kyojosim.params.scenario import load_scenario
from towns import hand_built_town, silence_needs

PLATFORM = 1 << CH["sharing_platform"]


def bits(*cats: str) -> int:
    return sum(1 << CAT[c] for c in cats)


def channel(model) -> SharingPlatformChannel:
    return next(ch for ch in model.aid.channels if ch.name == "sharing_platform")


def tiny_platform_town(**platform) -> KyojoModel:
    """Four residents of one district: A asks; B, C, D are supporters (see the test for the roles)."""
    model, (a, b, c, d) = hand_built_town([(42, "f"), (43, "m"), (47, "f"), (81, "m")],
                                          interventions={"sharing_platform": {"enabled": True, "start_year": 2015,
                                                                              **platform}})
    pop = model.population
    pop.smartphone[:4] = True
    will = np.full((4, len(CATEGORIES)), WILL_NONE, dtype=np.int8)
    will[b, CAT["chores"]] = WILL_PAID
    will[c, CAT["chores"]] = WILL_FREE
    will[d, CAT["chores"]] = WILL_PAID
    will[d, CAT["shopping"]] = WILL_PAID
    pop.will[:4] = will
    pop.platform_help[[a, b, c, d]] = [0, bits("chores"), bits("chores"), bits("chores", "shopping")]
    pop.platform_need[[a, b, c, d]] = [bits("chores"), bits("shopping"), 0, 0]
    pop.aid_role[[a, b, c, d]] = [0, AID_SUPPORTER, AID_SUPPORTER | AID_CERTIFIED, AID_SUPPORTER]
    ties = Ties()
    ties.add(np.array([a]), np.array([b]), TIE_NEIGHBOUR, 0.4)
    model.ties = ties
    model.aid.refresh()
    silence_needs(model)
    model.names = {"A": a, "B": b, "C": c, "D": d}
    return model


def add_need(model, who: str, category: str, hours: float, surfaced: int = PLATFORM) -> None:
    towns.add_need(model, model.names[who], category, hours, surfaced_bits=surfaced)


def run_week(model, step: int = 1):
    captured = {}
    with towns.watch_matching(lambda cand, hours, capacity, res: captured.update(cand=cand, res=res)):
        model.aid.week(step)
    return captured


def test_matches_and_payments_on_a_hand_built_town():
    model = tiny_platform_town(price_per_hour=600.0, subsidy_per_hour=100.0)
    add_need(model, "A", "chores", 2.0)    # n0
    add_need(model, "A", "chores", 4.5)    # n1
    add_need(model, "B", "shopping", 1.0)  # n2
    cap = run_week(model)
    names = {v: k for k, v in model.names.items()}
    cand = cap["cand"]
    edges = {(int(n), names[int(h)]): round(float(w), 6) for n, h, w in zip(cand.need, cand.helper, cand.weight)}
    # B is tied to A (0.4 + 1.0); C certified (0.6); D a plain supporter (0.3); only D offers shopping
    assert edges == {(0, "B"): 1.4, (1, "B"): 1.4, (0, "C"): 0.6, (1, "C"): 0.6, (0, "D"): 0.3, (1, "D"): 0.3,
                     (2, "D"): 0.3}
    res = cap["res"]
    got = {int(i): names[int(h)] for i, h in zip(res.need, res.helper)}
    # B: 5 h less its own 1 h need = 4 h; takes n0 (2 h), then n1 (4.5 h) does not fit; C (5 h) takes n1;
    # D (75+: 2 h) takes B's shopping
    assert got == {0: "B", 1: "C", 2: "D"}
    assert len(model.aid.book) == 0
    money = model.aid.money
    t = money.totals
    ch = CH["sharing_platform"]
    # n0: B paid-only: 600 x 2 = 1200 yen, 200 subsidy, 1000 from A; n1: C free, unpaid; n2: 600, 100, 500
    assert t["received_by_helpers"][ch, CAT["chores"]] == 1200
    assert t["subsidy"][ch, CAT["chores"]] == 200
    assert t["paid_by_requesters"][ch, CAT["chores"]] == 1000
    assert t["received_by_helpers"][ch, CAT["shopping"]] == 600
    assert t["paid_by_requesters"][ch, CAT["shopping"]] == 500
    assert money.total("received_by_helpers") == 1800 and money.total("subsidy") == 300
    assert t["matches"][ch, CAT["chores"]] == 2 and t["paid_matches"][ch, CAT["chores"]] == 1
    rows = model.table("money")
    assert list(rows["category"]) == ["chores", "shopping"] and (rows["step"] == 1).all()


def test_subsidy_above_price_makes_help_free_for_the_requester():
    by_req, sub = split_payment(600.0, 800.0, np.array([1.0, 0.25, 1 / 3]))
    assert list(by_req) == [0, 0, 0] and list(sub) == [600, 150, 200]
    by_req, sub = split_payment(650.0, 100.0, np.array([1 / 3, 0.5]))
    assert list(by_req + sub) == [217, 325] and list(sub) == [33, 50]


def test_surfacing_needs_the_wish_or_trust_and_a_smartphone():
    rng = np.random.default_rng(0)
    model = tiny_platform_town(trust_boost=0.0)
    ch, n = channel(model), model.names
    slot = np.array([n["A"], n["A"], n["B"], n["C"]])
    cat = np.array([CAT["chores"], CAT["shopping"], CAT["shopping"], CAT["chores"]])
    assert ch.surface(slot, cat, rng).tolist() == [True, False, True, False]
    model.population.smartphone[n["A"]] = False
    assert ch.surface(slot, cat, rng).tolist() == [False, False, True, False]
    # insured, with a certain trust boost: everyone with a smartphone posts
    model = tiny_platform_town(trust_boost=1.0)
    assert channel(model).surface(slot, cat, rng).all()
    model = tiny_platform_town(trust_boost=1.0, insured=False)
    assert channel(model).surface(slot, cat, rng).tolist() == [True, False, True, False]


def test_registration_takes_every_eligible_resident_at_rate_one():
    model = KyojoModel("yamae", seed=3, years=0, overrides={
        "interventions.sharing_platform.enabled": True, "interventions.sharing_platform.start_year": 2015,
        "interventions.sharing_platform.registration_rate": 1.0,
        "interventions.sharing_platform.certified_share": 0.0})
    pop = model.population
    eligible = (pop.age >= model.scenario.helping.helper_min_age) & ~pop.frail & (pop.platform_help != 0)
    supporter = (pop.aid_role & AID_SUPPORTER) != 0
    assert eligible.any() and np.array_equal(supporter, eligible)
    assert not ((pop.aid_role & AID_CERTIFIED) != 0).any()


def test_registration_and_certification_rates():
    model = KyojoModel("yamae", seed=3, years=0, overrides={
        "interventions.sharing_platform.enabled": True, "interventions.sharing_platform.start_year": 2015})
    pop, cfg = model.population, model.scenario.interventions.sharing_platform
    eligible = (pop.age >= model.scenario.helping.helper_min_age) & ~pop.frail & (pop.platform_help != 0)
    supporter = (pop.aid_role & AID_SUPPORTER) != 0
    assert abs(supporter[eligible].mean() - cfg.registration_rate) < 0.04
    cert = (pop.aid_role & AID_CERTIFIED) != 0
    assert not (cert & ~supporter).any()
    assert abs(cert[supporter].mean() - cfg.certified_share) < 0.07


def test_no_supporters_before_the_start_year():
    model = KyojoModel("yamae", seed=3, years=3, overrides={
        "interventions.sharing_platform.enabled": True, "interventions.sharing_platform.start_year": 2017})
    assert not model.population.aid_role.any()
    while model.year < 2017:
        assert model.aid.by_channel == [] or sum(model.aid.by_channel)[CH["sharing_platform"]] == 0
        model.step()
    assert ((model.population.aid_role & AID_SUPPORTER) != 0).any()


@pytest.mark.parametrize("contacts", [3, 2])
def test_meetups_tie_requesters_to_supporters(contacts):
    model = tiny_platform_town(meetups_per_year=1.0, meetup_attendance=1.0, meetup_contacts=contacts)
    add_need(model, "A", "chores", 2.0)
    run_week(model)
    ch, n = channel(model), model.names
    before = {(int(a), int(b)) for a, b in zip(model.ties.a, model.ties.b)}
    pairs = ch.meetups(np.random.default_rng(1))
    assert pairs == contacts
    supporters = {n["B"], n["C"], n["D"]}
    new = [(int(a), int(b), int(k)) for a, b, k in zip(model.ties.a, model.ties.b, model.ties.kind)
           if (int(a), int(b)) not in before]
    assert new, "at least one new acquaintance"
    for a, b, k in new:
        assert n["A"] in (a, b) and ({a, b} - {n["A"]}) <= supporters and k & TIE_COMMUNITY
    assert ch.meetups(np.random.default_rng(1)) == 0  # the year's users were used up


BASE = load_scenario("yamae").to_dict()


@st.composite
def platform_scenarios(draw):
    data = copy.deepcopy(BASE)
    data["municipality"]["scale"] = draw(st.floats(0.03, 0.15))
    data["needs"]["weekly_rate"] = draw(st.floats(0.0, 0.5))
    data["simulation"]["years"] = 2
    data["simulation"]["seed"] = draw(st.integers(0, 2**32))
    data["interventions"]["sharing_platform"] = {
        "enabled": True, "start_year": 2015,
        "price_per_hour": draw(st.floats(0.0, 2000.0)),
        "subsidy_per_hour": draw(st.floats(0.0, 2500.0)),
        "registration_rate": draw(st.floats(0.0, 1.0)),
        "certified_share": draw(st.floats(0.0, 1.0)),
    }
    return load_scenario(data)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scn=platform_scenarios())
def test_money_balances_exactly(scn):
    model = KyojoModel(scn)
    cfg = scn.interventions.sharing_platform
    model.run_model()
    money = model.aid.money
    table = model.table("money")
    for row in table.to_dict("records"):
        assert row["received_by_helpers"] == row["paid_by_requesters"] + row["subsidy"]
        assert row["paid_by_requesters"] >= 0 and row["subsidy"] >= 0
        assert row["subsidy"] <= row["received_by_helpers"]
        # rounded once per match: within half a yen per paid match of the exact amount
        exact = cfg.price_per_hour * row["hours"]
        assert row["paid_matches"] < row["matches"] or abs(row["received_by_helpers"] - exact) <= row["matches"]
    t = money.totals
    assert np.array_equal(t["received_by_helpers"], t["paid_by_requesters"] + t["subsidy"])
    assert t["received_by_helpers"].dtype == np.int64
    for f in ("paid_by_requesters", "subsidy", "received_by_helpers", "matches"):
        assert table[f].sum() == t[f].sum()
    # per step: every step's rows balance too
    if len(table):
        per_step = table.groupby("step")[["paid_by_requesters", "subsidy", "received_by_helpers"]].sum()
        assert (per_step["received_by_helpers"] == per_step["paid_by_requesters"] + per_step["subsidy"]).all()
    # the platform's matches are all in the ledger
    assert t["matches"].sum() == sum(model.aid.by_channel)[CH["sharing_platform"]] if model.aid.by_channel else True
    # needs take at least 0.25 h: a subsidy of 4 yen an hour or more is at least 1 yen per paid match
    if min(cfg.subsidy_per_hour, cfg.price_per_hour) >= 4 and t["paid_matches"].sum():
        assert money.total("subsidy") > 0


@pytest.mark.parametrize("key", ["sharing_platform", "reporting_hub"])
def test_a_channel_never_lowers_the_needs_surfaced(key):
    """With the wish to ask held fixed a channel only adds to the needs surfaced, week by week; with it free to
    change (a need a channel surfaced that lapses discourages asking) it still adds over the run."""
    for fixed in (True, False):
        runs = {}
        asking = {"trust.discouragement": 0.0, "trust.encouragement": 0.0} if fixed else {}
        for on in (False, True):
            model = KyojoModel("yamae", seed=4, years=2, overrides={
                f"interventions.{key}.enabled": on, f"interventions.{key}.start_year": 2015, **asking})
            model.run_model()
            runs[on] = model.datacollector.get_model_vars_dataframe()
        off, on = runs[False], runs[True]
        assert np.array_equal(off["needs_arisen"].to_numpy(), on["needs_arisen"].to_numpy())
        if fixed:
            assert (on["needs_surfaced"].to_numpy() >= off["needs_surfaced"].to_numpy()).all()
        assert on["needs_surfaced"].sum() > off["needs_surfaced"].sum()


def test_money_table_is_saved_with_the_run(tmp_path):
    import pandas as pd

    from kyojosim.runs.results import RunResult, load_run

    model = KyojoModel("yamae", seed=2, years=1, scale=0.1, overrides={
        "interventions.sharing_platform.enabled": True, "interventions.sharing_platform.start_year": 2015,
        "interventions.sharing_platform.subsidy_per_hour": 200.0})
    model.run_model()
    result = RunResult.from_model(model)
    money = result.to_pandas("money")
    assert len(money) and (money["received_by_helpers"] == money["paid_by_requesters"] + money["subsidy"]).all()
    assert money["subsidy"].sum() == model.aid.money.total("subsidy") > 0
    result.save(tmp_path / "r")
    pd.testing.assert_frame_equal(load_run(tmp_path / "r").to_pandas("money"), money)


def test_candidate_weights_and_reach_are_the_scenarios():
    model = tiny_platform_town(tied_bonus=0.5, certified_weight=0.9, supporter_weight=0.1)
    add_need(model, "A", "chores", 2.0)    # n0
    add_need(model, "B", "shopping", 1.0)  # n1
    names = {v: k for k, v in model.names.items()}
    cand = run_week(model)["cand"]
    edges = {(int(n), names[int(h)]): round(float(w), 6) for n, h, w in zip(cand.need, cand.helper, cand.weight)}
    assert edges == {(0, "B"): 0.9, (0, "C"): 0.9, (0, "D"): 0.1, (1, "D"): 0.1}  # B: tie 0.4 + 0.5
    # one supporter drawn from the district per request, besides the tied ones
    model = tiny_platform_town(random_candidates=1)
    add_need(model, "A", "chores", 2.0)
    cand = run_week(model)["cand"]
    helpers = [names[int(h)] for h in cand.helper]
    assert "B" in helpers and len(set(helpers) - {"B"}) <= 1
