"""Experiment files: scenarios x variants x a parameter design x replicates, resolved up front.

An experiment is a YAML file (the bundled ones in ``kyojosim/data/experiments/``; see ``docs/experiments.md``) such
as::

    name: ikoma-interventions
    seed: 2024
    replicates: 3
    years: 20
    scenarios: [ikoma]
    variants:
      baseline: {}
      platform:
        interventions: {sharing_platform: {start: 2018}}
    design:
      type: lhs
      n: 8
      parameters:
        helping.weekly_hours_free: [3.0, 7.0]

The file is declared as records of the same schema as scenarios (:mod:`kyojosim.params.schema`):
:class:`ExperimentSpec` at the top, a :class:`Variant` per variant, an :class:`InterventionSwitch`
per intervention a variant names and a :class:`Design`. :func:`load_experiment` builds them (every
key and value checked, errors with the file, the key path, the value given, what is allowed and the
closest valid key), then resolves the scenario of every run (so that a bad override or design
parameter is reported before any run starts) and returns an :class:`Experiment` whose
:attr:`Experiment.runs` lists the runs in their fixed order: scenario, variant, design point,
replicate. Replicate ``k`` has the same seed in every variant and design point (common random
numbers); the seeds come from ``np.random.SeedSequence(seed).spawn(replicates)``.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..distribution import data_dir
from ..errors import ScenarioError, Summary
from .scenario import (
    SCENARIO_DIR,
    Interventions,
    Scenario,
    check_name,
    find_scenario,
    load_scenario,
    read_yaml,
    safe_name,
    scalable_by_factor,
    scale_by_factor,
    scenario_warnings,
)
from .schema import Context, build, param, resolve_path, suggest, to_plain, type_at

EXPERIMENT_DIR = data_dir("experiments")
"""Where the bundled experiment files are: package data, ``kyojosim/data/experiments/``."""

DESIGN_TYPES: tuple[str, ...] = ("none", "factorial", "list", "lhs", "sobol")
"""Kinds of parameter design."""

DESIGN_KEYS: dict[str, tuple[str, ...]] = {
    "none": ("type",),
    "factorial": ("type", "parameters"),
    "list": ("type", "points"),
    "lhs": ("type", "parameters", "n"),
    "sobol": ("type", "parameters", "n", "calc_second_order"),
}
"""The keys each kind of design takes."""
INTERVENTION_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Interventions))
MAX_SEED = 2**63 - 1
MAX_REPLICATES = 100_000
_RUN_ID_UNSAFE = re.compile(r"[^0-9A-Za-z_.]+")
_SETTING = "setting: the experiment file"
_OVERRIDES = "a mapping of dotted scenario keys to values"


class ExperimentError(ScenarioError):
    """An experiment file is invalid (same message form as :class:`~kyojosim.errors.ScenarioError`)."""


# --------------------------------------------------------------------------------------
# checks of values the types cannot express
# --------------------------------------------------------------------------------------


def scenario_key(key: str, ctx: Context) -> str:
    """Check that ``key`` is a dotted scenario key (``__`` may stand for a dot); return it with dots.

    The error of a bad key is the scenario schema's (with the closest valid key), reported at the
    experiment's key path ``ctx.path.key``.
    """
    if not key:
        raise ctx.error(key, "allowed: a dotted scenario key such as helping.weekly_hours_free", "wrong type")
    dotted = key.replace("__", ".")
    try:
        resolve_path(Scenario, dotted, str(ctx.file))
    except ScenarioError as exc:
        raise ctx.child(key).error(exc.given, f"{exc.allowed} (in scenario key {exc.key!r})", exc.problem) from None
    return dotted


def scenario_keys(value: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Check the keys of a mapping of scenario overrides (their values are checked when a run resolves)."""
    return {scenario_key(k, ctx): v for k, v in value.items()}


def _design_points(points: tuple[dict[str, Any], ...], ctx: Context) -> tuple[dict[str, Any], ...]:
    """Check the points of a list design: mappings of the same scenario keys."""
    out: list[dict[str, Any]] = []
    for i, point in enumerate(points):
        here = ctx.child(i)
        if not point:
            raise here.error(point, "allowed: a mapping of dotted scenario keys to values", "empty")
        point = scenario_keys(point, here)
        if out and sorted(point) != sorted(out[0]):
            raise here.error(sorted(point), f"allowed: the same keys as {ctx.path}[0] ({', '.join(out[0])})",
                             "keys differ")
        out.append({k: point[k] for k in (out[0] if out else point)})
    return tuple(out)


def _safe(text: str) -> str:
    return _RUN_ID_UNSAFE.sub("_", text).strip("_") or "x"


# --------------------------------------------------------------------------------------
# the records of an experiment file
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class InterventionSwitch:
    """How a variant runs one intervention; maps to the scenario's ``enabled``, ``start_year``, ``end_year``.

    Written as ``true``/``false`` (on or off, with the scenario's own years), a bare year (on from
    that year) or a mapping ``{enabled, start, end}``; :meth:`shorthand` turns the short forms into
    the mapping and :meth:`scenario_overrides` turns the record into scenario keys, the one place
    where ``start``/``end`` become ``start_year``/``end_year``.
    """

    enabled: bool = param(True, source=f"{_SETTING}: an intervention a variant names is on unless enabled: false")
    start: int | None = param(None, source=f"{_SETTING}: none keeps the scenario's start_year", lo=1900, hi=2200,
                              doc="sets the intervention's start_year")
    end: int | None = param(None, source=f"{_SETTING}: none keeps the scenario's end_year", lo=1900, hi=2200,
                            doc="sets the intervention's end_year")

    @classmethod
    def shorthand(cls, data: Any, ctx: Context) -> Any:
        """Turn ``true``/``false`` and a bare start year into the mapping form."""
        if isinstance(data, bool):
            return {"enabled": data}
        if isinstance(data, int):
            return {"enabled": True, "start": data}
        if not isinstance(data, Mapping):
            raise ctx.error(data, "allowed: true, false, a start year, or a mapping with enabled, start, end",
                            "wrong type")
        return data

    def check(self, ctx: Context) -> None:
        """Check that the end does not come before the start."""
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ctx.child("end").error(self.end, f"allowed: a year >= start ({self.start})", "ends before it starts")

    def scenario_overrides(self, name: str) -> dict[str, Any]:
        """Return the dotted scenario keys this switch sets for the intervention ``name``."""
        over: dict[str, Any] = {f"interventions.{name}.enabled": self.enabled}
        if self.start is not None:
            over[f"interventions.{name}.start_year"] = self.start
        if self.end is not None:
            over[f"interventions.{name}.end_year"] = self.end
        return over


