"""Community dynamics, once a year: people join and leave communities as their lives change.

Real-world communities (the ten kinds of 図表4-3-3-2), for residents 18+ (``communities`` section):

* **Eligibility ends membership**: a member whose propensity for the kind is now 0 leaves it: the
  PTA when no child aged 6-14 lives in the household any more, labour unions and workplace groups
  on leaving work, agricultural and trade groups below 40 (:func:`kyojosim.core.communities.eligibility_weights`).
* **Turnover**: every other member leaves with probability ``turnover`` a year.
* **Joining**: an eligible non-member joins with probability ``turnover × p / (1 − p)``, where
  ``p = min(level × weight × membership_rate, 0.95)`` is the chance of membership at synthesis
  (``level`` that of the resident's age group, :func:`kyojosim.core.communities.offline_level`).
  Joining and leaving then balance at the synthesis share ``p`` (a two-state chain), so a town
  keeps its level of participation while people move through life stages: new parents join the
  PTA, new workers a workplace group.
* **Trend**: the levels (fitted at synthesis, one per age group, shared with newcomers) are multiplied by
  ``1 + offline_trend`` every year that begins up to ``trend_end_year`` (the calendar year of the
  national ICT series when ``ict.national_path_start`` is set). A negative trend is the decline of
  自治会 and other real-world groups between the surveys (offline participation 67.1% in 2008,
  44.3% in 2017, 図表4-3-5-2); by default it is applied only through 2017, the last survey year,
  since nothing tells how it went on (a scenario may extend it: ``trend_end_year: null``).

Online communities (feed groups and plaza boards, 図表4-3-3-1):

* a social-media user in neither joins with probability ``online_join_rate`` a year (and a
  plaza board with ``plaza_share``): the spread of smartphones and social media (:mod:`kyojosim.core.ict`)
  moves people online through this rule;
* a participant leaves both with probability ``online_exit_rate`` a year.

The local SNS has its own adoption rule (:mod:`kyojosim.aid.channels.local_sns`); meetups of the sharing platform
bring attendees into the volunteer group of their district (:mod:`kyojosim.aid.channels.sharing_platform`).
Ties made in a community outlast membership (friends stay friends); new members are tied to
co-members of their new chapters at the turn of the year.
"""

from __future__ import annotations

import numpy as np

from ..constants import OFFLINE_COMMUNITIES, ROLE_CHILD
from ..params.scenario import Scenario
from .communities import (
    LOCAL_KIND_INDEX,
    OFFLINE_AGE_GROUPS,
    ONLINE_BIT,
    Chapters,
    eligibility_inputs,
    eligibility_rules,
    join_and_tie,
    offline_age_group,
    set_online,
)
from .ict import path_year
from .network import TieBatch, Ties
from .population import Population
from .streams import bernoulli_positions

MAX_SHARE = 0.95
"""Cap of the membership chance ``p`` in the joining rule (keeps ``p / (1 - p)`` finite)."""
ADULT_AGE = OFFLINE_AGE_GROUPS[0][0]
"""Age from which residents take part in real-world communities (the first of the age groups)."""
FEED_AND_PLAZA = np.uint8(ONLINE_BIT["feed_groups"] | ONLINE_BIT["plaza_boards"])


def yearly_memberships(pop: Population, scn: Scenario, rng: np.random.Generator, levels: dict[str, float],
                       ties: Ties | TieBatch, year: int, skip: np.ndarray | None = None) -> np.ndarray:
    """Apply a year of joining and leaving to living residents 18+ (see the module docstring).

    Args:
        pop: The population (changed in place).
        scn: The scenario.
        rng: The ``communities`` stream of this year.
        levels: The membership levels fitted at synthesis; ``levels["offline"]`` (one per age group)
            follows the trend.
        ties: The network: new members are tied to co-members of the kinds they joined (or a
            :class:`~kyojosim.core.network.TieBatch` of it, which records the new ties for its caller to merge).
        year: The model year that ends (the trend applies to the year that begins).
        skip: Slots whose memberships were just drawn (in-migrants, those coming of age).

    Returns:
        The slots that joined a real-world community.
    """
    c = scn.communities
    begins = year + 1
    calendar = path_year(scn, begins) if scn.ict.national_path_start is not None else begins
    if c.trend_end_year is None or calendar <= c.trend_end_year:
        levels["offline"] = np.asarray(levels["offline"], dtype=np.float64) * (1.0 + c.offline_trend)
    from .community_kernel import adult_scan, online_turnover

    keep = np.ones(pop.n, dtype=bool)
    if skip is not None and skip.size:
        keep[skip] = False
    # the living residents 18+ not skipped and their age groups, the eligibility inputs and the scan of the
    # turnover, each resident's raw weights read once
    offline = np.asarray(levels["offline"], dtype=np.float64)
    rule, older = eligibility_rules(scn)
    slots, level_of, school, scale, members, bound = adult_scan(
        pop.groups, pop.alive[: pop.n], keep, pop.age, pop.role, pop.household, pop.employed, int(pop.n_households),
        int(ROLE_CHILD), rule, older, ADULT_AGE, len(OFFLINE_AGE_GROUPS), offline, _rates(scn), float(c.turnover),
        MAX_SHARE)
    if slots.size == 0:
        return slots
    rows, join, chapters = _turnover(pop, scn, slots, offline, rng, level_of,
                                     scanned=(school, scale, rule, older, members, bound))
    # only the rows of residents who join something change (the same as passing every row); new members are
    # tied to co-members of the kinds they joined (the chapters read in the pass of the leaving), with one merge
    # into the tie list for all kinds (or none here, given the caller's batch)
    batch = ties if isinstance(ties, TieBatch) else TieBatch(ties)
    join_and_tie(pop, slots[rows], join, scn, rng, batch, chapters=chapters)
    if batch is not ties:
        batch.flush()
    # online communities: joining follows social-media use, leaving a constant rate
    v = rng.random(slots.size)
    newcomers = online_turnover(pop.online, pop.sns, slots, v, float(c.online_exit_rate), float(c.online_join_rate),
                                FEED_AND_PLAZA)
    set_online(pop, newcomers, np.ones(newcomers.size, dtype=bool), scn, rng, local_share=0.0)
    return slots[rows]


