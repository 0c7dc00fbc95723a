"""A scenario for any municipality of Japan, from the shipped census and IPSS tables (``kyojosim new``).

:func:`build` makes a complete scenario for a municipality given by code or name
(:func:`kyojosim.params.japan.lookup`):

- **population and age structure**: census 2015 by sex and 5-year age (table 00100 total), the
  age-unknown distributed as the IPSS 2018 projection's 2015 base does (:func:`kyojosim.params.japan.age_structure`);
- **households**: the census 2015 number of households (table 00100) and an *estimated* mix of
  household kinds (:func:`estimate_households`);
- **districts**: one, the municipality, or for a designated city its wards with their table 00100
  populations and areas (:func:`districts`);
- **fertility**: an *estimated* total fertility rate from the child-woman ratio (:func:`estimate_tfr`);
- **migration by age**: the census 2010→2015 cohort change against survival (the cohort-component
  residual, :func:`net_migration_profile`), plus the shifts per 5-year period fitted to the
  projection (:func:`kyojosim.runs.calibration.fit_migration`);
- **projection**: the IPSS 2018 municipal projection 2015-2045 (total, 65+ and 75+ shares); for the
  municipalities of Fukushima, which it does not give one by one, none (the file says why).

:func:`write` renders it as a commented YAML file in which every figure names its table;
:func:`scenario_path` builds it once and keeps it in a user cache folder, which is how
``kyojosim run 生駒市`` and the dashboard accept any municipality.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..constants import HOUSEHOLD_KINDS, N_AGE_BANDS
from ..params import japan
from ..params.japan import (
    BUILDER_VERSION,
    FIT_SEEDS,
    T_00100,
    T_CENSUS,
    T_CENSUS_AGE,
    T_IPSS,
    MunicipalityError,
    MunicipalityRecord,
    scenario_key,
)

START_YEAR = 2015
HORIZON = 2045
NICE_SCALES = (1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001)
MAX_SIMULATED = 20_000
"""setting: at most about 20,000 simulated residents by default (a year of mutual aid in well under a second)."""
SHRINK_PERSONS = 50.0
"""assumption: weight, in expected survivors, of the prefecture's net migration rate in a band's rate."""
SHRINK_WOMEN = 200.0
"""assumption: weight, in women aged 15-49, of the prefecture's child-woman ratio in the municipality's."""
TFR_JAPAN_2015 = 1.45
"""MHLW 人口動態統計 2015: total fertility rate of Japan."""

# National mix of general households by family type, census 2015 (平成27年国勢調査 世帯構造等基本集計,
# 一般世帯の家族類型): one-person 34.5% (of which aged 65+ 11.1 points), couple only 20.1% (of which
# 高齢夫婦世帯, husband 65+ and wife 60+, 11.4 points), couple and children 26.9%, lone parent and children
# 8.9%, other households (three generations and other relatives, non-relatives) 9.6%
NATIONAL_MIX = {
    "single_elderly": 0.111, "elderly_couple": 0.114, "couple_only": 0.087, "couple_with_children": 0.269,
    "single_parent": 0.089, "single_adult": 0.234, "three_generation": 0.096,
}
SHARE_65PLUS_JAPAN_2015 = 0.266
"""平成27年国勢調査: share of Japan's population aged 65+ (age unknown distributed), 26.6%."""


@dataclass
class Built:
    """A scenario built for a municipality.

    Attributes:
        record: The municipality.
        data: The scenario as plain data (what :func:`kyojosim.params.scenario.load_scenario` reads).
        notes: Comments for the file, by key (``"age_structure"``, ``"migration"``, ...).
        fit: The migration fit (``None`` without a projection or when not fitted).
        projection: The projection table (``None`` for Fukushima).
    """

    record: MunicipalityRecord
    data: dict[str, Any]
    notes: dict[str, str] = field(default_factory=dict)
    fit: Any = None
    projection: Any = None

    def text(self, command: str | None = None) -> str:
        """Return the commented YAML file."""
        return render(self, command)


# --------------------------------------------------------------------------------------
# the pieces
# --------------------------------------------------------------------------------------


def choose_scale(population: int) -> float:
    """Return the default fraction of residents simulated.

    The largest of 1, 0.5, 0.2, 0.1, … that keeps the simulated residents at or below
    :data:`MAX_SIMULATED` (so between 10,000 and 20,000 for any municipality above 20,000).
    """
    for s in NICE_SCALES:
        if population * s <= MAX_SIMULATED:
            return s
    return NICE_SCALES[-1]


