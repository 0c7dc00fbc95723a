"""Tiny hand-built towns for the aid and channel tests: a handful of adults in one district.

The town is synthesised from the yamae scenario with an age structure of exactly the given residents, so every
resident's age band and sex are fixed; the exact ages are then set by hand. The tests fill in willingness,
platform bits, roles and ties themselves, call ``model.aid.refresh()`` and :func:`silence_needs`, and put
needs in the book with :func:`add_need`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from kyojosim.aid.needs import NeedGroups
from kyojosim.constants import CAT, FEMALE, MALE, N_AGE_BANDS, TIE_COMMUNITY, TIE_HOUSEHOLD, TIE_ONLINE, age_band
from kyojosim.core.network import Ties
from kyojosim.model import KyojoModel
from kyojosim.params.scenario import load_scenario

SEX_CODE = {"m": MALE, "f": FEMALE}


def hand_built_town(ages_sexes: Sequence[tuple[int, str]], interventions: dict[str, dict[str, Any]] | None = None,
                    **scenario_changes: Any) -> tuple[KyojoModel, tuple[int, ...]]:
    """Build a one-district town of the given residents, e.g. ``[(42, "f"), (43, "m")]``; seed 1, one year.

    ``interventions`` replaces whole intervention entries (``{"local_sns": {"enabled": True, ...}}``);
    ``scenario_changes`` are dotted-path overrides with ``__`` for the dots. Returns the model and the slot of
    each resident, in the order given. Residents are matched to slots by rank of age (as synthesised, ties by
    sex), so the ages should rank the residents in the same way as their age bands do. Every resident gets their
    exact age and sex, is not frail and not employed.
    """
    data = load_scenario("yamae").to_dict()
    m = data["municipality"]
    counts = {MALE: [0] * N_AGE_BANDS, FEMALE: [0] * N_AGE_BANDS}
    ages = np.array([age for age, _ in ages_sexes], dtype=np.int64)
    sexes = np.array([SEX_CODE[sex] for _, sex in ages_sexes], dtype=np.int8)
    for band, sex in zip(age_band(ages), sexes, strict=True):
        counts[int(sex)][int(band)] += 1
    m["age_structure"] = {"male": counts[MALE], "female": counts[FEMALE], "source": "test"}
    m["population"] = len(ages_sexes)
    m["districts"] = [m["districts"][0] | {"population_share": 1.0}]
    data["demography"]["projection"] = None
    for name, config in (interventions or {}).items():
        data["interventions"][name] = config
    model = KyojoModel(load_scenario(data, **scenario_changes), seed=1, years=1)
    pop = model.population
    order = np.argsort(pop.age * 10 + pop.sex)  # synthesised residents by age
    rank = np.argsort(ages * 10 + sexes, kind="stable")  # the given residents by age
    slots = np.empty(len(ages_sexes), dtype=np.int64)
    slots[rank] = order
    pop.age[slots] = ages
    pop.sex[slots] = sexes
    pop.frail[:] = False
    pop.employed[:] = False
    pop.trust_offline[:] = 0.5  # equal trust: preferences leave the hand-worked weights as they are
    pop.trust_online[:] = 0.5
    return model, tuple(int(s) for s in slots)


def silence_needs(model: KyojoModel) -> None:
    """No random needs: the book is filled by hand (the need groups are rebuilt from the zeroed probabilities)."""
    model.aid.prob[:] = 0.0
    model.aid.groups = NeedGroups.build(model.aid.prob)


def add_need(model: KyojoModel, slot: int, category: str, hours: float, deadline: int = 10, *,
             surfaced_bits: int, born: int = 0) -> None:
    """Append one open need of the resident in ``slot`` to the book, already surfaced on ``surfaced_bits``."""
    model.aid.book.append(requester=[model.population.uid[slot]], category=[CAT[category]], hours=[hours],
                          born=[born], deadline=[deadline], surfaced=[surfaced_bits])


@contextlib.contextmanager
def watch_matching(on_match: Callable[..., None]) -> Iterator[None]:
    """Call ``on_match(cand, hours, capacity, result)`` after every weekly matching inside the block.

    The weekly round (``kyojosim.aid.round``) calls ``kyojosim.aid.matching.match`` once per week; this wraps it
    for the duration of the ``with`` block and restores it afterwards, so tests can see the candidate
    graph, the capacities and the result of each week. The round numbers the week's candidate helpers
    0, 1, ... (``capacity`` is indexed by that number); ``on_match`` gets the candidates and the result
    with helpers as slots (``cand.helper_ids[i]`` is the slot of helper number ``i``).
    """
    from kyojosim.aid import round as aid_module
    from kyojosim.aid.matching import Candidates, Matches

    real = aid_module.match

    def watched(cand, hours, capacity, rng=None, **kw):
        result = real(cand, hours, capacity, rng, **kw)
        ids = cand.helper_ids if cand.helper_ids is not None else np.arange(capacity.size)
        on_match(Candidates(cand.need, ids[cand.helper], cand.weight, cand.channel, ids), hours, capacity,
                 Matches(result.need, ids[result.helper], result.weight, result.channel, result.rounds,
                         result.converged))
        return result

    aid_module.match = watched
    try:
        yield
    finally:
        aid_module.match = real


def random_ties(rng: np.random.Generator, n: int, n_ties: int) -> Ties:
    """Return about ``n_ties`` random ties among ``n`` slots: a third each household, community and online ties.

    Each kind's ties have one strength, drawn from ``rng``; the pairs drawn may repeat or join a slot to itself
    (:meth:`~kyojosim.core.network.Ties.add` merges the first and drops the second).
    """
    ties = Ties()
    for kind in (TIE_HOUSEHOLD, TIE_COMMUNITY, TIE_ONLINE):
        ties.add(rng.integers(0, n, n_ties // 3), rng.integers(0, n, n_ties // 3), kind, float(rng.random()))
    return ties
