"""つながり力 (connection power): the white paper's index of social capital, by its three steps.

The 2009 and 2018 white papers compute it as follows (平成21年版 情報通信白書 第1部第3章第3節, and the 2018
付注: "①利用者のコミュニティ意識の把握、②各コミュニティの「まとまりの強さ」の計測、③利用者の「つながり力」の計測");
the model keeps to the same three steps (docs/ODD.md §7.17a):

1. **Community consciousness** of each resident, offline and online: the first principal component
   of the answers on trust and the norm of reciprocity, separately for offline and online relations
   (2018 付注: 主成分分析 of the 信頼 and 互酬性の規範 items, 第1主成分の因子得点). The model's items are
   ``(trust_offline, reciprocity)`` offline and ``(trust_online, reciprocity)`` online; the items of
   one resident are driven by one disposition (:func:`kyojosim.core.trust.initial_trust`), so they
   correlate as survey items do. Each item is standardised (z-score, population standard deviation)
   over the living residents aged 20+ (the survey frame); the component is the leading eigenvector
   of their correlation matrix, oriented so that its loadings sum to a positive number (positive
   answers mean stronger consciousness; with positively correlated items every loading is
   positive); the score is the factor score, the projection divided by the square root of the
   eigenvalue (mean 0, standard deviation 1 over the frame). Its explained variance is the
   eigenvalue over the number of items (:func:`principal_component`). An item with zero variance is
   left out; if the top eigenvalue is tied the loadings are equal; with no item left every score is 0.
   Residents outside the frame (under 20) are scored with the frame's means, deviations and loadings.
2. **Tie strength** (紐帯の強さ) of each community: the mean of its living members' (standardised)
   consciousness: offline consciousness for each chapter of the ten real-world kinds, online
   consciousness for each online kind within a district. A community of members more conscious than
   the frame's average is strong (above 0), one of members less conscious is weak (below 0); there is
   no constant per community. The 2018 付注 says the means were then "基準化" (standardised); the model
   reads that as the standardisation of the scores they average and keeps the means on the scale of
   the scores. ``standardise=True`` (in :func:`community_strengths`, :func:`tsunagari` and
   :func:`index_report`) standardises the means as well (z-score over the communities that have
   members, separately over the real-world and the online ones, the 付注's 図表2 and 3; a set of fewer
   than two communities, or whose means do not vary, has strength 0): the literal reading, reported
   beside the default by the 2008 → 2017 experiment.
3. **つながり力** of each resident: the sum of the tie strengths of the communities they take part in,
   plus one constant for everyone, the smallest sum in the frame with its sign changed, so that no
   value is negative ("わかりやすさを考慮し、「つながり力」の全ての値が正になるよう、各利用者のつながり力に…"
   adds one constant to every respondent; the rest of the sentence is not at hand, so the model takes
   the minimum). A resident in no community has the constant alone. The constant changes no ordering
   and no correlation. Computed so (:func:`tsunagari`, :func:`index_report`: the simulated survey and
   the validation), levels are comparable within one record (a survey), not between records or runs.

Taking part in one more community raises つながり力 only if that community's members are more
conscious than the frame's average (with ``standardise=True``: than the average community); the index
is therefore not a count of memberships, though it grows with them where participation makes members
more trusting (docs/ODD.md §7.16). :func:`index_report` gives, for one population, the principal components, the
mean つながり力 of each participation group, whether 図表4-3-5-4's ordering (both > offline only, both >
online only) holds, and the correlation of the index with the number of communities.

:func:`summary_rows` gives the mean and quantiles of つながり力 of the living residents aged 20+,
overall and by participation group, age group and district, as long-form rows; the model records
them at the start, in the week each calendar month ends and at the end of a run
(:meth:`kyojosim.model.KyojoModel.step`), and a run saves them as the table ``tsunagari``. The
record is kept on **one fixed scale for the whole run**, that of its first record (:func:`fixed_scale`:
the items' means, deviations and loadings and the constant of the initial population), so that its
level compares between months and between variants that start from the same population; the first
record is the within-record index itself. Residents of the same participation group and communities
have the same index: the record computes each community's strength in one compiled pass over the
memberships, then the index of each such class, and walks the classes in the order of their values, so
that each group's mean adds its sorted values and its quantiles are read off them
(:mod:`kyojosim.measures.tsunagari_kernel`).
"""

from __future__ import annotations