@dataclass(frozen=True, kw_only=True)
class Label:
    """A display name in Japanese and English: ``{ja: 有償シェアサービス, en: paid sharing service}``."""

    ja: str = param(source=_SETTING, doc="the name in Japanese")
    en: str = param(source=_SETTING, doc="the name in English")

    def check(self, ctx: Context) -> None:
        """Check that neither name is empty."""
        for lang in ("ja", "en"):
            if not getattr(self, lang).strip():
                raise ctx.child(lang).error(getattr(self, lang), "allowed: a non-empty text", "empty")


@dataclass(frozen=True, kw_only=True)
class Variant:
    """One variant: the interventions it switches on or off, then other scenario overrides, and its display name."""

    baseline: bool | None = param(
        None, source=f"{_SETTING}: the first variant is the baseline unless one says so",
        doc="whether the variant is the baseline of the comparisons (none marked true: the first not marked false)")
    interventions: dict[str, InterventionSwitch] = param(
        {}, source=_SETTING, key_choices=INTERVENTION_NAMES, doc="the interventions the variant switches, by name",
        form="a mapping of intervention names to true, false, a start year or {enabled, start, end}")
    overrides: dict[str, Any] = param({}, source=_SETTING, refine=scenario_keys,
                                      doc="dotted scenario keys applied after the interventions", form=_OVERRIDES)
    description: str = param("", source=f"{_SETTING}")
    label: Label | None = param(None, source=f"{_SETTING}: none names the variant by the interventions it switches on",
                                doc="the name reports, figures, tables and the dashboard show, in Japanese and English",
                                form="a mapping {ja: name in Japanese, en: name in English}")

    @classmethod
    def shorthand(cls, data: Any, ctx: Context) -> Any:
        """Read empty ``interventions:`` and ``overrides:`` as none."""
        if isinstance(data, Mapping):
            return {k: v for k, v in data.items() if v is not None or k not in ("interventions", "overrides")}
        return data

    def scenario_overrides(self) -> dict[str, Any]:
        """Return the dotted scenario keys the variant sets (interventions first, then overrides)."""
        over: dict[str, Any] = {}
        for name, switch in self.interventions.items():
            over.update(switch.scenario_overrides(name))
        over.update(self.overrides)
        return over


@dataclass(frozen=True, kw_only=True)
class Bounds:
    """The range of a sampled design parameter: ``[lo, hi]`` or ``{lo: ..., hi: ...}``."""

    lo: float = param(source=_SETTING)
    hi: float = param(source=_SETTING)

    @classmethod
    def shorthand(cls, data: Any, ctx: Context) -> Any:
        """Turn a list ``[lo, hi]`` into the mapping form."""
        if isinstance(data, (list, tuple)) and len(data) == 2:
            return {"lo": data[0], "hi": data[1]}
        if not isinstance(data, Mapping):
            raise ctx.error(data, "allowed: [lo, hi] or {lo: ..., hi: ...}", "wrong type")
        return data

    def check(self, ctx: Context) -> None:
        """Check that the range is not empty."""
        if not self.lo < self.hi:
            raise ctx.error([self.lo, self.hi], "allowed: lo < hi", "empty range")