def _survival(mortality, years_before_start: float) -> np.ndarray:
    """Yearly survival by sex and band at the mortality of ``years_before_start`` years before 2015 (2 x 18)."""
    q = np.array([mortality.male, mortality.female], dtype=float) * mortality.multiplier
    q = q * (1.0 - mortality.annual_improvement) ** (-years_before_start)
    return 1.0 - np.clip(q, 0.0, 1.0)


def cohort_residual(p0: np.ndarray, p1: np.ndarray, mortality, mid_years_before_start: float) -> tuple[
        np.ndarray, np.ndarray]:
    """Return the survivors expected from ``p0`` five years on, and the observed ``p1``, by band 1..17 (both sexes).

    A cohort in band b at the first census is in band b + 1 at the second; it survives half the
    time at the rate of band b and half at that of band b + 1. The open band 85+ also keeps its own
    survivors.
    """
    s = _survival(mortality, mid_years_before_start)
    surv = (s[:, :-1] ** 2.5) * (s[:, 1:] ** 2.5)  # band b -> b + 1
    expected = np.zeros_like(p0, dtype=float)
    expected[:, 1:] = p0[:, :-1] * surv
    expected[:, -1] += p0[:, -1] * s[:, -1] ** 5
    return expected[:, 1:].sum(axis=0), p1[:, 1:].sum(axis=0).astype(float)


def net_migration_profile(rec: MunicipalityRecord, mortality, first: int = 2010, second: int = 2015) -> tuple[
        np.ndarray, str]:
    """Yearly net migration rate by age band from the census cohort change against survival.

    For each cohort, ``m = observed / expected survivors - 1`` over the five years (the
    cohort-component residual: what births and deaths do not explain is net migration), shrunk
    toward the prefecture's rate with the weight of :data:`SHRINK_PERSONS` expected survivors
    (small villages have bands of a few people). As a yearly rate ``(1 + m) ** (1/5) - 1`` it
    belongs to the cohort that ends in band b; band b's rate is the mean of the rates of the
    cohorts ending in b and b + 1 (a cohort spends the five years half in each), the 0-4 band
    taking that of the cohort ending at 5-9 and 85+ its own.

    Returns:
        The 18 yearly rates, and the text of the file's comment.
    """
    years_before = START_YEAR - (first + second) / 2.0
    # both years with the same treatment of the age-unknown (the national IPSS propensity)
    p0, p1 = (japan.fold_85plus(japan.distribute_unknown(*japan.census_counts(rec.code, y))) for y in (first, second))
    exp_m, obs_m = cohort_residual(p0, p1, mortality, years_before)
    exp_p, obs_p = _prefecture_residual(rec.code[:2], mortality, first, second, years_before)
    ratio_p = np.divide(obs_p, exp_p, out=np.ones_like(obs_p), where=exp_p > 0)
    ratio = (obs_m + SHRINK_PERSONS * ratio_p) / (exp_m + SHRINK_PERSONS)
    rho = ratio ** (1.0 / 5.0) - 1.0  # cohorts ending in bands 1..17
    rho = np.concatenate([[rho[0]], rho])  # band 0 takes the 5-9 cohort's rate
    rate = np.empty(N_AGE_BANDS)
    rate[:-1] = 0.5 * (rho[:-1] + rho[1:])
    rate[-1] = rho[-1]
    rate = np.clip(rate, -0.5, 0.5)
    text = (f"census {first}→{second} cohort change against survival (cohort-component residual, {T_CENSUS_AGE}; "
            "survival from demography.mortality, the 2015 life table made "
            f"{abs(years_before):g} years earlier by its improvement), each cohort's 5-year ratio shrunk toward "
            f"{rec.prefecture}'s with the weight of {SHRINK_PERSONS:g} expected survivors, as yearly rates; "
            "a band's rate is the mean of the cohorts ending in it and in the next band")
    return rate, text


