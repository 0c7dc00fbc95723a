"""Pattern measures: the model's value of a published figure, one registered function each.

Each measure reads the state of a model (or of the population alone, :mod:`kyojosim.demographic_run`)
at one moment and returns one number in the unit of the published figure it is compared with: a
percent of residents, a count of residents scaled to the whole municipality, a ratio. The validation
scorecard (:mod:`kyojosim.analysis.scorecard`, ``kyojosim scorecard``) names them in its targets file
(``kyojosim/data/targets.yaml``) with their arguments, and evaluates them at the start of a run, at
its end, or at a given year; a target that compares a change (2008 → 2017) or a growth takes two
such values. Adding a target to the scorecard needs no code beyond its measure: one function here,
registered with :func:`pattern_measure`.

Measures only read: none draws from the model's streams or changes its state (the survey they may
call draws from its own generator, :mod:`kyojosim.measures.survey`). They read stable interfaces:
the resident columns, the ties, the recorded tables, the simulated survey, つながり力 and the
participation groups.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..constants import (
    AID_MEMBER,
    CATEGORIES,
    PARTICIPATION_GROUPS,
    TIE_HOUSEHOLD,
    WILL_FREE,
    WILL_PAID,
)
from ..core.communities import ONLINE_BIT, participation_group
from ..core.helping import can_help
from ..errors import KyojoError
from .survey import TRUST_CHANGES, frame_slots, meeting_outcomes, survey
from .tsunagari import tsunagari

if TYPE_CHECKING:
    from ..model import KyojoModel

SURVEY_AGES = (20, 79)
"""The white paper's respondents: people in their 20s to 70s."""


class MeasureError(KyojoError, ValueError):
    """A pattern measure is unknown, or called with arguments it does not take."""


@dataclass(frozen=True)
class PatternMeasure:
    """One registered measure.

    Attributes:
        name: The name the targets file uses.
        fn: ``fn(subject, **args) -> float``.
        unit: Unit of the value (``%``, ``persons``, ``SD``, ``per user-year``, ``residents``).
        population: Whether the measure reads only the population (so it also runs on the population
            alone, a :class:`~kyojosim.demographic_run.DemographicRun`); otherwise it needs a whole model.
        doc: What it measures (the first paragraph of the function's docstring).
    """

    name: str
    fn: Callable[..., float]
    unit: str
    population: bool = False
    doc: str = ""

    def parameters(self) -> list[str]:
        """Names of the keyword arguments the measure takes."""
        return list(inspect.signature(self.fn).parameters)[1:]

    def check(self, args: Mapping[str, Any]) -> None:
        """Check that ``args`` are arguments the measure takes (values are checked when it runs).

        Raises:
            MeasureError: For an unknown or a missing argument.
        """
        allowed = self.parameters()
        unknown = [k for k in args if k not in allowed]
        if unknown:
            raise MeasureError(f"measure {self.name!r} takes no argument {unknown[0]!r}; allowed arguments: "
                               f"{', '.join(allowed) or 'none'}")
        try:
            inspect.signature(self.fn).bind(None, **dict(args))
        except TypeError as exc:
            raise MeasureError(f"measure {self.name!r}: {exc}; allowed arguments: {', '.join(allowed) or 'none'}"
                               ) from None

    def __call__(self, subject: Any, **args: Any) -> float:
        """Return the measure's value for ``subject`` (a model, or the population alone)."""
        return float(self.fn(subject, **args))


PATTERN_MEASURES: dict[str, PatternMeasure] = {}
"""The registered measures, by name."""


def pattern_measure(name: str, unit: str, population: bool = False) -> Callable[[Callable[..., float]],
                                                                              Callable[..., float]]:
    """Register a function as the pattern measure ``name`` (a decorator).

    Args:
        name: The name the targets file uses.
        unit: Unit of the value.
        population: Whether the measure reads only the population (see :class:`PatternMeasure`).
    """

    def register(fn: Callable[..., float]) -> Callable[..., float]:
        if name in PATTERN_MEASURES:
            raise MeasureError(f"pattern measure {name!r} is registered twice")
        doc = inspect.getdoc(fn) or ""
        PATTERN_MEASURES[name] = PatternMeasure(name, fn, unit, population, doc.split("\n\n")[0].replace("\n", " "))
        return fn

    return register


