"""The simulated survey: the white paper's questions asked of a sample of simulated residents.

:func:`survey` draws ``n`` respondents without replacement from the living residents of the age
frame (20-79 by default, the 2017 survey's 20s to 70s) and answers, from their state, the questions
of the MIC White Paper 2018 (平成30年版 情報通信白書, Part 1, Chapter 4, Section 3). The tables have the
columns and row keys of the published tables (``kyojosim/data/whitepaper2018``), followed by
``n`` where the published table has none, and for every percent or mean ``<col>_lo`` and
``<col>_hi``, the bounds of its sampling 95% confidence interval:

* ``community_participation_all_ages`` (図表4-3-5-2): share of respondents in no community /
  offline only / both / online only (:func:`kyojosim.core.communities.participation_group`); one row,
  ``survey_year`` the model's current year. ``community_participation_by_age`` gives the same by
  age group (20s ... 70s and 60+; no published counterpart).
* ``needs_platform_intention`` (図表4-3-4-2): among respondents who have the trouble, whether
  they would use a local mutual-aid medium for it. The published n per category counts the
  respondents who want someone to turn to for the trouble (labels 「…を頼む相手が欲しい」); the model
  reads that as having met the trouble, and wanted help from another resident for it, within the
  recall (``needs.recall_weeks`` of the scenario, 52 weeks by default: the past year; docs/ODD.md
  §4.11). A respondent *has the trouble* of category ``c`` with probability
  ``1 - (1 - p[c]) ** recall_weeks``, ``p`` their current weekly probability of developing a need
  of ``c`` (``model.aid.prob``, which follows their circumstances: frailty, age, car, living
  alone, family, children). The need rates are solved so that this share, over the residents
  aged 20-79, is the published n / 1,200 (:func:`kyojosim.aid.needs.base_rates`), so at the
  default recall the expected count per category is the published n. One uniform per respondent
  and category from the survey's generator decides. With ``recall_weeks=0`` the rule is instead
  the exact state: an open need of ``c`` in the need book (arisen, not yet helped, not lapsed;
  categories that lapse within the week, shopping and sick care by default, then never count).
  They *would use the medium* if bit ``c`` of ``platform_need`` is set.
* ``helper_platform_intention`` (図表4-3-4-3): among respondents who would help with ``c`` free
  (``will[:, c] == WILL_FREE``) or only if paid (``WILL_PAID``), whether they would use the
  medium to offer it (bit ``c`` of ``platform_help``).
* ``trust_change_after_meeting`` (図表4-3-2-4): among respondents who met in person someone
  known through social media, how their trust changed (their most recent meeting). The local
  SNS and the offline events log each meeting and its outcome (:func:`kyojosim.aid.channels.local_sns.log_meetings`)
  in ``model.meeting_log`` (columns ``uid_a``, ``uid_b``, ``outcome``, the index into
  :data:`kyojosim.aid.channels.local_sns.MEETING_SHARES`, in the order of the meetings); without any meeting
  the table reports ``n = 0`` and empty percents.
* ``tsunagari_by_participation`` (図表4-3-5-4): the mean つながり力
  (:func:`kyojosim.measures.tsunagari.tsunagari`) of the respondents by participation group, and of all.

**Answer levels.** The model holds binary intentions (a bit: would use the medium or not), so only
the share who would use it, ``yes_total = definitely_yes + yes``, is a model quantity and the one
to validate. The five levels are derived from it by a fixed rule, an assumption: the "would use"
share is split into ``definitely_yes`` and ``yes``, and the "would not" share into
``rather_not``, ``not_at_all`` and ``dont_know``, in the proportions of the published row of the
same category (and terms), read from the bundled tables. The bounds of each level are the bounds
of ``yes_total`` (or of ``1 - yes_total``) scaled by the same proportion.

**Confidence intervals.** Proportions: Wilson score interval (z = 1.96) with the finite population
correction ``(N - n) / (N - 1)``, where ``N`` is the number of residents of the frame in the same
subgroup (e.g. frame residents with the trouble: the expected number for the propensity rule);
a survey of the whole frame therefore has ``lo == hi ==`` the value (for the trouble question: when
every probability is 0 or 1, or with ``recall_weeks=0``). Means: Student t interval with the same correction.

**Randomness.** The sample, and then who has which trouble, are drawn from a generator derived
from the model's seed and the survey's ``seed`` (``model.streams.fresh("survey", seed)``); the
survey changes no model state and draws from none of the model's own streams, so surveying a
running model leaves its trajectory unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..atomic import write_text
from ..constants import CATEGORIES, PARTICIPATION_GROUPS, WILL_FREE, WILL_PAID
from ..core.communities import participation_group
from ..errors import KyojoError
from .tsunagari import tsunagari

if TYPE_CHECKING:
    from ..model import KyojoModel

Z95 = 1.959963984540054
"""Standard normal quantile of a two-sided 95% interval."""

ANSWERS: tuple[str, ...] = ("definitely_yes", "yes", "rather_not", "not_at_all", "dont_know")
"""The five answer levels of 図表4-3-4-2/3 (ぜひ使ってみたい ... わからない)."""
YES_LEVELS = ANSWERS[:2]
NO_LEVELS = ANSWERS[2:]

TRUST_CHANGES: tuple[str, ...] = ("much_higher", "somewhat_higher", "unchanged", "somewhat_lower", "much_lower")
"""Rows of trust_change_after_meeting.csv, in the order of kyojosim.aid.channels.local_sns.MEETING_SHARES."""

AGE_ROWS: tuple[tuple[str, int, int], ...] = (
    ("20s", 20, 29), ("30s", 30, 39), ("40s", 40, 49), ("50s", 50, 59), ("60s", 60, 69), ("70s", 70, 79),
    ("60+", 60, 200),
)
"""Age groups of ``community_participation_by_age``: label, lowest and highest age (within the frame:
``60+`` is 60-79 with the default frame)."""

PUBLISHED_FILES: dict[str, str] = {
    "community_participation_all_ages": "community_participation_all_ages.csv",
    "needs_platform_intention": "needs_platform_intention.csv",
    "helper_platform_intention": "helper_platform_intention.csv",
    "trust_change_after_meeting": "trust_change_after_meeting.csv",
}
"""Survey tables with a published counterpart, and its file name."""

TABLES: tuple[str, ...] = (
    "community_participation_all_ages",
    "community_participation_by_age",
    "needs_platform_intention",
    "helper_platform_intention",
    "trust_change_after_meeting",
    "tsunagari_by_participation",
)
"""Names of the tables of a :class:`SurveyResult`."""

FLAG_POINTS = 5.0
"""Gaps beyond this many percentage points are flagged by :func:`compare_published`."""

GAP_COLUMNS: tuple[str, ...] = ("table", "row", "column", "simulated", "lo", "hi", "published", "gap", "unit",
                                "validated", "flagged")
"""Columns of the table :func:`compare_published` returns."""


class SurveyError(KyojoError, ValueError):
    """A survey cannot be taken as asked (bad size, age frame or published folder)."""


def default_published_folder() -> Path:
    """Return the folder of the bundled published tables (``kyojosim/data/whitepaper2018``)."""
    return Path(str(resources.files("kyojosim") / "data" / "whitepaper2018"))


def read_published(name: str, folder: str | Path | None = None) -> pd.DataFrame:
    """Read the published table of a survey table name from ``folder`` (default: the bundled copy).

    Raises:
        SurveyError: If the file is missing or unreadable.
    """
    if name not in PUBLISHED_FILES:
        raise SurveyError(f"{name}: no published table; allowed: {', '.join(PUBLISHED_FILES)}")
    path = Path(folder if folder is not None else default_published_folder()) / PUBLISHED_FILES[name]
    try:
        return pd.read_csv(path)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise SurveyError(f"{path}: cannot read the published table {name!r} ({exc}); "
                          f"allowed: a folder holding {', '.join(PUBLISHED_FILES.values())}") from exc


# ------------------------------------------------------------------------------------------
# confidence intervals
# ------------------------------------------------------------------------------------------


def _fpc(n: np.ndarray, population: np.ndarray | None) -> np.ndarray:
    """Finite population correction ``(N - n) / (N - 1)`` (1 without ``N``; 0 when ``N <= 1``)."""
    n = np.asarray(n, dtype=np.float64)
    if population is None:
        return np.ones_like(n)
    big = np.asarray(population, dtype=np.float64)
    return np.clip(np.divide(big - n, big - 1.0, out=np.zeros(np.broadcast(big, n).shape), where=big > 1), 0.0, 1.0)


def wilson(k: np.ndarray | int, n: np.ndarray | int, population: np.ndarray | int | None = None,
           z: float = Z95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the proportion ``k / n`` and its Wilson score interval, with the finite population correction.

    The sample size enters as ``n / fpc`` with ``fpc = (N - n) / (N - 1)``: a sample of the whole
    population (``n == N``) has an interval of zero width. ``n == 0`` gives ``nan``.

    Args:
        k: Respondents with the answer.
        n: Respondents asked.
        population: Size ``N`` of the population sampled from (``None``: infinite).
        z: Normal quantile of the interval.

    Returns:
        ``(p, lo, hi)`` as float arrays.
    """
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, k / np.where(n > 0, n, 1.0), np.nan)
        inv = np.where(n > 0, _fpc(n, population) / np.where(n > 0, n, 1.0), np.nan)  # 1 / effective n
        denom = 1.0 + z * z * inv
        centre = (p + z * z * inv / 2.0) / denom
        half = z * np.sqrt(p * (1.0 - p) * inv + z * z * inv * inv / 4.0) / denom
    return p, np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def mean_ci(x: np.ndarray, population: int | None = None, z: float | None = None) -> tuple[float, float, float]:
    """Return the mean of ``x`` and its Student t 95% interval, with the finite population correction.

    ``nan`` bounds for fewer than two values (the mean itself is ``nan`` for none).
    """
    from scipy import stats

    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if x.size < 2:
        return m, math.nan, math.nan
    q = z if z is not None else float(stats.t.ppf(0.975, x.size - 1))
    se = float(x.std(ddof=1)) / math.sqrt(x.size) * math.sqrt(float(_fpc(np.array(x.size), population)))
    return m, m - q * se, m + q * se