from dataclasses import dataclass
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
OFFLINE_ITEMS: tuple[str, ...] = ("trust_offline", "reciprocity")
"""The columns answering the offline consciousness items."""
ONLINE_ITEMS: tuple[str, ...] = ("trust_online", "reciprocity")
"""The columns answering the online consciousness items."""


def _frame(pop: Population) -> np.ndarray:
    live = pop.live()
    return live[pop.age[live] >= FRAME_MIN_AGE]


@dataclass(frozen=True)
class Component:
    """The first principal component of a set of items over the frame.

    Attributes:
        scores: The factor score of every row (mean 0, standard deviation 1 over the frame).
        loadings: The component's loading on each item (0 for an item left out for want of variance).
        explained: The share of the items' total variance it explains (its eigenvalue over the number of
            items with variance; 0 with none).
        mean: The items' means over the frame (0 where left out).
        sd: The items' (population) standard deviations over the frame.
        eigenvalue: The component's eigenvalue (0 with no item left).
    """

    scores: np.ndarray
    loadings: np.ndarray
    explained: float
    mean: np.ndarray | None = None
    sd: np.ndarray | None = None
    eigenvalue: float = 0.0

    def weights(self) -> np.ndarray:
        """Return the weight of each item in the score: ``loading / sd / sqrt(eigenvalue)`` (0 where left out)."""
        k = self.loadings.size
        if self.mean is None or self.sd is None or self.eigenvalue <= 1e-12:
            return np.zeros(k)
        ok = self.sd > 1e-12
        out = np.zeros(k)
        out[ok] = self.loadings[ok] / self.sd[ok] / np.sqrt(self.eigenvalue)
        return out


def principal_component(items: np.ndarray, frame: np.ndarray) -> Component:
    """Return the first principal component of the ``frame`` rows of ``items`` (n, k), scoring every row.

    Items are standardised with the frame's means and (population) standard deviations; items with
    zero variance are left out (loading 0). The component is oriented so that its loadings sum to a
    positive number; the score is the projection divided by the square root of the eigenvalue.
    """
    items = np.asarray(items, dtype=np.float64)
    k = items.shape[1]
    none = Component(np.zeros(items.shape[0]), np.zeros(k), 0.0)
    if frame.size == 0:
        return none
    f = items[frame]
    mean = f.mean(axis=0)
    sd = f.std(axis=0)
    ok = sd > 1e-12
    if not ok.any():
        return none
    z = (items[:, ok] - mean[ok]) / sd[ok]
    zf = z[frame]
    corr = (zf.T @ zf) / zf.shape[0]  # correlation matrix of the standardised items
    vals, vecs = np.linalg.eigh(corr)
    top = float(vals[-1])
    if vals.size > 1 and np.isclose(vals[-1], vals[-2]):
        v = np.full(vals.size, 1.0 / np.sqrt(vals.size))  # no single top component: equal loadings
    else:
        v = vecs[:, -1]
    if v.sum() < 0 or (np.isclose(v.sum(), 0.0) and v[0] < 0):
        v = -v
    loadings = np.zeros(k)
    loadings[ok] = v
    return Component((z @ v) / np.sqrt(top) if top > 1e-12 else np.zeros(items.shape[0]), loadings,
                     top / int(ok.sum()), np.where(ok, mean, 0.0), sd, top)