def _prefecture_residual(pref: str, mortality, first: int, second: int, years_before: float):
    key = (pref, first, second, round(years_before, 3), tuple(mortality.male), tuple(mortality.female),
           mortality.multiplier, mortality.annual_improvement)
    hit = _PREF_CACHE.get(key)
    if hit is not None:
        return hit
    c = japan.table("census_1980_2015_by_sex_age.parquet")
    c = c[c["code"].str[:2] == pref]
    arrays = []
    for year in (first, second):
        known = np.zeros((2, len(japan.AGE_GROUPS)))
        unknown = np.zeros(2)
        for s, sex in enumerate(("male", "female")):
            sub = c[c["sex"] == sex].groupby("age_group")[str(year)].sum()
            known[s] = sub.reindex(list(japan.AGE_GROUPS)).fillna(0).to_numpy()
            unknown[s] = sub.get(japan.UNKNOWN, 0)
        arrays.append(japan.fold_85plus(japan.distribute_unknown(known.astype(np.int64), unknown.astype(np.int64))))
    out = cohort_residual(arrays[0], arrays[1], mortality, years_before)
    _PREF_CACHE[key] = out
    return out


_PREF_CACHE: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def estimate_tfr(rec: MunicipalityRecord, age: np.ndarray) -> tuple[float, str]:
    """Estimate the total fertility rate from the child-woman ratio of the census 2015.

    ``TFR = 1.45 x CWR / CWR(Japan)``, with ``CWR`` the children 0-4 per woman aged 15-49 (age
    unknown distributed), shrunk toward the prefecture's ratio with the weight of
    :data:`SHRINK_WOMEN` women (the indirect estimate that IPSS's projection also rests on: it
    projects births with each municipality's child-woman ratio relative to the nation's).
    """
    def cwr(a: np.ndarray) -> tuple[float, float]:
        return float(a[:, 0].sum()), float(a[1, 3:10].sum())

    kids, women = cwr(age)
    nat_k, nat_w = _national_cwr()
    pk, pw = _prefecture_cwr(rec.code[:2])
    ratio = (kids + SHRINK_WOMEN * pk / pw) / (women + SHRINK_WOMEN) if (women + SHRINK_WOMEN) > 0 else pk / pw
    tfr = round(float(np.clip(TFR_JAPAN_2015 * ratio / (nat_k / nat_w), 0.5, 4.0)), 2)
    text = (f"estimate: {TFR_JAPAN_2015} (Japan, 人口動態統計 2015) times the child-woman ratio (children 0-4 per "
            f"woman 15-49, {T_CENSUS}: {kids:,.0f} / {women:,.0f} = {kids / max(women, 1):.3f}, shrunk toward "
            f"{rec.prefecture}'s {pk / pw:.3f} with the weight of {SHRINK_WOMEN:g} women) over Japan's "
            f"{nat_k / nat_w:.3f}")
    return tfr, text


def _sum_age(codes_prefix: str | None) -> np.ndarray:
    c = japan.table("census_1980_2015_by_sex_age.parquet")
    if codes_prefix is not None:
        c = c[c["code"].str[:2] == codes_prefix]
    out = np.zeros((2, len(japan.AGE_GROUPS)))
    unknown = np.zeros(2)
    for s, sex in enumerate(("male", "female")):
        sub = c[c["sex"] == sex].groupby("age_group")["2015"].sum()
        out[s] = sub.reindex(list(japan.AGE_GROUPS)).fillna(0).to_numpy()
        unknown[s] = sub.get(japan.UNKNOWN, 0)
    return japan.fold_85plus(japan.distribute_unknown(out.astype(np.int64), unknown.astype(np.int64)))


_CWR: dict[str | None, tuple[float, float]] = {}


def _national_cwr() -> tuple[float, float]:
    if None not in _CWR:
        a = _sum_age(None)
        _CWR[None] = (float(a[:, 0].sum()), float(a[1, 3:10].sum()))
    return _CWR[None]


def _prefecture_cwr(pref: str) -> tuple[float, float]:
    if pref not in _CWR:
        a = _sum_age(pref)
        _CWR[pref] = (float(a[:, 0].sum()), float(a[1, 3:10].sum()))
    return _CWR[pref]


def _mix(share65: float, theta: float) -> dict[str, float]:
    """Return the tilted national mix of household kinds.

    Elderly kinds are scaled by the local 65+ share, one-person kinds weighted by e^theta and
    three-generation (and other multi-adult) households by e^-theta.
    """
    mix = dict(NATIONAL_MIX)
    f = share65 / SHARE_65PLUS_JAPAN_2015
    elderly = mix["single_elderly"] + mix["elderly_couple"]
    rest = 1.0 - elderly
    new_elderly = min(elderly * f, 0.8)
    for k in mix:
        mix[k] *= (f if k in ("single_elderly", "elderly_couple") else (1.0 - new_elderly) / rest)
    for k in ("single_elderly", "single_adult"):
        mix[k] *= math.exp(theta)
    mix["three_generation"] *= math.exp(-theta)
    total = sum(mix.values())
    return {k: v / total for k, v in mix.items()}