# ------------------------------------------------------------------------------------------
# the survey
# ------------------------------------------------------------------------------------------


@dataclass
class SurveyResult:
    """The tables of one simulated survey.

    Attributes:
        tables: Table name -> DataFrame (see the module docstring; names in :data:`TABLES`).
        year: The model's year when the survey was taken.
        step: The model's step when the survey was taken.
        seed: The survey's seed.
        n: Respondents.
        frame_size: Living residents of the age frame.
        ages: The age frame (lowest, highest age).
        scenario: The scenario's name.
        reference_year: The row of 図表4-3-5-2 the scenario's population was fitted to.
        respondents: Unique ids of the respondents (sorted).
        recall_weeks: Weeks over which a respondent "has" a trouble (0: open needs only).
        notes: What the model could not answer, in words.
    """

    tables: dict[str, pd.DataFrame]
    year: int
    step: int
    seed: int
    n: int
    frame_size: int
    ages: tuple[int, int]
    scenario: str = ""
    reference_year: int = 2017
    respondents: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    notes: list[str] = field(default_factory=list)
    recall_weeks: int = 52

    def to_csv(self, folder: str | Path) -> dict[str, Path]:
        """Write one CSV per table to ``folder`` (created if missing), atomically.

        The published columns come first, in the published order, then ``n`` and the interval bounds.

        Returns:
            Table name -> path written.

        Raises:
            SurveyError: If the folder cannot be created or written.
        """
        out = Path(folder)
        written: dict[str, Path] = {}
        try:
            out.mkdir(parents=True, exist_ok=True)
            for name, df in self.tables.items():
                written[name] = write_text(out / f"{name}.csv", df.to_csv(index=False, float_format="%.6g"))
        except OSError as exc:
            raise SurveyError(f"{out}: cannot write the survey tables ({exc}); allowed: a writable folder") from exc
        return written

    def __repr__(self) -> str:
        return (f"SurveyResult(scenario={self.scenario!r}, year={self.year}, step={self.step}, n={self.n}, "
                f"frame_size={self.frame_size}, tables={list(self.tables)})")


