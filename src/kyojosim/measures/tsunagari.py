"""つながり力 (connection power): the white paper's index of social capital, in three steps.

The 2009 and 2018 white papers compute it as follows; the model keeps to the same three steps
(docs: /work/shared/DOMAIN.md, "つながり力").

1. **Community consciousness** of each resident, offline and online, from trust and norms of
   reciprocity. The 2009 paper scores trust and reciprocity items by principal component
   analysis. Mapping to the model's columns (the model's own choice, as the source leaves the
   scale open):

   - offline consciousness from the items ``(trust_offline, reciprocity)``,
   - online consciousness from the items ``(trust_online, reciprocity)``.

   Each item is standardised (z-score, population standard deviation) over the living residents
   aged 20+ (the survey frame); the score is the projection of the standardised items on the
   first principal component of their correlation matrix (``numpy.linalg.eigh``), its sign chosen
   so that higher trust gives a higher score. For two items the loadings are ±1/√2 each. An item
   with zero variance standardises to 0 and is left out of the component; if the top eigenvalue
   is tied (uncorrelated items) the loadings are equal, 1/√k each; with no item left, or nobody
   in the frame, every score is 0. Residents outside the frame (under 20) are scored with the
   frame's means, deviations and loadings.
2. **Tie strength** (紐帯) of each community: the mean consciousness of its living members,
   offline consciousness for the ten real-world kinds (one community per kind and group id in
   ``groups``), online consciousness for the online kinds (one community per online kind and
   district, from the ``online`` bit mask). Strengths are then standardised across all
   communities with at least one member as deviation scores (偏差値): ``T = 50 + 10 z``, with
   ``z`` the z-score of the mean (``T = 50`` for all if there are fewer than 2 such communities or
   their means do not vary; floored at 0, which needs a community 5 standard deviations below the
   others). The source says only "standardised"; the model's choice of deviation scores keeps every
   community's contribution positive, so that taking part in one more community never lowers
   つながり力, and an average community counts 50.
3. **つながり力** of each resident: the sum of the strengths of the communities they take part in
   (0 for people in none, and for dead or departed slots). A resident in two average communities
   has 100; the index grows with the number of communities and with how strong they are.

:func:`summary_rows` gives the mean and quantiles of つながり力 of the living residents aged 20+,
overall and by participation group, age group and district, as long-form rows; the model records
them at the start, in the week each calendar month ends and at the end of a run
(:meth:`kyojosim.model.KyojoModel.step`), and a run saves them as the table ``tsunagari``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..constants import OFFLINE_COMMUNITIES, ONLINE_COMMUNITIES, PARTICIPATION_GROUPS
from ..core.communities import ONLINE_BIT, participation_group
from ..core.population import Population

if TYPE_CHECKING:
    from ..model import KyojoModel

FRAME_MIN_AGE = 20
"""Residents aged this and over are the survey frame: items are standardised and summaries taken over them."""
DECADE_GROUPS: tuple[str, ...] = ("20s", "30s", "40s", "50s", "60s", "70s", "80+")
"""Age groups of :func:`summary_rows` (ten-year groups from 20, open from 80)."""
QUANTILES: tuple[int, ...] = (10, 25, 50, 75, 90)
"""Percentiles reported by :func:`summary_rows` (columns ``q10`` ... ``q90``)."""


def _frame(pop: Population) -> np.ndarray:
    live = pop.live()
    return live[pop.age[live] >= FRAME_MIN_AGE]


def pc_scores(items: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """Score every row of ``items`` (n, k) on the first principal component of the ``frame`` rows.

    Items are standardised with the frame's means and (population) standard deviations; items with
    zero variance are 0 and left out. The sign makes the loading of the first item non-negative.
    """
    items = np.asarray(items, dtype=np.float64)
    out = np.zeros(items.shape[0])
    if frame.size == 0:
        return out
    f = items[frame]
    mean = f.mean(axis=0)
    sd = f.std(axis=0)
    ok = sd > 1e-12
    if not ok.any():
        return out
    z = (items[:, ok] - mean[ok]) / sd[ok]
    zf = z[frame]
    corr = (zf.T @ zf) / zf.shape[0]  # correlation matrix of the standardised items
    vals, vecs = np.linalg.eigh(corr)
    if vals.size > 1 and np.isclose(vals[-1], vals[-2]):
        v = np.full(vals.size, 1.0 / np.sqrt(vals.size))  # no single top component: equal loadings
    else:
        v = vecs[:, -1]
    lead = v[0] if ok[0] else v[np.argmax(np.abs(v))]
    if lead < 0:
        v = -v
    return z @ v


def consciousness(pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """Return the offline and online community consciousness of every slot (0 for dead slots)."""
    frame = _frame(pop)
    rec = pop.reciprocity
    offline = pc_scores(np.column_stack([pop.trust_offline, rec]), frame)
    online = pc_scores(np.column_stack([pop.trust_online, rec]), frame)
    dead = ~pop.alive[: pop.n]
    offline[dead] = 0.0
    online[dead] = 0.0
    return offline, online


def _n_districts(pop: Population) -> int:
    return int(pop.district.max()) + 1 if pop.n else 0


def _memberships(pop: Population) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Return (slot, community, is_online) of every living membership, with the index sizes.

    Offline communities are numbered ``kind * (G + 1) + group`` (G the largest group id), online
    ones ``n_offline + kind * D + district`` (D the number of districts).
    """
    live = pop.alive[: pop.n]
    groups = pop.groups.astype(np.int64)
    g1 = int(groups.max()) + 1 if groups.size else 0
    n_offline = len(OFFLINE_COMMUNITIES) * max(g1, 1)
    s_off, k_off = np.nonzero((groups >= 0) & live[:, None])
    c_off = k_off * max(g1, 1) + groups[s_off, k_off]
    d = _n_districts(pop)
    bits = np.array([ONLINE_BIT[name] for name in ONLINE_COMMUNITIES], dtype=np.uint8)
    s_on, k_on = np.nonzero(((pop.online[:, None] & bits) > 0) & live[:, None])
    c_on = n_offline + k_on * d + pop.district[s_on].astype(np.int64)
    n_comm = n_offline + len(ONLINE_COMMUNITIES) * d
    slot = np.concatenate([s_off, s_on])
    comm = np.concatenate([c_off, c_on])
    online = np.concatenate([np.zeros(s_off.size, bool), np.ones(s_on.size, bool)])
    return slot, comm, online, np.array([g1, d]), n_offline, n_comm