def pc_scores(items: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """Return the factor scores of every row of ``items`` on the first principal component of the frame."""
    return principal_component(items, frame).scores


def components(pop: Population) -> tuple[Component, Component]:
    """Return the offline and online principal components of the population's consciousness items."""
    frame = _frame(pop)
    offline = principal_component(np.column_stack([getattr(pop, c) for c in OFFLINE_ITEMS]), frame)
    online = principal_component(np.column_stack([getattr(pop, c) for c in ONLINE_ITEMS]), frame)
    return offline, online


def consciousness(pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """Return the offline and online community consciousness of every slot (0 for dead slots)."""
    offline, online = (c.scores.copy() for c in components(pop))
    dead = ~pop.alive[: pop.n]
    offline[dead] = 0.0
    online[dead] = 0.0
    return offline, online


def _n_districts(pop: Population) -> int:
    return int(pop.district.max()) + 1 if pop.n else 0


def _memberships(pop: Population) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Return (slot, community, is_online) of every living membership, with the index sizes.

    Offline communities are numbered ``kind * (G + 1) + group`` (G the largest group id), online
    ones ``n_offline + kind * D + district`` (D the number of districts). One compiled pass
    (:func:`kyojosim.measures.tsunagari_kernel.memberships`), in the order of ``np.nonzero`` over the
    (slot, kind) tables: real-world memberships slot by slot, then online ones.
    """
    from .tsunagari_kernel import memberships

    live = pop.alive[: pop.n]
    groups = pop.groups
    g1 = int(groups.max()) + 1 if groups.size else 0
    n_offline = len(OFFLINE_COMMUNITIES) * max(g1, 1)
    d = _n_districts(pop)
    bits = np.array([ONLINE_BIT[name] for name in ONLINE_COMMUNITIES], dtype=np.uint8)
    slot, comm, online = memberships(np.ascontiguousarray(groups), np.ascontiguousarray(pop.online),
                                     np.ascontiguousarray(live), np.ascontiguousarray(pop.district), bits,
                                     int(n_offline), int(d))
    n_comm = n_offline + len(ONLINE_COMMUNITIES) * d
    return slot, comm, online, np.array([g1, d]), n_offline, n_comm


def _strengths(mean: np.ndarray, online: np.ndarray, standardise: bool = False) -> np.ndarray:
    """Return the tie strengths from the community means.

    The means themselves, or (``standardise``) their z-scores separately over the real-world (``~online``)
    and the online communities.
    """
    if not standardise:
        return np.asarray(mean, dtype=np.float64).copy()
    out = np.zeros(mean.size)
    for part in (~online, online):
        out[part] = _zscore(mean[part])
    return out


def community_strengths(pop: Population, standardise: bool = False) -> dict[str, Any]:
    """Return the tie strength (紐帯の強さ) of every community with at least one living member.

    Args:
        pop: The population.
        standardise: Standardise the means over the communities (the literal reading of the 付注).

    Returns:
        A dict of arrays, one entry per community: ``kind`` (name), ``online`` (bool), ``group``
        (group id for real-world kinds, district for online kinds), ``members``, ``mean``
        (mean consciousness of the members) and ``strength`` (``mean``, or with ``standardise`` its
        z-score over the real-world communities, or over the online ones).
    """
    off, on = consciousness(pop)
    slot, comm, is_on, (g1, d), n_offline, n_comm = _memberships(pop)
    score = np.where(is_on, on[slot], off[slot])
    members = np.bincount(comm, minlength=n_comm)
    total = np.bincount(comm, weights=score, minlength=n_comm)
    idx = np.flatnonzero(members > 0)
    mean = total[idx] / members[idx]
    online = idx >= n_offline
    strength = _strengths(mean, online, standardise)
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


def raw_sums(pop: Population, memberships: tuple | None = None, standardise: bool = False) -> np.ndarray:
    """Return each slot's sum of the tie strengths of its communities (0 in none or dead), before the shift."""
    off, on = consciousness(pop)
    slot, comm, is_on, _, n_offline, n_comm = memberships if memberships is not None else _memberships(pop)
    score = np.where(is_on, on[slot], off[slot])
    members = np.bincount(comm, minlength=n_comm)
    total = np.bincount(comm, weights=score, minlength=n_comm)
    has = np.flatnonzero(members > 0)
    strength = np.zeros(n_comm)
    strength[has] = _strengths(total[has] / members[has], has >= n_offline, standardise)
    return np.bincount(slot, weights=strength[comm], minlength=pop.n).astype(np.float64)


def tsunagari(pop: Population, memberships: tuple | None = None, standardise: bool = False) -> np.ndarray:
    """Return the つながり力 of every slot: the sum of its communities' tie strengths plus the global constant.

    The constant is the smallest sum over the frame (living residents 20+) with its sign changed, added
    to every living slot (dead slots are 0).

    Args:
        pop: The population.
        memberships: The result of ``_memberships(pop)`` if already at hand (memberships change only at
            the turn of the year, trust and reciprocity every week).
        standardise: Standardise the community means over the communities (the literal reading of the 付注).
    """
    raw = raw_sums(pop, memberships, standardise)
    frame = _frame(pop)
    shift = -float(raw[frame].min()) if frame.size else 0.0
    out = raw + shift
    out[~pop.alive[: pop.n]] = 0.0
    return out


def membership_counts(pop: Population, memberships: tuple | None = None) -> np.ndarray:
    """Return the number of communities each slot takes part in (the terms of its つながり力)."""
    slot = (memberships if memberships is not None else _memberships(pop))[0]
    return np.bincount(slot, minlength=pop.n)


def index_report(pop: Population, standardise: bool = False) -> dict[str, Any]:
    """Return how つながり力 comes about in one population (the survey frame: living residents 20+).

    Args:
        pop: The population.
        standardise: Standardise the community means over the communities (the literal reading of the 付注).

    Returns:
        ``explained_offline`` and ``explained_online`` (share of the items' variance the first component
        explains), ``loadings_offline`` and ``loadings_online`` (tuples, in the order of OFFLINE_ITEMS and
        ONLINE_ITEMS), ``mean_<group>`` for each participation group (``nan`` if empty), ``holds``
        (図表4-3-5-4: both above offline only and above online only; False if a group is empty),
        ``corr_memberships`` (Pearson correlation of the index with the number of communities over the
        frame; ``nan`` if either does not vary) and ``n`` (residents of the frame).
    """
    frame = _frame(pop)
    offline, online = components(pop)
    memberships = _memberships(pop)
    value = tsunagari(pop, memberships, standardise)[frame]
    count = membership_counts(pop, memberships)[frame]
    group = participation_group(pop)[frame]
    out: dict[str, Any] = {
        "n": int(frame.size),
        "explained_offline": offline.explained, "explained_online": online.explained,
        "loadings_offline": tuple(float(x) for x in offline.loadings),
        "loadings_online": tuple(float(x) for x in online.loadings),
    }
    for i, g in enumerate(PARTICIPATION_GROUPS):
        x = value[group == i]
        out[f"mean_{g}"] = float(x.mean()) if x.size else float("nan")
    both, off, on = out["mean_both"], out["mean_offline_only"], out["mean_online_only"]
    out["holds"] = bool(both > off and both > on)  # False with a nan
    ok = value.size > 1 and value.std() > 1e-12 and count.std() > 0
    out["corr_memberships"] = float(np.corrcoef(value, count)[0, 1]) if ok else float("nan")
    return out


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
        self.frame = np.zeros(0, dtype=np.int64)
        self.labels = np.zeros((0, 3), dtype=np.int8)
        """One row per frame resident: its group in each grouping of :func:`summary_rows` after ``all``
        (participation, age group, district)."""
        self.dense: tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray] | None = None
        """The memberships as the monthly pass reads them: slots and communities, in the order of
        :func:`_memberships`, the communities numbered ``0..k-1`` in order of first appearance
        (real-world ones first), the number of
        real-world ones, every community's number of members (float64) and each membership's resident's place
        in ``frame`` (-1 outside it)."""
        self.scale: Scale | None = None
        """The fixed scale of the recorded index: the run's first record (:func:`fixed_scale`)."""
        self.classes: tuple[np.ndarray, ...] | None = None
        """The frame residents in classes of the same participation group and communities (one つながり力 each),
        as the monthly summary walks them: each class's participation group, the start of its communities and
        their list (in the order of the memberships), the start of its runs, and each run's number of residents,
        age group and district (:func:`_classes`)."""
        self.ordered = False
        """Whether the classes are numbered in the order of their values at a record of this year."""

    @property
    def participation(self) -> np.ndarray:
        """The participation group (index into PARTICIPATION_GROUPS) of each frame resident."""
        return self.labels[:, 0].astype(np.int64)

    @property
    def decade(self) -> np.ndarray:
        """The age group (index into DECADE_GROUPS, :func:`decade_group`) of each frame resident."""
        return self.labels[:, 1].astype(np.int64)

    @property
    def district(self) -> np.ndarray:
        """The district of each frame resident."""
        return self.labels[:, 2].astype(np.int64)

    def update(self, pop: Population, year: int) -> FrameGroups:
        """Recompute the groups if the year or the number of slots changed; return self.

        Two compiled passes over the slots (:func:`~kyojosim.measures.tsunagari_kernel.frame_counts` sizes the
        arrays, :func:`~kyojosim.measures.tsunagari_kernel.frame_memberships` fills them): the same frame,
        labels and memberships as :func:`_frame`, :func:`~kyojosim.core.communities.participation_group`,
        :func:`decade_group` and :func:`_memberships`, the communities
        numbered ``0..k-1`` in order of first appearance.
        """
        if self.key != (year, pop.n):
            from .tsunagari_kernel import frame_counts, frame_memberships

            groups = np.ascontiguousarray(pop.groups)
            online = np.ascontiguousarray(pop.online)
            alive = np.ascontiguousarray(pop.alive[: pop.n])
            age = np.ascontiguousarray(pop.age)
            district = np.ascontiguousarray(pop.district)
            bits = np.array([ONLINE_BIT[name] for name in ONLINE_COMMUNITIES], dtype=np.uint8)
            base, counts = frame_counts(groups, online, alive, age, district, bits, FRAME_MIN_AGE)
            d_max, n_off, n_on, n_frame, size = (int(x) for x in counts)
            n_districts = d_max + 1 if pop.n else 0
            code = np.array([PARTICIPATION_GROUPS.index(g)
                             for g in ("none", "online_only", "offline_only", "both")], dtype=np.int64)
            kind = _label_type([len(PARTICIPATION_GROUPS), len(DECADE_GROUPS), n_districts])
            small = np.int32 if max(pop.n, n_off + n_on) < 2**31 else np.int64
            slot = np.empty(n_off + n_on, dtype=small)
            comm = np.empty(n_off + n_on, dtype=small)
            at = np.empty(n_off + n_on, dtype=small)
            frame = np.empty(n_frame, dtype=np.int64)
            labels = np.empty((n_frame, 3), dtype=kind)
            k_off, count = frame_memberships(groups, online, alive, age, district, bits, FRAME_MIN_AGE,
                                             len(DECADE_GROUPS), code, base, size, n_districts, n_off, slot, comm,
                                             at, frame, labels)
            self.key = (year, pop.n)
            self.frame = frame
            self.labels = labels
            self.dense = (slot, comm, int(k_off), count, at)
            self.classes = _classes(comm, n_off, at, labels, n_districts)
            self.ordered = False
        return self


def _classes(comm: np.ndarray, n_off: int, at: np.ndarray, labels: np.ndarray, n_districts: int,
             hash_bits: int = 64) -> tuple[np.ndarray, ...]:
    """Return :attr:`FrameGroups.classes`: the frame residents grouped by participation group and communities.

    A compiled pass hashes each resident's participation group and list of communities into a sort key (with
    its age group and district below the hash and its place below those), numpy sorts the keys, a second pass
    splits the sorted residents into classes of one hash and runs of one age group and district, and a third
    checks, in the order of the memberships, that the residents of a class have the same group and list (else,
    when hashes collide, the classes are made again comparing lists in full). ``hash_bits`` (at most 64) keeps
    only so many bits of the hash (fewer make collisions; for tests).
    """
    from .tsunagari_kernel import class_keys, class_lists, exact_classes, hash_classes

    n_frame = labels.shape[0]
    span = n_districts + 1  # the label of age group and district: (age group + 1) * span + district + 1
    label_bits = int((len(DECADE_GROUPS) + 1) * span - 1).bit_length()
    index_bits = max(n_frame - 1, 0).bit_length()
    labels = np.ascontiguousarray(labels)
    keys, size = class_keys(comm, at, labels, span, label_bits, index_bits, hash_bits)
    keys.sort()
    cls, first, class_part, comm_start, run_start, run_count, run_label = hash_classes(
        keys, labels, size, label_bits, index_bits)
    class_comm, ok = class_lists(comm, at, cls, first, labels, class_part, size, comm_start)
    if not ok:
        class_part, comm_start, class_comm, run_start, run_count, run_label = exact_classes(
            keys, comm, at, int(n_off), labels, label_bits, index_bits)
    return (class_part, comm_start, class_comm, run_start, run_count, run_label // span - 1, run_label % span - 1)


@dataclass(frozen=True)
class Scale:
    """A fixed scale of つながり力: the items' means and weights and the constant of one population.

    Attributes:
        mean: (2, 2) the items' means over the frame, offline (row 0: OFFLINE_ITEMS) and online (row 1).
        weight: (2, 2) each item's weight in the consciousness score, ``loading / sd / sqrt(eigenvalue)``.
        shift: The constant added to every sum (the smallest sum of the frame with its sign changed).
    """

    mean: np.ndarray
    weight: np.ndarray
    shift: float


def fixed_scale(pop: Population, memberships: tuple | None = None) -> Scale:
    """Return the scale of ``pop``'s つながり力: the means, weights and constant of the within-record index.

    On this scale the population's index is its :func:`tsunagari` (up to rounding); applied to a later
    population, it scores the items against the first one's means, deviations and loadings and adds the
    first one's constant, so that the levels of different records (and of variants that share the
    first population) can be compared.
    """
    offline, online = components(pop)
    frame = _frame(pop)
    raw = raw_sums(pop, memberships)
    shift = -float(raw[frame].min()) if frame.size else 0.0
    mean = np.array([c.mean if c.mean is not None else np.zeros(2) for c in (offline, online)])
    return Scale(mean, np.array([offline.weights(), online.weights()]), shift)


def recorded_values(pop: Population, scale: Scale, fg: FrameGroups) -> np.ndarray:
    """Return the つながり力 of the frame residents (``fg.frame``) on the fixed ``scale`` (one compiled pass)."""
    from .tsunagari_kernel import index_values

    slot, comm, n_offline, count, at = fg.dense  # numbered densely: the same sums, in the same order, over small arrays
    items = [np.ascontiguousarray(getattr(pop, c), dtype=np.float32) for c in (*OFFLINE_ITEMS, *ONLINE_ITEMS)]
    return index_values(*items, scale.mean, scale.weight, slot, comm, n_offline, count, at, int(fg.frame.size),
                        float(scale.shift))


def group_statistics(values: np.ndarray, groups: list[tuple[np.ndarray, int]],
                     percent: tuple[int, ...] = QUANTILES) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Return ``(count, mean, quantiles)`` per group for each grouping ``(group of each value, number of groups)``.

    Each grouping puts the values of a group side by side (one compiled pass for all the groupings), sorts
    each group's values and reads the quantiles off them: those of ``np.percentile(values[group == g],
    percent)`` (the ``linear`` method), ``nan`` for an empty group; values of group -1 count in none.
    """
    if not groups:
        return []
    n = np.asarray(values).size
    labels = np.column_stack([np.asarray(g, dtype=np.int64).reshape(-1) for g, _ in groups]).reshape(n, len(groups))
    return _grouped_statistics(values, labels, [int(k) for _, k in groups], percent)


def _grouped_statistics(values: np.ndarray, labels: np.ndarray, sizes: list[int],
                        percent: tuple[int, ...] = QUANTILES) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """:func:`group_statistics` of the groupings in the columns of ``labels`` (one row per value), of ``sizes``."""
    from .tsunagari_kernel import group_places, scatter_places, segment_summary

    values = np.ascontiguousarray(values, dtype=np.float64)
    q = np.asarray(percent, dtype=np.float64) / 100
    place, start = group_places(np.ascontiguousarray(labels), np.asarray(sizes, dtype=np.int64), False)
    x = scatter_places(values, place, int(start[-1]), False)
    for g in range(start.size - 1):
        x[start[g]:start[g + 1]].sort()
    count, mean, quant = segment_summary(x, start, q)
    out, at = [], 0
    for k in sizes:
        out.append((count[at:at + k], mean[at:at + k], quant[at:at + k]))
        at += k
    return out


def _class_statistics(pop: Population, fg: FrameGroups, sizes: list[int],
                      percent: tuple[int, ...] = QUANTILES) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Return :func:`group_statistics` of the frame's values on ``fg.scale``: everyone, then the groupings of ``sizes``.

    The residents of one class (:attr:`FrameGroups.classes`) have one value: each community's strength is
    computed once (:func:`~kyojosim.measures.tsunagari_kernel.community_means`), each class's value once
    (:func:`~kyojosim.measures.tsunagari_kernel.class_values`), the classes are sorted by value (:func:`value_order`)
    and walked in that order (:func:`~kyojosim.measures.tsunagari_kernel.ordered_summary`): each group's values come
    sorted, as the segments :func:`_grouped_statistics` sorts, so the counts, means and quantiles are the same to the
    bit.
    """
    from .tsunagari_kernel import class_values, community_means, ordered_summary, reorder_classes

    slot, comm, n_offline, count, _ = fg.dense
    scale = fg.scale
    items = [np.ascontiguousarray(getattr(pop, c), dtype=np.float32) for c in (*OFFLINE_ITEMS, *ONLINE_ITEMS)]
    strength = community_means(*items, scale.mean, scale.weight, slot, comm, n_offline, count)
    values = class_values(strength, fg.classes[1], fg.classes[2], float(scale.shift))
    order = value_order(values)
    if not fg.ordered:  # number the classes in the order of this record's values: the next ones are near it
        fg.classes = reorder_classes(order, *fg.classes)
        fg.ordered = True
        values = values[order]
        order = np.arange(values.size)
    class_part, _, _, run_start, run_count, run_age, run_district = fg.classes
    q = np.asarray(percent, dtype=np.float64) / 100
    count, mean, quant = ordered_summary(values, order, class_part, run_start, run_count, run_age, run_district,
                                         *(int(k) for k in sizes), q)
    out, at = [], 0
    for k in [1, *sizes]:
        out.append((count[at:at + k], mean[at:at + k], quant[at:at + k]))
        at += k
    return out


def value_order(values: np.ndarray) -> np.ndarray:
    """Return an order that sorts ``values`` (float64) ascending, as ``np.argsort(values)`` (equal values in any order).

    The values' bits, made to sort as integers, with each value's index below them
    (:func:`~kyojosim.measures.tsunagari_kernel.value_keys`), sorted by numpy as integers (faster than an argsort of
    the floats), then read back (:func:`~kyojosim.measures.tsunagari_kernel.keyed_order`, which also orders values
    too close to be told apart by their keys); ``np.argsort`` where the values are not all finite or too many are
    that close.
    """
    from .tsunagari_kernel import keyed_order, value_keys

    values = np.ascontiguousarray(values, dtype=np.float64)
    keys, index_bits, shift, ok = value_keys(values)
    if ok:
        keys.sort()
        order, ok = keyed_order(keys, values, index_bits, shift)
        if ok:
            return order
    return np.argsort(values)


def _label_type(sizes: list[int]) -> type:
    """Return the smallest integer type that holds the group numbers ``-1 .. max(sizes) - 1``."""
    top = max(sizes, default=0)
    return np.int8 if top <= 127 else np.int16 if top <= 32767 else np.int32


def summary_rows(model: KyojoModel) -> list[dict[str, Any]]:
    """Return the summary of つながり力 over living residents aged 20+, as long-form rows, on the run's fixed scale.

    The index is recorded on the scale of the run's first record (:func:`fixed_scale`, kept in
    ``model.tsunagari_groups.scale``): the items are scored with the first record's means, deviations
    and loadings and the first record's constant is added, so a record's level compares with the other
    records of the run and with those of a variant that starts from the same population (the variants of
    an experiment share their first population by common random numbers). At the first record the values
    are the within-record index (:func:`tsunagari`); later ones may fall below 0.

    One row per group: ``group_type`` ``"all"`` (group ``"all"``), ``"participation"``
    (PARTICIPATION_GROUPS), ``"age_group"`` (DECADE_GROUPS) and ``"district"`` (district names);
    the columns of the ``tsunagari`` table (:data:`kyojosim.measures.outcomes.TABLES`): ``step``, ``year``,
    ``month`` (the calendar month the record closes, ``model.month``), ``n`` residents, ``mean`` and the
    quantiles (``nan`` for an empty group).
    """
    pop = model.population
    fg = model.tsunagari_groups.update(pop, model.year)
    if fg.scale is None:
        fg.scale = fixed_scale(pop)
    names = [d.name for d in model.scenario.municipality.districts]
    kinds = [("all", ["all"]), ("participation", list(PARTICIPATION_GROUPS)), ("age_group", list(DECADE_GROUPS)),
             ("district", [str(name) for name in names])]  # the columns of fg.labels
    stats = _class_statistics(pop, fg, [len(labels) for _, labels in kinds[1:]])
    rows = []
    head = {"step": int(model.steps), "year": int(model.year), "month": model.month}
    for (kind, labels), (count, mean, quant) in zip(kinds, stats, strict=True):
        for i, name in enumerate(labels):
            row: dict[str, Any] = {**head, "group_type": kind, "group": name, "n": int(count[i]),
                                   "mean": float(mean[i])}
            row.update({f"q{q}": float(val) for q, val in zip(QUANTILES, quant[i], strict=True)})
            rows.append(row)
    return rows


__all__ = ["DECADE_GROUPS", "OFFLINE_ITEMS", "ONLINE_ITEMS", "QUANTILES", "Component", "FrameGroups", "Scale",
           "community_strengths", "components", "consciousness", "fixed_scale", "group_statistics", "index_report",
           "membership_counts", "pc_scores", "principal_component", "raw_sums", "recorded_values", "summary_rows",
           "tsunagari", "value_order"]