def _model_of(model: Any) -> KyojoModel:
    """Accept a model or anything holding one in ``.model`` (a :class:`~kyojosim.runs.results.RunResult`)."""
    inner = getattr(model, "model", None)
    if inner is not None and hasattr(inner, "population"):
        return inner
    if hasattr(model, "population") and hasattr(model, "streams"):
        return model
    raise SurveyError(f"survey: got {type(model).__name__}; allowed: a KyojoModel (running or finished) "
                      "or a RunResult that still holds its model")


def frame_slots(model: KyojoModel, ages: tuple[int, int] = (20, 79)) -> np.ndarray:
    """Return the slots of the living residents aged ``ages[0]``..``ages[1]`` (the sampling frame)."""
    pop = model.population
    live = pop.live()
    a = pop.age[live]
    return live[(a >= ages[0]) & (a <= ages[1])]


def survey(model: Any, n: int | None = 1200, seed: int = 0, ages: tuple[int, int] = (20, 79),
           recall_weeks: int | None = None) -> SurveyResult:
    """Ask ``n`` residents of the age frame the white paper's questions (see the module docstring).

    Args:
        model: A :class:`~kyojosim.model.KyojoModel` at any step, or a run result holding one.
        n: Respondents, drawn without replacement (``None``: the whole frame). 1,200 is the size of
            the 2017 survey.
        seed: The survey's seed; the sample is drawn from ``model.streams.fresh("survey", seed)``.
        ages: Lowest and highest age of the frame.
        recall_weeks: Weeks over which a respondent "has" a trouble (see the module docstring);
            0: only the open needs of the moment; ``None``: the scenario's ``needs.recall_weeks``
            (the recall the need rates are solved for).

    Returns:
        The :class:`SurveyResult`.

    Raises:
        SurveyError: For a bad age frame or an ``n`` larger than the frame.
    """
    m = _model_of(model)
    try:
        lo_age, hi_age = (int(a) for a in ages)
    except (TypeError, ValueError) as exc:
        raise SurveyError(f"survey: ages: got {ages!r}; allowed: two ages (lowest, highest)") from exc
    if lo_age < 0 or hi_age < lo_age:
        raise SurveyError(f"survey: ages: got {ages!r}; allowed: 0 <= lowest <= highest")
    if recall_weeks is None:
        recall_weeks = int(m.scenario.needs.recall_weeks)
    if isinstance(recall_weeks, bool) or not isinstance(recall_weeks, (int, np.integer)) or recall_weeks < 0:
        raise SurveyError(f"survey: recall_weeks: got {recall_weeks!r}; allowed: a whole number of weeks >= 0")
    frame = frame_slots(m, (lo_age, hi_age))
    size = frame.size if n is None else int(n)
    if size < 1 or size > frame.size:
        raise SurveyError(f"survey: n: got {n!r}; allowed: 1..{frame.size} (the living residents aged "
                          f"{lo_age}-{hi_age}), or None for all of them")
    rng = m.streams.fresh("survey", int(seed))
    sample = np.sort(rng.choice(frame, size=size, replace=False)) if size < frame.size else frame.copy()
    pop = m.population
    notes: list[str] = []
    splits = _published_splits()
    tables = {
        "community_participation_all_ages": _participation(m, sample, frame),
        "community_participation_by_age": _participation_by_age(m, sample, frame),
        "needs_platform_intention": _needs(m, sample, frame, splits["needs"], int(recall_weeks), rng),
        "helper_platform_intention": _helpers(m, sample, frame, splits["helpers"]),
        "trust_change_after_meeting": _trust_change(m, sample, frame, notes),
        "tsunagari_by_participation": _tsunagari(m, sample, frame),
    }
    scn = m.scenario
    return SurveyResult(
        tables=tables, year=int(m.year), step=int(m.steps), seed=int(seed), n=int(size), frame_size=int(frame.size),
        ages=(lo_age, hi_age), scenario=str(scn.name or scn.municipality.name_en),
        reference_year=int(scn.communities.participation_year), respondents=np.sort(pop.uid[sample]), notes=notes,
        recall_weeks=int(recall_weeks),
    )


