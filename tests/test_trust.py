"""Trust, reciprocity and the wish to ask."""

from __future__ import annotations

import numpy as np

from kyojosim.constants import CH, TIE_NEIGHBOUR, WILL_FREE, WILL_NONE
from kyojosim.core.network import Ties
from kyojosim.core.trust import after_week, yearly_reciprocity
from kyojosim.model import KyojoModel


def test_strengthen_existing_ties_only():
    t = Ties()
    t.add(np.array([0, 2]), np.array([1, 3]), TIE_NEIGHBOUR, 0.5)
    hits = t.strengthen(np.array([1, 3, 0]), np.array([0, 0, 1]), 0.3)
    assert hits == 2  # (1, 0) twice; (3, 0) is not a tie
    assert np.allclose(t.strength, [1.0, 0.5])  # 0.5 + 0.3 + 0.3, capped at 1


def test_initial_trust_follows_the_survey():
    model = KyojoModel("ikoma", seed=1, scale=0.05, years=0)
    pop = model.population
    assert abs(pop.trust_offline.mean() - 0.338) < 0.01  # 図表4-3-5-3, 2017
    assert pop.trust_online.mean() < pop.trust_offline.mean()
    old = KyojoModel("ikoma", seed=1, scale=0.05, years=0, communities__participation_year=2008)
    assert abs(old.population.trust_offline.mean() - 0.407) < 0.01


def test_help_and_lapses_change_trust_reciprocity_and_asking():
    model = KyojoModel("yamae", seed=1, years=0)
    pop = model.population
    t = model.scenario.trust
    a, b = int(model.ties.a[0]), int(model.ties.b[0])  # an existing tie
    req, helper = np.array([a, 5]), np.array([b, 6])
    before = {k: getattr(pop, k).copy() for k in ("reciprocity", "trust_offline", "trust_online", "ask_factor")}
    strength = float(model.ties.strength[0])
    channel = np.array([1 << CH["offline"], 1 << CH["local_sns"]], dtype=np.int8)
    pop.ask_factor[[a, 5]] = 0.5
    after_week(model, req, helper, channel, lapsed_requester=np.array([9]))
    assert np.isclose(pop.reciprocity[a], min(before["reciprocity"][a] + t.reciprocity_gain, 1))
    assert np.isclose(pop.trust_offline[a], min(before["trust_offline"][a] + t.trust_gain, 1))
    assert np.isclose(pop.trust_online[5], min(before["trust_online"][5] + t.trust_gain, 1))
    assert pop.trust_online[a] == before["trust_online"][a]
    assert np.isclose(pop.ask_factor[9], 1 - t.discouragement)
    assert np.isclose(pop.ask_factor[a], 0.5 * (1 + t.encouragement))
    assert np.isclose(model.ties.strength[0], min(strength + t.tie_gain, 1))


def test_reciprocity_raises_willingness():
    model = KyojoModel("yamae", seed=1, years=0, trust__conversion_rate=1.0)
    pop = model.population
    pop.reciprocity[:] = 0.0
    pop.reciprocity[:10] = 1.0
    none_before = pop.will == WILL_NONE
    n = yearly_reciprocity(pop, model.scenario, np.random.default_rng(0))
    assert n == int(none_before[:10].sum())
    assert (pop.will[:10] == WILL_FREE)[none_before[:10]].all()
    assert (pop.will[10:] == np.where(none_before[10:], WILL_NONE, pop.will[10:])).all()


def test_new_free_helpers_may_offer_on_a_platform():
    model = KyojoModel("yamae", seed=2, years=0, trust__conversion_rate=1.0)
    pop = model.population
    pop.reciprocity[:] = 1.0
    pop.platform_help[:] = 0
    none_before = pop.will == WILL_NONE
    yearly_reciprocity(pop, model.scenario, np.random.default_rng(1))
    bits = (pop.platform_help[:, None].astype(int) >> np.arange(none_before.shape[1])) & 1
    share = bits[none_before].mean()
    expected = np.mean([model.scenario.helping.platform_use_free[c] for c in model.scenario.helping.platform_use_free])
    assert abs(share - expected) < 0.03
    assert (bits[~none_before] == 0).all()