def community_strengths(pop: Population) -> dict[str, Any]:
    """Return the tie strength (紐帯) of every community with at least one living member.

    Returns:
        A dict of arrays, one entry per community: ``kind`` (name), ``online`` (bool), ``group``
        (group id for real-world kinds, district for online kinds), ``members``, ``mean``
        (mean consciousness of the members) and ``strength`` (the deviation score of ``mean``
        across the communities).
    """
    off, on = consciousness(pop)
    slot, comm, is_on, (g1, d), n_offline, n_comm = _memberships(pop)
    score = np.where(is_on, on[slot], off[slot])
    members = np.bincount(comm, minlength=n_comm)
    total = np.bincount(comm, weights=score, minlength=n_comm)
    idx = np.flatnonzero(members > 0)
    mean = total[idx] / members[idx]
    strength = deviation_scores(mean)
    online = idx >= n_offline
    g1 = max(int(g1), 1)
    kind_off = idx // g1
    kind_on = (idx - n_offline) // max(int(d), 1)
    names = np.array(OFFLINE_COMMUNITIES + ONLINE_COMMUNITIES, dtype=object)
    kind = names[np.where(online, len(OFFLINE_COMMUNITIES) + kind_on, kind_off)]
    group = np.where(online, (idx - n_offline) % max(int(d), 1), idx % g1)
    return {"kind": kind, "online": online, "group": group.astype(np.int64), "members": members[idx],
            "mean": mean, "strength": strength}


def _zscore(x: np.ndarray) -> np.ndarray:
    if x.size < 2:
        return np.zeros(x.size)
    sd = x.std()
    if sd <= 1e-12:
        return np.zeros(x.size)
    return (x - x.mean()) / sd


def deviation_scores(x: np.ndarray) -> np.ndarray:
    """Return deviation scores (偏差値) ``50 + 10 z`` of ``x``, floored at 0 (all 50 if ``x`` does not vary)."""
    return np.maximum(50.0 + 10.0 * _zscore(x), 0.0)