def _percent_row(k: np.ndarray, n: int, big: int, cols: tuple[str, ...]) -> dict[str, float]:
    p, lo, hi = wilson(k, np.full(len(cols), n), np.full(len(cols), big))
    row: dict[str, float] = {}
    for i, c in enumerate(cols):
        row[c] = 100.0 * float(p[i])
        row[f"{c}_lo"] = 100.0 * float(lo[i])
        row[f"{c}_hi"] = 100.0 * float(hi[i])
    return row


def _participation_counts(m: KyojoModel, slots: np.ndarray) -> np.ndarray:
    group = participation_group(m.population)
    return np.bincount(group[slots], minlength=len(PARTICIPATION_GROUPS))


def _participation(m: KyojoModel, sample: np.ndarray, frame: np.ndarray) -> pd.DataFrame:
    row: dict[str, Any] = {"survey_year": int(m.year)}
    row.update(_percent_row(_participation_counts(m, sample), sample.size, frame.size, PARTICIPATION_GROUPS))
    row["n"] = int(sample.size)
    df = pd.DataFrame([row])[["survey_year", *PARTICIPATION_GROUPS, "n",
                              *[f"{c}_{b}" for c in PARTICIPATION_GROUPS for b in ("lo", "hi")]]]
    return df


def _participation_by_age(m: KyojoModel, sample: np.ndarray, frame: np.ndarray) -> pd.DataFrame:
    age_s = m.population.age[sample]
    age_f = m.population.age[frame]
    rows = []
    for label, lo, hi in AGE_ROWS:
        s = sample[(age_s >= lo) & (age_s <= hi)]
        big = int(((age_f >= lo) & (age_f <= hi)).sum())
        row: dict[str, Any] = {"age_group": label}
        row.update(_percent_row(_participation_counts(m, s), s.size, big, PARTICIPATION_GROUPS))
        row["n"] = int(s.size)
        rows.append(row)
    return pd.DataFrame(rows)[["age_group", *PARTICIPATION_GROUPS, "n",
                               *[f"{c}_{b}" for c in PARTICIPATION_GROUPS for b in ("lo", "hi")]]]