def turnover(pop: Population, scn: Scenario, slots: np.ndarray, levels: np.ndarray, rng: np.random.Generator,
             level_of: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Apply a year of leaving to the memberships of ``slots`` (in place) and return who joins which kind.

    With ``p = min(level × w × membership_rate, MAX_SHARE)`` per (resident, kind) (``w`` the
    eligibility weight, ``level`` that of the resident's age group in ``levels``,
    :func:`kyojosim.core.communities.offline_level`): a member leaves if ``p = 0`` or with
    probability ``turnover``; a non-member with ``p > 0`` joins with probability ``turnover × p / (1 − p)``.
    Only the pairs that may change are drawn: the members who leave as independent Bernoulli draws over
    the memberships (geometric gaps, :func:`kyojosim.core.streams.bernoulli_positions`), and the joiners
    of each kind by thinning: candidates drawn with the kind's largest chance of joining (Bernoulli per
    resident, geometric gaps), each kept with its own chance divided by that largest one.

    Args:
        pop: The population (``groups`` changed in place).
        scn: The scenario.
        slots: The residents (ascending slots).
        levels: The level of real-world membership of each age group.
        rng: The stream.
        level_of: The age group of each of ``slots`` if known (else from their ages).

    Returns:
        ``(rows, join)``: the rows of ``slots`` (ascending) of the residents who join some kind, and
        which kinds each joins (bool, ``rows`` x kinds); nobody else joins anything.
    """
    return _turnover(pop, scn, slots, levels, rng, level_of)[:2]


def _rates(scn: Scenario) -> np.ndarray:
    """Return the membership rate of each real-world kind (``communities.membership_rate``, float64)."""
    return np.array([scn.communities.membership_rate[k] for k in OFFLINE_COMMUNITIES], dtype=np.float64)


def _turnover(pop: Population, scn: Scenario, slots: np.ndarray, levels: np.ndarray, rng: np.random.Generator,
              level_of: np.ndarray | None, scanned: tuple | None = None) -> tuple[np.ndarray, np.ndarray, Chapters]:
    """Do :func:`turnover`; also return the chapters of the local kinds after the leaving (read in the same pass).

    ``scanned``, when given, is ``(school, scale, rule, older, members, bound)`` of these slots and levels
    (:func:`kyojosim.core.community_kernel.adult_scan`): the eligibility inputs and the scan are not made again.
    """
    from .community_kernel import turnover_apply, turnover_scan

    c = scn.communities
    rates = _rates(scn)
    slots = np.asarray(slots, dtype=np.int64)
    level_of = offline_age_group(pop.age[slots]) if level_of is None else level_of
    if scanned is None:
        school, scale, rule, older = eligibility_inputs(pop, scn)
    else:
        school, scale, rule, older, members, bound = scanned
    cols = (level_of, np.asarray(levels, dtype=np.float64), pop.age, pop.role, pop.household, pop.employed, school,
            scale, int(ROLE_CHILD), rule, older)
    if scanned is None:
        members, bound = turnover_scan(pop.groups, slots, *cols, rates, float(c.turnover), MAX_SHARE)
    leave = bernoulli_positions(int(members), float(c.turnover), rng)
    candidates = [bernoulli_positions(slots.size, float(b), rng) for b in bound]
    start = np.r_[0, np.cumsum([x.size for x in candidates])].astype(np.int64)
    candidate = np.concatenate(candidates).astype(np.int64)
    u = rng.random(candidate.size)
    local = np.array(LOCAL_KIND_INDEX, dtype=np.int64)
    n_ids = int(pop.groups.max()) + 1 if pop.n else 0  # every id held before the leaving is below it
    rows, join, chapter_start, chapter_list, chapter_ids, unique, top = turnover_apply(
        pop.groups, slots, *cols, rates, float(c.turnover), MAX_SHARE, leave, start, candidate, u, bound,
        pop.alive[: pop.n], pop.district, local, n_ids)
    return rows, join, Chapters(local, chapter_start, chapter_list, chapter_ids, int(top) + 1, bool(unique))