def _round_shares(shares: dict[str, float], digits: int = 3) -> dict[str, float]:
    out = {k: round(v, digits) for k, v in shares.items()}
    top = max(out, key=out.get)
    out[top] = round(out[top] + 1.0 - sum(out.values()), digits)
    return out


def estimate_households(rec: MunicipalityRecord, data: dict[str, Any]) -> tuple[dict[str, float], str]:
    """Estimate the mix of household kinds from what the tables give: the households count and the ages.

    The national 2015 mix of general households by family type (:data:`NATIONAL_MIX`) has its
    elderly kinds scaled by the municipality's 65+ share against Japan's 26.6%; then one-person
    households are weighted by a factor e^θ and three-generation ones by e^-θ (θ found by bisection)
    until the households
    that the synthesis forms from the scenario's residents number the census 2015 count of table
    00100 (at the scenario's scale). So the mean household size is the census's; the split among
    kinds is the national one, tilted.
    """
    from ..core.streams import Streams
    from ..core.synthesis import synthesize_residents
    from ..params.scenario import load_scenario

    m = data["municipality"]
    age = np.array([m["age_structure"]["male"], m["age_structure"]["female"]], dtype=float)
    share65 = float(age[:, 13:].sum() / age.sum()) if age.sum() else 0.0
    scale = m["scale"]
    if rec.population * scale > MAX_SIMULATED:  # count at a scale of at most MAX_SIMULATED residents
        scale = MAX_SIMULATED / rec.population
    target = rec.households * scale

    def households(theta: float) -> float:
        trial = json.loads(json.dumps(data))
        trial["municipality"]["households"] = {"source": "trial", "shares": _round_shares(_mix(share65, theta), 4)}
        trial["municipality"]["scale"] = scale
        trial.get("demography", {}).pop("projection", None)
        scn = load_scenario(trial)
        pop = synthesize_residents(scn, Streams(1))
        return float(np.unique(pop.household[pop.live()]).size)

    lo, hi = -3.0, 3.0
    theta = 0.0
    if target > 0 and rec.population > 0:
        f_lo, f_hi = households(lo), households(hi)
        if target <= f_lo:
            theta = lo
        elif target >= f_hi:
            theta = hi
        else:
            for _ in range(14):
                theta = 0.5 * (lo + hi)
                if households(theta) < target:
                    lo = theta
                else:
                    hi = theta
            theta = 0.5 * (lo + hi)
    shares = _round_shares(_mix(share65, theta))
    size = rec.population / rec.households if rec.households else float("nan")
    text = (f"estimate: the tables give no household types (only their number). The national mix of general "
            "households by family type (平成27年国勢調査 世帯構造等基本集計: one-person 34.5%, of which 65+ 11.1 "
            "points; couple only 20.1%, of which elderly couples 11.4 points; couple and children 26.9%; lone "
            "parent 8.9%; other, incl. three generations, 9.6%), with the elderly kinds scaled by the local 65+ "
            f"share ({share65:.1%} against 26.6%), one-person households weighted by e^θ and three-generation ones by "
            f"e^-θ, θ = {theta:+.2f}, so "
            f"that the synthesized households number the census count ({T_00100}: {rec.households:,} households, "
            f"{size:.2f} persons per household)")
    return shares, text


def districts(rec: MunicipalityRecord) -> tuple[list[dict[str, Any]], str]:
    """Return the scenario's districts and their comment.

    A designated city gets its wards (table 00100 population shares and areas); any other
    municipality is one district. The position is that of the municipal office (JpGeocode; the
    model uses it only to lay districts out on the dashboard's map), for every ward too.
    """
    pos = ("lat/lon: the municipal office as geocoded in JpGeocode 0.3.1 (2019); used only to lay districts out on "
           "the dashboard's tile map")
    w = japan.wards(rec.code)
    if rec.designated and len(w):
        shares = w["population"].to_numpy(dtype=float) / float(w["population"].sum())
        rounded = np.round(shares, 4)
        rounded[np.argmax(rounded)] += round(1.0 - rounded.sum(), 4)
        out = [{"name": r.name, "area_km2": float(r.area_km2), "lat": rec.lat, "lon": rec.lon,
                "population_share": float(round(s, 4))} for r, s in zip(w.itertuples(), rounded, strict=True)]
        text = (f"the {len(out)} wards (行政区) of the city: population shares and areas from {T_00100} (ward "
                f"populations over the city's); estimate: every ward placed at the city's position ({pos}), so the "
                "tile map shows them in code order, not by geography")
        return out, text
    out = [{"name": rec.name, "area_km2": rec.area_km2, "lat": rec.lat, "lon": rec.lon, "population_share": 1.0}]
    text = (f"estimate: one district, the whole municipality (the tables have no districts, 町丁・字); area from "
            f"{T_00100}; {pos}")
    return out, text