def _published_splits() -> dict[str, dict[Any, np.ndarray]]:
    """Return the published share of each answer level within "would use" and within "would not".

    Keys: ``needs`` by category, ``helpers`` by ``(category, terms)``; values: 5 shares, the first two
    summing to 1 and the last three summing to 1 (equal shares where the published total is 0).
    """

    def split(values: np.ndarray) -> np.ndarray:
        out = np.empty(5)
        for part in (slice(0, 2), slice(2, 5)):
            v = values[part]
            t = v.sum()
            out[part] = v / t if t > 0 else np.full(v.size, 1.0 / v.size)
        return out

    needs = read_published("needs_platform_intention")
    helpers = read_published("helper_platform_intention")
    return {
        "needs": {r.category: split(np.array([getattr(r, a) for a in ANSWERS], dtype=float))
                  for r in needs.itertuples()},
        "helpers": {(r.category, r.terms): split(np.array([getattr(r, a) for a in ANSWERS], dtype=float))
                    for r in helpers.itertuples()},
    }


def _answer_row(k_yes: int, n: int, big: int, share: np.ndarray) -> dict[str, float]:
    """Return the five levels from the yes-count by the published split (see "Answer levels")."""
    p, lo, hi = (float(v) for v in wilson(k_yes, n, big))
    row: dict[str, float] = {}
    for i, a in enumerate(ANSWERS):
        if i < 2:
            v, vlo, vhi = p, lo, hi
        else:
            v, vlo, vhi = 1.0 - p, 1.0 - hi, 1.0 - lo
        row[a] = 100.0 * v * share[i]
        row[f"{a}_lo"] = 100.0 * vlo * share[i]
        row[f"{a}_hi"] = 100.0 * vhi * share[i]
    row["yes_total"] = 100.0 * p
    row["yes_total_lo"] = 100.0 * lo
    row["yes_total_hi"] = 100.0 * hi
    return row