def pattern(name: str) -> PatternMeasure:
    """Return the registered measure ``name``.

    Raises:
        MeasureError: For a name that is not registered.
    """
    try:
        return PATTERN_MEASURES[name]
    except KeyError:
        raise MeasureError(f"measure: got {name!r}; allowed: {', '.join(sorted(PATTERN_MEASURES))}") from None


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


def _ages(ages: Sequence[int]) -> tuple[int, int]:
    try:
        lo, hi = (int(a) for a in ages)
    except (TypeError, ValueError):
        raise MeasureError(f"ages: got {ages!r}; allowed: [lowest, highest] age") from None
    if lo > hi:
        raise MeasureError(f"ages: got {ages!r}; allowed: lowest age <= highest age")
    return lo, hi


def _slots(model: Any, ages: Sequence[int]) -> np.ndarray:
    """Living residents of an age range."""
    lo, hi = _ages(ages)
    return frame_slots(model, (lo, hi))


def _percent(mask: np.ndarray) -> float:
    return 100.0 * float(mask.mean()) if mask.size else float("nan")


def _yearly_rows(subject: Any) -> pd.DataFrame:
    """Return the yearly rows of a model (its ``years`` table) or of the population alone (its ``rows``)."""
    if hasattr(subject, "datacollector"):
        return subject.table("years")
    rows = getattr(subject, "rows", None)
    if rows is None:
        raise MeasureError(f"got {type(subject).__name__}; allowed: a model or the population alone")
    return pd.DataFrame(rows)


def _year_value(subject: Any, column: str, year: int) -> float:
    rows = _yearly_rows(subject)
    hit = rows[rows["year"] == int(year)]
    if hit.empty:
        years = rows["year"]
        raise MeasureError(f"year: got {year}; allowed: a year the run reached ({int(years.min())}-{int(years.max())})")
    return float(hit[column].iloc[-1])


# ------------------------------------------------------------------------------------------
# population
# ------------------------------------------------------------------------------------------


@pattern_measure("population", "persons", population=True)
def population(subject: Any, year: int) -> float:
    """Residents on 1 January of ``year``, scaled to the whole municipality (simulated / ``municipality.scale``)."""
    return _year_value(subject, "population_scaled", year)


@pattern_measure("share_65plus", "%", population=True)
def share_65plus(subject: Any, year: int) -> float:
    """Share of residents aged 65 and over on 1 January of ``year``, in percent."""
    return 100.0 * _year_value(subject, "share_65plus", year)


@pattern_measure("share_75plus", "%", population=True)
def share_75plus(subject: Any, year: int) -> float:
    """Share of residents aged 75 and over on 1 January of ``year``, in percent."""
    return 100.0 * _year_value(subject, "share_75plus", year)


# ------------------------------------------------------------------------------------------
# communities, trust, つながり力
# ------------------------------------------------------------------------------------------


@pattern_measure("participation_share", "%")
def participation_share(model: KyojoModel, groups: str | Sequence[str], ages: Sequence[int] = SURVEY_AGES) -> float:
    """Share of residents of ``ages`` in the participation group(s) ``groups`` (図表4-3-5-2), in percent.

    ``groups`` is one of ``none``, ``offline_only``, ``both``, ``online_only``, or a list of them (their sum).
    """
    names = [groups] if isinstance(groups, str) else list(groups)
    bad = [g for g in names if g not in PARTICIPATION_GROUPS]
    if bad or not names:
        raise MeasureError(f"groups: got {groups!r}; allowed: one or more of {', '.join(PARTICIPATION_GROUPS)}")
    slots = _slots(model, ages)
    group = participation_group(model.population)[slots]
    codes = [PARTICIPATION_GROUPS.index(g) for g in names]
    return _percent(np.isin(group, codes))


@pattern_measure("offline_trust", "%")
def offline_trust(model: KyojoModel, ages: Sequence[int] = SURVEY_AGES) -> float:
    """Mean trust in people met face to face of residents of ``ages``, in percent.

    The model's reading of "most people can be trusted" (図表4-3-5-3): the mean of the trust column, whose
    initial mean is the published share agreeing (§5.6 of docs/ODD.md).
    """
    slots = _slots(model, ages)
    return 100.0 * float(model.population.trust_offline[slots].astype(np.float64).mean()) if slots.size else np.nan