# --------------------------------------------------------------------------------------
# the scenario
# --------------------------------------------------------------------------------------


def build(
    query: str | int,
    scale: float | None = None,
    seeds: Sequence[int] = FIT_SEEDS,
    fit: bool = True,
    progress: bool | None = None,
) -> Built:
    """Build the scenario of a municipality (see the module docstring).

    Args:
        query: Code or name (:func:`kyojosim.params.japan.lookup`).
        scale: Fraction of residents simulated (default :func:`choose_scale`).
        seeds: Seeds whose mean the migration shifts are fitted to.
        fit: Fit the migration shifts to the projection (``False`` leaves them out).
        progress: Show the fit's progress bar (``None``: when standard error is a terminal).

    Returns:
        The built scenario.

    Raises:
        MunicipalityError: For an unknown or ambiguous name, or a municipality nobody lived in at
            the census 2015.
    """
    from ..params.scenario import Mortality, load_scenario

    rec = japan.lookup(query)
    if rec.population <= 0:
        raise MunicipalityError(
            f"{rec.label()}: the census 2015 counted nobody there ({T_00100}: population 0; the whole municipality "
            "was under an evacuation order after the 2011 nuclear accident), so there is no population to simulate",
            query, [rec], "no_data")
    if scale is None:
        scale = choose_scale(rec.population)
    notes: dict[str, str] = {}
    age, how = japan.age_structure(rec.code, START_YEAR)
    notes["age_structure"] = f"{T_CENSUS}, population by sex and 5-year age ({T_CENSUS_AGE}, 2015); {how}"
    dist, notes["districts"] = districts(rec)
    mortality = Mortality()
    fukushima = not rec.ipss
    if fukushima:
        net_rate, notes["net_rate"] = net_migration_profile(rec, mortality, 2005, 2010)
        notes["net_rate"] = ("the census 2010→2015 change of 福島県 is dominated by the evacuations after the 2011 "
                             "disaster; the profile is that of 2005→2010 instead: " + notes["net_rate"])
    else:
        net_rate, notes["net_rate"] = net_migration_profile(rec, mortality, 2010, START_YEAR)
    tfr, notes["tfr"] = estimate_tfr(rec, age)
    data: dict[str, Any] = {
        "name": rec.scenario_name,
        "description": f"{rec.name}（{rec.prefecture}）: census 2015 and IPSS 2018 tables (kyojosim new)",
        "municipality": {
            "name": rec.name, "name_en": rec.name_en, "code": rec.code, "start_year": START_YEAR,
            "population": rec.population, "area_km2": rec.area_km2, "scale": scale,
            "age_structure": {"source": notes["age_structure"], "male": [int(v) for v in age[0]],
                              "female": [int(v) for v in age[1]]},
            "households": {"source": "", "shares": dict(NATIONAL_MIX)},
            "districts": dist,
        },
        "demography": {
            "fertility": {"tfr": tfr},
            "migration": {"net_rate": [round(float(v), 5) for v in net_rate]},
        },
        "simulation": {"years": HORIZON - START_YEAR, "seed": 1},
    }
    shares, notes["households"] = estimate_households(rec, data)
    data["municipality"]["households"] = {"source": notes["households"], "shares": shares}
    proj_table = None
    if not fukushima:
        proj_table = japan.projection(rec.code)
        notes["projection"] = (f"{T_IPSS}, {rec.name} ({rec.code}): total, and the shares aged 65+ and 75+ "
                               "(sums of its 5-year groups over its total)")
        data["demography"]["projection"] = {
            "source": notes["projection"],
            "years": [int(y) for y in proj_table["year"]],
            "total": [int(v) for v in proj_table["total"]],
            "share_65plus": [round(float(v), 4) for v in proj_table["share_65plus"]],
            "share_75plus": [round(float(v), 4) for v in proj_table["share_75plus"]],
        }
    built = Built(rec, data, notes, None, proj_table)
    if fit and not fukushima:
        from .calibration import fit_migration

        scn = load_scenario(data)
        result = fit_migration(scn, seeds=seeds, progress=progress, label=rec.name)
        data["demography"]["migration"]["young_shift"] = dict(result.young_shift)
        data["demography"]["migration"]["elderly_shift"] = dict(result.elderly_shift)
        data["demography"]["migration"]["oldest_shift"] = dict(result.oldest_shift)
        built.fit = result
    load_scenario(data)  # the built scenario is valid
    return built