def _bit(mask: np.ndarray, c: int) -> np.ndarray:
    return ((mask.astype(np.int64) >> c) & 1) > 0


def trouble_probability(model: KyojoModel, slots: np.ndarray, recall_weeks: int | None = None) -> np.ndarray:
    """Return the probability (len(slots) x 8) that each resident has each trouble, by the survey's rule.

    ``1 - (1 - p) ** recall_weeks`` with ``p`` the weekly need probability (``model.aid.prob``); for
    ``recall_weeks == 0``, 1 where the resident has an open need of the category and 0 elsewhere;
    ``None``: the scenario's ``needs.recall_weeks``.
    """
    if recall_weeks is None:
        recall_weeks = int(model.scenario.needs.recall_weeks)
    if recall_weeks == 0:
        book = model.aid.book
        slot = model.population.slots_of(book.requester)
        ok = slot >= 0
        has = np.zeros((model.population.n, len(CATEGORIES)))
        has[slot[ok], book.category[ok].astype(np.int64)] = 1.0
        return has[slots]
    p = np.asarray(model.aid.prob, dtype=np.float64)[slots]
    return 1.0 - (1.0 - p) ** recall_weeks


def expected_trouble_counts(model: Any, n: int = 1200, ages: tuple[int, int] = (20, 79),
                            recall_weeks: int | None = None) -> pd.Series:
    """Return, per category, the expected number of respondents with the trouble in a survey of ``n``.

    ``n`` times the mean, over the living residents of the age frame, of the probability that a
    resident has the trouble (:func:`trouble_probability`; the scenario's recall by default). At the
    default recall it is the published n of 図表4-3-4-2 (the need rates are solved for it, docs/ODD.md
    §7.11); the counts of a sampled survey scatter around it.
    """
    m = _model_of(model)
    frame = frame_slots(m, ages)
    if frame.size == 0:
        return pd.Series(np.zeros(len(CATEGORIES)), index=list(CATEGORIES), name="n_expected")
    share = trouble_probability(m, frame, recall_weeks).mean(axis=0)
    return pd.Series(n * share, index=list(CATEGORIES), name="n_expected")


def _needs(m: KyojoModel, sample: np.ndarray, frame: np.ndarray, splits: dict[Any, np.ndarray],
           recall_weeks: int, rng: np.random.Generator) -> pd.DataFrame:
    pop = m.population
    prob = trouble_probability(m, sample, recall_weeks)
    has = rng.random(prob.shape) < prob  # always False at 0 and True at 1
    expected = trouble_probability(m, frame, recall_weeks).sum(axis=0)  # residents of the frame with the trouble
    labels = read_published("needs_platform_intention").set_index("category")["label_ja"]
    rows = []
    for c, name in enumerate(CATEGORIES):
        asked = sample[has[:, c]]
        k = int(_bit(pop.platform_need[asked], c).sum())
        row: dict[str, Any] = {"category": name, "label_ja": labels.get(name, ""), "n": int(asked.size)}
        row.update(_answer_row(k, asked.size, max(float(expected[c]), asked.size), splits[name]))
        rows.append(row)
    df = pd.DataFrame(rows)
    return df[["category", "label_ja", "n", *ANSWERS, "yes_total",
               *[f"{a}_{b}" for a in (*ANSWERS, "yes_total") for b in ("lo", "hi")]]]


def _helpers(m: KyojoModel, sample: np.ndarray, frame: np.ndarray, splits: dict[Any, np.ndarray]) -> pd.DataFrame:
    pop = m.population
    labels = read_published("helper_platform_intention").drop_duplicates("category").set_index("category")["label_ja"]
    rows = []
    for c, name in enumerate(CATEGORIES):
        for terms, code in (("free", WILL_FREE), ("paid", WILL_PAID)):
            asked = sample[pop.will[sample, c] == code]
            k = int(_bit(pop.platform_help[asked], c).sum())
            big = int((pop.will[frame, c] == code).sum())
            row: dict[str, Any] = {"category": name, "label_ja": labels.get(name, ""), "terms": terms,
                                   "n": int(asked.size)}
            row.update(_answer_row(k, asked.size, big, splits[(name, terms)]))
            rows.append(row)
    df = pd.DataFrame(rows)
    return df[["category", "label_ja", "terms", "n", *ANSWERS, "yes_total",
               *[f"{a}_{b}" for a in (*ANSWERS, "yes_total") for b in ("lo", "hi")]]]