@dataclass(frozen=True, kw_only=True)
class Design:
    """The parameter design: which values of which scenario keys the runs take (see docs/experiments.md)."""

    type: Literal["none", "factorial", "list", "lhs", "sobol"] = param("none", source=_SETTING)
    parameters: dict[str, Any] = param(
        {}, source=_SETTING, refine=scenario_keys,
        doc="factorial: {key: [values]}; lhs and sobol: {key: [lo, hi] or {lo, hi}}",
        form="a mapping of dotted scenario keys to lists of values or ranges [lo, hi]")
    points: tuple[dict[str, Any], ...] = param((), source=_SETTING, refine=_design_points,
                                               doc="list: the points, mappings of the same keys",
                                               form="a non-empty list of mappings of dotted keys to values")
    n: int | None = param(None, source=_SETTING, lo=1, hi=1_000_000, doc="lhs and sobol: the number of samples")
    calc_second_order: bool = param(False, source=_SETTING, doc="sobol: sample for second-order indices too")

    @classmethod
    def shorthand(cls, data: Any, ctx: Context) -> Any:
        """Turn ``none`` (or nothing) into the mapping form."""
        return {"type": "none"} if data is None or data == "none" else data

    def check(self, ctx: Context) -> None:
        """Check the keys the design's type takes and needs, and the values of its parameters."""
        given = {"parameters": bool(self.parameters), "points": bool(self.points), "n": self.n is not None,
                 "calc_second_order": self.calc_second_order}
        valid = DESIGN_KEYS[self.type]
        for key, present in given.items():
            if present and key not in valid:
                raise ctx.child(key).error(key, suggest(key, list(valid)), "unknown key")
        if self.type == "list" and not self.points:
            raise ctx.child("points").error(list(self.points), "allowed: a non-empty list of mappings of dotted keys "
                                            "to values", "wrong type")
        if self.type in ("factorial", "lhs", "sobol") and not self.parameters:
            raise ctx.child("parameters").error(self.parameters, "allowed: at least one dotted scenario key",
                                                "missing")
        if self.type == "factorial":
            for key, values in self.parameters.items():
                if not isinstance(values, list) or not values:
                    raise ctx.child("parameters").child(key).error(values, "allowed: a non-empty list of values",
                                                                   "wrong type")
        if self.type in ("lhs", "sobol"):
            self.bounds(ctx)
            if self.n is None:
                raise ctx.child("n").error(None, "allowed: the number of samples, an integer >= 1", "missing key")
        if self.type == "sobol" and self.n & (self.n - 1):
            raise ctx.child("n").error(self.n, "allowed: a power of 2 (Sobol sequences need it), e.g. 8, 16, 64",
                                       "not a power of 2")

    def bounds(self, ctx: Context) -> dict[str, Bounds]:
        """Return the checked range of every parameter of a sampled design.

        A numeric key takes the range of its value; a list or mapping of numbers (not shares) takes the
        range of a factor applied to every element (:func:`kyojosim.params.scenario.scale_by_factor`).
        """
        out = {}
        for key, value in self.parameters.items():
            where = ctx.child("parameters").child(key)
            if type_at(Scenario, key) not in (int, float) and not scalable_by_factor(key):
                raise where.error(key, "allowed: a numeric scenario key (a number or an integer), or a list or mapping "
                                  "of numbers (then [lo, hi] is the range of a factor applied to every element) for "
                                  "a sampled design", "not numeric")
            out[key] = build(Bounds, value, where)
        return out

    def factor_keys(self) -> list[str]:
        """Return the parameters of a sampled design that are lists or mappings scaled by a factor."""
        if self.type not in ("lhs", "sobol"):
            return []
        return [k for k in self.parameters if type_at(Scenario, k) not in (int, float)]

    def sample(self, seed: int, ctx: Context) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Return the design as plain data (with its ``problem`` for sobol) and its points, drawn from ``seed``."""
        if self.type == "none":
            return {"type": "none", "parameters": {}}, [{}]
        if self.type == "list":
            points = [dict(p) for p in self.points]
            return {"type": "list", "parameters": {k: [p[k] for p in points] for k in points[0]}}, points
        if self.type == "factorial":
            params = {k: list(v) for k, v in self.parameters.items()}
            points = [dict(zip(params, combo, strict=True)) for combo in itertools.product(*params.values())]
            return {"type": "factorial", "parameters": params}, points
        bounds = {k: [b.lo, b.hi] for k, b in self.bounds(ctx).items()}
        names = list(bounds)
        whole = {k: type_at(Scenario, k) is int for k in names}  # a factor (list or mapping key) stays a float

        def cast(x: float, key: str) -> Any:
            return int(round(x)) if whole[key] else float(x)

        if self.type == "lhs":
            from scipy.stats import qmc

            rng = np.random.default_rng(np.random.SeedSequence(seed))
            unit = qmc.LatinHypercube(d=len(names), seed=rng).random(self.n)
            sample = qmc.scale(unit, [bounds[k][0] for k in names], [bounds[k][1] for k in names])
            points = [{k: cast(row[j], k) for j, k in enumerate(names)} for row in sample]
            return {"type": "lhs", "parameters": bounds, "n": self.n, **self._factors()}, points
        # sobol (Saltelli's scheme through SALib)
        from SALib.sample import sobol as sobol_sample

        problem = {"num_vars": len(names), "names": names, "bounds": [bounds[k] for k in names]}
        sample = sobol_sample.sample(copy.deepcopy(problem), self.n, calc_second_order=self.calc_second_order,
                                     seed=int(seed) % 2**32)
        points = [{k: cast(row[j], k) for j, k in enumerate(names)} for row in sample]
        return ({"type": "sobol", "parameters": bounds, "problem": problem,
                 "calc_second_order": self.calc_second_order, "n": self.n, **self._factors()}, points)

    def _factors(self) -> dict[str, list[str]]:
        """Return ``{"factors": [keys]}`` for a design with factor parameters, else ``{}``."""
        keys = self.factor_keys()
        return {"factors": keys} if keys else {}


_SELECTION_FORM = ("all, a prefecture (熊本県), a list of municipal codes or names, or a mapping with prefecture, "
                   "codes, population_below, population_above, share_65plus_above, share_65plus_below, fukushima, "
                   "min_residents")


def _prefectures(value: tuple[Any, ...], ctx: Context) -> tuple[str, ...]:
    """Check the prefectures of a selection; return their names as in the tables (``熊本県``)."""
    from .japan import MunicipalityError, find_prefecture

    out = []
    for i, item in enumerate(value):
        try:
            out.append(find_prefecture(item))
        except MunicipalityError as exc:
            raise ctx.child(i).error(item, "allowed: " + str(exc).split(": ", 1)[1], "unknown prefecture") from None
    return tuple(dict.fromkeys(out))


def _codes(value: tuple[Any, ...], ctx: Context) -> tuple[str, ...]:
    """Check the municipalities of a selection (codes or names, :func:`kyojosim.params.japan.lookup`); return codes."""
    from .japan import MunicipalityError, lookup

    out = []
    for i, item in enumerate(value):
        try:
            out.append(lookup(item).code)
        except MunicipalityError as exc:
            raise ctx.child(i).error(item, f"allowed: a municipality of Japan by code or name ({exc})",
                                     "unknown municipality" if exc.reason == "unknown" else exc.reason) from None
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True, kw_only=True)
class MunicipalitySelection:
    """Which municipalities of Japan an experiment runs, each built from the census and IPSS tables.

    Written ``municipalities: all``, a prefecture (``municipalities: 熊本県``), a list of codes or
    names, or a mapping whose keys all narrow the selection (see docs/experiments.md). Every
    municipality selected becomes one scenario of the experiment, built as ``kyojosim new`` builds it
    (:mod:`kyojosim.runs.builder`) at the experiment's ``scale``, in the run's worker and cached, and
    every variant applies to it.
    """

    prefecture: tuple[Any, ...] = param((), source=f"{_SETTING}: none, every prefecture", refine=_prefectures,
                                        doc="only the municipalities of these prefectures (names or codes)",
                                        form="a prefecture or a list of prefectures (熊本県, 熊本, Kumamoto or 43)")
    codes: tuple[Any, ...] = param((), source=f"{_SETTING}: none, every municipality", refine=_codes,
                                   doc="only these municipalities (codes or names, as kyojosim new takes them)",
                                   form="a list of municipal codes or names (quote codes that start with 0)")
    population_below: int | None = param(None, source=f"{_SETTING}: no bound", lo=1,
                                         doc="only municipalities with fewer residents at the census 2015")
    population_above: int | None = param(None, source=f"{_SETTING}: no bound", lo=0,
                                         doc="only municipalities with more residents at the census 2015")
    share_65plus_above: float | None = param(None, source=f"{_SETTING}: no bound", lo=0, hi=1,
                                             doc="only municipalities whose share aged 65+ at the census 2015 "
                                             "(age unknown left out) is above this")
    share_65plus_below: float | None = param(None, source=f"{_SETTING}: no bound", lo=0, hi=1,
                                             doc="only municipalities whose share aged 65+ is below this")
    fukushima: Literal["include", "exclude"] = param(
        "include", source=f"{_SETTING}: included, without a projection target",
        doc="福島県's municipalities, which the IPSS 2018 projection does not give one by one: include (built "
        "without a projection target or fitted migration shifts) or exclude")
    min_residents: int = param(
        500, source=f"{_SETTING}: about 500 simulated residents at least, so that a small municipality's rates rest "
        "on enough residents", lo=1, hi=1_000_000,
        doc="with a scale, a municipality that would have fewer simulated residents is simulated at the scale "
        "that gives it this many (at most all its residents)")

    @classmethod
    def shorthand(cls, data: Any, ctx: Context) -> Any:
        """Turn ``all``, a prefecture and a list of codes or names into the mapping form."""
        if data == "all":
            return {}
        if isinstance(data, (str, int)) and not isinstance(data, bool):
            from .japan import MunicipalityError, find_prefecture

            try:
                find_prefecture(data)
            except MunicipalityError:
                raise ctx.error(data, f"allowed: {_SELECTION_FORM}", "not all and not a prefecture") from None
            return {"prefecture": [data]}
        if isinstance(data, (list, tuple)):
            return {"codes": list(data)}
        if isinstance(data, Mapping) and isinstance(data.get("prefecture"), (str, int)):
            return {**data, "prefecture": [data["prefecture"]]}
        if not isinstance(data, Mapping):
            raise ctx.error(data, f"allowed: {_SELECTION_FORM}", "wrong type")
        return data

    def check(self, ctx: Context) -> None:
        """Check that the bounds leave a range."""
        for lo_key, hi_key in (("population_above", "population_below"), ("share_65plus_above", "share_65plus_below")):
            lo, hi = getattr(self, lo_key), getattr(self, hi_key)
            if lo is not None and hi is not None and not lo < hi:
                raise ctx.child(hi_key).error(hi, f"allowed: a value above {lo_key} ({lo})", "empty range")

    def select(self, ctx: Context) -> tuple[list[Any], list[str]]:
        """Return the municipalities selected (in code order) and notes on those left out.

        Municipalities nobody lived in at the census 2015 (four of 福島県, under an evacuation order) are
        left out with a note, as there is no population to simulate.

        Raises:
            ExperimentError: If no municipality is left.
        """
        from .japan import age_shares, records

        shares = age_shares(2015).set_index("code")["share_65plus"]
        chosen = []
        empty = []
        for rec in records():
            if self.codes and rec.code not in self.codes:
                continue
            if self.prefecture and rec.prefecture not in self.prefecture:
                continue
            if self.fukushima == "exclude" and not rec.ipss:
                continue
            if self.population_below is not None and not rec.population < self.population_below:
                continue
            if self.population_above is not None and not rec.population > self.population_above:
                continue
            share = float(shares.get(rec.code, float("nan")))
            if self.share_65plus_above is not None and not share > self.share_65plus_above:
                continue
            if self.share_65plus_below is not None and not share < self.share_65plus_below:
                continue
            (chosen if rec.population > 0 else empty).append(rec)
        notes = []
        if empty:
            notes.append(f"municipalities: {len(empty)} left out: nobody was counted there at the census 2015 (an "
                         f"evacuation order after the 2011 nuclear accident): {', '.join(r.label() for r in empty)}")
        unprojected = [r for r in chosen if not r.ipss]
        if unprojected:
            notes.append(f"municipalities: {len(unprojected)} of 福島県 have no IPSS 2018 projection: built without a "
                         "projection target, their migration from the census 2005→2010 profile alone (no fitted "
                         "shifts); fukushima: exclude leaves them out")
        if not chosen:
            raise ctx.error(Summary(self.describe()), "allowed: a selection that leaves at least one municipality "
                            "with residents at the census 2015", "no municipality selected")
        return chosen, notes

    def describe(self) -> str:
        """Say in words what the selection is (``"all municipalities"``, ``"熊本県, population below 10,000"``)."""
        parts = []
        if self.prefecture:
            parts.append(", ".join(self.prefecture))
        if self.codes:
            parts.append(f"{len(self.codes)} named")
        for key, word in (("population_below", "population below"), ("population_above", "population above"),
                          ("share_65plus_above", "65+ share above"), ("share_65plus_below", "65+ share below")):
            value = getattr(self, key)
            if value is not None:
                parts.append(f"{word} {value:,}" if isinstance(value, int) else f"{word} {value:g}")
        if self.fukushima == "exclude":
            parts.append("福島県 excluded")
        return "; ".join(parts) if parts else "all municipalities"

    def scale_for(self, population: int, scale: float | None) -> float | None:
        """Return the fraction of residents simulated in a municipality of ``population`` at the experiment's scale.

        ``None`` without a scale (the builder's default, :func:`kyojosim.runs.builder.choose_scale`); else the
        scale, raised for a small municipality so that it has about :attr:`min_residents` simulated residents
        (at most all of them), to 3 significant digits.
        """
        if scale is None:
            return None
        wanted = max(float(scale), min(1.0, self.min_residents / max(population, 1)))
        return min(1.0, float(f"{wanted:.3g}"))


def _keys_as_text(obj: Any) -> Any:
    """Return plain data with every mapping key as text (JSON sorts keys only of one type: ``{2016: .., "x": ..}``)."""
    if isinstance(obj, Mapping):
        return {str(k): _keys_as_text(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_keys_as_text(v) for v in obj]
    return obj


@dataclass(frozen=True)
class MunicipalScenario:
    """How the scenario of a run of a municipality is made, in the run's worker.

    The municipality's scenario is built from the census and IPSS tables at :attr:`scale` (or taken
    from the cache; :func:`kyojosim.runs.builder.run_scenario`), then :meth:`apply` sets the run's
    overrides in the order the runs of any scenario get them: the experiment's, the variant's, the
    design point's, the seed.

    Attributes:
        code: The municipality's 5-digit code.
        name: Its scenario's name (``<romanised name>-<code>``).
        scale: The fraction of residents simulated (``None``: the builder's default).
        common: The experiment's ``years`` and ``overrides`` as dotted keys.
        variant: The variant's dotted keys.
        point: The design point's values.
        factors: The design keys whose value is a factor applied to the scenario's list or mapping.
        seed: The run's seed.
    """

    code: str
    name: str
    scale: float | None
    common: dict[str, Any]
    variant: dict[str, Any]
    point: dict[str, Any]
    factors: tuple[str, ...]
    seed: int

    def key(self) -> str:
        """Return the key of the built scenario (:func:`kyojosim.params.japan.scenario_key`)."""
        from .japan import FIT_SEEDS, scenario_key

        return scenario_key(self.code, self.scale, FIT_SEEDS)

    def digest(self) -> str:
        """SHA-256 of the built scenario's key and the overrides (the seed left out, as for a scenario's digest)."""
        payload = json.dumps(_keys_as_text({"key": self.key(), "common": self.common, "variant": self.variant,
                                            "point": self.point, "factors": list(self.factors)}),
                             sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def apply(self, built: Scenario) -> Scenario:
        """Return the run's scenario: ``built`` with the experiment's, variant's and point's keys, and the seed."""
        base = built.replace(**self.common) if self.common else built
        point = self.point
        if self.factors:  # a list or mapping scaled by the point's factor, from the variant's own value
            before = base.replace(**self.variant) if self.variant else base
            point = {k: scale_by_factor(before, k, v) if k in self.factors else v for k, v in point.items()}
        return base.replace(**self.variant, **point, **{"simulation.seed": self.seed})


@dataclass(frozen=True, kw_only=True)
class ExperimentSpec:
    """An experiment file as written, every key checked (see docs/experiments.md)."""

    name: str = param("", source=f"{_SETTING}: the file name", doc="names the experiment and its results folder")
    description: str = param("", source=_SETTING)
    seed: int = param(source=_SETTING, lo=0, hi=MAX_SEED, doc="the experiment seed; replicate seeds come from it")
    replicates: int = param(1, source=_SETTING, lo=1, hi=MAX_REPLICATES)
    years: int | None = param(None, source=_SETTING, lo=0, hi=300, doc="sets simulation.years of every run")
    scale: float | None = param(None, source=_SETTING, lo=0, hi=1, lo_open=True,
                                doc="sets municipality.scale of every run")
    overrides: dict[str, Any] = param({}, source=_SETTING, refine=scenario_keys,
                                      doc="dotted scenario keys applied to every run", form=_OVERRIDES)
    scenarios: tuple[str, ...] = param((), source=f"{_SETTING}: none (then municipalities: names them)",
                                       doc="bundled scenario names or scenario files",
                                       form="a list of bundled scenario names or scenario files")
    municipalities: MunicipalitySelection | None = param(
        None, source=f"{_SETTING}: none", doc="municipalities of Japan, each built from the census and IPSS tables "
        "at the experiment's scale and run in every variant", form=_SELECTION_FORM)
    variants: dict[str, Variant] = param({"baseline": {}}, source=f"{_SETTING}: one variant, the baseline",
                                         form="a mapping of variant names to {interventions, overrides}")
    design: Design = param(Design, source=_SETTING)

    @classmethod
    def shorthand(cls, data: Any, ctx: Context) -> Any:
        """Accept a single scenario name for ``scenarios``; read empty ``name``, ``overrides``, ``variants`` as none."""
        if not isinstance(data, Mapping):
            return data
        data = {k: v for k, v in data.items() if v is not None or k not in ("name", "overrides", "variants")}
        if isinstance(data.get("scenarios"), str):
            data["scenarios"] = [data["scenarios"]]
        return data

    def check(self, ctx: Context) -> None:
        """Check what involves several keys: seeds, scenarios, the variants and their names."""
        if "simulation.seed" in self.overrides:
            raise ctx.child("overrides").child("simulation.seed").error(
                self.overrides["simulation.seed"], "allowed: seeds come from the experiment's seed and replicates; "
                "set seed: instead", "not allowed")
        if not self.scenarios and self.municipalities is None:
            raise ctx.child("scenarios").error([], "allowed: a non-empty list of bundled scenario names or files "
                                               "(or municipalities: all, a prefecture or a filter)", "empty")
        if self.municipalities is not None and "municipality.scale" in self.overrides:
            raise ctx.child("overrides").child("municipality.scale").error(
                self.overrides["municipality.scale"], "allowed: with municipalities:, the fraction simulated is "
                "the scale at which each is built; set scale: instead", "not allowed")
        if not self.variants:
            raise ctx.child("variants").error({}, "allowed: at least one variant", "empty")
        for name in self.variants:
            if not name:
                raise ctx.child("variants").error(name, "allowed: a non-empty text name", "wrong type")
        marked = [v for v, spec in self.variants.items() if spec.baseline]
        if len(marked) > 1:
            raise ctx.child("variants").error(marked, "allowed: at most one variant with baseline: true",
                                              "two baselines")
        if all(spec.baseline is False for spec in self.variants.values()):
            raise ctx.child("variants").error(
                Summary(f"baseline: false in all {len(self.variants)} variants"), "allowed: one variant with "
                "baseline: true (or none marked: the first variant is the baseline)", "no baseline")
        if len({_safe(v) for v in self.variants}) != len(self.variants):
            raise ctx.child("variants").error(list(self.variants), "allowed: variant names that differ in letters "
                                              "and digits", "names clash in run ids")

    @property
    def baseline(self) -> str:
        """The baseline variant: the one marked ``baseline: true``, else the first not marked ``baseline: false``."""
        return next((v for v, spec in self.variants.items() if spec.baseline),
                    next(v for v, spec in self.variants.items() if spec.baseline is not False))

    def common_overrides(self) -> dict[str, Any]:
        """Return the scenario keys set for every run: ``years``, ``scale`` and ``overrides``."""
        common: dict[str, Any] = {}
        if self.years is not None:
            common["simulation.years"] = self.years
        if self.scale is not None:
            common["municipality.scale"] = self.scale
        return {**common, **self.overrides}


@dataclass(frozen=True)
class Run:
    """One run of an experiment.

    Attributes:
        run_id: ``<scenario>-<variant>-p<point>-r<replicate>``, unique in the experiment.
        scenario: Name of the base scenario (e.g. ``"ikoma"``).
        variant: Name of the variant.
        point: Index of the design point (0 without a design).
        replicate: 0-based replicate number.
        seed: The run's seed (the same for every variant and point of a replicate).
        params: The design parameters of the point, by dotted key.
        intervention_start: Earliest start year of the interventions the variant switches on and the
            baseline does not (``None`` if none).
        resolved: The fully resolved scenario of the run (seed, years and every override applied); ``None``
            for a run of a municipality that ``municipalities:`` names, whose scenario is built in its worker.
        recipe: For such a run, how its worker makes its scenario (:class:`MunicipalScenario`); else ``None``.
    """

    run_id: str
    scenario: str
    variant: str
    point: int
    replicate: int
    seed: int
    params: dict[str, Any]
    intervention_start: int | None
    resolved: Scenario | None = field(repr=False, compare=False)
    recipe: MunicipalScenario | None = field(default=None, repr=False, compare=False)

    def design_row(self) -> dict[str, Any]:
        """Return the run as a row of the ``design`` table (without status columns)."""
        return {"run_id": self.run_id, "scenario": self.scenario, "variant": self.variant, "point": self.point,
                "replicate": self.replicate, "seed": self.seed, "intervention_start": self.intervention_start,
                **self.params}


@dataclass(frozen=True)
class Experiment:
    """A checked experiment with every run resolved.

    Attributes:
        name: Name of the experiment (default results folder ``results/<name>``).
        spec: The experiment as plain data, normalised (what the manifest records).
        runs: The runs in their fixed order (scenario, variant, point, replicate).
        seeds: The replicate seeds.
        baseline: Name of the baseline variant.
        variants: Variant names, baseline first.
        design: ``{"type", "parameters", ...}``; for sobol also ``problem``, ``n``, ``calc_second_order``.
        points: The design points (one dict of parameter values per point; ``[{}]`` without a design).
        hash: SHA-256 of the spec, the design points and the digest of every run's scenario.
        file: The experiment file (``None`` for a mapping).
        warnings: What is valid but probably not meant in the runs' scenarios
            (:func:`kyojosim.params.scenario.scenario_warnings`), once each, naming scenario and variant.
    """

    name: str
    spec: dict[str, Any]
    runs: tuple[Run, ...]
    seeds: tuple[int, ...]
    baseline: str
    variants: tuple[str, ...]
    design: dict[str, Any]
    points: tuple[dict[str, Any], ...]
    hash: str
    file: Path | None = None
    identity: str = ""
    digests: tuple[str, ...] = field(default=(), repr=False)
    warnings: tuple[str, ...] = ()

    @property
    def seed(self) -> int:
        """The experiment seed."""
        return int(self.spec["seed"])

    @property
    def replicates(self) -> int:
        """The number of replicates."""
        return int(self.spec["replicates"])

    @property
    def parameters(self) -> list[str]:
        """Dotted keys of the design parameters (in design order)."""
        return list(self.design.get("parameters", {}))

    def with_replicates(self, replicates: int) -> Experiment:
        """Return the same experiment with another number of replicates.

        Replicate ``k`` keeps its seed and its run id (seeds are ``SeedSequence(seed).spawn``'s children,
        the same first ones whatever the count), so the runs of this experiment are the first runs of
        every (scenario, variant, point) of the other; :attr:`identity` is unchanged and :attr:`hash` is
        the one :func:`load_experiment` gives the file with ``replicates`` set.

        Args:
            replicates: The new number of replicates (>= 1).

        Raises:
            ExperimentError: For a number below 1 or above the allowed maximum.
        """
        if isinstance(replicates, bool) or not isinstance(replicates, int) or not 1 <= replicates <= MAX_REPLICATES:
            raise ExperimentError(str(self.file or "<experiment>"), "replicates", replicates,
                                  f"allowed: an integer in [1, {MAX_REPLICATES}]", "out of range")
        if replicates == self.replicates:
            return self
        seeds = replicate_seeds(self.seed, replicates)
        firsts = [r for r in self.runs if r.replicate == 0]
        runs = []
        for first in firsts:
            stem = first.run_id.removesuffix("-r0")
            for k, rseed in enumerate(seeds):
                resolved = None if first.resolved is None else with_seed(first.resolved, rseed)
                recipe = None if first.recipe is None else dataclasses.replace(first.recipe, seed=rseed)
                runs.append(dataclasses.replace(first, run_id=f"{stem}-r{k}", replicate=k, seed=rseed,
                                                resolved=resolved, recipe=recipe))
        spec = {**copy.deepcopy(self.spec), "replicates": replicates}
        return dataclasses.replace(self, spec=spec, runs=tuple(runs), seeds=seeds,
                                   hash=_hash(spec, list(self.points), seeds, list(self.digests)))

    def to_dict(self) -> dict[str, Any]:
        """Return the resolved experiment as plain data (spec, seeds, design and points)."""
        return {**copy.deepcopy(self.spec), "seeds": list(self.seeds), "baseline": self.baseline,
                "design": copy.deepcopy(self.design), "points": copy.deepcopy(list(self.points))}

    @property
    def municipalities(self) -> dict[str, str]:
        """The scenarios that ``municipalities:`` names, by name, with their municipal codes (empty without it)."""
        return dict((self.spec.get("municipalities") or {}).get("scenarios") or {})

    def __repr__(self) -> str:
        n = len(dict.fromkeys(r.scenario for r in self.runs))
        return (f"Experiment({self.name!r}, {len(self.runs)} runs: {n} scenarios x "
                f"{len(self.variants)} variants x {len(self.points)} points x {self.replicates} replicates)")


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def find_experiment(name: str | Path) -> Path:
    """Find an experiment by path, or by name among the bundled ones (``"yamae-quick"``)."""
    path = Path(name)
    if path.is_file():
        return path
    if len(path.parts) == 1:
        for candidate in (EXPERIMENT_DIR / path.name, EXPERIMENT_DIR / f"{path.name}.yaml"):
            if candidate.is_file():
                return candidate
    return path


def bundled_experiments() -> list[str]:
    """Names of the bundled experiment files."""
    return sorted(p.stem for p in EXPERIMENT_DIR.glob("*.yaml"))


def with_seed(scn: Scenario, seed: int) -> Scenario:
    """Return a checked scenario with another ``simulation.seed`` (a replicate of a resolved variant).

    The same scenario as ``scn.replace(**{"simulation.seed": seed})`` (equal, with the same digest), without
    checking every other key again: they are those of ``scn``, already checked, and no check of the schema
    involves the seed with another key. A seed outside the range ``simulation.seed`` allows goes through the
    full check (and its error).
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        return scn.replace(**{"simulation.seed": seed})
    return dataclasses.replace(scn, simulation=dataclasses.replace(scn.simulation, seed=int(seed)))