@pattern_measure("tsunagari_margin", "SD")
def tsunagari_margin(model: KyojoModel) -> float:
    """How far people in both kinds of community are above the others in つながり力 (図表4-3-5-4).

    The mean つながり力 of residents 20+ in both online and offline communities, less the higher of the
    means of online-only and offline-only residents, in standard deviations of つながり力 over residents
    20+: positive when the published ordering holds. A constant added to every resident's value (as the
    2018 method adds one to make all values positive) changes neither the difference nor the deviation.
    """
    pop = model.population
    slots = frame_slots(model, (20, 200))
    value = tsunagari(pop)[slots]
    group = participation_group(pop)[slots]
    sd = float(value.std())
    means = {g: value[group == PARTICIPATION_GROUPS.index(g)] for g in ("both", "offline_only", "online_only")}
    if sd <= 0 or any(v.size == 0 for v in means.values()):
        return float("nan")
    return (float(means["both"].mean()) - max(float(means["offline_only"].mean()),
                                              float(means["online_only"].mean()))) / sd


# ------------------------------------------------------------------------------------------
# ICT
# ------------------------------------------------------------------------------------------


@pattern_measure("smartphone_share", "%")
def smartphone_share(model: KyojoModel, ages: Sequence[int]) -> float:
    """Share of residents of ``ages`` who own a smartphone, in percent (通信利用動向調査)."""
    slots = _slots(model, ages)
    return _percent(model.population.smartphone[slots])


@pattern_measure("sns_family_reach", "%")
def sns_family_reach(model: KyojoModel, adult_ages: Sequence[int] = (30, 49), child_max_age: int = 14) -> float:
    """Share of family households on the local SNS, in percent (PIAZZA's reach).

    Family households: households with a child aged ``child_max_age`` or under and an adult of
    ``adult_ages``; on the SNS: at least one member has joined the local SNS.
    """
    pop = model.population
    live = pop.live()
    hh = pop.household[live].astype(np.int64)
    size = int(hh.max()) + 1 if hh.size else 0
    lo, hi = _ages(adult_ages)
    age = pop.age[live]
    child = np.bincount(hh, weights=age <= int(child_max_age), minlength=size) > 0
    adult = np.bincount(hh, weights=(age >= lo) & (age <= hi), minlength=size) > 0
    on = np.bincount(hh, weights=(pop.online[live] & ONLINE_BIT["local_sns"]) > 0, minlength=size) > 0
    family = child & adult
    return _percent(on[family])


# ------------------------------------------------------------------------------------------
# needs and helpers (図表4-3-4-2, 4-3-4-3)
# ------------------------------------------------------------------------------------------


@pattern_measure("need_share", "%")
def need_share(model: KyojoModel, category: str) -> float:
    """Share of residents 20-79 who have the trouble ``category`` by the simulated survey's rule, in percent.

    The survey of the whole frame (:func:`kyojosim.measures.survey.survey` with ``n=None``): the respondents
    with the trouble over the residents asked; the published counterpart is the n of the category's row of
    図表4-3-4-2 over the 1,200 respondents.
    """
    if category not in CATEGORIES:
        raise MeasureError(f"category: got {category!r}; allowed: {', '.join(CATEGORIES)}")
    result = survey(model, n=None, seed=0)
    table = result.tables["needs_platform_intention"].set_index("category")
    return 100.0 * float(table.loc[category, "n"]) / result.n if result.n else float("nan")


@pattern_measure("helper_pool_share", "%")
def helper_pool_share(model: KyojoModel, terms: str, ages: Sequence[int] = SURVEY_AGES) -> float:
    """Share of residents of ``ages`` willing to help ``free`` (or only if ``paid``), mean over the 8 categories, %.

    The published counterpart is the mean over the categories of the n of the free (or paid) rows of
    図表4-3-4-3 over the 1,200 respondents.
    """
    codes = {"free": WILL_FREE, "paid": WILL_PAID}
    if terms not in codes:
        raise MeasureError(f"terms: got {terms!r}; allowed: free, paid")
    slots = _slots(model, ages)
    if slots.size == 0:
        return float("nan")
    return 100.0 * float((model.population.will[slots] == codes[terms]).mean())