def meeting_outcomes(model: KyojoModel) -> tuple[np.ndarray, np.ndarray] | None:
    """Return ``(uid, outcome)`` of every end of every logged meeting, in order, or ``None`` if none was logged.

    The log is ``model.meeting_log`` (a :class:`~kyojosim.aid.channels.local_sns.MeetingLog`, or any DataFrame or
    mapping of equal-length arrays ``uid_a``, ``uid_b`` and ``outcome``: index into
    ``MEETING_SHARES``, much higher ... much lower), one row per meeting in the order they happened.
    """
    log = getattr(model, "meeting_log", None)
    if log is None:
        return None
    try:
        a = np.asarray(log["uid_a"], dtype=np.int64)
        b = np.asarray(log["uid_b"], dtype=np.int64)
        out = np.asarray(log["outcome"], dtype=np.int64)
    except (KeyError, TypeError, ValueError) as exc:
        raise SurveyError(f"model.meeting_log: got {type(log).__name__} without usable columns ({exc}); "
                          "allowed: uid_a, uid_b, outcome (0..4)") from exc
    if not (a.size == b.size == out.size) or (out.size and (out.min() < 0 or out.max() >= len(TRUST_CHANGES))):
        raise SurveyError("model.meeting_log: columns of unequal length or outcome outside 0..4; "
                          "allowed: uid_a, uid_b, outcome (0..4) of equal length")
    if out.size == 0:
        return None
    # interleave so that for each meeting both ends follow the order of the log
    uid = np.column_stack([a, b]).ravel()
    return uid, np.repeat(out, 2)


def _trust_change(m: KyojoModel, sample: np.ndarray, frame: np.ndarray, notes: list[str]) -> pd.DataFrame:
    pop = m.population
    logged = meeting_outcomes(m)
    labels = read_published("trust_change_after_meeting").set_index("change")["label_ja"]
    cols = ["change", "label_ja", "percent", "n", "percent_lo", "percent_hi"]
    if logged is None:
        notes.append("trust_change_after_meeting: nobody met in person someone known online (the local SNS and "
                     "the offline events log every such meeting in model.meeting_log; it is empty), so the table "
                     "is empty (n = 0)")
        return pd.DataFrame([{"change": c, "label_ja": labels.get(c, ""), "percent": math.nan, "n": 0,
                              "percent_lo": math.nan, "percent_hi": math.nan} for c in TRUST_CHANGES])[cols]
    uid, outcome = logged
    # the most recent meeting of each resident: the last occurrence of its uid in the log
    last = np.full(int(max(uid.max(initial=-1), pop.uid.max(initial=-1))) + 1, -1, dtype=np.int64)
    last[uid] = outcome  # fancy assignment keeps the last of repeated indices
    answer_s = last[pop.uid[sample]]
    answer_f = last[pop.uid[frame]]
    met_s = answer_s[answer_s >= 0]
    big = int((answer_f >= 0).sum())
    k = np.bincount(met_s, minlength=len(TRUST_CHANGES))
    p, lo, hi = wilson(k, np.full(k.size, met_s.size), np.full(k.size, big))
    return pd.DataFrame({"change": list(TRUST_CHANGES), "label_ja": [labels.get(c, "") for c in TRUST_CHANGES],
                         "percent": 100 * p, "n": int(met_s.size), "percent_lo": 100 * lo,
                         "percent_hi": 100 * hi})[cols]


def _tsunagari(m: KyojoModel, sample: np.ndarray, frame: np.ndarray) -> pd.DataFrame:
    pop = m.population
    value = tsunagari(pop)
    group = participation_group(pop)
    rows = []
    for name, i in (("all", -1), *((g, j) for j, g in enumerate(PARTICIPATION_GROUPS))):
        s = sample if i < 0 else sample[group[sample] == i]
        big = frame.size if i < 0 else int((group[frame] == i).sum())
        mean, lo, hi = mean_ci(value[s], big)
        rows.append({"participation_group": name, "n": int(s.size), "mean": mean, "mean_lo": lo, "mean_hi": hi})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------