def replicate_seeds(seed: int, replicates: int) -> tuple[int, ...]:
    """Return the replicate seeds: ``SeedSequence(seed).spawn(replicates)``, each as a 63-bit integer."""
    children = np.random.SeedSequence(int(seed)).spawn(int(replicates))
    return tuple(int(c.generate_state(1, dtype=np.uint64)[0]) & MAX_SEED for c in children)


# --------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    sections = tuple(f.name for f in dataclasses.fields(ExperimentSpec) if f.name not in ("name", "description"))
    try:
        return read_yaml(path, "experiment", sections)
    except ScenarioError as exc:
        raise ExperimentError(exc.file, exc.key, exc.given, exc.allowed, exc.problem) from None


def _resolve_scenario(ref: str, base_dir: Path | None, ctx: Context) -> Path:
    if not ref:
        raise ctx.error(ref, "allowed: the name of a bundled scenario or a scenario file", "wrong type")
    if base_dir is not None:
        local = base_dir / ref
        for candidate in (local, local.with_name(local.name + ".yaml")):
            if candidate.is_file():
                return candidate
    path = find_scenario(ref)
    if not path.is_file():
        bundled = sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
        raise ctx.error(ref, suggest(ref, bundled).replace("valid keys", "bundled scenarios") + " (or a scenario file)",
                        "scenario not found")
    return path