def tsunagari(pop: Population, memberships: tuple | None = None) -> np.ndarray:
    """Return the つながり力 of every slot: the sum of the tie strengths of its communities (0 in none or dead).

    Args:
        pop: The population.
        memberships: The result of ``_memberships(pop)`` if already at hand (memberships change only at
            the turn of the year, trust and reciprocity every week).
    """
    off, on = consciousness(pop)
    slot, comm, is_on, _, _, n_comm = memberships if memberships is not None else _memberships(pop)
    score = np.where(is_on, on[slot], off[slot])
    members = np.bincount(comm, minlength=n_comm)
    total = np.bincount(comm, weights=score, minlength=n_comm)
    has = members > 0
    strength = np.zeros(n_comm)
    strength[has] = deviation_scores(total[has] / members[has])
    return np.bincount(slot, weights=strength[comm], minlength=pop.n).astype(np.float64)


def decade_group(age: np.ndarray) -> np.ndarray:
    """Return the index into DECADE_GROUPS of each age (-1 under 20)."""
    a = np.asarray(age, dtype=np.int64)
    return np.where(a < FRAME_MIN_AGE, -1, np.minimum((a - FRAME_MIN_AGE) // 10, len(DECADE_GROUPS) - 1))


class FrameGroups:
    """The survey frame's memberships and groups, kept from one summary to the next within a year.

    Memberships, participation groups, ages and districts change only at the turn of the year (and
    the number of slots with them), while trust and reciprocity change every week; the model owns
    one of these (``model.tsunagari_groups``) so that the monthly summary recomputes only what
    changed.
    """

    def __init__(self) -> None:
        self.key: tuple[int, int] | None = None
        """``(year, slots)`` of the population the groups were computed for."""
        self.memberships: tuple | None = None
        self.frame = np.zeros(0, dtype=np.int64)
        self.participation = np.zeros(0, dtype=np.int64)
        self.decade = np.zeros(0, dtype=np.int64)
        self.district = np.zeros(0, dtype=np.int64)

    def update(self, pop: Population, year: int) -> FrameGroups:
        """Recompute the groups if the year or the number of slots changed; return self."""
        if self.key != (year, pop.n):
            frame = _frame(pop)
            self.key = (year, pop.n)
            self.memberships = _memberships(pop)
            self.frame = frame
            self.participation = participation_group(pop)[frame]
            self.decade = decade_group(pop.age[frame])
            self.district = pop.district[frame].astype(np.int64)
        return self


def summary_rows(model: KyojoModel) -> list[dict[str, Any]]:
    """Return the summary of つながり力 over living residents aged 20+, as long-form rows.

    One row per group: ``group_type`` ``"all"`` (group ``"all"``), ``"participation"``
    (PARTICIPATION_GROUPS), ``"age_group"`` (DECADE_GROUPS) and ``"district"`` (district names);
    the columns of the ``tsunagari`` table (:data:`kyojosim.measures.outcomes.TABLES`): ``step``, ``year``,
    ``month`` (the calendar month the record closes, ``model.month``), ``n`` residents, ``mean`` and the
    quantiles (``nan`` for an empty group).
    """
    pop = model.population
    fg = model.tsunagari_groups.update(pop, model.year)
    part, ages, dist = fg.participation, fg.decade, fg.district
    v = tsunagari(pop, fg.memberships)[fg.frame]
    names = [d.name for d in model.scenario.municipality.districts]
    groups: list[tuple[str, str, np.ndarray]] = [("all", "all", np.ones(v.size, dtype=bool))]
    groups += [("participation", g, part == i) for i, g in enumerate(PARTICIPATION_GROUPS)]
    groups += [("age_group", name, ages == i) for i, name in enumerate(DECADE_GROUPS)]
    groups += [("district", str(name), dist == i) for i, name in enumerate(names)]
    rows = []
    for kind, name, mask in groups:
        x = v[mask]
        row: dict[str, Any] = {"step": int(model.steps), "year": int(model.year), "month": model.month,
                               "group_type": kind,
                               "group": name, "n": int(x.size), "mean": float(x.mean()) if x.size else np.nan}
        qs = np.percentile(x, QUANTILES) if x.size else np.full(len(QUANTILES), np.nan)
        row.update({f"q{q}": float(val) for q, val in zip(QUANTILES, qs, strict=True)})
        rows.append(row)
    return rows


__all__ = ["DECADE_GROUPS", "QUANTILES", "FrameGroups", "community_strengths", "consciousness", "pc_scores",
           "summary_rows", "tsunagari"]
