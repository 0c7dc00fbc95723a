"""Everyday troubles (needs): who develops which, how big, how long it can wait.

Each week a resident develops a need of category ``c`` with probability
``min(1, b[c] * m[i, c] / mean_c(m))``, where ``m`` multiplies the base by the resident's
circumstances (frailty, age 75+, no car, living alone, a frail family member, a child under 12 at
home; see :func:`circumstance_multipliers`) and ``mean_c(m)`` is its mean over residents aged
20-79. The base rate ``b[c]`` is solved (:func:`base_rates`) so that the share of residents aged
20-79 who met the trouble within ``needs.recall_weeks`` weeks, ``mean(1 - (1 - p) ** recall)``,
is ``needs.prevalence[c]``: the share of the survey's respondents who want someone to turn to for
it (図表4-3-4-2, n / 1,200), whatever the municipality's make-up, while who has the troubles
follows circumstances. (A number in ``needs.weekly_rate`` instead fixes the mean weekly
probability of all categories together, split in proportion to the prevalences.) A need has a
size in hours (gamma of shape ``hours_shape`` and mean ``hours[c]``, at least ``min_hours``), an
urgency (uniform in [0, 1]; assumption) and a deadline: unmet for ``patience_weeks[c]`` weeks, it
lapses.

Open needs live in a :class:`NeedBook` (columns, one row per open need).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..constants import CAT, CATEGORIES, ROLE_CHILD
from ..core.population import Population
from ..params.scenario import Scenario

N_CAT = len(CATEGORIES)


def circumstance_multipliers(pop: Population, scn: Scenario) -> np.ndarray:
    """Return ``m`` (n x 8): how each resident's circumstances multiply the base rate of each category.

    Rules (the multipliers are scenario parameters under ``needs``): frail residents x ``frail``
    in every category except childcare; residents 75+ x ``old`` for chores, mobility, shopping,
    information and sick care; no car (adults 18+) x ``no_car`` for mobility and shopping; living
    alone x ``alone`` for sick care and consultation; family care only with a frail member in the
    household other than oneself (x ``family_care``, otherwise x ``family_care_without_frail``);
    childcare only for adults with a child under 12 in the household (x ``childcare``, otherwise 0);
    children under 15 have no needs of their own (their parents' troubles stand for them).
    """
    from .needs_kernel import circumstances, multipliers

    n = pop.n
    age = pop.age.astype(np.int64)
    frail = pop.frail
    live = pop.alive[:n]
    no_car, alone, other_frail, parent = circumstances(pop.age, frail, pop.drives, live, pop.household, pop.role,
                                                       int(pop.n_households), int(ROLE_CHILD))

    # one compiled pass: each entry 1, times the factors of the rules above in their order
    return multipliers(age, np.ascontiguousarray(frail), no_car, alone, other_frail, parent, np.ascontiguousarray(live),
                       *_rule_arguments(scn))


def _rule_arguments(scn: Scenario) -> tuple:
    """Return the categories and factors of the rules of :func:`circumstance_multipliers` for its compiled pass."""
    nd = scn.needs

    def cats(*names: str) -> np.ndarray:
        return np.isin(np.arange(N_CAT), [CAT[c] for c in names])

    return (cats("chores", "mobility", "shopping", "information", "sick_care"), cats("mobility", "shopping"),
            cats("sick_care", "consultation"), CAT["family_care"], CAT["childcare"],
            float(nd.frail_multiplier), float(nd.old_multiplier), float(nd.no_car_multiplier),
            float(nd.alone_multiplier), float(nd.family_care_multiplier),
            float(nd.family_care_without_frail), float(nd.childcare_multiplier))


def circumstance_codes(pop: Population, scn: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(code, table)``: each slot's circumstances as a byte, and the multipliers of every code.

    ``table[code]`` is :func:`circumstance_multipliers` to the bit (the same products), without a row
    of 8 numbers per resident.
    """
    from .needs_kernel import circumstance_codes as codes
    from .needs_kernel import circumstances, code_rows, coded_circumstances, multipliers

    live = np.ascontiguousarray(pop.alive[: pop.n])
    columns = (pop.age, pop.frail, pop.drives, live, pop.household, pop.role, int(pop.n_households), int(ROLE_CHILD))
    code, ok = coded_circumstances(*columns)  # the households' counts in one word each
    if not ok:  # a household too large for the word: the counts apart
        no_car, alone, other_frail, parent = circumstances(*columns)
        code = codes(pop.age, pop.frail, no_car, alone, other_frail, parent, live)
    return code, multipliers(*code_rows(), *_rule_arguments(scn))


def survey_frame(pop: Population) -> np.ndarray:
    """Return a mask of the living residents aged 20-79 (the survey's frame; over them the rates are set)."""
    age = pop.age
    return pop.alive[: pop.n] & (age >= 20) & (age <= 79)


def base_rates(x: np.ndarray, prevalence: np.ndarray, recall: int, iterations: int = 60) -> np.ndarray:
    """Solve the weekly base rate of each category that gives its prevalence at the recall.

    For category ``c`` find ``b >= 0`` with ``mean_i(1 - (1 - min(1, b x[i, c])) ** recall) = prevalence[c]``
    (bisection; the left side grows with ``b``). Residents are grouped by their distinct relative
    multipliers, so the cost does not grow with the population.

    Args:
        x: Relative multipliers of the frame's residents (n x 8; each column has mean 1, or is all 0).
        prevalence: Target share per category.
        recall: Weeks of the recall.
        iterations: Bisection steps (60 halve the bracket to double precision).

    Returns:
        ``b`` per category (0 where the target is 0 or nobody can have the trouble; the rate at which
        everyone who can has it when the target cannot be reached).
    """
    out = np.zeros(x.shape[1])
    if x.shape[0] == 0:
        return out
    for c in range(x.shape[1]):
        values, counts = np.unique(x[:, c], return_counts=True)
        out[c] = _base_rate(values, counts, x.shape[0], prevalence[c], recall, iterations)
    return out


def _base_rate(values: np.ndarray, counts: np.ndarray, total: int, prevalence: float, recall: int,
               iterations: int) -> float:
    """Solve one category's base rate from the distinct multipliers (ascending) and their counts (see base_rates)."""
    weight = counts / total
    pos = values > 0
    if prevalence <= 0 or not pos.any():
        return 0.0

    def share(b: float, values=values[pos], weight=weight[pos]) -> float:
        return float(weight @ (1.0 - (1.0 - np.minimum(b * values, 1.0)) ** recall))

    hi = 1.0 / values[pos].min()  # every resident who can has a need every week
    if share(hi) <= prevalence:
        return hi
    lo = 0.0
    for _ in range(iterations):
        mid = (lo + hi) / 2
        if share(mid) < prevalence:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def weekly_need_probability(pop: Population, scn: Scenario) -> np.ndarray:
    """Return the weekly probability (n x 8, float32) that each resident develops a need of each category."""
    code, per_code = weekly_need_codes(pop, scn)
    return per_code[code]


def weekly_need_codes(pop: Population, scn: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(code, per_code)``: :func:`weekly_need_probability` is ``per_code[code]``.

    ``code`` is each resident's circumstance code (:func:`circumstance_codes`) and ``per_code`` (codes x
    8, float32) each code's weekly probabilities: the same values, to the bit, as from the matrix of
    :func:`circumstance_multipliers` (the frame's mean adds the rows in order; each distinct relative
    multiplier is counted over the codes; each code's probabilities are computed once).
    """
    from .needs_kernel import frame_mean_coded, probabilities

    nd = scn.needs
    code, table = circumstance_codes(pop, scn)
    frame = survey_frame(pop)
    total = int(frame.sum())
    if total:
        mean, tally = frame_mean_coded(code, table, frame)  # m[frame].mean(axis=0), the rows added in order
    else:
        mean, tally = np.ones(N_CAT), np.zeros(table.shape[0], dtype=np.int64)
    mean[mean == 0] = 1.0
    prevalence = np.array([nd.prevalence[c] for c in CATEGORIES])
    if nd.weekly_rate is None:
        # base_rates((m / mean)[frame], ...): each column's distinct values, counted over the codes in the frame
        b = np.zeros(N_CAT)
        seen = tally > 0
        for c in range(N_CAT if total else 0):
            v, inverse = np.unique(table[seen, c] / mean[c], return_inverse=True)
            k = np.zeros(v.size, dtype=np.int64)
            np.add.at(k, inverse.ravel(), tally[seen])
            b[c] = _base_rate(v, k, total, prevalence[c], nd.recall_weeks, 60)
    else:
        b = nd.weekly_rate * prevalence / max(prevalence.sum(), 1e-12)
    return code, probabilities(table, np.asarray(mean, dtype=np.float64), np.asarray(b, dtype=np.float64))


class NeedProbability:
    """Each resident's weekly probability of a need of each category, kept as :func:`weekly_need_codes` gives it.

    A circumstance code per resident and the probabilities of each code: the matrix (residents x categories,
    float32) is ``per_code[code]``, made only when first asked for (:meth:`matrix`) and then kept, so that
    whoever reads it reads, and may write into, one matrix until the next yearly refresh.

    Args:
        code: Each slot's circumstance code.
        per_code: The weekly probabilities of each code (codes x categories, float32).
    """

    def __init__(self, code: np.ndarray, per_code: np.ndarray) -> None:
        self.code = code
        self.per_code = per_code
        self._matrix: np.ndarray | None = None

    def matrix(self) -> np.ndarray:
        """Return the probabilities (slots x categories, float32): ``per_code[code]``, made once."""
        if self._matrix is None:
            self._matrix = self.per_code[self.code]
        return self._matrix

    def any_positive(self, categories: np.ndarray) -> np.ndarray:
        """Return which slots have a positive probability in any of ``categories`` (a bool mask over categories).

        ``(matrix()[:, categories] > 0).any(axis=1)``: read from the matrix once it is made (it may have been
        written into), else from the codes (one row of a small table per slot).
        """
        categories = np.asarray(categories, dtype=bool)
        if self._matrix is not None:
            return (self._matrix[:, categories] > 0).any(axis=1)
        return (self.per_code[:, categories] > 0).any(axis=1)[self.code]


COLUMNS = ("requester", "category", "hours", "born", "deadline", "surfaced", "urgency")


@dataclass
class NeedBook:
    """The open needs, as columns (one row per need).

    Attributes:
        requester: ``unique_id`` of the resident in need (uids survive the yearly compaction).
        category: Index into CATEGORIES.
        hours: Hours of help the need takes.
        born: Step at which it arose.
        deadline: Last step at which it can still be met; after it, it lapses.
        surfaced: Bit mask of the channels through which helpers can hear of it (0: nobody knows).
        urgency: How pressing the need is, in [0, 1]; matching prefers urgent needs.
    """

    requester: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    category: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    hours: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    born: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    deadline: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    surfaced: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint8))
    urgency: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))

    def __len__(self) -> int:
        return int(self.requester.size)

    def append(self, **cols: np.ndarray) -> None:
        """Add needs (every column must be given; ``urgency`` defaults to 0)."""
        cols.setdefault("urgency", np.zeros(len(cols["requester"]), dtype=np.float32))
        for name in COLUMNS:
            old = getattr(self, name)
            setattr(self, name, np.concatenate([old, np.asarray(cols[name], dtype=old.dtype)]))

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the needs where ``mask`` is true."""
        mask = np.asarray(mask)
        if mask.dtype == np.bool_ and mask.shape == (len(self),):
            mask = np.flatnonzero(mask)  # the positions once: a gather by positions is faster than a selection
        for name in COLUMNS:
            setattr(self, name, getattr(self, name)[mask])


@dataclass
class NeedGroups:
    """Residents grouped by (category, weekly probability), rebuilt when the probabilities change.

    Probabilities are products of a few multipliers, so each category has only a handful of
    distinct values; drawing a binomial count per group and then that many distinct members is
    the same in distribution as one Bernoulli draw per resident, at a cost that grows with the
    number of needs rather than with the population.
    """

    category: np.ndarray
    prob: np.ndarray
    start: np.ndarray
    members: np.ndarray

    @classmethod
    def from_codes(cls, code: np.ndarray, per_code: np.ndarray) -> NeedGroups:
        """Group the residents by the probabilities of their codes (:func:`weekly_need_codes`); as :meth:`build`.

        ``per_code[code]`` is made only if a category has too many distinct probabilities.
        """
        from .needs_kernel import MAX_DISTINCT, group_codes

        category, value, start, members, ok = group_codes(code, per_code, MAX_DISTINCT)
        if ok:
            return cls(category, value, start, members)
        return cls.build(per_code[code])

    @classmethod
    def build(cls, prob: np.ndarray) -> NeedGroups:
        """Group the residents (rows of ``prob``) by their probability in each category."""
        from .needs_kernel import MAX_DISTINCT, group_all, group_by_value

        category, value, start, members, ok = group_all(prob, MAX_DISTINCT)
        if ok:  # every category has few distinct probabilities: one counting sort for all
            return cls(category, value, start, members)
        cats, probs, starts, members = [], [], [], []
        offset = 0
        for c in range(prob.shape[1]):
            col = np.ascontiguousarray(prob[:, c])
            # a counting sort over the column's few distinct values; a stable sort if there are many
            order, first, n_distinct = group_by_value(col, MAX_DISTINCT)
            if n_distinct < 0:
                idx = np.flatnonzero(col > 0)
                order = idx[np.argsort(col[idx], kind="stable")]
                values = col[order]
                first = np.flatnonzero(np.r_[True, values[1:] != values[:-1]]) if order.size else np.zeros(0, int)
            values = col[order]
            cats.append(np.full(first.size, c, dtype=np.int64))
            probs.append(values[first].astype(np.float64))
            starts.append(first + offset)
            members.append(order)
            offset += order.size
        start = np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)
        return cls(np.concatenate(cats), np.concatenate(probs), np.r_[start, offset].astype(np.int64),
                   np.concatenate(members).astype(np.int64))


def choose_each(rng: np.random.Generator, start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Return ``start[g] + rng.choice(start[g + 1] - start[g], count[g], replace=False)`` of every group, concatenated.

    The groups with ``count[g] > 0`` in order, one numpy call each: the reference of :func:`choose_in_groups`.
    """
    picked = [s + rng.choice(n, k, replace=False)
              for s, n, k in zip(start[:-1], np.diff(start), count, strict=True) if k]
    return np.concatenate(picked).astype(np.int64, copy=False) if picked else np.zeros(0, dtype=np.int64)


def choose_in_groups(rng: np.random.Generator, start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Return what :func:`choose_each` returns, drawn in one compiled pass with the same draws when numba allows.

    The compiled pass (:mod:`kyojosim.aid.choice_kernel`) reads numba's helpers for numpy's bounded integers;
    if a numba release no longer has them, the groups are drawn one numpy call at a time, with the same result.
    """
    try:
        from .choice_kernel import choose_in_groups as compiled_choice
    except ImportError:  # numba's helpers moved: the same draws, one call per group
        return choose_each(rng, start, count)
    return compiled_choice(rng, start, count)


def arise(pop: Population, scn: Scenario, groups: NeedGroups, step: int, rng: np.random.Generator) -> dict:
    """Draw this week's new needs (each resident and category an independent Bernoulli draw).

    Args:
        pop: The population.
        scn: The scenario.
        groups: The residents grouped by weekly probability (:class:`NeedGroups`).
        step: The current step.
        rng: The ``needs`` stream of this step.

    Returns:
        Columns of the new needs: ``slot``, ``category``, ``hours``, ``born``, ``deadline``,
        ``urgency`` (uniform in [0, 1): assumption, urgency is not surveyed).
    """
    size = np.diff(groups.start)
    count = rng.binomial(size, groups.prob)
    # in each group with k needs, k distinct members: rng.choice(size, k, replace=False), every group in one pass
    slot = groups.members[choose_in_groups(rng, groups.start, count)]
    cat = np.repeat(groups.category, count)
    mean_hours = np.array([scn.needs.hours[c] for c in CATEGORIES], dtype=np.float64)
    patience = np.array([scn.needs.patience_weeks[c] for c in CATEGORIES], dtype=np.int32)
    shape = scn.needs.hours_shape
    hours = rng.gamma(shape, mean_hours[cat] / shape).astype(np.float32)
    hours = np.maximum(hours, np.float32(scn.needs.min_hours))
    return {
        "slot": slot.astype(np.int64),
        "category": cat.astype(np.int8),
        "hours": hours,
        "born": np.full(slot.size, step, dtype=np.int32),
        "deadline": (step + patience[cat] - 1).astype(np.int32),
        "urgency": rng.random(slot.size, dtype=np.float32),
    }