def load_experiment(source: str | Path | Mapping[str, Any] | Experiment, *, years: int | None = None,
                    scale: float | None = None, replicates: int | None = None) -> Experiment:
    """Load, check and resolve an experiment.

    Args:
        source: An experiment file, the name of a bundled experiment (``"yamae-quick"``), a mapping
            with the same keys as a file, or an :class:`Experiment` (returned as is unless a change is asked).
        years: Replaces the experiment's ``years`` (``None``: keep it); with ``scale`` and ``replicates``, a
            smaller trial of the same experiment, e.g. ``load_experiment("ikoma-interventions", years=3,
            scale=0.02, replicates=1)``. Checked as the file's keys are.
        scale: Replaces the experiment's ``scale``.
        replicates: Replaces the experiment's ``replicates``.

    Returns:
        The :class:`Experiment`, with every run's scenario resolved.

    Raises:
        ExperimentError: For any problem in the experiment, its scenarios, overrides or design
            (the message names the file, the key path, the value given and what is allowed).
    """
    changes = {k: v for k, v in (("years", years), ("scale", scale), ("replicates", replicates)) if v is not None}
    if isinstance(source, Experiment):
        if not changes:
            return source
        source = source.file if source.file is not None else source.spec
    if isinstance(source, Mapping):
        file, base_dir, raw, default_name = "<experiment>", None, copy.deepcopy(dict(source)), ""
    else:
        path = find_experiment(source)
        if not path.is_file():
            raise ExperimentError(str(path), "", str(source), suggest(str(source), bundled_experiments()).replace(
                "valid keys", "bundled experiments") + " (or an experiment file)", "file not found")
        file, base_dir, raw, default_name = str(path), path.parent, _read(path), path.stem
    raw.update(changes)
    ctx = Context(file, "", ExperimentError)
    exp = build(ExperimentSpec, raw, ctx)
    name = exp.name or (safe_name(default_name) if default_name else "")
    if not name.strip():
        raise ctx.child("name").error(name, "allowed: a non-empty text without / or \\ (it names the results folder)")
    check_name(name, ctx.child("name"))
    scen_paths = [_resolve_scenario(ref, base_dir, ctx.child("scenarios").child(i))
                  for i, ref in enumerate(exp.scenarios)]
    baseline = exp.baseline
    order = [baseline, *(v for v in exp.variants if v != baseline)]
    design, points = exp.design.sample(exp.seed, ctx.child("design"))
    seeds = replicate_seeds(exp.seed, exp.replicates)
    common = exp.common_overrides()

    spec = {
        "name": name, "description": exp.description, "seed": exp.seed, "replicates": exp.replicates,
        "years": exp.years, "scale": exp.scale, "overrides": dict(exp.overrides), "scenarios": list(exp.scenarios),
        "variants": {v: _plain_variant(exp.variants[v], v == baseline) for v in order},
        "design": {k: v for k, v in design.items() if k != "problem"},
    }
    # resolve every run's scenario up front (a bad key or value fails here, before any run)
    runs: list[Run] = []
    digests: list[str] = []
    scen_names: dict[str, str] = {}
    notes: list[str] = []
    for si, spath in enumerate(scen_paths):
        try:
            base = load_scenario(spath, common)
        except ScenarioError as exc:
            raise ctx.child(f"scenarios[{si}] ({spath.name}) with overrides: {exc.key}").error(
                exc.given, exc.allowed, exc.problem) from None
        sname = base.name or spath.stem
        if _safe(sname) in scen_names:
            raise ctx.child("scenarios").child(si).error(
                exp.scenarios[si], f"allowed: scenarios with different names ({sname!r} is already "
                f"scenarios[{scen_names[_safe(sname)]}])", "duplicate scenario")
        scen_names[_safe(sname)] = str(si)
        resolved: dict[tuple[str, int], Scenario] = {}
        factor_keys = design.get("factors") or []
        for vname in order:
            vover = exp.variants[vname].scenario_overrides()
            for pi, point in enumerate(points):
                try:
                    if factor_keys:  # a list or mapping scaled by the point's factor, from the variant's own value
                        before = base.replace(**vover) if vover else base
                        point = {k: scale_by_factor(before, k, v) if k in factor_keys else v for k, v in point.items()}
                    scn = base.replace(**vover, **point) if (vover or point) else base
                except ScenarioError as exc:
                    where = f"variants.{vname}" if not point else f"variants.{vname} at design point {pi}"
                    raise ctx.child(f"{where}: {exc.key}").error(exc.given, exc.allowed, exc.problem) from None
                resolved[(vname, pi)] = scn
                at = f"{sname}, variant {vname}" + (f", design point {pi}" if len(points) > 1 else "")
                notes.extend(f"{at}: {w}" for w in scenario_warnings(scn) if f"{at}: {w}" not in notes)
        for vname in order:
            for pi, point in enumerate(points):
                scn = resolved[(vname, pi)]
                start = _intervention_start(scn, resolved[(baseline, pi)])
                for r, rseed in enumerate(seeds):
                    run_scn = with_seed(scn, rseed)
                    run_id = f"{_safe(sname)}-{_safe(vname)}-p{pi}-r{r}"
                    runs.append(Run(run_id=run_id, scenario=sname, variant=vname, point=pi, replicate=r, seed=rseed,
                                    params=dict(point), intervention_start=start, resolved=run_scn))
                digests.append(scn.digest())
    if exp.municipalities is not None:
        places = _municipal_runs(exp, ctx.child("municipalities"), common, order, points, design, seeds, runs,
                                 digests, notes, scen_names)
        spec["municipalities"] = {**to_plain(exp.municipalities), "selection": exp.municipalities.describe(),
                                  "selected": len(places), "scenarios": places}
    return Experiment(name=name, spec=spec, runs=tuple(runs), seeds=seeds, baseline=baseline, variants=tuple(order),
                      design=design, points=tuple(points), hash=_hash(spec, points, seeds, digests),
                      file=None if base_dir is None else Path(file), identity=_identity(spec, points, digests),
                      digests=tuple(digests), warnings=tuple(notes))