def number(value: Any, digits: int = 5) -> str:
    """Format a number for YAML without an exponent (PyYAML reads ``2e-05`` as text): ``0.00002``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    text = f"{float(value):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _list(values: Sequence[Any]) -> str:
    return "[" + ", ".join(number(v) for v in values) + "]"


def _mapping(d: dict[int, float]) -> str:
    return "{" + ", ".join(f"{k}: {number(v)}" for k, v in sorted(d.items())) + "}"


def _q(text: str) -> str:
    """Quote a text for YAML (a JSON string is a YAML string)."""
    return json.dumps(str(text), ensure_ascii=False)


def _wrap(text: str, indent: int, width: int = 110) -> list[str]:
    import textwrap

    pad = " " * indent
    return textwrap.wrap(text, width=width - indent - 2, initial_indent=pad + "# ", subsequent_indent=pad + "# ",
                         break_on_hyphens=False, break_long_words=False)


def _source(text: str, indent: int) -> list[str]:
    import textwrap

    pad = " " * indent
    lines = textwrap.wrap(text, width=108 - indent, break_on_hyphens=False, break_long_words=False)
    return [f"{pad}source: >-"] + [f"{pad}  {ln}" for ln in lines]


def render(built: Built, command: str | None = None) -> str:
    """Return the scenario as a commented YAML file: every figure names its table."""
    from .. import __version__

    rec, d, notes = built.record, built.data, built.notes
    m = d["municipality"]
    mig = d["demography"]["migration"]
    cmd = command or f"kyojosim new {rec.code}"
    out: list[str] = []
    out += _wrap(f"{rec.name} ({rec.prefecture}, {rec.code}): a scenario written by `{cmd}` (kyojosim "
                 f"{__version__}) from the census and IPSS tables shipped with kyojosim "
                 "(src/kyojosim/data/japan/README.md). Every figure names its table; what the tables do not give is "
                 "marked estimate: (with how it was made), assumption: or setting:. The sections left out (residents, "
                 "communities, network, ICT, needs, helping, trust, interventions) take the national defaults of "
                 "docs/ODD.md §7.17; interventions are all off.", 0)
    key = cache_key(rec.code, m["scale"], built.fit.seeds if built.fit else FIT_SEEDS)
    out.append(f"# kyojosim-new: {key} (the tables, the builder and the settings this file was built from)")
    out.append(f"name: {d['name']}")
    out.append(f"description: {_q(d['description'])}")
    out.append("municipality:")
    out.append(f"  name: {_q(m['name'])}")
    out.append(f"  name_en: {_q(m['name_en'])}            # from the official kana {rec.kana} "
               "(総務省 全国地方公共団体コード)")
    out.append(f"  code: \"{m['code']}\"             # 全国地方公共団体コード"
               + (f" (census table: {rec.census_code})" if rec.census_code != rec.code else ""))
    out.append(f"  start_year: {m['start_year']}         # the census year of the tables (1 October 2015)")
    out.append(f"  population: {m['population']}       # {T_00100}: population on 1 October 2015")
    out.append(f"  area_km2: {m['area_km2']}          # {T_00100}")
    out.append(f"  scale: {m['scale']}               # setting: one simulated resident for {1 / m['scale']:g} "
               f"(at most about {MAX_SIMULATED:,} simulated); the migration shifts below were fitted at this scale")
    out.append("  age_structure:")
    out += _source(m["age_structure"]["source"], 4)
    out.append(f"    male:   {_list(m['age_structure']['male'])}")
    out.append(f"    female: {_list(m['age_structure']['female'])}")
    out.append("  households:")
    out += _source(m["households"]["source"], 4)
    out.append("    shares:")
    for k in HOUSEHOLD_KINDS:
        out.append(f"      {k}: {number(m['households']['shares'][k], 4)}")
    out += _wrap(notes["districts"], 2)
    out.append("  districts:")
    for dd in m["districts"]:
        out.append(f"    - {{name: {_q(dd['name'])}, area_km2: {number(dd['area_km2'], 2)}, lat: {number(dd['lat'])}, "
                   f"lon: {number(dd['lon'])}, population_share: {number(dd['population_share'], 4)}}}")
    out.append("demography:")
    out.append("  fertility:")
    out += _wrap(notes["tfr"], 4)
    out.append(f"    tfr: {number(d['demography']['fertility']['tfr'], 2)}")
    out.append("  migration:")
    out += _wrap("net_rate: yearly net migration by age band (0-4 … 85+), " + notes["net_rate"], 4)
    out.append(f"    net_rate: {_list(mig['net_rate'])}")
    if "young_shift" in mig:
        fit = built.fit
        worst = fit.table
        out += _wrap(
            f"young_shift (ages 15-39), elderly_shift (65+) and oldest_shift (75+, on top of elderly_shift) for each "
            f"5-year period: fitted by kyojosim.runs.calibration.fit_migration to the projection below (mean of seeds "
            f"{', '.join(map(str, fit.seeds))} at this scale; total and shares within 0.5% where reachable). The "
            f"fitted runs: total within {100 * worst['total_error'].abs().max():.1f}%, 65+ share within "
            f"{100 * worst['share_65plus_diff'].abs().max():.1f} points and 75+ share within "
            f"{100 * worst['share_75plus_diff'].abs().max():.1f} points of the projection, 2015-2045", 4)
        out.append(f"    young_shift: {_mapping(mig['young_shift'])}")
        out.append(f"    elderly_shift: {_mapping(mig['elderly_shift'])}")
        out.append(f"    oldest_shift: {_mapping(mig['oldest_shift'])}")
    if "projection" in d["demography"]:
        p = d["demography"]["projection"]
        out.append("  projection:")
        out += _source(p["source"], 4)
        out.append(f"    years: {_list(p['years'])}")
        out.append(f"    total: {_list(p['total'])}")
        out.append(f"    share_65plus: {_list(p['share_65plus'])}")
        out.append(f"    share_75plus: {_list(p['share_75plus'])}")
    else:
        out += _wrap("no projection: " + japan.no_projection_reason(rec) + ". The scenario therefore has no "
                     "projection target and no fitted migration shifts: net_rate alone sets migration, from the "
                     "census 2005→2010 profile; `kyojosim projection` cannot check it.", 2)
    out.append("simulation:")
    out.append(f"  years: {d['simulation']['years']}             # setting: 2015 to 2045, the projection's horizon")
    out.append(f"  seed: {d['simulation']['seed']}               # setting: any seed; a seed gives the same run")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------
# files and the cache
# --------------------------------------------------------------------------------------


def cache_key(code: str, scale: float, seeds: Sequence[int]) -> str:
    """Return the key of a built file: the tables' checksums, the builder's version, the scale and the seeds.

    :data:`BUILDER_VERSION` (``kyojosim.params.japan.BUILDER_VERSION``) must change whenever :func:`build`
    would write a different file for the same tables.
    """
    return scenario_key(code, scale, tuple(seeds))


def write(built: Built, path: str | Path, command: str | None = None) -> Path:
    """Write the scenario file atomically; return its path."""
    from ..atomic import write_text

    path = Path(path)
    write_text(path, built.text(command))
    return path


def cache_dir() -> Path:
    """Return the folder of scenarios built on the fly: ``$KYOJOSIM_CACHE_DIR`` or the user cache folder.

    The user cache folder is ``platformdirs.user_cache_dir("kyojosim")/scenarios`` (on Linux
    ``~/.cache/kyojosim/scenarios``).
    """
    env = os.environ.get("KYOJOSIM_CACHE_DIR")
    if env:
        return Path(env).expanduser() / "scenarios"
    import platformdirs

    return Path(platformdirs.user_cache_dir("kyojosim")) / "scenarios"


def cached_path(rec: MunicipalityRecord, scale: float | None = None) -> Path:
    """Return where :func:`cached_scenario` keeps the scenario of ``rec`` at ``scale`` (``None``: the default scale)."""
    slug = rec.name_en.rsplit(" ", 1)[0].lower().replace(" ", "-")
    if scale is None or scale == choose_scale(rec.population):
        return cache_dir() / f"{slug}-{rec.code}.yaml"
    return cache_dir() / f"{slug}-{rec.code}-scale{number(scale, 8)}.yaml"


def cached_scenario(query: str | int, scale: float | None = None, progress: bool | None = None,
                    quiet: bool = False) -> tuple[Path, bool]:
    """Return the scenario file of a municipality at a scale, building it into :func:`cache_dir` if needed.

    A cached file is reused while its key (tables, builder version, scale, seeds) is current; else
    it is built (:func:`build`) and written atomically, so that processes building the same file at
    once (two workers of a sweep) leave one whole file.

    Args:
        query: Code or name (:func:`kyojosim.params.japan.lookup`).
        scale: Fraction of residents simulated (``None``: :func:`choose_scale`); the migration is fitted at it.
        progress: Show the fit's progress bar (``None``: when standard error is a terminal).
        quiet: Do not say where the file is built.

    Returns:
        The file, and whether it was built now (``False``: taken from the cache).

    Raises:
        MunicipalityError: For an unknown or ambiguous municipality, or one nobody lived in at the census 2015.
    """
    rec = japan.lookup(query)
    scale = choose_scale(rec.population) if scale is None else float(scale)
    key = cache_key(rec.code, scale, FIT_SEEDS)
    path = cached_path(rec, scale)
    if path.is_file():
        try:
            head = path.read_text(encoding="utf-8").splitlines()[:12]
        except (OSError, UnicodeDecodeError):
            head = []
        if any(line.startswith(f"# kyojosim-new: {key}") for line in head):
            return path, False
    if not quiet:
        print(f"building the scenario of {rec.label()} from the census and IPSS tables into {path} "
              f"(kept for later runs; set KYOJOSIM_CACHE_DIR to keep it elsewhere)", file=sys.stderr, flush=True)
    built = build(rec.code, scale=scale, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write(built, path, f"kyojosim new {rec.code}" + ("" if path.name == cached_path(rec).name
                                                           else f" --scale {number(scale, 8)}")), True


def scenario_path(query: str | int, progress: bool | None = None, quiet: bool = False,
                  scale: float | None = None) -> Path:
    """Return the scenario file of a municipality, building it into :func:`cache_dir` the first time.

    A cached file is reused while its key (tables, builder version, scale, seeds) is current
    (:func:`cached_scenario`).

    Raises:
        MunicipalityError: For an unknown or ambiguous municipality.
    """
    return cached_scenario(query, scale, progress, quiet)[0]


def run_scenario(recipe: Any) -> tuple[Any, float]:
    """Return the scenario of a run of an experiment that names municipalities, and the seconds spent building it.

    The municipality's scenario is taken from the cache or built there at the run's scale
    (:func:`cached_scenario`; what a sweep's worker does before it runs the model), then the run's
    overrides are applied (:meth:`kyojosim.params.experiment.MunicipalScenario.apply`).

    Args:
        recipe: The run's :class:`~kyojosim.params.experiment.MunicipalScenario`.

    Returns:
        The resolved scenario, and the seconds spent building it (0 when it was in the cache).
    """
    import time

    from ..params.scenario import load_scenario

    t0 = time.perf_counter()
    path, built = cached_scenario(recipe.code, recipe.scale, progress=False, quiet=True)
    seconds = time.perf_counter() - t0 if built else 0.0
    return recipe.apply(load_scenario(path)), seconds


def municipality_scenario(name: str) -> Path | None:
    """Return the scenario file of the municipality ``name`` names, built and cached (:func:`scenario_path`).

    How :func:`kyojosim.params.scenario.find_scenario` accepts a municipality wherever a scenario is
    expected, after files and bundled names. An unknown plain-ASCII word returns ``None`` (it may
    be a misspelt bundled scenario, reported as such); any other failure is raised.

    Raises:
        MunicipalityError: For an ambiguous name, a ward, a prefecture, an unknown name in Japanese
            or an unknown code.
    """
    try:
        japan.lookup(name)
    except MunicipalityError as exc:
        if exc.reason == "unknown" and name.isascii() and not name.strip().isdigit():
            return None
        raise
    return scenario_path(name)


__all__ = ["BUILDER_VERSION", "FIT_SEEDS", "Built", "build", "cache_dir", "cache_key", "cached_path", "cached_scenario",
           "choose_scale", "districts", "estimate_households", "estimate_tfr", "municipality_scenario",
           "net_migration_profile", "number", "render", "run_scenario", "scenario_path", "write"]