# comparison with the published tables
# ------------------------------------------------------------------------------------------


def compare_published(result: SurveyResult, folder: str | Path | None = None,
                      year: int | None = None) -> pd.DataFrame:
    """Return the gap between every published number and the simulated survey, as a tidy table.

    One row per numeric cell of the published tables (percent answers and ``n``), plus one row
    ``yes_total`` per row of the intention tables (the validated quantity; its published value is
    ``definitely_yes + yes``). Columns :data:`GAP_COLUMNS`: ``simulated`` with its 95% bounds
    ``lo``/``hi``, ``published``, ``gap = simulated - published`` (points for percents,
    respondents for ``n``), ``unit``, ``validated`` (False for the levels derived from the published
    split and for ``n``) and ``flagged`` (a validated percent with ``|gap| > FLAG_POINTS``).

    Args:
        result: A survey.
        folder: Folder of the published CSVs (default: the copy bundled with kyojosim).
        year: Published row of 図表4-3-5-2 to compare the participation mix with (default: the year
            the scenario's population was fitted to, ``result.reference_year``).

    Raises:
        SurveyError: If a published table cannot be read or has no row for ``year``.
    """
    rows: list[dict[str, Any]] = []

    def add(table: str, row: str, column: str, sim: pd.Series | dict, published: float, unit: str,
            validated: bool) -> None:
        value = float(sim[column])
        lo = float(sim[f"{column}_lo"]) if f"{column}_lo" in sim else math.nan
        hi = float(sim[f"{column}_hi"]) if f"{column}_hi" in sim else math.nan
        gap = value - float(published)
        rows.append({"table": table, "row": row, "column": column, "simulated": value, "lo": lo, "hi": hi,
                     "published": float(published), "gap": gap, "unit": unit, "validated": validated,
                     "flagged": bool(validated and unit == "points" and abs(gap) > FLAG_POINTS)})

    # participation mix
    name = "community_participation_all_ages"
    pub = read_published(name, folder)
    ref = int(year if year is not None else result.reference_year)
    match = pub[pub["survey_year"] == ref]
    if match.empty:
        raise SurveyError(f"{name}: year: got {ref}; allowed: {', '.join(str(y) for y in pub['survey_year'])}")
    sim = result.tables[name].iloc[0]
    for c in PARTICIPATION_GROUPS:
        add(name, str(ref), c, sim, match.iloc[0][c], "points", True)
    # intention tables
    for name, keys in (("needs_platform_intention", ["category"]),
                       ("helper_platform_intention", ["category", "terms"])):
        pub = read_published(name, folder)
        sim_t = result.tables[name].set_index(keys)
        for r in pub.itertuples(index=False):
            key = tuple(getattr(r, k) for k in keys)
            label = "/".join(str(v) for v in key)
            sim = sim_t.loc[key if len(key) > 1 else key[0]]
            add(name, label, "n", sim, r.n, "respondents", False)
            for a in ANSWERS:
                add(name, label, a, sim, getattr(r, a), "points", False)
            add(name, label, "yes_total", sim, r.definitely_yes + r.yes, "points", True)
    # trust change after meeting
    name = "trust_change_after_meeting"
    pub = read_published(name, folder)
    sim_t = result.tables[name].set_index("change")
    for r in pub.itertuples(index=False):
        add(name, r.change, "percent", sim_t.loc[r.change], r.percent, "points", True)
    return pd.DataFrame(rows, columns=list(GAP_COLUMNS))


__all__ = [
    "ANSWERS",
    "GAP_COLUMNS",
    "TABLES",
    "SurveyError",
    "SurveyResult",
    "compare_published",
    "default_published_folder",
    "expected_trouble_counts",
    "frame_slots",
    "mean_ci",
    "meeting_outcomes",
    "read_published",
    "survey",
    "trouble_probability",
    "wilson",
]