def _municipal_runs(exp: ExperimentSpec, ctx: Context, common: dict[str, Any], order: list[str],
                    points: list[dict[str, Any]], design: dict[str, Any], seeds: tuple[int, ...], runs: list[Run],
                    digests: list[str], notes: list[str], scen_names: dict[str, str]) -> dict[str, str]:
    """Add the runs of the municipalities ``municipalities:`` selects; return their scenario names and codes.

    No municipality is built here: each run carries a :class:`MunicipalScenario`, and its worker builds
    (or takes from the cache) the municipality's scenario. The overrides, variants and design points are
    checked here on one of the municipalities, the one with the fewest residents (quick to build, once,
    into the cache), so that a bad key or value is reported before any run starts.
    """
    selection = exp.municipalities
    chosen, why = selection.select(ctx)
    notes.extend(why)
    mcommon = {k: v for k, v in common.items() if k != "municipality.scale"}  # the scale is the build's
    probe = min(chosen, key=lambda r: (r.population, r.code))
    where = f"municipalities (checked on {probe.name}, {probe.code})"
    try:
        base = load_scenario(find_scenario(probe.code), mcommon)
    except ScenarioError as exc:
        raise ctx.child(f"{probe.label()} with overrides: {exc.key}").error(exc.given, exc.allowed,
                                                                             exc.problem) from None
    factor_keys = tuple(design.get("factors") or [])
    checked: dict[tuple[str, int], Scenario] = {}
    variant_over = {v: exp.variants[v].scenario_overrides() for v in order}
    for vname in order:
        for pi, point in enumerate(points):
            recipe = MunicipalScenario(code=probe.code, name=probe.scenario_name, scale=None, common={},
                                       variant=variant_over[vname], point=dict(point), factors=factor_keys, seed=0)
            try:
                scn = recipe.apply(base)
            except ScenarioError as exc:
                at = f"variants.{vname}" if not point else f"variants.{vname} at design point {pi}"
                raise ctx.child(f"{at} ({where}): {exc.key}").error(exc.given, exc.allowed, exc.problem) from None
            checked[(vname, pi)] = scn
            at = f"{where}, variant {vname}" + (f", design point {pi}" if len(points) > 1 else "")
            notes.extend(f"{at}: {w}" for w in scenario_warnings(scn) if f"{at}: {w}" not in notes)
    places: dict[str, str] = {}
    for rec in chosen:
        sname = rec.scenario_name
        if _safe(sname) in scen_names:
            raise ctx.error(rec.label(), f"allowed: municipalities not also named in scenarios ({sname!r} is "
                            f"scenarios[{scen_names[_safe(sname)]}])", "duplicate scenario")
        places[sname] = rec.code
        scale = selection.scale_for(rec.population, exp.scale)
        for vname in order:
            for pi, point in enumerate(points):
                recipe = MunicipalScenario(code=rec.code, name=sname, scale=scale, common=mcommon,
                                           variant=variant_over[vname], point=dict(point), factors=factor_keys,
                                           seed=0)
                start = _intervention_start(checked[(vname, pi)], checked[(order[0], pi)])
                for r, rseed in enumerate(seeds):
                    runs.append(Run(run_id=f"{_safe(sname)}-{_safe(vname)}-p{pi}-r{r}", scenario=sname, variant=vname,
                                    point=pi, replicate=r, seed=rseed, params=dict(point), intervention_start=start,
                                    resolved=None, recipe=dataclasses.replace(recipe, seed=rseed)))
                digests.append(recipe.digest())
    return places


