"""Scenario files: the typed, immutable description of one municipality and one run.

A scenario is a YAML file with the sections ``municipality``, ``residents``,
``demography``, ``communities``, ``network``, ``ict`` and ``simulation``. A *variant*
names a ``base`` scenario and overrides a few keys. Overrides also come from the CLI
(``--set simulation.seed=3``) and from Python keywords (``simulation__seed=3`` or a mapping
``{"simulation.seed": 3}``).

Every default below cites its source (``source=``), states ``assumption:`` with a
reason, or is a ``setting:`` of the run or of a policy that the user chooses rather than a
belief about the municipality. Every ``assumption:`` also gives the range of values the
evidence allows (``plausible=`` or ``plausible_factor=``) and its ``basis``;
:func:`assumption_register` lists them, and ``docs/ODD.md`` lists every parameter.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from ..constants import CATEGORIES, HOUSEHOLD_KINDS, N_AGE_BANDS, OFFLINE_COMMUNITIES
from ..distribution import data_dir
from ..errors import ScenarioError, Summary
from .schema import Context, build, check_shares, iter_params, param, resolve_path, to_plain
from .yaml_input import MAX_DEPTH, MAX_FILE_BYTES, LimitError, describe_error, load_text

SCENARIO_DIR = data_dir("scenarios")
"""Where the bundled scenario files are: package data, ``kyojosim/data/scenarios/`` (found with
:mod:`importlib.resources`, so from a wheel as from a checkout)."""

_N = N_AGE_BANDS

MAX_POPULATION = 50_000_000
"""Largest census population of a scenario (Japan's largest municipality, Yokohama, has 3.7 million)."""
MAX_SIMULATED_RESIDENTS = 5_000_000
"""Most residents simulated in one run (``population × scale``, rounded): a simulated resident takes about
1 kB of memory (its columns, ties and records), so a run of 5 million needs about 5 GB."""
BYTES_PER_RESIDENT = 1000
"""Memory of one simulated resident, roughly (benchmarks/bench_model.py prints the columns and ties)."""
MAX_NAME_LENGTH = 100
"""Longest scenario name (it names the default results folder)."""
_UNSAFE_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")


def check_name(value: str, ctx: Context) -> str:
    """Check a name that names a results folder: short, no slash, backslash or control character, no leading dot."""
    if len(value) > MAX_NAME_LENGTH:
        raise ctx.error(Summary(f"a text of {len(value):,} characters"),
                        f"allowed: at most {MAX_NAME_LENGTH} characters (it names the results folder)", "too long")
    if _UNSAFE_NAME.search(value) or value.startswith("."):
        raise ctx.error(value, "allowed: a name without / or \\ or control characters that does not start with a "
                        "dot (it names the results folder)", "not a safe name")
    return value


def safe_name(text: str) -> str:
    """Return ``text`` made a safe name (:func:`check_name`): unsafe characters as ``_``, no leading dot, cut."""
    return _UNSAFE_NAME.sub("_", text).lstrip(".")[:MAX_NAME_LENGTH] or "scenario"
_WP = "MIC White Paper on Information and Communications 2018 (平成30年版情報通信白書)"

# --------------------------------------------------------------------------------------
# municipality
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AgeStructure:
    """Population by 5-year age band (0-4 ... 80-84, 85+) and sex at the start year."""

    male: tuple[float, ...] = param(source="scenario file", lo=0, length=_N, unit="persons")
    female: tuple[float, ...] = param(source="scenario file", lo=0, length=_N, unit="persons")
    source: str = param("", source="scenario file", doc="citation of the table")


@dataclass(frozen=True, kw_only=True)
class HouseholdComposition:
    """Shares of households by kind, and the mean household size."""

    shares: dict[str, float] = param(source="scenario file", lo=0, hi=1, keys=HOUSEHOLD_KINDS, sums_to_one=True)
    source: str = param("", source="scenario file", doc="citation of the table")
    live_with_parents_18_29: float = param(
        0.45,
        source="assumption: census 2015: about half of the never married in their twenties live with parents; "
        "45% of all residents 18-29 (the married do not)",
        lo=0,
        hi=1,
        doc="share of residents aged 18-29 placed as children in their parents' household at the start",
        plausible=(0.3, 0.6),
        basis="most of the never married in their twenties live with parents (census 2015), the married do not; "
        "the unmarried share of 18-29 is about two thirds",
    )


@dataclass(frozen=True, kw_only=True)
class District:
    """A district (地区) of the municipality: where residents live and neighbours are."""

    name: str = param(source="scenario file")
    area_km2: float = param(source="scenario file", lo=0, lo_open=True, unit="km²")
    lat: float = param(source="scenario file", lo=-90, hi=90, unit="degrees")
    lon: float = param(source="scenario file", lo=-180, hi=180, unit="degrees")
    population_share: float = param(source="scenario file", lo=0, hi=1)


@dataclass(frozen=True, kw_only=True)
class Municipality:
    """The municipality at the start year."""

    name: str = param(source="scenario file", doc="name in Japanese")
    name_en: str = param(source="scenario file", doc="name in English")
    code: str = param(source="scenario file", doc="全国地方公共団体コード (5 digits)")
    start_year: int = param(source="scenario file", lo=1900, hi=2100)
    population: int = param(source="scenario file", lo=1, hi=MAX_POPULATION, unit="persons",
                            doc="census population at start_year",
                            range_note="no municipality of Japan has more than 4 million residents")
    area_km2: float = param(source="scenario file", lo=0, lo_open=True, unit="km²")
    scale: float = param(
        1.0,
        source="setting: full scale; a smaller share simulates a proportional sample of residents",
        lo=0,
        hi=1,
        lo_open=True,
        doc="fraction of residents simulated (each simulated resident stands for 1/scale people)",
    )
    age_structure: AgeStructure = param(source="scenario file")
    households: HouseholdComposition = param(source="scenario file")
    districts: tuple[District, ...] = param(source="scenario file")

    def check(self, ctx: Context) -> None:
        """Check the districts, the number of simulated residents and that the age table has residents.

        District shares must sum to 1. ``population × scale`` (rounded) is the number of residents
        simulated: at least one, at most :data:`MAX_SIMULATED_RESIDENTS` (memory). The age table is
        rescaled to the population, so it must hold someone.
        """
        if not self.districts:
            raise ctx.child("districts").error([], "allowed: at least one district", "empty")
        check_shares(tuple(d.population_share for d in self.districts), ctx.child("districts[*].population_share"))
        simulated = round(self.population * self.scale)
        given = Summary(f"population {self.population:,} × scale {self.scale:g} = {simulated:,} simulated residents")
        if simulated > MAX_SIMULATED_RESIDENTS:
            gb = MAX_SIMULATED_RESIDENTS * BYTES_PER_RESIDENT / 1e9
            raise ctx.child("scale").error(
                given, f"allowed: at most {MAX_SIMULATED_RESIDENTS:,} simulated residents (each takes about "
                f"{BYTES_PER_RESIDENT // 1000} kB of memory: {gb:.0f} GB in all); a smaller scale simulates a "
                "proportional sample", "too many residents")
        if simulated < 1:
            raise ctx.child("scale").error(given, "allowed: at least one simulated resident (population × scale "
                                           ">= 0.5)", "no resident")
        if sum(self.age_structure.male) + sum(self.age_structure.female) <= 0:
            raise ctx.child("age_structure").error(
                Summary("no resident in any age band"), f"allowed: a table with residents (it is rescaled to the "
                f"population, {self.population:,})", "empty age structure")


# --------------------------------------------------------------------------------------
# residents
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Residents:
    """Traits of residents by age band (0-4 ... 85+)."""

    employment_rate_male: tuple[float, ...] = param(
        (0, 0, 0, 0.15, 0.70, 0.92, 0.94, 0.94, 0.94, 0.93, 0.92, 0.90, 0.80, 0.53, 0.32, 0.18, 0.08, 0.03),
        source="Statistics Bureau 労働力調査 2015 annual average, employment rate by age and sex (rounded)",
        lo=0,
        hi=1,
        length=_N,
    )
    employment_rate_female: tuple[float, ...] = param(
        (0, 0, 0, 0.15, 0.68, 0.74, 0.69, 0.70, 0.74, 0.76, 0.73, 0.66, 0.50, 0.32, 0.17, 0.09, 0.04, 0.01),
        source="Statistics Bureau 労働力調査 2015 annual average, employment rate by age and sex (rounded)",
        lo=0,
        hi=1,
        length=_N,
    )
    driving_rate: tuple[float, ...] = param(
        (0, 0, 0, 0.20, 0.75, 0.85, 0.88, 0.88, 0.88, 0.87, 0.85, 0.82, 0.78, 0.70, 0.58, 0.45, 0.28, 0.10),
        source="National Police Agency 運転免許統計 2015: licence holders per population by age (both sexes)",
        lo=0,
        hi=1,
        length=_N,
    )
    frailty_rate: tuple[float, ...] = param(
        (0.005,) * 13 + (0.03, 0.06, 0.13, 0.27, 0.59),
        source="MHLW 介護給付費等実態調査 2015: long-term-care certification rate by age (65-69 3%, 70-74 6%, "
        "75-79 13%, 80-84 27%, 85+ 59%); assumption: 0.5% under 65 (disability)",
        lo=0,
        hi=1,
        length=_N,
        doc="share who are frail (need care) at the start",
        plausible_factor=(0.8, 1.25),
        basis="the national rates are published; certification rates of prefectures differ from them by up to "
        "about a fifth, and the 0.5% under 65 is a guess",
    )
    frailty_onset_rate: tuple[float, ...] = param(
        (0.001,) * 13 + (0.008, 0.016, 0.035, 0.07, 0.14),
        source="assumption: yearly onset chosen so that the frail share by age stays near frailty_rate "
        "under the mortality of the scenario (care certification rates rise steeply with age)",
        lo=0,
        hi=1,
        length=_N,
        doc="yearly probability that a non-frail resident becomes frail",
        plausible_factor=(0.5, 1.5),
        basis="set by eye, not fitted: half to one and a half times keeps the frail share by age within the spread "
        "of certification rates between prefectures",
    )
    frail_mortality_ratio: float = param(
        2.0,
        source="assumption: certified care recipients die at about twice the rate of peers (cohort studies of "
        "Japanese older adults report hazard ratios of 1.5-3)",
        lo=1,
        hi=10,
        plausible=(1.5, 3.0),
        basis="hazard ratios of death for certified care recipients in cohort studies of Japanese older adults",
    )


# --------------------------------------------------------------------------------------
# demography
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Mortality:
    """Yearly probability of dying by age band and sex, improving over time."""

    male: tuple[float, ...] = param(
        (0.000561, 0.000092, 0.000120, 0.000286, 0.000472, 0.000531, 0.000643, 0.000884, 0.001328, 0.002075,
         0.003267, 0.005171, 0.008272, 0.012960, 0.021569, 0.038087, 0.066079, 0.1386),
        source="MHLW 第22回完全生命表 (2015), male: 5-year death probabilities 5qx (estimated to reproduce the "
        "published e0 80.75 and survival to 65/75/90 of the 2015 tables) as yearly ones 1-(1-5qx)^(1/5); 85+ is "
        "the yearly rate of the open band (85-89 and 90+ weighted 2:1)",
        lo=0,
        hi=1,
        length=_N,
    )
    female: tuple[float, ...] = param(
        (0.000523, 0.000080, 0.000092, 0.000164, 0.000248, 0.000294, 0.000370, 0.000519, 0.000779, 0.001175,
         0.001708, 0.002454, 0.003537, 0.005281, 0.008965, 0.016673, 0.032100, 0.1086),
        source="MHLW 第22回完全生命表 (2015), female: 5-year death probabilities 5qx (estimated to reproduce the "
        "published e0 86.99 and survival to 65/75/90 of the 2015 tables) as yearly ones 1-(1-5qx)^(1/5); 85+ is "
        "the yearly rate of the open band (85-89 and 90+ weighted 3:2)",
        lo=0,
        hi=1,
        length=_N,
    )
    annual_improvement: float = param(
        0.008,
        source="IPSS 日本の将来推計人口 (平成29年推計), medium mortality: life expectancy 80.75/86.98 (2015) to "
        "84.95/91.35 (2065), about 0.8% lower death rates each year",
        lo=-0.1,
        hi=0.1,
    )
    multiplier: float = param(
        1.0, source="assumption: the municipality dies at the national rates unless the scenario says otherwise", lo=0,
        hi=5, lo_open=True, plausible=(0.85, 1.15),
        basis="standardised mortality ratios of municipalities (人口動態保健所・市区町村別統計) lie mostly between "
        "85 and 115",
    )


@dataclass(frozen=True, kw_only=True)
class Fertility:
    """Births by age of mother (15-19 ... 45-49)."""

    tfr: float = param(1.45, source="MHLW 人口動態統計 2015: total fertility rate of Japan 1.45", lo=0, hi=6)
    age_pattern: tuple[float, ...] = param(
        (0.014, 0.101, 0.293, 0.358, 0.194, 0.039, 0.001),
        source="MHLW 人口動態統計 2015: age-specific fertility rates by 5-year age of mother, as shares of the TFR",
        lo=0,
        hi=1,
        length=7,
        sums_to_one=True,
    )
    sex_ratio_at_birth: float = param(
        1.05, source="MHLW 人口動態統計 2015: 105 boys per 100 girls", lo=0.8, hi=1.3, unit="boys per girl"
    )


@dataclass(frozen=True, kw_only=True)
class Migration:
    """Net migration by age band (the IPSS cohort-component method's 純移動率), yearly.

    A negative rate is a yearly probability of moving out; a positive rate brings in that many
    newcomers per resident of the band each year. Family units (head, spouse, children under 15)
    move together; newcomers arrive as households. The rate of a year is
    ``net_rate * level[p] + young_shift[p]`` (ages 15-39) ``+ elderly_shift[p]`` (ages 65+)
    ``+ oldest_shift[p]`` (ages 75+), where ``p`` is the start of the 5-year period containing the year.
    """

    net_rate: tuple[float, ...] = param(
        (0.0,) * _N, source="scenario file", lo=-0.5, hi=0.5, length=_N, doc="yearly net migration rate by age band"
    )
    level: dict[int, float] = param(
        {},
        source="setting: the estimated age profile as it is (1) unless a scenario scales it",
        lo=0,
        hi=10,
        doc="multiplier of net_rate for the 5-year period starting in each year (missing years: 1)",
    )
    young_shift: dict[int, float] = param(
        {},
        source="scenario file: fitted to the projection by experiments/calibration/fit_demography.py",
        lo=-0.3,
        hi=0.3,
        doc="yearly rate added for ages 15-39 in the 5-year period starting in each year (missing: 0)",
    )
    elderly_shift: dict[int, float] = param(
        {},
        source="scenario file: fitted to the projection by experiments/calibration/fit_demography.py",
        lo=-0.3,
        hi=0.3,
        doc="yearly rate added for ages 65+ in the 5-year period starting in each year (missing: 0)",
    )
    oldest_shift: dict[int, float] = param(
        {},
        source="scenario file: fitted to the projection's 75+ share by kyojosim.runs.calibration.fit_migration",
        lo=-0.3,
        hi=0.3,
        doc="yearly rate added for ages 75+, on top of elderly_shift, in the 5-year period starting in each year "
        "(missing: 0)",
    )
    couple_share: float = param(
        0.5,
        source="assumption: about half of the arriving men and women aged 25-64 come as couples "
        "(住民基本台帳人口移動報告: most movers are young and single); arriving residents 65+ likewise",
        lo=0,
        hi=1,
        doc="share of arriving men and women (25-64, and 65+) paired into couples; the others arrive alone",
        plausible=(0.25, 0.75),
        basis="movers are mostly young singles, with couples and families a large minority; the moves by household "
        "kind are not published by municipality",
    )


@dataclass(frozen=True, kw_only=True)
class HouseholdChange:
    """How households change besides births, deaths and moves."""

    leave_home_rate: float = param(
        0.12,
        source="assumption: about half of adult children 18-29 living with parents set up their own household "
        "within six years (national 世帯動態調査 2014 reports leaving home mostly in the twenties)",
        lo=0,
        hi=1,
        doc="yearly probability that a child aged 18-39 living with parents forms a household in town",
        plausible=(0.06, 0.2),
        basis="half of those living with parents leaving within 3 to 12 years spans the leaving ages of "
        "世帯動態調査 (mostly in the twenties)",
    )
    union_rate: float = param(
        0.06,
        source="assumption: yearly probability that a single adult 25-44 forms a couple, giving the census "
        "share of couples by age roughly stable",
        lo=0,
        hi=1,
        plausible=(0.03, 0.1),
        basis="first-marriage rates of unmarried adults 25-44 are a few percent to about a tenth a year "
        "(人口動態統計)",
    )
    move_in_with_family_rate: float = param(
        0.03,
        source="assumption: frail single elderly move in with a child's family at a few percent a year "
        "(the share of 65+ living with children keeps falling, 国民生活基礎調査)",
        lo=0,
        hi=1,
        doc="yearly probability that a frail single elderly resident moves in with a family household",
        plausible=(0.01, 0.08),
        basis="the share of 65+ living with children falls slowly (国民生活基礎調査); moves of the frail who live "
        "alone are a few percent a year",
    )


@dataclass(frozen=True, kw_only=True)
class Projection:
    """A published projection the run is checked against (not an input of the model)."""

    years: tuple[int, ...] = param(source="scenario file", lo=1900, hi=2200)
    total: tuple[float, ...] = param(source="scenario file", lo=0, unit="persons")
    share_65plus: tuple[float, ...] = param(source="scenario file", lo=0, hi=1)
    share_75plus: tuple[float, ...] | None = param(
        None, source="scenario file: the projection's share aged 75+, where published", lo=0, hi=1)
    source: str = param("", source="scenario file")

    def check(self, ctx: Context) -> None:
        """Check that the lists have the same length and the years increase."""
        lengths = {"years": len(self.years), "total": len(self.total), "share_65plus": len(self.share_65plus)}
        if self.share_75plus is not None:
            lengths["share_75plus"] = len(self.share_75plus)
        if len(set(lengths.values())) > 1:
            raise ctx.error(lengths, f"allowed: {', '.join(lengths)} of the same length", "lengths differ")
        for i in range(1, len(self.years)):
            if self.years[i] <= self.years[i - 1]:
                raise ctx.child("years").child(i).error(
                    self.years[i], f"allowed: a year after {self.years[i - 1]} (the years in increasing order, each "
                    "once)", "years out of order" if self.years[i] < self.years[i - 1] else "year repeated")


@dataclass(frozen=True, kw_only=True)
class Demography:
    """Ageing, deaths, births, migration and household change, applied once a year."""

    mortality: Mortality = param(Mortality, source="see keys")
    fertility: Fertility = param(Fertility, source="see keys")
    migration: Migration = param(Migration, source="see keys")
    household_change: HouseholdChange = param(HouseholdChange, source="see keys")
    projection: Projection | None = param(None, source="scenario file: the IPSS projection, if published")
    max_age: int = param(
        105,
        source="assumption: nobody survives past 105 (the oldest age drawn in the open 85+ band, and the age at which "
        "death is certain)",
        lo=85,
        hi=120,
        unit="years",
        plausible=(100, 110),
        basis="few Japanese live past 105 (census 2015: about 60,000 centenarians, most of them under 105)",
    )
    mean_age_85plus: float = param(
        89.0,
        source="assumption: ages within the open 85+ band fall off geometrically with a mean of about 89, as in the "
        "2015 census",
        lo=85,
        hi=100,
        lo_open=True,
        unit="years",
        doc="mean age drawn for residents and newcomers of the 85+ band (85 + a geometric number of years, at most "
        "max_age)",
        plausible=(88.0, 90.0),
        basis="the mean age of the 85+ population in the 2015 census is about 89 and rises slowly with longevity",
    )


# --------------------------------------------------------------------------------------
# communities, network, ICT
# --------------------------------------------------------------------------------------

_MEMBERSHIP = {
    # n of Japanese respondents belonging to each kind (of about 1,000 aged 20-69), 図表4-3-3-2
    "neighbourhood_association": 0.212,
    "pta": 0.046,
    "agricultural_trade_group": 0.019,
    "labour_union": 0.042,
    "coop_consumer_group": 0.025,
    "volunteer_group": 0.046,
    "civic_movement": 0.008,
    "religious_group": 0.018,
    "alumni": 0.139,
    "workplace_friends": 0.158,
}
_SNS_USE = {
    "neighbourhood_association": 0.160,
    "pta": 0.413,
    "agricultural_trade_group": 0.211,
    "labour_union": 0.238,
    "coop_consumer_group": 0.160,
    "volunteer_group": 0.413,
    "civic_movement": 0.250,
    "religious_group": 0.111,
    "alumni": 0.439,
    "workplace_friends": 0.487,
}


@dataclass(frozen=True, kw_only=True)
class Communities:
    """Membership of real-world and online communities."""

    membership_rate: dict[str, float] = param(
        _MEMBERSHIP,
        source=f"{_WP} 図表4-3-3-2: n of Japanese respondents in each kind of community / about 1,000 "
        "respondents aged 20-69 (relative rates; the overall level is fitted to participation_year)",
        lo=0,
        hi=1,
        keys=OFFLINE_COMMUNITIES,
    )
    sns_use_rate: dict[str, float] = param(
        _SNS_USE,
        source=f"{_WP} 図表4-3-3-2 (Japan): members who use social media to keep in touch in the community",
        lo=0,
        hi=1,
        keys=OFFLINE_COMMUNITIES,
    )
    participation_year: Literal[2017, 2008] = param(
        2017,
        source=f"{_WP} 図表4-3-5-2 (community_participation_all_ages.csv): the row the population reproduces",
    )
    survey_ages: tuple[int, ...] = param(
        (20, 79),
        source=f"{_WP} 図表4-3-5-2: the survey asked people in their 20s to 70s",
        lo=0,
        hi=120,
        length=2,
        doc="age range whose participation mix is fitted to the survey row",
    )
    offline_age_profile: tuple[float, ...] = param(
        (0.45, 0.65, 0.75, 0.75, 0.80, 0.75, 0.55),
        source="assumption: share of residents in at least one real-world community by age group (18-29, 30s, 40s, "
        "50s, 60s, 70s, 80+), multiplied by one factor fitted so that residents 20-79 take part as the "
        f"participation_year row of {_WP} 図表4-3-5-2 says (offline only + both; the survey has no age breakdown): "
        "lowest in the twenties, rising with household and children (PTA; volunteering peaks at 40-44, 総務省 "
        "社会生活基本調査 2016), highest at 60-74 (group activity of people 60+ 59.2% in 2008, 内閣府 "
        "高齢者の地域社会への参加に関する意識調査), lower from 80 (unwilling to take part 28.0% at 60-64, 59.4% at "
        "80+, 内閣府 2003); the same shape in 2008 and 2017",
        lo=0,
        hi=1,
        length=7,
        doc="relative share of residents in a real-world community by age group 18-29, 30s ... 70s, 80+ (scaled "
        "to the survey row; §5.4)",
        plausible_factor=(0.85, 1.15),
        basis="no national table of membership by decade exists: each value is uncertain by about ±0.10; a factor "
        "common to all is absorbed by the fit to the survey row, so only the shape matters",
    )
    online_propensity_2008: tuple[float, ...] = param(
        (0.0, 0.0, 0.45, 0.897, 0.9, 0.885, 0.869, 0.839, 0.808, 0.727, 0.593, 0.458, 0.348, 0.256, 0.168, 0.067,
         0.067, 0.067),
        source="総務省統計局 社会生活基本調査 2006 (平成18年): internet use outside work and school in the year, by "
        "5-year age group (15-19 89.7%, 20-24 90.0, 25-29 88.5, 30-34 86.9, 35-39 83.9, 40-44 80.8, 45-49 72.7, "
        "50-54 59.3, 55-59 45.8, 60-64 34.8, 65-69 25.6, 70-74 16.8, 75+ 6.7), the survey with 5-year groups "
        "nearest 2008; 10-14 half the 15-19 rate as in the national smartphone path, under 10 none",
        lo=0,
        hi=1,
        length=_N,
        doc="propensity to take part in online communities by age band when participation_year is 2008 (with 2017 "
        "the propensity is ict.sns_rate): its odds are scaled by a factor fitted to the survey row (§5.4)",
    )
    plaza_share: float = param(
        0.35,
        source=f"{_WP} 図表4-3-3-1: bulletin boards and review sites have about half the users of LINE "
        "(341-564 vs 698 of the respondents); assumption: 35% of online participants use plaza-type boards",
        lo=0,
        hi=1,
        plausible=(0.2, 0.5),
        basis="図表4-3-3-1: boards and review sites have half to four fifths of LINE's users, but fewer take part "
        "in them than read them",
    )
    local_sns_share: float = param(
        0.0,
        source="setting: no local SNS before an intervention introduces one",
        lo=0,
        hi=1,
        doc="share of social-media users on the local SNS at the start",
    )
    turnover: float = param(
        0.1,
        source="assumption: a member leaves a real-world community with probability 0.1 a year besides losing "
        "eligibility (moves within town, loss of interest); joining balances it at the synthesis level",
        lo=0,
        hi=1,
        plausible=(0.05, 0.2),
        basis="members staying 5 to 20 years on average spans neighbourhood associations (long) and circles (a few "
        "years)",
    )
    # fitted: experiments/validation/fit_participation.py (offline_trend, online_join_rate) on 2026-12-01:
    #   ikoma scale 0.02, seeds [1, 2], objective 5.52, max gap 2.0 points
    offline_trend: float = param(
        -0.12,
        source=f"fitted to {_WP} 図表4-3-5-2 (2008 -> 2017 participation mix) by "
        "experiments/validation/fit_participation.py: yearly relative change of the propensity to join real-world "
        "communities (decline of 自治会 and other groups)",
        lo=-0.5,
        hi=0.5,
    )
    trend_end_year: int | None = param(
        2017,
        source=f"{_WP} 図表4-3-5-2: the decline is observed between the 2008 and 2017 surveys; assumption: it is not "
        "extrapolated beyond the last survey year (null: every year)",
        lo=1900,
        hi=2200,
        plausible=(2017, 2045),
        basis="from no decline after the last survey (2017) to the decline of 2008-2017 going on to the end of the "
        "projection horizon (2045)",
    )
    online_join_rate: float = param(
        0.45,
        source=f"fitted to {_WP} 図表4-3-5-2 (2008 -> 2017 participation mix) by "
        "experiments/validation/fit_participation.py: yearly chance that a social-media user in no online "
        "community joins one",
        lo=0,
        hi=1,
    )
    online_exit_rate: float = param(
        0.05,
        source="assumption: an online participant leaves its feed groups and boards with probability 0.05 a year",
        lo=0,
        hi=1,
        plausible=(0.02, 0.15),
        basis="staying 7 to 50 years on average: feed groups mirror family and friends (図表4-3-3-1), who stay",
    )
    workplace_in_town: float = param(
        0.5,
        source="assumption: half of the workplace and alumni groups of a resident are with people in the same "
        "municipality (commuters' colleagues live elsewhere)",
        lo=0,
        hi=1,
        plausible=(0.25, 0.75),
        basis="census 2015 place of work: a quarter (commuter suburbs) to three quarters (remote villages) of the "
        "employed work in their own municipality",
    )
    older_neighbourhood_weight: float = param(
        2.0,
        source="assumption: residents 60+ belong to the neighbourhood association twice as often as younger adults "
        "(older residents are the core of 自治会)",
        lo=0,
        hi=10,
        doc="relative propensity of residents 60+ to belong to the neighbourhood association (1: as younger adults)",
        plausible=(1.5, 3.0),
        basis="surveys of 自治会 find most active members over 60; membership rises with age and years of residence",
    )
    older_group_weight: float = param(
        1.5,
        source="assumption: residents 60+ belong to volunteer and religious groups half as often again as younger "
        "adults (retirees have time)",
        lo=0,
        hi=10,
        doc="relative propensity of residents 60+ to belong to volunteer and religious groups (1: as younger adults)",
        plausible=(1.0, 2.0),
        basis="volunteering rates of 社会生活基本調査 2016 are highest among people in their sixties and seventies, "
        "but not by much",
    )


@dataclass(frozen=True, kw_only=True)
class Network:
    """The sparse social network of ties."""

    block_households: int = param(
        30,
        source="assumption: a 班/組 (the smallest unit of a 自治会) has 10-50 households; neighbours are "
        "drawn from the same block",
        lo=2,
        hi=10000,
        plausible=(10, 50),
        basis="a 班/組 of a neighbourhood association has 10-50 households",
    )
    neighbour_ties: float = param(
        2.5,
        source="assumption: a few neighbours one could ask; 内閣府 社会意識に関する世論調査 2017: about a third "
        "of adults have neighbours they talk with or help",
        lo=0,
        hi=50,
        doc="mean neighbour ties per adult",
        plausible=(1.0, 5.0),
        basis="about a third of adults talk with or help neighbours (内閣府 2017): one to five neighbours one could "
        "ask",
    )
    community_ties: float = param(
        3.0,
        source="assumption: a member knows a few other members of each real-world community well enough to ask",
        lo=0,
        hi=50,
        doc="mean ties per membership of a real-world community",
        plausible=(1.0, 6.0),
        basis="one to half a dozen co-members of a group known well enough to ask",
    )
    community_group_size: int = param(
        40,
        source="assumption: a local chapter or circle of a real-world community has tens of active members",
        lo=2,
        hi=100000,
        plausible=(15, 100),
        basis="local chapters and circles have from a dozen to about a hundred active members",
    )
    online_ties: float = param(
        2.0,
        source=f"{_WP} 図表4-3-3-1: feed-type media connect mostly friends and family; assumption: about two "
        "online-only acquaintances per online participant in the municipality",
        lo=0,
        hi=50,
        plausible=(0.5, 5.0),
        basis="feed-type media connect mostly people one knows already (図表4-3-3-1), so acquaintances known only "
        "online in the same town are few",
    )
    strength: dict[str, float] = param(
        {"household": 1.0, "neighbour": 0.4, "community": 0.5, "online": 0.2},
        source="assumption: relative tie strength by kind (household strongest, online weakest; Granovetter 1973)",
        lo=0,
        hi=1,
        keys=("household", "neighbour", "community", "online"),
        plausible_factor=(0.7, 1.3),
        basis="the order of the kinds follows Granovetter (1973); their level against the fixed weights of the "
        "platforms' candidates is a guess (±30%)",
    )


@dataclass(frozen=True, kw_only=True)
class ICT:
    """Smartphone and social-media use by age band (0-4 ... 85+)."""

    smartphone_rate: tuple[float, ...] = param(
        (0.0, 0.0, 0.30, 0.79, 0.94, 0.94, 0.91, 0.91, 0.85, 0.85, 0.73, 0.73, 0.45, 0.45, 0.19, 0.19, 0.07, 0.03),
        source="MIC 通信利用動向調査 平成29年 (2017): individuals owning a smartphone, by age group "
        "(6-12 30%, 13-19 79%, 20s 94%, 30s 91%, 40s 85%, 50s 73%, 60s 45%, 70s 19%, 80+ 7%; 85+ assumed 3%)",
        lo=0,
        hi=1,
        length=_N,
    )
    sns_rate: tuple[float, ...] = param(
        (0.0, 0.0, 0.20, 0.75, 0.79, 0.79, 0.75, 0.75, 0.70, 0.70, 0.58, 0.58, 0.39, 0.39, 0.17, 0.17, 0.06, 0.02),
        source="MIC 通信利用動向調査 平成29年 (2017): social-media use among internet users times internet use, by "
        "age group (13-19 75%, 20s 79%, 30s 75%, 40s 70%, 50s 58%, 60s 39%, 70s 17%, 80+ 6%)",
        lo=0,
        hi=1,
        length=_N,
    )
    national_path_start: int | None = param(
        None,
        source="MIC 通信利用動向調査: smartphone ownership by age, 2008-2017 (kyojosim/data/smartphone_japan.csv; "
        "2011-2017 published, 2008-2010 estimated); None: off",
        lo=2008,
        hi=2017,
        doc="when set, smartphone ownership of each age group follows the national series, starting at this "
        "calendar year in the model's first year (the 2008 -> 2017 validation experiment)",
    )
    yearly_uptake: float = param(
        0.05,
        source="assumption: each year a non-user takes up a smartphone with probability 0.05 times the use rate of "
        "their age band (and a smartphone user social media likewise); the 60+ moved online quickly between 2008 "
        "and 2017, 図表4-3-5-2",
        lo=0,
        hi=1,
        plausible=(0.02, 0.1),
        basis="smartphone ownership of the 60s and 70s rose by a few points a year in 2011-2017 "
        "(通信利用動向調査, kyojosim/data/smartphone_japan.csv)",
    )


_CAT = CATEGORIES
_NEED_N = {  # needs_platform_intention.csv, n: respondents with the trouble (図表4-3-4-2)
    "chores": 64, "mobility": 44, "shopping": 33, "information": 72,
    "sick_care": 76, "family_care": 25, "childcare": 35, "consultation": 169,
}
_FREE_N = {  # helper_platform_intention.csv, n of 'free' rows (図表4-3-4-3)
    "chores": 108, "mobility": 117, "shopping": 115, "information": 168,
    "sick_care": 55, "family_care": 128, "childcare": 101, "consultation": 236,
}
_PAID_N = {  # helper_platform_intention.csv, n of 'paid' rows (図表4-3-4-3)
    "chores": 331, "mobility": 298, "shopping": 374, "information": 309,
    "sick_care": 189, "family_care": 165, "childcare": 230, "consultation": 257,
}
_NEED_USE = {  # needs_platform_intention.csv: definitely_yes + yes, percent (図表4-3-4-2)
    "chores": 56.3, "mobility": 50.0, "shopping": 75.7, "information": 54.2,
    "sick_care": 52.6, "family_care": 44.0, "childcare": 45.7, "consultation": 52.1,
}
_FREE_USE = {  # helper_platform_intention.csv, free rows: definitely_yes + yes (図表4-3-4-3)
    "chores": 53.7, "mobility": 51.3, "shopping": 53.1, "information": 51.8,
    "sick_care": 61.8, "family_care": 35.2, "childcare": 53.5, "consultation": 51.3,
}
_PAID_USE = {  # helper_platform_intention.csv, paid rows: definitely_yes + yes (図表4-3-4-3)
    "chores": 41.4, "mobility": 45.6, "shopping": 39.6, "information": 42.4,
    "sick_care": 44.9, "family_care": 47.3, "childcare": 46.1, "consultation": 41.2,
}
_SURVEY_N = 1200
"""Respondents of the 2017 survey (図表4-3-2-2, trust_criteria_online.csv: all, n=1200)."""


@dataclass(frozen=True, kw_only=True)
class Needs:
    """Everyday troubles: how often they arise, how big they are, how long they can wait."""

    prevalence: dict[str, float] = param(
        {k: v / _SURVEY_N for k, v in _NEED_N.items()},
        source=f"{_WP} 図表4-3-4-2 (needs_platform_intention.csv): n of respondents who want someone to turn to "
        "for each trouble (…を頼む相手が欲しい) / the 1,200 respondents aged 20-79 (100 per sex and decade)",
        lo=0,
        hi=1,
        hi_open=True,
        keys=_CAT,
        doc="share of residents aged 20-79 who have each trouble, read as the survey's question asks: "
        "met it within the last recall_weeks weeks and wanted someone to turn to",
    )
    recall_weeks: int = param(
        52,
        source=f"assumption: {_WP} 図表4-3-4-2 counts people who 'want someone to ask for' a trouble, a standing "
        "wish: read as having met the trouble, and wanted help from another resident for it, at least once in the "
        "past year",
        lo=1,
        hi=520,
        unit="weeks",
        doc="the recall of the survey's question: a resident 'has' a trouble if a need of it arose within this "
        "many weeks; the weekly need rates are solved so that the share of residents aged 20-79 who have each "
        "trouble is its prevalence",
        plausible=(13, 52),
        basis="a standing wish is about the troubles of one's present life: from the past quarter to the past year; "
        "a month would make 85% of adults want outside help when sick every year, against 5-6% of people 60+ who "
        "help each other with neighbours when ill (内閣府 国際比較調査 2015, 2020)",
    )
    weekly_rate: float | None = param(
        None,
        source="setting: none derives the weekly rate of each category from prevalence and recall_weeks; a number "
        "fixes instead the mean weekly probability, over residents aged 20-79, of a need of any category, split "
        "between the categories in proportion to prevalence (a what-if or a stress test)",
        lo=0,
        hi=1,
        doc="mean weekly probability that a resident aged 20-79 develops a need (all categories together), or "
        "none to derive it from the survey",
    )
    hours: dict[str, float] = param(
        {"chores": 2.0, "mobility": 2.0, "shopping": 1.5, "information": 1.0, "sick_care": 4.0,
         "family_care": 4.0, "childcare": 3.0, "consultation": 1.0},
        source="assumption: mean hours of help one occurrence takes (a trip to hospital about 2 h, a day of "
        "nursing 4 h, a talk 1 h); sizes are drawn from a gamma distribution of shape hours_shape around the mean",
        lo=0.25,
        hi=40,
        keys=_CAT,
        unit="hours",
        plausible_factor=(0.5, 2.0),
        basis="half to twice the durations of typical occasions (a trip, a day of nursing, a talk); no survey "
        "measures them",
    )
    hours_shape: float = param(
        2.0,
        source="assumption: need sizes vary around their mean as a gamma distribution of shape 2 (many short needs, "
        "a few long ones)",
        lo=0.1,
        hi=100,
        doc="shape of the gamma distribution of a need's hours (the mean is hours[c])",
        plausible=(1.0, 4.0),
        basis="from shape 1 (exponential: mostly short needs, a few very long) to 4 (sizes close to the mean)",
    )
    min_hours: float = param(
        0.25,
        source="assumption: a need takes at least a quarter of an hour",
        lo=0,
        hi=40,
        unit="hours",
        doc="smallest size of a need; drawn sizes below it are raised to it",
        plausible=(0.1, 0.5),
        basis="the smallest help worth counting: from a few minutes to half an hour",
    )
    patience_weeks: dict[str, int] = param(
        {"chores": 3, "mobility": 2, "shopping": 1, "information": 3, "sick_care": 1, "family_care": 4,
         "childcare": 2, "consultation": 4},
        source="assumption: weeks a need can wait before it lapses (shopping and sick care cannot wait)",
        lo=1,
        hi=52,
        keys=_CAT,
        unit="weeks",
        plausible_factor=(0.5, 2.0),
        basis="half to twice as long; how long troubles can wait is not surveyed",
    )
    platform_use: dict[str, float] = param(
        {k: v / 100 for k, v in _NEED_USE.items()},
        source=f"{_WP} 図表4-3-4-2 (needs_platform_intention.csv): people with the trouble who would use a "
        "local mutual-aid medium for it (definitely + yes)",
        lo=0,
        hi=1,
        keys=_CAT,
    )
    frail_multiplier: float = param(
        3.0, source="assumption: frail residents have about three times the troubles of their age group",
        lo=0, hi=20, plausible=(2.0, 5.0),
        basis="residents certified for care need help with most daily tasks, but family at home meets much of it")
    old_multiplier: float = param(
        1.5, source="assumption: residents 75+ have half as many troubles again for chores, mobility, shopping, "
        "information and sick care", lo=0, hi=20, plausible=(1.2, 2.5),
        basis="difficulties in daily life rise with age after 75 short of frailty, which is counted apart")
    no_car_multiplier: float = param(
        2.0, source="assumption: mobility and shopping troubles double without a car (rural bus service is thin)",
        lo=0, hi=20, plausible=(1.5, 3.0),
        basis="without a car trips depend on others where buses are thin (villages), less so in towns")
    alone_multiplier: float = param(
        1.5, source="assumption: living alone raises sick care and consultation troubles by half (no one at home)",
        lo=0, hi=20, plausible=(1.2, 2.5), basis="no one at home to help when sick or to talk to")
    family_care_multiplier: float = param(
        8.0, source="assumption: family care troubles arise almost only in households with a frail member",
        lo=0, hi=100, plausible=(4.0, 15.0),
        basis="sets how strongly family care troubles concentrate in households with a frail member; the share "
        "who have the trouble is fixed by prevalence")
    family_care_without_frail: float = param(
        0.05, source="assumption: family care troubles without a frail member at home (a relative living apart) are "
        "rare: a twentieth of the base rate", lo=0, hi=100,
        doc="multiplier of family care troubles for a resident with no other frail member in the household",
        plausible=(0.0, 0.2), basis="care of a relative living apart: from none to a fifth of the base rate")
    childcare_multiplier: float = param(
        8.0, source="assumption: childcare troubles arise almost only for parents of a child under 12",
        lo=0, hi=100, plausible=(4.0, 15.0),
        basis="sets how strongly childcare troubles concentrate on parents; the share who have the trouble is "
        "fixed by prevalence")


@dataclass(frozen=True, kw_only=True)
class Helping:
    """Who would help with what, on which terms, with how much time."""

    free_share: dict[str, float] = param(
        {k: v / _SURVEY_N for k, v in _FREE_N.items()},
        source=f"{_WP} 図表4-3-4-3 (helper_platform_intention.csv): n who would help free / 1,200 respondents",
        lo=0,
        hi=1,
        keys=_CAT,
        doc="share of adults who would help free with each category",
    )
    paid_share: dict[str, float] = param(
        {k: v / _SURVEY_N for k, v in _PAID_N.items()},
        source=f"{_WP} 図表4-3-4-3 (helper_platform_intention.csv): n who would help only if paid / 1,200 "
        "respondents (the paid pool is larger than the free pool in every category)",
        lo=0,
        hi=1,
        keys=_CAT,
        doc="share of adults who would help with each category only if paid",
    )
    platform_use_free: dict[str, float] = param(
        {k: v / 100 for k, v in _FREE_USE.items()},
        source=f"{_WP} 図表4-3-4-3: free helpers who would use a local mutual-aid medium (definitely + yes)",
        lo=0,
        hi=1,
        keys=_CAT,
    )
    platform_use_paid: dict[str, float] = param(
        {k: v / 100 for k, v in _PAID_USE.items()},
        source=f"{_WP} 図表4-3-4-3: paid-only helpers who would use a local mutual-aid medium (definitely + yes)",
        lo=0,
        hi=1,
        keys=_CAT,
    )
    weekly_hours_employed: float = param(
        2.0, source="assumption: an employed adult can give about two hours a week", lo=0, hi=80, unit="hours",
        plausible=(1.0, 4.0),
        basis="time-use surveys (社会生活基本調査) give adults at most a few hours a week of volunteering and help; "
        "the employed least")
    weekly_hours_free: float = param(
        5.0, source="assumption: an adult not in work under 75 can give about five hours a week", lo=0, hi=80,
        unit="hours", plausible=(2.0, 10.0),
        basis="adults not in work have several more free hours a day than the employed (社会生活基本調査), little of "
        "it given to others")
    weekly_hours_75plus: float = param(
        2.0, source="assumption: a resident 75+ who is not frail can give about two hours a week", lo=0, hi=80,
        unit="hours", plausible=(0.5, 4.0), basis="older helpers have time but less strength")
    helper_min_age: int = param(15, source="assumption: teenagers help with small things from 15", lo=0, hi=120,
                                plausible=(12, 18), basis="from junior-high age to adulthood")
    ask_rate_under65: float = param(
        0.6,
        source="assumption: residents under 65 ask someone they know for 60% of their troubles; the rest stay "
        "unsurfaced (吸い上げられない困りごと)",
        lo=0,
        hi=1,
        plausible=(0.4, 0.8),
        basis="most residents ask someone for part of their troubles; how large a part is not surveyed",
    )
    ask_rate_65plus: float = param(
        0.4,
        source="assumption: older residents are more reluctant to bother others (遠慮): 40%",
        lo=0,
        hi=1,
        plausible=(0.2, 0.6),
        basis="20.3% of people 60+ had nobody outside the household to rely on (内閣府 国際比較調査 2010); those "
        "who have someone do not ask for everything",
    )
    other_district_factor: float = param(
        0.8,
        source="assumption: a helper in another district is a fifth less preferred than one in the same district",
        lo=0,
        hi=1,
        doc="requester's preference for a helper living in another district (1: as for one in the same district)",
        plausible=(0.5, 1.0),
        basis="within one municipality distance matters little for a known helper: from no effect to half as "
        "preferred",
    )
    trust_weight_base: float = param(
        0.5,
        source="assumption: a requester weighs the helpers a channel reaches by (0.5 + trust in the people it "
        "reaches), so the most trusting prefer them three times as much as the least",
        lo=0,
        hi=10,
        lo_open=True,
        doc="b in the preference factor (b + trust) for the helpers of a channel (§7.13)",
        plausible=(0.25, 1.0),
        basis="the preference of the most against the least trusting requester from five times (0.25) to twice "
        "(1.0): trust shapes whom one asks (図表4-3-2-1), not whether",
    )


@dataclass(frozen=True, kw_only=True)
class Trust:
    """Trust, the norm of reciprocity, and how help changes them."""

    offline_trust_2017: float = param(
        0.338, source=f"{_WP} 図表4-3-5-3: 'most people can be trusted' in real-world communities, 33.8% (2017)",
        lo=0, hi=1, lo_open=True, hi_open=True)
    offline_trust_2008: float = param(
        0.407, source=f"{_WP} 図表4-3-5-3: 'most people can be trusted', 40.7% (2008); used with "
        "communities.participation_year 2008", lo=0, hi=1, lo_open=True, hi_open=True)
    online_trust: float = param(
        0.2,
        source=f"{_WP} 図表4-3-2-1 and 4-3-2-2: Japanese respondents trust people met online less than offline, "
        "about half name nothing that would make them trust one; assumption: mean 0.2",
        lo=0, hi=1, lo_open=True, hi_open=True, plausible=(0.1, 0.3),
        basis="below the 33.8% who trust people in real-world communities (図表4-3-5-3), above none: half of the "
        "respondents name something that would make them trust someone met online (図表4-3-2-2)")
    reciprocity: float = param(
        0.5, source="assumption: the norm of reciprocity starts at the middle of its scale", lo=0, hi=1,
        lo_open=True, hi_open=True, plausible=(0.3, 0.7),
        basis="no survey gives the norm on a 0-1 scale: the middle of the scale, give or take a fifth")
    concentration: float = param(
        10.0, source="assumption: Beta distributions of concentration 10 around the means (sd about 0.14)",
        lo=0, hi=1000, lo_open=True, plausible=(4.0, 30.0),
        basis="a standard deviation of trust from about 0.09 to 0.21 around its mean: answers on trust spread over "
        "the whole scale")
    item_loading: float = param(
        0.7,
        source="assumption: offline trust, online trust and the norm of reciprocity are answers driven by one "
        "disposition: each loads 0.7 on it (item correlations about 0.5), as the items of a generalised-trust "
        "scale do (the three trust items of the European Social Survey 2002-2004 form one reliable factor, "
        "Reeskens and Hooghe 2008, Social Indicators Research 85: 515-532)",
        lo=0, hi=1, hi_open=True, plausible=(0.5, 0.85),
        doc="loading of each trust and reciprocity item on the resident's latent disposition at the start",
        basis="items of one attitude scale typically correlate 0.25-0.7 (loadings 0.5-0.85); the 2009 つながり力 "
        "method scores them by their first principal component, which presumes a common factor")
    reciprocity_gain: float = param(
        0.02, source="assumption: each time one is helped the norm of reciprocity rises by 0.02", lo=0, hi=1,
        plausible=(0.005, 0.05), basis="from 20 to 200 helps received move the norm across its whole scale")
    trust_gain: float = param(
        0.01, source="assumption: help given raises the requester's trust by 0.01 (offline or online by channel)",
        lo=0, hi=1, plausible=(0.0025, 0.03),
        basis="trust is a stable disposition: dozens to hundreds of helps to move it across its scale")
    tie_gain: float = param(
        0.05, source="assumption: help given strengthens an existing tie between the two by 0.05", lo=0, hi=1,
        plausible=(0.02, 0.1), basis="a handful to a few dozen helps turn a weak tie into a strong one")
    discouragement: float = param(
        0.1, source="assumption: a surfaced need that lapses lowers the wish to ask by 10%", lo=0, hi=1,
        plausible=(0.03, 0.25), basis="one unanswered request discourages a little to a quarter")
    encouragement: float = param(
        0.05, source="assumption: help received restores the wish to ask by 5% (up to its start)", lo=0, hi=1,
        plausible=(0.02, 0.1), basis="help received encourages asking again, by less than a refusal discourages")
    helper_reciprocity_gain: float = param(
        0.01, source="assumption: each time one helps, one's own norm of reciprocity rises by 0.01 (giving help "
        "builds the norm as receiving it does)", lo=0, hi=1, plausible=(0.0, 0.03),
        basis="from no effect of helping on one's own norm to as much as receiving help")
    participation_effect: float = param(
        0.04,
        source="assumption: taking part builds trust and norms of reciprocity (Putnam 2000; the premise of "
        f"つながり力, {_WP} 4-3-5): each community a resident takes part in beyond the first raises the level its "
        "trust and reciprocity drift to by 0.04 (the first keeps the start mean; none lowers it by 0.04); "
        "at most participation_cap communities count",
        lo=0, hi=0.25, plausible=(0.01, 0.08),
        basis="participants trust more and keep the norm more than non-participants (Putnam 2000; 図表4-3-5-3), "
        "by a few points per community")
    participation_cap: int = param(
        4, source="assumption: at most 4 communities raise the level trust and reciprocity drift to", lo=1, hi=13,
        doc="communities a resident takes part in beyond which a further one raises trust and reciprocity no more",
        plausible=(2, 6), basis="beyond a handful of communities a further one adds little time or trust")
    participation_pull: float = param(
        0.2, source="assumption: trust and reciprocity move a fifth of the way to that level each year", lo=0, hi=1,
        plausible=(0.05, 0.5), basis="from two years to twenty for most of the way to the level participation "
        "sustains")
    willingness_turnover: float = param(
        0.2,
        source="assumption: each year a resident's willingness to help with a category is re-formed with "
        "probability 0.2, free with a chance that follows their reciprocity, so the shares willing stay those of "
        f"{_WP} 図表4-3-4-3 (the national volunteering rate was stable: 28.9% in 2001, 26.0% in 2016, 総務省 "
        "社会生活基本調査) while reciprocity decides who is willing",
        lo=0, hi=1, plausible=(0.05, 0.5),
        basis="about a third of volunteers stop from one year to the next while the rate holds (US: 35.5% in 2008, "
        "Corporation for National and Community Service 2009); stated willingness is likely steadier than acts")
    ask_recovery: float = param(
        0.5,
        source="assumption: the wish to ask regains half of what refusals took from it in a year (recovering a "
        "little every week), so discouragement shapes who asks without wearing asking down over the years",
        lo=0, hi=1, plausible=(0.25, 1.0),
        basis="a request nobody answered is remembered for months to a couple of years; no survey measures it")
    meeting_tie_change: tuple[float, ...] = param(
        (0.2, 0.1, 0.0, -0.05, -0.1),
        source="assumption: the change of a tie's strength when two people known through social media meet in "
        f"person, for each outcome of {_WP} 図表4-3-2-4 (trust much higher, somewhat higher, unchanged, somewhat "
        "lower, much lower)",
        lo=-1,
        hi=1,
        length=5,
        doc="change of the tie's strength by outcome of a face-to-face meeting (local SNS meetings, offline events)",
        plausible_factor=(0.5, 2.0),
        basis="the shares of the outcomes are surveyed (図表4-3-2-4), their size on the scale of tie strength is not",
    )
    meeting_min_strength: float = param(
        0.01,
        source="assumption: a tie that met keeps at least this strength (matching needs weights above 0)",
        lo=0,
        hi=1,
        lo_open=True,
        doc="smallest strength of a tie after a face-to-face meeting",
        plausible=(0.005, 0.05),
        basis="a floor that keeps a tie usable by matching; it binds only after bad meetings",
    )


@dataclass(frozen=True, kw_only=True)
class Intervention:
    """When an ICT channel or programme runs (common to every intervention)."""

    enabled: bool = param(False, source="setting: interventions are off unless a scenario switches them on")
    start_year: int = param(2018, source="setting: the cases of 図表4-3-4-4 started around 2016-2018", lo=1900,
                            hi=2200)
    end_year: int | None = param(None, source="setting: runs until the end of the simulation", lo=1900, hi=2200)

    def active(self, year: int) -> bool:
        """Whether the intervention runs in ``year``."""
        return self.enabled and year >= self.start_year and (self.end_year is None or year <= self.end_year)

    def check(self, ctx: Context) -> None:
        """Check that the end does not come before the start."""
        if self.end_year is not None and self.end_year < self.start_year:
            raise ctx.child("end_year").error(self.end_year, f"allowed: a year >= start_year ({self.start_year})",
                                              "ends before it starts")


@dataclass(frozen=True, kw_only=True)
class LocalSNS(Intervention):
    """A local SNS (the Koto ward + PIAZZA case): adopters post needs and offers seen by users nearby."""

    adoption_rate: float = param(
        0.10,
        source="assumption: each year 10% of social-media users who have not joined adopt it, times their age "
        "group's social-media rate relative to the 20s (PIAZZA grew to thousands of users per area within a few "
        "years)",
        lo=0,
        hi=1,
        plausible=(0.03, 0.3),
        basis="PIAZZA reached about 30% of the family households of Tokyo's bay-area districts within a few years "
        "(press release, March 2018); elsewhere it may spread far slower",
    )
    peer_effect: float = param(
        1.0,
        source="assumption: adoption doubles when all of a resident's ties have adopted (word of mouth)",
        lo=0,
        hi=20,
        plausible=(0.0, 3.0),
        basis="word of mouth from no effect to quadrupling adoption among residents whose ties all use it",
    )
    campaign: dict[int, float] = param(
        {},
        source="setting: no campaign unless the scenario names years; a campaign multiplies adoption that year",
        lo=0,
        hi=20,
    )
    awareness_boost: float = param(
        0.1,
        source="assumption: municipal information pushed through the SNS (Koto's ward and child-rearing portal) "
        "raises adopters' rate of asking offline by 10 points",
        lo=0,
        hi=1,
        plausible=(0.0, 0.2),
        basis="from no effect to a fifth more troubles raised with people one knows; not measured in the case",
    )
    weak_tie_strength: float = param(
        0.2, source="assumption: a tie made by helping through the SNS starts weak (Granovetter 1973)", lo=0, hi=1,
        plausible=(0.1, 0.3),
        basis="weaker than neighbour (0.4) and community ties (0.5), about as strong as an online tie (0.2)")
    meet_rate: float = param(
        0.25,
        source=f"{_WP} 図表4-3-2-3: 40-60% of active posters have met someone known through social media; "
        "assumption: a quarter of online-only ties meet face to face each year",
        lo=0,
        hi=1,
        plausible=(0.1, 0.4),
        basis="40-60% of active posters have ever met someone known through social media (図表4-3-2-3); a yearly "
        "chance per tie is a fraction of that",
    )
    posts_per_user_month: float = param(
        0.5, source="assumption: an adopter posts local information (events, playgrounds, hand-me-downs) about once "
        "every two months, besides needs (Community Value, kyojosim.measures.community_value)", lo=0, hi=100,
        plausible=(0.1, 2.0), basis="most members of local online groups read and rarely post; a few post weekly")
    reply_rate: float = param(
        0.05, source="assumption: an adopter replies to 5% of the posts of acquaintances on the SNS", lo=0, hi=1,
        plausible=(0.01, 0.15), basis="replies are rarer than reactions (a few percent of the posts seen)")
    reaction_rate: float = param(
        0.2, source="assumption: an adopter reacts (likes) to 20% of the posts of acquaintances on the SNS", lo=0,
        hi=1, plausible=(0.05, 0.4), basis="reactions are the commonest activity on social media, still a minority "
        "of the posts seen")
    max_candidates: int = param(
        20,
        source="assumption: an open need is shown to at most 20 eligible adopters of its district a week",
        lo=1,
        hi=1000,
        doc="most adopters of the district an open need is shown to each week (drawn at random)",
        plausible=(5, 50),
        basis="a post is read by a few to a few dozen nearby users a week; more than fifty read closely is unlikely",
    )
    stranger_factor: float = param(
        0.5,
        source="assumption: an adopter not tied to the requester weighs half the strength of the weak tie that "
        "helping creates (weak_tie_strength × 0.5)",
        lo=0,
        hi=1,
        lo_open=True,
        doc="weight of an untied adopter as a candidate, as a share of weak_tie_strength",
        plausible=(0.25, 1.0),
        basis="a stranger is at most as preferred as a weak tie and still above nobody",
    )


def _distinct_categories(value: tuple[str, ...], ctx: Context) -> tuple[str, ...]:
    """Check that a list of categories of need is not empty and names each category once."""
    if not value:
        raise ctx.error(list(value), "allowed: at least one of " + ", ".join(CATEGORIES), "empty list")
    twice = sorted({c for c in value if value.count(c) > 1})
    if twice:
        raise ctx.error(list(value), "allowed: each category once", f"repeated: {', '.join(twice)}")
    return value


_ASMAMA = "AsMama 子育てシェア"


@dataclass(frozen=True, kw_only=True)
class SharingPlatform(Intervention):
    """A paid sharing service among acquaintances (the Ikoma + AsMama case, 子育てシェア)."""

    categories: tuple[Literal[CATEGORIES], ...] = param(
        ("childcare",),
        source=f"{_ASMAMA}: child pick-ups and minding (送迎・託児) only; most of the 16,000 uses to November 2017 "
        "were pick-ups from kindergartens and lessons (河北新報 2017-11-02); 1,770 shares of 送迎・託児 in "
        "2021-22 (健やか親子21 取組データベース 3205)",
        doc="the categories of need the platform serves (requests, offers, registration)",
        refine=_distinct_categories,
    )
    price_per_hour: float = param(
        500.0, source=f"{_ASMAMA} thank-you rule: 500 yen an hour (産経新聞 2016-03-02; 河北新報 2017-11-02), "
        "500-700 yen by agreement (SankeiBiz 2016-02-01; 図表4-3-4-4 case)", lo=0, hi=100000, unit="yen",
        doc="the thank-you payment an hour a helper receives (before the certified premium)")
    certified_premium_per_hour: float = param(
        100.0, source=f"{_ASMAMA} rule: +100 yen an hour when the helper is a certified ママサポ or a qualified carer "
        "(保育士 etc.), +200 yen when both (河北新報 2017-11-02); the model has no qualified carers",
        lo=0, hi=100000, unit="yen", doc="added to the price an hour when the helper is a certified supporter")
    subsidy_per_hour: float = param(
        0.0, source="setting: no subsidy unless the scenario sets one (welfare companies give coupons in Ikoma, "
        "図表4-3-4-4 case); a subsidy lowers the price the requester pays, not what the helper receives",
        lo=0, hi=100000, unit="yen")
    reference_price: float = param(
        500.0,
        source="assumption: the survey's answers on using a mutual-aid medium (図表4-3-4-2) are read at AsMama's rule "
        "of 500 yen an hour; the demand response is measured from it",
        lo=0, hi=100000, lo_open=True, unit="yen",
        doc="the requester's price at which the share who post is the survey's (demand_elasticity applies around it)",
        plausible=(300.0, 700.0),
        basis="the survey names no price; respondents who know such services would think of the 500-700 yen rule, "
        "others of less")
    demand_elasticity: float = param(
        -0.4,
        source="assumption: requests fall by 0.4% for each 1% rise of the requester's price around reference_price "
        "(linear demand), as for at-home care services in Japan, -0.2 to -0.4 (清水谷・野口 2003, ESRI DP No.85)",
        lo=-5, hi=0,
        doc="price elasticity of the share of platform requests, at reference_price",
        plausible=(-1.0, -0.2),
        basis="-0.2 to -0.4 for at-home elderly care (ESRI DP No.85, 2003); maternal employment to the childcare "
        "price clusters at -0.05 to -0.25, up to -1.1 (Morrissey 2017); -2.0 for licensed daycare (ESRI DP No.83) is "
        "a monthly fee, far more of a budget than an hour at 500 yen")
    supply_elasticity: float = param(
        0.5,
        source="assumption: the share of residents willing to help only if paid who offer on the platform is "
        "(price / full_supply_price) ** 0.5: 0 at price 0, all of them at full_supply_price",
        lo=0, hi=5, lo_open=True,
        doc="price elasticity of the offers of residents willing to help only if paid (constant)",
        plausible=(0.2, 1.0),
        basis="no elasticity of informal paid help was found; payment roughly triples the pool of helpers between "
        "free and paid (図表4-3-4-3) and raises volunteer supply without crowding out (Fiorillo 2011)")
    full_supply_price: float = param(
        2000.0,
        source="assumption: at 2,000 yen an hour every resident willing to help only if paid (図表4-3-4-3) would "
        "offer: a babysitting company's rate (1,500-3,000 yen an hour, 日経DUAL), above ファミリー・サポート・センター "
        "fees (800-900 yen, 日経DUAL; 500-1,000 yen elsewhere)",
        lo=0, hi=100000, lo_open=True, unit="yen",
        doc="the price a helper receives at which all residents willing to help only if paid offer",
        plausible=(1000.0, 3000.0),
        basis="babysitting companies charge 1,500-3,000 yen an hour and individual sitters about 1,000 (日経DUAL; "
        "comorinet 2016); the survey's 'only if paid' names no price, so its whole pool is read at a market rate")
    user_share: float = param(
        0.06,
        source="assumption: at saturation the platform has 0.06 registered members per household with a child "
        "under 12 (Ikoma, about 12,000 such households: about 700 members, 600 by 2020); no Ikoma count was found",
        lo=0, hi=10,
        doc="registered members the platform reaches at saturation, per household with a child under 12",
        plausible=(0.02, 0.25),
        basis="200-2,500 members in Ikoma: 60,000 users nationwide (2018-12, 日経BP) shared by population is 56, the "
        "first partner city with promotion at schools 5-25 times that; 舟橋村 reached a quarter of households "
        "(235 members, 2020-07, 健やか親子21 取組データベース 2630)")
    innovation: float = param(
        0.1,
        source="assumption: Bass (1969) coefficient of innovation, a year: registration through events, nurseries and "
        "schools (AsMama release 2016-01-07: meetups and briefings in Ikoma)",
        lo=0, hi=12, doc="Bass p: the yearly share of the not-yet-registered potential that registers on its own",
        plausible=(0.03, 0.3),
        basis="with imitation 0.9 the members reach a seventh of the potential in a year and 85% in four, as 舟橋村's "
        "0 to 235 in about four years (2016-2020); national registrations grew +10,000 in 2016, then +7,000 a year")
    imitation: float = param(
        0.9,
        source="assumption: Bass (1969) coefficient of imitation, a year: registration through acquaintances who "
        "are members (links need each other's phone digits; invitations from friends, 日経BP 2018)",
        lo=0, hi=12, doc="Bass q: the yearly rate at which members bring in acquaintances, times the share registered",
        plausible=(0.4, 1.5),
        basis="an S-shaped take-up over three to five years after the agreement (舟橋村 2016-2020); the national "
        "registrations slowed after 2016, past their fastest growth")
    certified_supporters: int = param(
        8,
        source="assumption: 8 certified supporters (ママサポ) in Ikoma: 680 were certified in all of Japan by March "
        "2018 (図表4-3-4-4 case), 0.6 by population share, and Ikoma was the first partner city",
        lo=0, hi=680, unit="residents",
        range_note="680 ママサポ were certified in all of Japan by March 2018 (図表4-3-4-4 case): no municipality "
        "has more",
        doc="certified supporters in the municipality (whole residents; the run has this many times the scale)",
        plausible=(3, 15),
        basis="a population share of the 680 national ママサポ is 0.6; the first partner city with promotion at "
        "nurseries and schools 5-25 times that")
    meetups_per_year: float = param(
        24.0,
        source="assumption: 24 meetups and workshops a year in the municipality, where members and supporters "
        "become acquainted (SankeiBiz 2016-02-01; AsMama release 2016-01-07)",
        lo=0, hi=365, doc="meetups a year in the whole municipality (not scaled)",
        plausible=(12.0, 50.0),
        basis="about 2,000 events a year nationwide (1,958 in 2021-22, 健やか親子21 取組データベース 3205) for "
        "60,000-80,000 members: one per 35 members")
    meetup_size: float = param(
        10.0,
        source="assumption: 10 members take part in a meetup; one measured meetup in Ikoma had 7 (goodcycleikoma.jp, "
        "2020-10-23)", lo=0, hi=1000, unit="residents",
        doc="members attending one meetup (whole residents; the run has this many times the scale), besides the "
        "certified supporters, who host every meetup",
        plausible=(7.0, 20.0), basis="7 at the one Ikoma meetup found (2020); parent-child events of 9 (西日本新聞 "
        "2014) to a few dozen")
    meetup_contacts: int = param(
        3,
        source="assumption: an attendee gets to know about three other attendees; 'about three acquaintances on the "
        "app are enough' (AsMama's chief executive, cross-m.co.jp column, 2019)",
        lo=0, hi=100, doc="other attendees each attendee of a meetup gets to know",
        plausible=(1, 6), basis="at a small meetup one talks with a few people")
    meetup_join_rate: float = param(
        0.2, source="assumption: a fifth of the residents who meet at a platform meetup join the volunteer group of "
        "their district (AsMama's supporters hold workshops and meetups where parents and supporters become "
        "friends, 図表4-3-4-4 case)", lo=0, hi=1, plausible=(0.05, 0.4),
        basis="a meetup recruits some of those who come; the case reports friendships, not numbers")
    insured: bool = param(True, source="AsMama: liability insurance up to 50 million yen covers supporters "
                          "(SankeiBiz 2016-02-01; 図表4-3-4-4 case)")
    trust_boost: float = param(
        0.15,
        source="assumption: with insurance and certification, a member who would not use a platform for the "
        "category (図表4-3-4-2) still asks through the service with probability 0.15",
        lo=0,
        hi=1,
        plausible=(0.05, 0.3),
        basis="about half of the respondents name something that would make them trust people met online "
        "(図表4-3-2-2); insurance and certification are among them",
    )
    tied_bonus: float = param(
        1.0,
        source="assumption: an acquaintance on the platform weighs the tie's strength + 1.0, so that requests go to "
        "acquaintances first (子育てシェア: 基本的には顔見知りの知り合い, 図表4-3-4-4 case)",
        lo=0,
        hi=10,
        doc="added to the tie strength of a member tied to the requester",
        plausible=(0.5, 2.0),
        basis="enough to put any acquaintance above the certified supporters one does not know (certified_weight 0.6)",
    )
    certified_weight: float = param(
        0.6,
        source="assumption: a certified supporter (ママサポ) not tied to the requester, the fallback when no "
        "acquaintance can help (産経新聞 2016-03-02), weighs 0.6, a little more than a community tie (0.5)",
        lo=0,
        hi=10,
        lo_open=True,
        doc="weight of a certified supporter of the district not tied to the requester",
        plausible=(0.4, 0.9),
        basis="certification makes a stranger trusted about as much as a community acquaintance (0.5)",
    )
    stranger_candidates: int = param(
        0,
        source="setting: none; members connect only by entering each other's phone digits, 見知らぬ会員がつながることは"
        "ない (産経新聞 2016-03-02); a what-if may let a request reach this many members of the district one does not "
        "know",
        lo=0,
        hi=1000,
        doc="members of the district not tied to the requester a request also reaches each week (a what-if)",
    )
    supporter_weight: float = param(
        0.3,
        source="assumption: a member neither tied to the requester nor certified (reached only under "
        "stranger_candidates) weighs 0.3",
        lo=0,
        hi=10,
        lo_open=True,
        doc="weight of a member of the district neither tied to the requester nor certified",
        plausible=(0.1, 0.5),
        basis="a stranger is less trusted than a neighbour (0.4); registration with the service vouches a little",
    )


@dataclass(frozen=True, kw_only=True)
class ReportingHub(Intervention):
    """A municipal reporting hub (the Yamae case): district reporters send neighbours' troubles to the office."""

    reporters_per_district: int = param(
        1, source="山江村: an information promoter (情報化推進員) in each district, lent a tablet (図表4-3-4-4 case); "
        "the village has 16 settlements (集落; Namiki, 東京大学大学院情報学環紀要 2017)", lo=0, hi=1000,
        doc="reporters in each district (people; the run has this many times the scale, rounded at random once)")
    notice_rate: float = param(
        0.5,
        source="assumption: a reporter hears of half of the troubles of residents in their block and neighbours",
        lo=0,
        hi=1,
        plausible=(0.2, 0.8),
        basis="a reporter talks with the neighbours of a block of tens of households often, but not of everything",
    )
    reports_per_reporter_month: float = param(
        0.5,
        source="assumption: a reporter posts about 2.5 items a month, a fifth of them a resident's trouble (the rest: "
        "wildlife damage, roads, events); no count of posts was found",
        lo=0, hi=100,
        doc="mean need reports a reporter posts a month, at most (a Poisson number each week)",
        plausible=(0.1, 1.2),
        basis="1-4 posts a month of which 10-30% concern a resident's own trouble: 20-240 need reports a year from "
        "16 reporters")
    categories: tuple[Literal[CATEGORIES], ...] = param(
        ("mobility", "information", "family_care", "consultation"),
        source="setting: the troubles a village section can act on: mobility (the village's reservation taxi), "
        "information, family care (care services) and consultation; chores, shopping, sick care and child care stay "
        "with residents' own ties (the case routes reports to the office's sections, 図表4-3-4-4)",
        doc="the categories of need reporters report and the office answers",
        refine=_distinct_categories,
    )
    routing_delay_weeks: int = param(
        1,
        source="assumption: a report is read by the planning section chief and routed to a section within a week",
        lo=0,
        hi=52,
        unit="weeks",
        plausible=(0, 2),
        basis="posts are read by one person, the planning section chief (山江村 case, 図表4-3-4-4): within days to "
        "two weeks",
    )
    office_cases_per_1000: float = param(
        1.5,
        source="assumption: the village sections answer up to 1.5 routed cases a week per 1,000 residents (about 5 a "
        "week in 山江村), oldest report first",
        lo=0, hi=1000,
        doc="cases the office's sections can answer a week, per 1,000 residents (the weekly capacity of the queue)",
        plausible=(0.6, 3.0),
        basis="2-10 cases a week for a 3,400-person village office, besides the sections' other work; no count "
        "was found")
    roster_per_1000: float = param(
        0.0,
        source="setting: no roster; no source describes volunteers dispatched per request (山江村 case, "
        "図表4-3-4-4). A what-if roster of volunteers per 1,000 residents, at most the scale of the village's "
        "100-person committee (山江村未来塾「100人委員会」, 2016)",
        lo=0, hi=30,
        range_note="the 100-person committee of 3,400 villagers (2016) is about 30 per 1,000: a larger roster has no "
        "anchor",
        doc="volunteers on the office's roster per 1,000 residents (a what-if; 0: none)",
    )
    dispatch_candidates: int = param(
        5,
        source="assumption: for a routed need the office contacts at most 5 roster volunteers of the district "
        "(only with a roster)",
        lo=1,
        hi=1000,
        doc="most roster volunteers of the district the office contacts about a routed need",
        plausible=(1, 20),
        basis="an office phones a few of the volunteers it knows",
    )
    dispatch_weight: float = param(
        0.4,
        source="assumption: a roster volunteer sent by the office weighs 0.4, below household and community ties",
        lo=0,
        hi=10,
        lo_open=True,
        doc="weight of a roster volunteer sent by the office",
        plausible=(0.2, 0.8),
        basis="a volunteer the office vouches for ranks near a neighbour (0.4): below family, above a stranger",
    )
    reporter_min_age: int = param(
        30,
        source="assumption: reporters are adults of working age or young-old, able to use a tablet",
        lo=0,
        hi=120,
        unit="years",
        doc="youngest age of a resident appointed reporter",
        plausible=(20, 40),
        basis="情報化推進員 are trusted adults of the district; a young adult may do as well",
    )
    reporter_max_age: int = param(
        74,
        source="assumption: reporters are adults of working age or young-old, able to use a tablet",
        lo=0,
        hi=120,
        unit="years",
        doc="oldest age of a resident appointed reporter",
        plausible=(64, 79),
        basis="district roles are often held by people in their sixties and seventies; tablets deter the oldest",
    )

    def check(self, ctx: Context) -> None:
        """Check the years and that the reporters' age range is not empty."""
        super().check(ctx)
        if self.reporter_max_age < self.reporter_min_age:
            raise ctx.child("reporter_max_age").error(
                self.reporter_max_age, f"allowed: an age >= reporter_min_age ({self.reporter_min_age})",
                "empty age range")


@dataclass(frozen=True, kw_only=True)
class OfflineEvents(Intervention):
    """Meetups that turn online ties into face-to-face ones."""

    events_per_year: float = param(4.0, source="assumption: a meetup every three months", lo=0, hi=52,
                                   plausible=(1.0, 12.0), basis="from a yearly event to a monthly one")
    attendance: float = param(
        0.1, source="assumption: a tenth of online participants attend a given meetup", lo=0, hi=1,
        plausible=(0.02, 0.25), basis="local events draw a small share of the online participants they invite")


@dataclass(frozen=True, kw_only=True)
class Interventions:
    """The ICT channels and programmes of 図表4-3-4-4, each switched on with its start (and end) year."""

    local_sns: LocalSNS = param(LocalSNS, source="see keys")
    sharing_platform: SharingPlatform = param(SharingPlatform, source="see keys")
    reporting_hub: ReportingHub = param(ReportingHub, source="see keys")
    offline_events: OfflineEvents = param(OfflineEvents, source="see keys")


@dataclass(frozen=True, kw_only=True)
class Simulation:
    """How long, in what steps, with which seed."""

    years: int = param(30, source="setting: 2015 to 2045, the IPSS projection horizon", lo=0, hi=300)
    step_days: int = param(
        7,
        source="setting: a week, the rhythm of everyday troubles; fixed, because every rate of the model is per week",
        lo=7,
        hi=7,
        range_note="every rate of the model is per week: needs.recall_weeks, needs.weekly_rate, "
        "needs.patience_weeks, helping.weekly_hours_*, interventions.reporting_hub.routing_delay_weeks",
    )
    seed: int = param(0, source="setting: any seed; runs are reproducible for a given seed", lo=0, hi=2**63 - 1)


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A whole scenario: the municipality and every parameter of one run."""

    municipality: Municipality = param(source="scenario file")
    residents: Residents = param(Residents, source="see keys")
    demography: Demography = param(Demography, source="see keys")
    communities: Communities = param(Communities, source="see keys")
    network: Network = param(Network, source="see keys")
    ict: ICT = param(ICT, source="see keys")
    needs: Needs = param(Needs, source="see keys")
    helping: Helping = param(Helping, source="see keys")
    trust: Trust = param(Trust, source="see keys")
    interventions: Interventions = param(Interventions, source="see keys")
    simulation: Simulation = param(Simulation, source="see keys")
    name: str = param("", source="scenario file", refine=check_name,
                      doc="short name of the scenario (defaults to the file name); it names the default results "
                      "folder, so it has no / or \\, does not start with a dot and has at most 100 characters")
    description: str = param("", source="scenario file")

    def to_dict(self) -> dict[str, Any]:
        """Return the scenario as plain data (as resolved, every default filled in)."""
        return to_plain(self)

    def digest(self) -> str:
        """Return a SHA-256 hash of the resolved scenario (stable across runs and machines)."""
        text = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def replace(self, **overrides: Any) -> Scenario:
        """Return a copy with dotted-path overrides applied and checked (see :func:`load_scenario`)."""
        data = self.to_dict()
        apply_overrides(data, _normalise_overrides(overrides), "<overrides>")
        return build(Scenario, data, Context("<overrides>"))


# --------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------


SCENARIO_SECTIONS: tuple[str, ...] = (*(f.name for f in dataclasses.fields(Scenario)
                                        if f.name not in ("name", "description")), "base")
"""The top-level keys that make a mapping a scenario file (at least one of them must be there)."""


def _article(what: str) -> str:
    return f"{'an' if what[:1] in 'aeiou' else 'a'} {what}"


def _kind_of(data: Any) -> str:
    """Describe the kind of a value read from YAML (not the value itself)."""
    if isinstance(data, bool):
        return "true or false"
    if isinstance(data, (int, float)):
        return "a number"
    if isinstance(data, str):
        return "a text"
    if isinstance(data, list):
        return "a list"
    return f"a {type(data).__name__}"


def read_yaml(path: Path, what: str, sections: Collection[str] = ()) -> dict[str, Any]:
    """Read a YAML file whose top level is a mapping, within the limits of :mod:`kyojosim.params.yaml_input`.

    The file is read with a safe loader (mappings, lists, texts, numbers, booleans and null only) that
    bounds its size, nesting, aliases and texts and refuses a key given twice. No error prints the
    contents of the file: a file that is not of the kind expected is described (``a text``, ``a
    mapping of 3 keys``), never quoted.

    Args:
        path: The file.
        what: What the file should be, for the error (``"scenario"``, ``"experiment"``).
        sections: The top-level keys of such a file; a mapping with keys of which none is one of
            these is not such a file (none given: any mapping is taken).

    Raises:
        ScenarioError: If the file is missing, a folder, not readable, too large, not UTF-8 text, not
            YAML, over a limit, or not a mapping with at least one of ``sections``.
    """
    file = str(path)
    if path.is_dir():
        raise ScenarioError(file, "", Summary("a folder"), f"allowed: {_article(what)} file", "is a directory")
    if not path.exists():
        raise ScenarioError(file, "", file, f"allowed: an existing {what} file", "file not found")
    if not path.is_file():
        raise ScenarioError(file, "", Summary("a device, pipe or socket"), f"allowed: {_article(what)} file",
                            "not a regular file")
    try:
        size = path.stat().st_size
        if size <= MAX_FILE_BYTES:
            with path.open("rb") as fh:
                raw = fh.read(MAX_FILE_BYTES + 1)
            size = len(raw)
    except PermissionError:
        raise ScenarioError(file, "", Summary("permission denied"), "allowed: a file you may read",
                            "cannot read") from None
    except OSError as exc:
        raise ScenarioError(file, "", Summary(exc.strerror or type(exc).__name__), "allowed: a readable file",
                            "cannot read") from None
    if size > MAX_FILE_BYTES:
        raise ScenarioError(file, "", Summary(f"{size:,} bytes"), f"allowed: at most {MAX_FILE_BYTES:,} bytes "
                            f"({MAX_FILE_BYTES // 2**20} MiB)", "file too large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(file, "", exc.reason, "allowed: a UTF-8 text file", "not text") from None
    try:
        data = load_text(text)
    except LimitError as exc:
        where, _ = describe_error(exc)
        raise ScenarioError(file, where, Summary(exc.given), exc.allowed, exc.label) from None
    except yaml.YAMLError as exc:
        where, problem = describe_error(exc)
        raise ScenarioError(file, where or "?", problem, "allowed: valid YAML", "not YAML") from None
    except RecursionError:  # pragma: no cover - the loader bounds the depth first
        raise ScenarioError(file, "", Summary("too many levels"), f"allowed: at most {MAX_DEPTH} levels",
                            "nested too deeply") from None
    if data is None:
        data = {}
    listing = f" ({', '.join(sections)})" if sections else ""
    if not isinstance(data, dict):
        raise ScenarioError(file, "", Summary(_kind_of(data)), f"allowed: {_article(what)} file: a mapping of "
                            f"sections{listing}", f"not {_article(what)}")
    if sections and data and not any(isinstance(k, str) and k in sections for k in data):
        raise ScenarioError(file, "", Summary(f"a mapping of {len(data)} keys, none of them a {what} section"),
                            f"allowed: {_article(what)} file: a mapping of sections{listing}",
                            f"not {_article(what)}")
    return data


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


SCENARIO_RESOLVERS: list[Callable[[str], Path | None]] = []
"""Functions that turn a name which is neither a file nor a bundled scenario into a scenario file (or
``None``), tried in order by :func:`find_scenario`. The package registers one on import: Japan's
municipalities (:func:`kyojosim.runs.builder.municipality_scenario`), which builds a scenario from the
census and IPSS tables; it lives in a higher layer, as building fits the migration by running the
model's demography."""


def find_scenario(name: str | Path) -> Path:
    """Find a scenario by path, by name among the bundled ones (``"yamae"``, ``"koto.yaml"``), or a municipality.

    A name that is neither a file nor a bundled scenario goes to the :data:`SCENARIO_RESOLVERS`: a
    municipality of Japan (``"生駒市"``, ``"29209"``, ``"Ikoma"``; :func:`kyojosim.params.japan.lookup`)
    has its scenario built from the census and IPSS tables into the user cache folder the first time
    (:func:`kyojosim.runs.builder.scenario_path`, which says where), and that file is returned.
    """
    path = Path(name)
    if path.is_file():
        return path
    for candidate in (SCENARIO_DIR / path.name, SCENARIO_DIR / f"{path.name}.yaml"):
        if candidate.is_file() and len(path.parts) == 1:
            return candidate
    if len(path.parts) == 1 and path.suffix.lower() not in (".yaml", ".yml") and str(name).strip():
        for resolve in SCENARIO_RESOLVERS:
            found = resolve(str(name))
            if found is not None:
                return found
    return path


def _resolve_raw(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    data = read_yaml(path, "scenario", SCENARIO_SECTIONS)
    base = data.pop("base", None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise ScenarioError(str(path), "base", base, "allowed: the path of a scenario file", "wrong type")
    base_path = (path.parent / base) if not Path(base).is_absolute() else Path(base)
    if not base_path.is_file():
        alt = find_scenario(base)
        if alt.is_file():
            base_path = alt
        else:
            raise ScenarioError(str(path), "base", base, f"allowed: an existing scenario file (looked for {base_path})",
                                "base not found")
    resolved = base_path.resolve()
    if resolved in seen:
        raise ScenarioError(str(path), "base", base, "allowed: a chain of bases without cycles", "base cycle")
    base_data = _resolve_raw(base_path, (*seen, resolved))
    # a variant is a scenario of its own: its name comes from its own file (or its own ``name:``),
    # never from the base, so that runs of a variant are not labelled (and filed) as the base's
    base_data.pop("name", None)
    return _merge(base_data, data)


def parse_value(text: str, key: str = "") -> Any:
    """Parse the value of a ``--set key=value`` override as YAML (so ``3``, ``true``, ``[1, 2]`` work).

    Text that is not YAML is taken as text; YAML over a limit of :mod:`kyojosim.params.yaml_input` (an
    alias bomb, a key given twice) is an error that names ``key``.
    """
    try:
        return load_text(text)
    except LimitError as exc:
        raise ScenarioError("--set", key, Summary(exc.given), exc.allowed, exc.label) from None
    except yaml.YAMLError:
        return text


def _normalise_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    return {k.replace("__", "."): v for k, v in overrides.items()}


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any], origin: str) -> None:
    """Set dotted-path keys in raw scenario data, after checking each path against the schema.

    Args:
        data: Raw scenario data (changed in place).
        overrides: ``{"simulation.seed": 3, "municipality.districts.0.name": "A"}``.
        origin: What to name as the file in errors (``"--set"`` or ``"<overrides>"``).

    Raises:
        ScenarioError: If a path names no parameter.
    """
    for path, value in overrides.items():
        resolve_path(Scenario, path, origin)
        node: Any = data
        parts = path.split(".")
        for i, seg in enumerate(parts[:-1]):
            if isinstance(node, list):
                idx = int(seg)
                if idx >= len(node):
                    raise ScenarioError(origin, ".".join(parts[: i + 1]), idx, f"allowed: an index below {len(node)}",
                                        "index out of range")
                node = node[idx]
            else:
                if not isinstance(node.get(seg), (dict, list)):
                    node[seg] = {}
                node = node[seg]
        last = parts[-1]
        if isinstance(node, list):
            idx = int(last)
            if idx >= len(node):
                raise ScenarioError(origin, path, idx, f"allowed: an index below {len(node)}", "index out of range")
            node[idx] = value
        else:
            node[last] = value


def load_scenario(
    source: str | Path | Mapping[str, Any],
    overrides: Mapping[str, Any] | None = None,
    **kw_overrides: Any,
) -> Scenario:
    """Load, merge and check a scenario.

    Args:
        source: A YAML file path, the name of a bundled scenario (``"yamae"``), or a mapping.
        overrides: Dotted-path overrides, e.g. ``{"simulation.seed": 3}``.
        **kw_overrides: The same as keywords with ``__`` for dots: ``simulation__seed=3``.

    Returns:
        The checked, immutable :class:`Scenario`.

    Raises:
        ScenarioError: For any problem in the file or the overrides.
    """
    if isinstance(source, Mapping):
        file_label = "<mapping>"
        data = copy.deepcopy(dict(source))
        data.pop("base", None)
        default_name = ""
    else:
        path = find_scenario(source)
        file_label = str(path)
        data = _resolve_raw(path)
        default_name = path.stem
    all_over = {**_normalise_overrides(overrides or {}), **_normalise_overrides(kw_overrides)}
    if all_over:
        apply_overrides(data, all_over, "--set" if overrides is not None and not kw_overrides else "<overrides>")
    if not data.get("name") and default_name:
        data["name"] = safe_name(default_name)
    return build(Scenario, data, Context(file_label))


def scenario_warnings(scn: Scenario) -> list[str]:
    """Return what in a valid scenario is probably not meant: interventions switched on that never run.

    An intervention that is enabled but starts after the year of the run's last week, or ends before
    its first year, never runs. This is a warning, not an error: a short run of a variant
    (``--years 1``) or a design over the years may mean it.

    Args:
        scn: The scenario.

    Returns:
        One message per such intervention (``interventions.<name>.start_year: ...``); none for a run of
        no years.
    """
    years = scn.simulation.years
    if years <= 0:
        return []
    steps = math.ceil(years * 365.25 / scn.simulation.step_days)  # the model's clock: years of 365.25 days
    first = scn.municipality.start_year
    last = first + int(steps * scn.simulation.step_days // 365.25)  # the year of the last week
    out = []
    for f in dataclasses.fields(Interventions):
        iv = getattr(scn.interventions, f.name)
        if not iv.enabled:
            continue
        if iv.start_year > last:
            out.append(f"interventions.{f.name}.start_year: {iv.start_year} is after the run ends (its weeks "
                       f"fall in {first}-{last}): the intervention never runs")
        elif iv.end_year is not None and iv.end_year < first:
            out.append(f"interventions.{f.name}.end_year: {iv.end_year} is before the run starts (its weeks "
                       f"fall in {first}-{last}): the intervention never runs")
    return out


def scenario_fields() -> list[tuple[str, dataclasses.Field, Any]]:
    """List every parameter of a scenario as ``(key_path, field, type)`` (for docs and tests)."""
    return list(iter_params(Scenario))


# --------------------------------------------------------------------------------------
# the assumption register
# --------------------------------------------------------------------------------------

REGISTER_COLUMNS: tuple[str, ...] = ("key", "value", "default", "plausible_lo", "plausible_hi", "scale", "unit",
                                     "basis", "source")
"""Columns of :func:`assumption_register`."""


def is_assumption(field: dataclasses.Field) -> bool:
    """Whether a parameter's default rests (wholly or in part) on an ``assumption:``."""
    return "assumption" in str(field.metadata.get("source", "")).lower()


def _value_at(obj: Any, path: str) -> Any:
    for seg in path.split("."):
        obj = getattr(obj, seg) if obj is not None else None
    return obj


def value_at(scn: Scenario, path: str) -> Any:
    """Return the value of the dotted key ``path`` in a scenario, as plain data."""
    return to_plain(_value_at(scn, path))


def scalable_by_factor(path: str) -> bool:
    """Whether the dotted key ``path`` is a list or mapping of numbers that a factor can scale as a whole."""
    from typing import get_args, get_origin

    from .schema import type_at, unwrap_optional

    tp = type_at(Scenario, path)
    origin = get_origin(tp)
    if origin not in (tuple, dict):
        return False
    elem = unwrap_optional(get_args(tp)[-1] if origin is dict else get_args(tp)[0])[1]
    return elem in (int, float) and not _field_meta(path).get("sums_to_one")


def _field_meta(path: str) -> Mapping[str, Any]:
    for key, f, _tp in scenario_fields():
        if key == path:
            return f.metadata
    return {}


def scale_by_factor(scn: Scenario, path: str, factor: float) -> Any:
    """Return the list or mapping at ``path`` in ``scn`` with every element times ``factor``.

    This is how an uncertainty analysis varies a parameter registered with ``plausible_factor``: as a
    whole, by one factor. Elements of integer lists and mappings are rounded; each result is kept
    within the parameter's allowed range (``lo``/``hi``), as the assumption register says.

    Args:
        scn: The scenario whose value is scaled.
        path: A dotted key of a list or mapping of numbers (:func:`scalable_by_factor`).
        factor: The factor.

    Returns:
        The scaled value as plain data (a list or a mapping), ready for :meth:`Scenario.replace`.

    Raises:
        ScenarioError: If ``path`` is not a list or mapping of numbers, or it holds shares.
    """
    if not scalable_by_factor(path):
        raise ScenarioError("<design>", path, factor, "allowed: a factor for a list or mapping of numbers that are "
                            "not shares", "cannot be scaled by a factor")
    meta = _field_meta(path)
    lo, hi = meta.get("lo"), meta.get("hi")

    def one(x: float) -> float | int:
        y = x * float(factor)
        if lo is not None:
            y = max(y, lo)
        if hi is not None:
            y = min(y, hi)
        return int(round(y)) if isinstance(x, int) and not isinstance(x, bool) else float(y)

    value = value_at(scn, path)
    if isinstance(value, dict):
        return {k: one(v) for k, v in value.items()}
    return [one(v) for v in value]


def assumption_register(scn: Scenario | None = None):
    """List every assumption of the scenario schema with the range of values the evidence allows.

    This is the register an uncertainty analysis varies: one row per parameter whose source says
    ``assumption:`` (in full or for part of the default), in the order of the parameter table.

    Args:
        scn: The scenario whose values to show (``None``: the defaults only).

    Returns:
        A ``pandas.DataFrame`` with the columns of :data:`REGISTER_COLUMNS`: the dotted ``key``, its
        ``value`` in ``scn`` (the default when ``scn`` is ``None``), the schema's ``default``, the
        plausible range ``plausible_lo`` to ``plausible_hi``, ``scale`` (``"value"``: the range is of
        the value itself, in ``unit``; ``"factor"``: of a factor applied to every element of a list
        or mapping, integers rounded, each result kept within the allowed range), the ``unit``, the
        ``basis`` of the range and the ``source`` of the default.
    """
    import pandas as pd

    rows = []
    for path, f, _tp in scenario_fields():
        if "[]" in path or not is_assumption(f):
            continue
        meta = f.metadata
        factor = meta.get("plausible_factor")
        lo, hi = factor if factor is not None else meta.get("plausible") or (None, None)
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        default = to_plain(default)
        rows.append({
            "key": path,
            "value": to_plain(_value_at(scn, path)) if scn is not None else default,
            "default": default,
            "plausible_lo": lo,
            "plausible_hi": hi,
            "scale": "factor" if factor is not None else "value",
            "unit": meta.get("unit", ""),
            "basis": meta.get("basis", ""),
            "source": meta.get("source", ""),
        })
    return pd.DataFrame(rows, columns=list(REGISTER_COLUMNS))