@pattern_measure("free_helper_share", "%")
def free_helper_share(model: KyojoModel, ages: Sequence[int] = SURVEY_AGES) -> float:
    """Share of residents of ``ages`` willing to help free with at least one kind of trouble, in percent.

    The model's counterpart of the share of people who volunteer (社会生活基本調査): the pool of residents who
    would give unpaid help.
    """
    slots = _slots(model, ages)
    return _percent((model.population.will[slots] == WILL_FREE).any(axis=1))


@pattern_measure("no_one_to_rely_on", "%")
def no_one_to_rely_on(model: KyojoModel, ages: Sequence[int] = (60, 200)) -> float:
    """Share of residents of ``ages`` with nobody outside their household to rely on, in percent.

    Somebody to rely on: a tie (of any kind) to a resident of another household who could help (alive,
    of helping age, not frail) and is willing to help free with at least one kind of trouble (内閣府
    高齢者の生活と意識に関する国際比較調査: "頼れる人" outside the household). Kin living outside the
    municipality are not in the model.
    """
    pop = model.population
    n = pop.n
    helper = can_help(pop, model.scenario) & (pop.will[:n] == WILL_FREE).any(axis=1)
    ties = model.ties
    a, b = ties.a.astype(np.int64), ties.b.astype(np.int64)
    other = pop.household[a] != pop.household[b]
    other &= (ties.kind & TIE_HOUSEHOLD) == 0
    has = np.zeros(n, dtype=bool)
    has[a[other & helper[b]]] = True
    has[b[other & helper[a]]] = True
    slots = _slots(model, ages)
    return _percent(~has[slots])


# ------------------------------------------------------------------------------------------
# the channels' cases
# ------------------------------------------------------------------------------------------


@pattern_measure("meeting_trust_higher", "%")
def meeting_trust_higher(model: KyojoModel) -> float:
    """Share of the logged face-to-face meetings of online acquaintances after which trust rose, in percent.

    Much higher or somewhat higher (図表4-3-2-4), over every meeting in ``model.meeting_log``; ``nan``
    when nobody met.
    """
    logged = meeting_outcomes(model)
    if logged is None:
        return float("nan")
    _, outcome = logged
    higher = [TRUST_CHANGES.index("much_higher"), TRUST_CHANGES.index("somewhat_higher")]
    return _percent(np.isin(outcome, higher))


@pattern_measure("platform_registered", "residents")
def platform_registered(model: KyojoModel) -> float:
    """Residents registered on the sharing platform now (the ``AID_MEMBER`` bit), scaled to the municipality.

    Members include the certified supporters (ママサポ), who are registered too; AsMama's published counts
    are of everyone registered.
    """
    pop = model.population
    live = pop.live()
    return float(((pop.aid_role[live] & AID_MEMBER) != 0).sum()) / model.scenario.municipality.scale


PLATFORM_CHANNEL = "sharing_platform"
"""The sharing platform's name in the ``channel_months`` table."""


@pattern_measure("platform_matches_per_user_year", "per user-year")
def platform_matches_per_user_year(model: KyojoModel, years: int = 3) -> float:
    """Count matches through the sharing platform per registered member and year, over the last ``years`` years.

    From the ``channel_months`` table: the needs matched through the platform in the last ``years``
    complete calendar years recorded (twelve months each, by the ``month`` column), over the member-years
    of those months (the members at the end of each month, summed, over 12), as AsMama's uses a year
    over the registered users. ``nan`` when fewer than ``years`` complete years are recorded or nobody
    was a member.
    """
    years = int(years)
    if years < 1:
        raise MeasureError(f"years: got {years}; allowed: a whole number of years, at least 1")
    months = model.table("channel_months")
    months = months[months["channel"] == PLATFORM_CHANNEL]
    if months.empty:
        return float("nan")
    # a row per month (the last may be a month in progress, where the run ends within it)
    by_month = months.groupby("month").agg(members=("members", "last"), matched=("matched", "sum"))
    calendar = by_month.index.str.slice(0, 4).astype(int)
    per_year = pd.Series(1, index=calendar).groupby(level=0).sum()
    complete = sorted(per_year.index[per_year == 12])[-years:]
    if len(complete) < years:
        return float("nan")
    recent = by_month[np.isin(calendar, complete)]
    member_years = float(recent["members"].sum()) / 12.0
    if member_years <= 0:
        return float("nan")
    return float(recent["matched"].sum()) / member_years


__all__ = ["PATTERN_MEASURES", "SURVEY_AGES", "MeasureError", "PatternMeasure", "pattern", "pattern_measure"]