def _hash(spec: Mapping[str, Any], points: Any, seeds: Any, digests: list[str]) -> str:
    """SHA-256 of the spec, the design points, the replicate seeds and the digest of every (variant, point).

    The variants' display names are left out: renaming a variant does not make another experiment.
    """
    payload = json.dumps(_keys_as_text({"spec": _without_labels(spec), "points": points, "seeds": seeds,
                                        "digests": digests}),
                         sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _identity(spec: Mapping[str, Any], points: Any, digests: list[str]) -> str:
    """SHA-256 of what makes an experiment itself, whatever its number of replicates.

    Replicate ``k``'s seed depends only on the experiment seed and ``k`` (``SeedSequence(seed).spawn``
    gives the same first children whatever the count), so two experiments that differ only in their
    number of replicates share their common runs exactly; this hash leaves the count out.
    """
    rest = {k: v for k, v in _without_labels(spec).items() if k != "replicates"}
    payload = json.dumps(_keys_as_text({"spec": rest, "points": points, "digests": digests}), sort_keys=True,
                         ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _plain_variant(variant: Variant, baseline: bool) -> dict[str, Any]:
    """Return a variant as plain data for the spec (a variant without a display name has no ``label`` key)."""
    plain = {**to_plain(variant), "baseline": baseline}
    if plain.get("label") is None:
        plain.pop("label", None)
    return plain


def _without_labels(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Return the spec without the variants' display names: renaming a variant does not make another experiment."""
    variants = {k: {f: x for f, x in v.items() if f != "label"} for k, v in spec["variants"].items()}
    return {**spec, "variants": variants}


def _intervention_start(scn: Scenario, base: Scenario) -> int | None:
    """Earliest start year of the interventions ``scn`` switches on and ``base`` does not."""
    starts = []
    for name in INTERVENTION_NAMES:
        mine, theirs = getattr(scn.interventions, name), getattr(base.interventions, name)
        if mine.enabled and not theirs.enabled:
            starts.append(int(mine.start_year))
    return min(starts) if starts else None


__all__ = ["DESIGN_TYPES", "EXPERIMENT_DIR", "Design", "Experiment", "ExperimentError", "ExperimentSpec",
           "InterventionSwitch", "Label", "MunicipalScenario", "MunicipalitySelection", "Run", "Variant",
           "bundled_experiments", "find_experiment", "load_experiment", "replicate_seeds", "with_seed"]
