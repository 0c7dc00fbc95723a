"""Trust and the norm of reciprocity (互酬性の規範), and how help changes them.

Each resident has an offline trust, an online trust and a norm of reciprocity in [0, 1], and a
wish to ask (a factor on the rate of asking offline). After each week:

* being helped raises the requester's reciprocity by ``reciprocity_gain``, and helping raises the
  helper's by ``helper_reciprocity_gain``;
* help given raises the requester's trust (offline for face-to-face channels, online for the
  local SNS) by ``trust_gain`` and strengthens an existing tie between the two by
  ``tie_gain`` (capped at 1);
* a surfaced need that lapses lowers the requester's wish to ask by ``discouragement`` (a
  factor), and a match restores it a little (``encouragement``); every week the wish to ask
  recovers a little of what it lost (``ask_recovery`` a year: refusals are forgotten), so
  discouragement shapes who asks without wearing asking down year after year.

Once a year, taking part in communities shapes trust and reciprocity (:func:`yearly_participation`):
each drifts a share ``participation_pull`` of the way towards a level that rises with the number of
communities a resident takes part in. And each resident's willingness to help with each category
is re-formed with probability ``willingness_turnover`` (:func:`yearly_willingness`): free with a
chance that follows their reciprocity (being helped and helping raise it), only if paid or not at
all otherwise, so that the shares willing stay those of the survey (図表4-3-4-3) in expectation,
as the national volunteering rate stayed (社会生活基本調査 2001-2016), while reciprocity decides
who is willing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from ..constants import CATEGORIES, CH, WILL_FREE, WILL_NONE, WILL_PAID
from ..params.scenario import Scenario
from .communities import ONLINE_BIT
from .population import Population
from .streams import bernoulli_positions

if TYPE_CHECKING:
    from ..model import KyojoModel

ONLINE_CHANNEL_BITS = 1 << CH["local_sns"]


def initial_trust(pop: Population, scn: Scenario, slots: np.ndarray, rng: np.random.Generator,
                  by_participation: bool = False) -> None:
    """Draw offline and online trust and reciprocity for ``slots``: survey items of one disposition.

    Each resident has a latent disposition ``z`` (standard normal); each item is ``l z + sqrt(1 - l^2) e``
    with ``l`` = ``trust.item_loading`` and its own noise ``e`` (a one-factor model, as answers to trust and
    reciprocity items are), turned into a Beta draw of concentration ``trust.concentration`` by its
    quantile (a Gaussian copula), so that the items correlate positively (about ``l^2`` on the normal
    scale). The Beta mean is the item's survey mean (図表4-3-5-3 for offline trust). With
    ``by_participation`` (the initial population) it is instead the level the resident's participation
    sustains (:func:`participation_levels`, as if taking part had shaped trust before the start), shifted
    by one constant per item so that the mean over ``slots`` is still the survey's.
    """
    t = scn.trust
    year = scn.communities.participation_year
    mean_off = t.offline_trust_2017 if year == 2017 else t.offline_trust_2008
    k = t.concentration
    lam = t.item_loading
    z = rng.standard_normal(slots.size)
    e = rng.standard_normal((3, slots.size))
    x = lam * z + np.sqrt(1.0 - lam * lam) * e
    u = np.clip(special.ndtr(x), 1e-12, 1.0 - 1e-12)
    means = [np.full(slots.size, m) for m in (mean_off, t.online_trust, t.reciprocity)]
    if by_participation and slots.size:
        levels = participation_levels(pop, scn)
        means = [np.clip(level[slots] - level[slots].mean() + m[0], 0.02, 0.98) for level, m in
                 zip(levels, means, strict=True)]
    for col, mean, ui in zip((pop.trust_offline, pop.trust_online, pop.reciprocity), means, u, strict=True):
        col[slots] = special.betaincinv(mean * k, (1.0 - mean) * k, ui)
    pop.ask_factor[slots] = 1.0


def after_week(model: KyojoModel, requester: np.ndarray, helper: np.ndarray, channel: np.ndarray,
               lapsed_requester: np.ndarray) -> None:
    """Apply the week's effects of help given and help that never came.

    Args:
        model: The model.
        requester: Slots of requesters whose need was matched this week.
        helper: Slots of their helpers (same order).
        channel: Channel bit of each match.
        lapsed_requester: Slots of requesters whose surfaced need lapsed this week.
    """
    t = model.scenario.trust
    pop = model.population
    online = (channel & ONLINE_CHANNEL_BITS) != 0

    count = pop.distinct_slots  # the distinct slots and how often each occurs (work in the events, not the town)
    from .trust_kernel import add_capped, add_week_gains

    # each occurrence adds its gain (a resident helped twice gains twice), capped at 1:
    # col[who] = np.minimum(col[who] + np.float32(gain) * c, 1.0), in one compiled pass for the four of them
    requester = np.asarray(requester, dtype=np.int64)
    helper = np.asarray(helper, dtype=np.int64)
    same = requester.size == helper.size == online.size
    if not same or not add_week_gains(pop.reciprocity, pop.trust_online, pop.trust_offline, requester, helper, online,
                          pop.slot_marks(), np.float32(t.reciprocity_gain), np.float32(t.helper_reciprocity_gain),
                          np.float32(t.trust_gain)):  # not slots: numpy's indexing rules
        for col, slots, gain in ((pop.reciprocity, requester, t.reciprocity_gain),
                                 (pop.reciprocity, helper, t.helper_reciprocity_gain),
                                 (pop.trust_online, requester[online], t.trust_gain),
                                 (pop.trust_offline, requester[~online], t.trust_gain)):
            who, c = count(slots)
            if who.size and not 0 <= int(who.min()) <= int(who.max()) < col.size:
                col[who] = np.minimum(col[who] + np.float32(gain) * c, 1.0)
            else:
                add_capped(col, who, c, np.float32(gain))
    recover_asking(pop, model.scenario)
    ask = pop.ask_factor
    who, c = count(lapsed_requester)
    ask[who] *= np.float32(1.0 - t.discouragement) ** c
    who, c = count(requester)
    ask[who] = np.minimum(ask[who] * np.float32(1.0 + t.encouragement) ** c, 1.0)
    model.ties.strengthen(requester, helper, t.tie_gain)


def recover_asking(pop: Population, scn: Scenario, weeks: float = 1.0) -> None:
    """Let every living resident's wish to ask recover towards 1 for ``weeks`` weeks.

    The part lost, ``1 - ask_factor``, shrinks by the factor ``(1 - ask_recovery) ** (weeks / 52)``:
    a share ``trust.ask_recovery`` of it is regained in a year.
    """
    keep = np.float32((1.0 - scn.trust.ask_recovery) ** (weeks / 52.0))
    from .trust_kernel import recover

    # ask[live] = 1 - (1 - ask[live]) * keep in float32, in place, in one compiled pass
    recover(pop.ask_factor, pop.alive[: pop.n], keep)


def yearly_willingness(pop: Population, scn: Scenario, rng: np.random.Generator) -> int:
    """Re-form a share of the residents' willingness to help, shaped by reciprocity, at the survey's shares.

    Each living resident's willingness for each category is re-formed with probability
    ``trust.willingness_turnover``. A re-formed willingness is free with probability
    ``min(1, f[c] x r / mean(r))`` (``f`` = ``helping.free_share``, ``r`` the resident's reciprocity,
    its mean over the living), otherwise only if paid with probability ``q[c] / (1 - f[c])``
    (``q`` = ``helping.paid_share``), otherwise not at all; the ``platform_help`` bit of the
    category is drawn again for the new terms (``helping.platform_use_free`` / ``_paid``; cleared for
    none). The shares willing free and only if paid therefore stay ``f`` and ``q`` in expectation
    (no drift), while residents with a stronger norm of reciprocity are more often the free
    helpers. With ``f = q = 0`` nobody becomes willing.

    Returns:
        The number of (resident, category) pairs whose terms changed.
    """
    live = pop.live()
    if live.size == 0:
        return 0
    h = scn.helping
    free = np.array([h.free_share[c] for c in CATEGORIES])
    paid = np.array([h.paid_share[c] for c in CATEGORIES])
    use_free = np.array([h.platform_use_free[c] for c in CATEGORIES])
    use_paid = np.array([h.platform_use_paid[c] for c in CATEGORIES])
    from .trust_kernel import reform_selected

    # which (resident, category) pairs are re-formed: Bernoulli draws over the pairs, row by row, drawn as
    # the gaps between them (only the pairs re-formed cost anything); then two uniforms for each of those
    pairs = bernoulli_positions(live.size * len(CATEGORIES), scn.trust.willingness_turnover, rng)
    u = rng.random(pairs.size)
    v = rng.random(pairs.size)
    # the mean over the living (all slots after the year's compaction: read without a gather, the same values)
    recip = pop.reciprocity if live.size == pop.n else pop.reciprocity[live]
    mean_r = float(recip.astype(np.float64).mean())
    p_paid = np.divide(paid, 1.0 - free, out=np.zeros_like(paid), where=free < 1)
    rows = np.asarray(live, dtype=np.int64)
    changed = reform_selected(pop.will, pop.platform_help, rows, pairs, u, v, pop.reciprocity, mean_r, free, p_paid,
                              use_free, use_paid, WILL_FREE, WILL_PAID, WILL_NONE)
    return int(changed)


def participation_levels(pop: Population, scn: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the levels offline trust, online trust and reciprocity of every slot drift to.

    With ``k`` real-world communities, ``j`` online ones, ``e = participation_effect`` and
    ``c = participation_cap`` (4): offline trust drifts to ``m_off + e (min(k, c) - 1)``, online trust
    to ``m_on + e (min(j, c) - 1)`` and reciprocity to ``m_rec + e (min(k + j, c) - 1)``, each within
    [0.01, 0.99], where the ``m`` are the scenario's start means. Taking part in one community keeps
    the start mean; none lowers it.
    """
    t = scn.trust
    e = t.participation_effect
    k = (pop.groups >= 0).sum(axis=1)
    bits = np.array(list(ONLINE_BIT.values()), dtype=np.uint8)
    j = ((pop.online[:, None] & bits) != 0).sum(axis=1)
    mean_off = t.offline_trust_2017 if scn.communities.participation_year == 2017 else t.offline_trust_2008

    def level(mean: float, count: np.ndarray) -> np.ndarray:
        return np.clip(mean + e * (np.minimum(count, t.participation_cap) - 1), 0.01, 0.99)

    return level(mean_off, k), level(t.online_trust, j), level(t.reciprocity, k + j)


def yearly_participation(pop: Population, scn: Scenario) -> None:
    """Move every living resident's trust and reciprocity towards their participation levels (no draw)."""
    from .trust_kernel import participation_pull

    t = scn.trust
    mean_off = t.offline_trust_2017 if scn.communities.participation_year == 2017 else t.offline_trust_2008
    # the levels of participation_levels and the pull, in one pass over the residents
    participation_pull(pop.groups, pop.online, pop.alive[: pop.n], np.array(list(ONLINE_BIT.values()), dtype=np.uint8),
                       pop.trust_offline, pop.trust_online, pop.reciprocity,
                       np.array([mean_off, t.online_trust, t.reciprocity], dtype=np.float64),
                       float(t.participation_effect), float(t.participation_cap), np.float32(t.participation_pull))
