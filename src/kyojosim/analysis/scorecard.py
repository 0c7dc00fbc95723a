"""The validation scorecard: the model against every published pattern, with the seeds each needs.

The targets are declared in one data file (``kyojosim/data/targets.yaml``, read by :func:`load_targets`):
for each published figure, its source, the run of the model that gives its value, the registered
measure that computes it (:mod:`kyojosim.measures.patterns`), the band the model's mean must fall
in and the basis of that band, and its role: **calibration** (the figure set or fitted parameters,
which it names) or **validation** (the figure was used for no parameter). :func:`scorecard` runs
every run the targets need, seed after seed, until the 95% interval of each target's mean over
seeds is narrower than a stated fraction of its band (or a cap), and scores each target: its mean
and interval, the band, pass (the mean lies in the band) or fail.

Seeds. A run is repeated with seeds ``first_seed``, ``first_seed + 1``, ... (101, 102, ... by
default: seeds no fit used). After ``min_seeds`` seeds, and after every further batch, each target
of the run computes the half-width ``t(0.975, n - 1) s / sqrt(n)`` of the mean of its ``n`` values;
it is *stable* once that is at most its precision (``settings.precision`` times the band's
half-width, or the target's own ``precision``, which a one-sided band must give). The run stops when
all its targets are stable or ``max_seeds`` seeds have run; each target reports the seeds used and
the seeds at which it first became stable (``needed``).

:func:`write_scorecard` writes ``scorecard.csv`` (one row per target), ``scorecard_seeds.csv`` (one
value per target and seed) and ``scorecard.json`` (what was run: the kyojosim version, the digests
of the scenarios and of the targets file, the seeds, the command) into the output folder, each
atomically; :mod:`kyojosim.present.scorecard` writes the one-page HTML in Japanese and English.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import KyojoError, ScenarioError
from ..measures.patterns import PATTERN_MEASURES, MeasureError, pattern
from ..measures.survey import wilson
from ..params.scenario import Scenario, load_scenario, read_yaml, scenario_fields
from ..runs.executor import map_runs

FORMAT = "kyojosim-scorecard"
ROLES = ("calibration", "validation")
KINDS = ("model", "population")
PRESETS = ("participation_2008",)
"""Run presets: ``participation_2008`` is the 2008 → 2017 experiment of :mod:`kyojosim.analysis.validation`."""
SUBMODELS = ("demography", "households", "ict", "communities", "community_dynamics", "network", "needs",
             "helping", "trust", "tsunagari", "matching", "local_sns", "sharing_platform", "reporting_hub")
"""The parts of the model a target may test (docs/ODD.md §6.5)."""
RESULTS = ("pass", "fail", "no value")
CSV_COLUMNS = ("id", "role", "result", "mean", "ci_lo", "ci_hi", "band_lo", "band_hi", "published", "unit",
               "seeds", "needed", "stable", "certain", "precision", "sd", "description_ja", "description_en",
               "source_short", "source", "source_year", "run", "scenario", "scale", "measure", "args", "at",
               "band_basis", "band_basis_ja", "parameters", "fitted_by", "fast")
"""Columns of ``scorecard.csv``."""
FITTED = re.compile(r"\b(fitted|calibrated)\b", re.IGNORECASE)
NOT_FITTED = re.compile(r"\bnot (fitted|calibrated)\b", re.IGNORECASE)


class TargetError(ScenarioError):
    """The targets file is invalid (the message names the file, the key path, the value and what is allowed)."""


class ScorecardError(KyojoError):
    """The scorecard cannot be run or written as asked."""


def default_targets_path() -> Path:
    """Return the bundled targets file (``kyojosim/data/targets.yaml``)."""
    return Path(str(resources.files("kyojosim") / "data" / "targets.yaml"))


# --------------------------------------------------------------------------------------
# the declarations
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """How many seeds: see the module docstring."""

    precision: float = 0.25
    min_seeds: int = 3
    max_seeds: int = 20
    first_seed: int = 101
    fast_seeds: int = 3


@dataclass(frozen=True)
class RunSpec:
    """A run of the model that targets read.

    Attributes:
        name: Its name in the targets file.
        kind: ``model`` (the whole model, :func:`kyojosim.runs.results.run_one`) or ``population`` (the
            population alone, :class:`kyojosim.demographic_run.DemographicRun`).
        scenario: A bundled scenario name or a scenario file.
        years: Length of the run (a preset gives its own).
        preset: ``participation_2008`` or ``None``.
        scale: ``municipality.scale`` of the run (``None``: the scenario's).
        fast_scale: The scale of the fast subset (``None``: ``scale``).
        overrides: Further dotted-path overrides.
    """

    name: str
    kind: str
    scenario: str
    years: int
    preset: str | None = None
    scale: float | None = None
    fast_scale: float | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)


Point = str | int
"""A moment of a run: ``"start"``, ``"end"`` or a number of years after the start."""


@dataclass(frozen=True)
class When:
    """When a target reads its measure: one moment, or the change, change per decade or growth between two."""

    how: str  # "at", "change", "change_per_decade", "growth"
    points: tuple[Point, ...]

    def text(self) -> str:
        """Return the ``at`` of the targets file, as text."""
        return str(self.points[0]) if self.how == "at" else f"{self.how} {self.points[0]} -> {self.points[1]}"


@dataclass(frozen=True)
class Band:
    """The range the model's mean must fall in (a bound may be ``None``: one-sided) and why."""

    lo: float | None
    hi: float | None
    basis: str
    kind: str  # "interval", "sampling", "tolerance", "relative"
    basis_ja: str = ""

    def basis_in(self, lang: str) -> str:
        """Return the basis in ``lang`` (``ja`` falls back to the English text where none is given)."""
        return self.basis_ja if lang == "ja" and self.basis_ja else self.basis

    @property
    def half_width(self) -> float | None:
        """Half the band's width (``None`` for a one-sided band)."""
        return None if self.lo is None or self.hi is None else (self.hi - self.lo) / 2.0

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies in the band (bounds included)."""
        return (self.lo is None or x >= self.lo) and (self.hi is None or x <= self.hi)


@dataclass(frozen=True)
class Target:
    """One published pattern (see the header of the targets file for every key)."""

    id: str
    description: Mapping[str, str]
    source: Mapping[str, Any]
    role: str
    run: str
    measure: str
    args: Mapping[str, Any]
    when: When
    unit: str
    published: float | None
    band: Band
    precision: float | None
    parameters: tuple[str, ...] = ()
    fitted_by: str = ""
    shared_source: Mapping[str, str] = field(default_factory=dict)
    submodels: tuple[str, ...] = ()
    fast: bool = False

    @property
    def keys(self) -> tuple[str, ...]:
        """The strings that identify the source in parameters' provenance."""
        return tuple(str(k) for k in self.source.get("keys", ()))

    def needed_precision(self, settings: Settings) -> float:
        """Return the half-width at which seeds stop being added for this target."""
        if self.precision is not None:
            return self.precision
        hw = self.band.half_width
        return settings.precision * hw if hw is not None else math.inf


@dataclass(frozen=True)
class Targets:
    """The contents of a targets file."""

    settings: Settings
    runs: Mapping[str, RunSpec]
    targets: tuple[Target, ...]
    path: Path
    digest: str

    def target(self, target_id: str) -> Target:
        """Return the target ``target_id`` (``KeyError`` if there is none)."""
        for t in self.targets:
            if t.id == target_id:
                return t
        raise KeyError(target_id)

    def scenarios(self) -> list[str]:
        """Return the scenarios the runs use, in order."""
        return list(dict.fromkeys(r.scenario for r in self.runs.values()))


class _Reader:
    """Checks one value after another, raising :class:`TargetError` with the file and key path."""

    def __init__(self, file: str) -> None:
        self.file = file

    def error(self, key: str, given: Any, allowed: str, problem: str = "invalid value") -> TargetError:
        return TargetError(self.file, key, given, f"allowed: {allowed}", problem)

    def mapping(self, value: Any, key: str, allowed_keys: Iterable[str], required: Iterable[str] = ()) -> dict:
        if not isinstance(value, Mapping):
            raise self.error(key, value, "a mapping", "wrong type")
        allowed = list(allowed_keys)
        extra = [k for k in value if k not in allowed]
        if extra:
            raise self.error(f"{key}.{extra[0]}" if key else str(extra[0]), extra[0], ", ".join(allowed),
                             "unknown key")
        missing = [k for k in required if k not in value]
        if missing:
            raise self.error(f"{key}.{missing[0]}" if key else missing[0], None, "a value", "missing key")
        return dict(value)

    def number(self, value: Any, key: str, lo: float | None = None, integer: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
            raise self.error(key, value, "an integer" if integer else "a number", "wrong type")
        if not math.isfinite(float(value)) or (lo is not None and value < lo):
            raise self.error(key, value, f"a number >= {lo}" if lo is not None else "a finite number",
                             "out of range")
        return int(value) if integer else float(value)

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, value, "a non-empty text", "wrong type")
        return " ".join(value.split())

    def choice(self, value: Any, key: str, choices: Sequence[str]) -> str:
        if value not in choices:
            raise self.error(key, value, ", ".join(choices))
        return str(value)


def _point(r: _Reader, value: Any, key: str, years: int) -> Point:
    if value in ("start", "end"):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= years:
        return "start" if value == 0 else "end" if value == years else int(value)
    raise r.error(key, value, f"start, end or a number of years 0-{years} (the run's length)")


def _when(r: _Reader, value: Any, key: str, years: int) -> When:
    if isinstance(value, Mapping):
        body = r.mapping(value, key, ("change", "change_per_decade", "growth"))
        if len(body) != 1:
            raise r.error(key, value, "one of change, change_per_decade, growth", "one key expected")
        (how, pair), = body.items()
        if not isinstance(pair, list) or len(pair) != 2:
            raise r.error(f"{key}.{how}", pair, "[A, B]: two moments (start, end or years after the start)")
        a, b = (_point(r, p, f"{key}.{how}[{i}]", years) for i, p in enumerate(pair))
        if _offset(a, years) >= _offset(b, years):
            raise r.error(f"{key}.{how}", pair, "A before B")
        return When(how, (a, b))
    return When("at", (_point(r, "end" if value is None else value, key, years),))


def _offset(p: Point, years: int) -> int:
    return 0 if p == "start" else years if p == "end" else int(p)


def _published(r: _Reader, value: Any, key: str) -> tuple[float | None, float | None]:
    """Return the published value and, for ``{count, n}``, its n."""
    if value is None:
        return None, None
    if isinstance(value, Mapping):
        body = r.mapping(value, key, ("count", "n"), ("count", "n"))
        n = r.number(body["n"], f"{key}.n", lo=1)
        count = r.number(body["count"], f"{key}.count", lo=0)
        if count > n:
            raise r.error(f"{key}.count", count, f"at most n ({n:g})", "out of range")
        return 100.0 * count / n, n
    return r.number(value, key), None


def _band(r: _Reader, value: Any, key: str, published: float | None, unit: str) -> Band:
    body = r.mapping(value, key, ("lo", "hi", "sampling", "tolerance", "relative", "basis", "basis_ja"), ("basis",))
    basis = r.text(body.pop("basis"), f"{key}.basis")
    basis_ja = r.text(body.pop("basis_ja"), f"{key}.basis_ja") if "basis_ja" in body else ""
    kinds = [k for k in ("sampling", "tolerance", "relative") if k in body]
    if kinds and ("lo" in body or "hi" in body) or len(kinds) > 1 or not (kinds or "lo" in body or "hi" in body):
        raise r.error(key, dict(value), "one of {lo, hi}, {sampling: N}, {tolerance: d}, {relative: r}, with basis")
    if kinds:
        kind = kinds[0]
        if published is None:
            raise r.error(f"{key}.{kind}", body[kind], "a published value to build the band around", "missing")
        if kind == "sampling":
            if unit != "%":
                raise r.error(f"{key}.sampling", body[kind], "a sampling band for a share in percent (unit %)")
            n = r.number(body[kind], f"{key}.sampling", lo=1)
            _, lo, hi = wilson(published / 100.0 * n, n)
            return Band(round(100.0 * float(lo), 3), round(100.0 * float(hi), 3), basis, kind, basis_ja)
        d = r.number(body[kind], f"{key}.{kind}", lo=0)
        half = d if kind == "tolerance" else abs(published) * d
        return Band(published - half, published + half, basis, kind, basis_ja)
    lo = None if body.get("lo") is None else r.number(body["lo"], f"{key}.lo")
    hi = None if body.get("hi") is None else r.number(body["hi"], f"{key}.hi")
    if lo is None and hi is None:
        raise r.error(key, dict(value), "at least one of lo, hi")
    if lo is not None and hi is not None and lo > hi:
        raise r.error(f"{key}.lo", lo, f"lo <= hi ({hi:g})")
    return Band(lo, hi, basis, "interval", basis_ja)


TARGET_KEYS = ("id", "description", "source", "role", "parameters", "fitted_by", "shared_source", "submodels", "run",
               "measure", "args", "at", "unit", "published", "band", "precision", "fast")


def _target(r: _Reader, value: Any, key: str, runs: Mapping[str, RunSpec]) -> Target:
    tid = value.get("id") if isinstance(value, Mapping) else None
    if isinstance(tid, str) and re.fullmatch(r"[a-z][a-z0-9_]*", tid):
        key = f"targets[{tid}]"
    body = r.mapping(value, key, TARGET_KEYS, ("id", "description", "source", "role", "run", "measure", "unit",
                                               "band", "submodels"))
    if not isinstance(tid, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", tid):
        raise r.error(f"{key}.id", tid, "lower-case letters, digits and _, starting with a letter")
    desc = r.mapping(body["description"], f"{key}.description", ("ja", "en"), ("ja", "en"))
    desc = {lang: r.text(desc[lang], f"{key}.description.{lang}") for lang in ("ja", "en")}
    source = r.mapping(body["source"], f"{key}.source", ("short", "cite", "year", "keys", "url"),
                       ("cite", "year", "keys"))
    r.text(source["cite"], f"{key}.source.cite")
    r.number(source["year"], f"{key}.source.year", lo=1900, integer=True)
    if not isinstance(source["keys"], list) or not source["keys"] or not all(
            isinstance(k, str) and k.strip() for k in source["keys"]):
        raise r.error(f"{key}.source.keys", source["keys"], "a list of texts that identify the source")
    role = r.choice(body["role"], f"{key}.role", ROLES)
    params = body.get("parameters") or []
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        raise r.error(f"{key}.parameters", params, "a list of scenario keys")
    shared = body.get("shared_source") or {}
    if not isinstance(shared, Mapping) or not all(isinstance(k, str) for k in shared):
        raise r.error(f"{key}.shared_source", shared, "a mapping: parameter -> why")
    shared = {k: r.text(v, f"{key}.shared_source.{k}") for k, v in shared.items()}
    if role == "calibration":
        if not params:
            raise r.error(f"{key}.parameters", params, "the parameters a calibration target set or fitted",
                          "missing")
        r.text(body.get("fitted_by"), f"{key}.fitted_by")
        if shared:
            raise r.error(f"{key}.shared_source", shared, "none for a calibration target")
    else:
        if params or body.get("fitted_by"):
            raise r.error(f"{key}.parameters", params, "none: a validation target set and fitted no parameter",
                          "a validation target names parameters")
    submodels = body["submodels"]
    if not isinstance(submodels, list) or not submodels or any(s not in SUBMODELS for s in submodels):
        raise r.error(f"{key}.submodels", submodels, f"a list of {', '.join(SUBMODELS)}")
    run = r.choice(body["run"], f"{key}.run", list(runs))
    spec = runs[run]
    try:
        m = pattern(body["measure"])
    except MeasureError:
        raise r.error(f"{key}.measure", body["measure"], ", ".join(sorted(PATTERN_MEASURES)),
                      "unknown measure") from None
    if spec.kind == "population" and not m.population:
        raise r.error(f"{key}.measure", m.name, "a measure of the population alone for a population run "
                      f"({', '.join(n for n, x in PATTERN_MEASURES.items() if x.population)})")
    args = body.get("args") or {}
    if not isinstance(args, Mapping):
        raise r.error(f"{key}.args", args, "a mapping of the measure's arguments", "wrong type")
    args = dict(args)
    try:
        m.check(args)
    except MeasureError as exc:
        raise r.error(f"{key}.args", args, str(exc)) from None
    when = _when(r, body.get("at"), f"{key}.at", spec.years)
    unit = r.text(body["unit"], f"{key}.unit")
    published, _ = _published(r, body.get("published"), f"{key}.published")
    band = _band(r, body["band"], f"{key}.band", published, unit)
    precision = None if body.get("precision") is None else r.number(body["precision"], f"{key}.precision", lo=0)
    if band.half_width is None and precision is None:
        raise r.error(f"{key}.precision", None, "a precision (half-width of the model's interval) for a "
                      "one-sided band", "missing")
    fast = body.get("fast", False)
    if not isinstance(fast, bool):
        raise r.error(f"{key}.fast", fast, "true or false", "wrong type")
    return Target(id=tid, description=desc, source=source, role=role, run=run, measure=m.name, args=args,
                  when=when, unit=unit, published=published, band=band, precision=precision,
                  parameters=tuple(params), fitted_by=" ".join(str(body.get("fitted_by") or "").split()),
                  shared_source=shared, submodels=tuple(submodels), fast=fast)


def _run_spec(r: _Reader, name: str, value: Any) -> RunSpec:
    key = f"runs.{name}"
    body = r.mapping(value, key, ("kind", "scenario", "years", "preset", "scale", "fast_scale", "overrides"),
                     ("kind", "scenario"))
    kind = r.choice(body["kind"], f"{key}.kind", KINDS)
    preset = body.get("preset")
    if preset is not None:
        r.choice(preset, f"{key}.preset", PRESETS)
        if kind != "model":
            raise r.error(f"{key}.preset", preset, "a preset only for a model run")
        years = _preset_years(preset)
        if "years" in body:
            raise r.error(f"{key}.years", body["years"], "no years with a preset (it sets its own)")
    else:
        years = r.number(body.get("years"), f"{key}.years", lo=1, integer=True)
    scale = {k: None if body.get(k) is None else r.number(body[k], f"{key}.{k}", lo=1e-6) for k in
             ("scale", "fast_scale")}
    for k, v in scale.items():
        if v is not None and v > 1:
            raise r.error(f"{key}.{k}", v, "0 < scale <= 1", "out of range")
    overrides = body.get("overrides") or {}
    if not isinstance(overrides, Mapping):
        raise r.error(f"{key}.overrides", overrides, "a mapping of dotted keys to values")
    return RunSpec(name=name, kind=kind, scenario=r.text(body["scenario"], f"{key}.scenario"), years=int(years),
                   preset=preset, scale=scale["scale"], fast_scale=scale["fast_scale"], overrides=dict(overrides))


def _preset_years(preset: str) -> int:
    from .validation import END, START

    return END - START


def load_targets(path: str | Path | None = None) -> Targets:
    """Read and check a targets file (default: the bundled ``kyojosim/data/targets.yaml``).

    Raises:
        TargetError: For a file that is missing, not YAML, or with any invalid entry (the message names the
            key path, the value and what is allowed).
    """
    file = Path(path) if path is not None else default_targets_path()
    try:
        data = read_yaml(file, "targets")
    except ScenarioError as exc:
        raise TargetError(exc.file, exc.key, exc.given, exc.allowed, exc.problem) from None
    r = _Reader(str(file))
    body = r.mapping(data, "", ("settings", "runs", "targets", "_blocks"), ("runs", "targets"))
    raw = r.mapping(body.get("settings") or {}, "settings", [f.name for f in dataclasses.fields(Settings)])
    settings = Settings(**{k: r.number(v, f"settings.{k}", lo=0 if k == "precision" else 1,
                                       integer=k != "precision") for k, v in raw.items()})
    if settings.min_seeds < 2 or settings.min_seeds > settings.max_seeds or settings.precision <= 0:
        raise r.error("settings", raw, "min_seeds >= 2, min_seeds <= max_seeds, precision > 0")
    runs_raw = r.mapping(body["runs"], "runs", list(body["runs"]) if isinstance(body["runs"], Mapping) else [])
    runs = {name: _run_spec(r, str(name), v) for name, v in runs_raw.items()}
    if not isinstance(body["targets"], list) or not body["targets"]:
        raise r.error("targets", body["targets"], "a list of targets")
    targets = [_target(r, v, f"targets[{i}]", runs) for i, v in enumerate(body["targets"])]
    seen: set[str] = set()
    for t in targets:
        if t.id in seen:
            raise r.error(f"targets[{t.id}].id", t.id, "a unique id", "duplicate id")
        seen.add(t.id)
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    return Targets(settings, runs, tuple(targets), file, digest)


# --------------------------------------------------------------------------------------
# provenance: calibration and validation kept apart
# --------------------------------------------------------------------------------------


def parameter_exists(name: str) -> bool:
    """Whether ``name`` is a scenario key (``communities.offline_trend``) or a kyojosim constant (a dotted path)."""
    if name in {p for p, _, _ in scenario_fields()}:
        return True
    if not name.startswith("kyojosim."):
        return False
    import importlib

    module, _, attr = name.rpartition(".")
    try:
        return hasattr(importlib.import_module(module), attr)
    except ImportError:
        return False


def is_fitted(source: str) -> bool:
    """Whether a parameter's provenance says it was fitted (or calibrated) to data."""
    text = NOT_FITTED.sub("", source)
    return bool(FITTED.search(text))


def provenance_problems(targets: Targets) -> list[str]:
    """Return every breach of the rules that keep calibration and validation apart (empty if none).

    1. A calibration target names the parameters it set or fitted, and each exists (a scenario key or a
       kyojosim constant); a validation target names none.
    2. A scenario parameter whose provenance (``source`` or ``basis`` in the schema) contains a key of a
       validation target's source is listed in that target's ``shared_source``, with the reason it does
       not make the target depend on a fit; a parameter whose source says it was fitted can never be.
    3. Every parameter listed in ``shared_source`` exists and cites the source.
    4. Every scenario parameter whose source says it was fitted (or calibrated) is named by a calibration
       target.
    """
    problems: list[str] = []
    fields = [(p, str(f.metadata.get("source", "")), str(f.metadata.get("basis", ""))) for p, f, _ in
              scenario_fields()]
    claimed = {p for t in targets.targets if t.role == "calibration" for p in t.parameters}
    for t in targets.targets:
        if t.role == "calibration":
            if not t.parameters:
                problems.append(f"{t.id}: a calibration target names no parameter")
            for p in t.parameters:
                if not parameter_exists(p):
                    problems.append(f"{t.id}: parameter {p!r} does not exist")
            continue
        if t.parameters:
            problems.append(f"{t.id}: a validation target names parameters ({', '.join(t.parameters)})")
        citing = {p: (src, basis) for p, src, basis in fields if any(k in src or k in basis for k in t.keys)}
        for p, (src, _basis) in citing.items():
            if is_fitted(src):
                problems.append(f"{t.id}: parameter {p} was fitted to data citing the target's source "
                                f"({', '.join(t.keys)}); the target cannot count as validation")
            elif p not in t.shared_source:
                problems.append(f"{t.id}: parameter {p} cites the target's source ({', '.join(t.keys)}) but is "
                                "not in its shared_source (say why it does not make the target depend on it)")
        for p in t.shared_source:
            if p not in citing:
                problems.append(f"{t.id}: shared_source lists {p}, which does not cite {', '.join(t.keys)}")
    for p, src, _ in fields:
        if is_fitted(src) and p not in claimed:
            problems.append(f"parameter {p} says it was fitted but no calibration target names it")
    return problems


# --------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------


def _scenario_for(spec: RunSpec, scale: float | None) -> Scenario:
    """Return the scenario a run uses, with its preset, overrides and scale."""
    from .validation import experiment_overrides

    over: dict[str, Any] = {}
    scn = load_scenario(spec.scenario)
    if spec.preset == "participation_2008":
        over.update(experiment_overrides(scale if scale is not None else scn.municipality.scale))
    else:
        over["simulation.years"] = spec.years
    over.update(spec.overrides)
    if scale is not None:
        over["municipality.scale"] = scale
    return scn.replace(**over)


def run_scale(spec: RunSpec, fast: bool, scale: float | None) -> float | None:
    """Return the scale of a run: ``--scale`` (model runs), else its fast or own scale (``None``: the scenario's)."""
    if spec.kind == "population":
        return spec.scale
    if scale is not None:
        return scale
    if fast and spec.fast_scale is not None:
        return spec.fast_scale
    return spec.scale


def _evaluate(targets: Sequence[Target], subject: Any, point: Point, out: dict[tuple[str, Point], float]) -> None:
    for t in targets:
        if point in t.when.points:
            try:
                out[(t.id, point)] = pattern(t.measure)(subject, **t.args)
            except MeasureError as exc:
                raise ScorecardError(f"target {t.id}: {exc}") from None


def _combine(t: Target, values: Mapping[tuple[str, Point], float], years: int) -> float:
    """Return the target's value from its measure's values at its moments."""
    if t.when.how == "at":
        return values[(t.id, t.when.points[0])]
    a, b = (values[(t.id, p)] for p in t.when.points)
    span = _offset(t.when.points[1], years) - _offset(t.when.points[0], years)
    if t.when.how == "change":
        return b - a
    if t.when.how == "change_per_decade":
        return (b - a) * 10.0 / span
    if not (a > 0 and b >= 0):
        return math.nan
    return 100.0 * ((b / a) ** (1.0 / span) - 1.0)


def run_seed(task: tuple[RunSpec, tuple[Target, ...], int, float | None]) -> dict[str, float]:
    """Run one seed of a run; return the value of each of its targets (a worker's task).

    Args:
        task: ``(run, targets, seed, scale)``, ``scale`` ``None`` for the scenario's own.
    """
    spec, targets, seed, scale = task
    scn = _scenario_for(spec, scale)
    years = scn.simulation.years if spec.kind == "model" else spec.years
    points = sorted({p for t in targets for p in t.when.points}, key=lambda p: _offset(p, years))
    values: dict[tuple[str, Point], float] = {}
    if spec.kind == "population":
        from ..demographic_run import DemographicRun

        pop_run = DemographicRun(scn, seed)
        for p in points:
            pop_run.run_until(scn.municipality.start_year + _offset(p, years))
            _evaluate(targets, pop_run, p, values)
    else:
        from ..runs.results import run_one

        start = scn.municipality.start_year
        at = {start + int(p): p for p in points if isinstance(p, int)}
        seen: set[int] = set()

        def observe(model: Any) -> None:
            if model.steps == 0:
                _evaluate(targets, model, "start", values)
                return
            year = int(model.year)
            if year in at and year not in seen:
                seen.add(year)
                _evaluate(targets, model, at[year], values)
            if not model.running:
                _evaluate(targets, model, "end", values)

        run_one(scn, seed=seed, observe=observe, observe_years=sorted(at))
    return {t.id: _combine(t, values, years) for t in targets}


@dataclass
class TargetScore:
    """The scored target: its values over seeds and what they say."""

    target: Target
    values: list[float]
    needed: int | None
    precision: float
    scale: float | None
    scenario: str

    @property
    def finite(self) -> np.ndarray:
        """The finite values (a seed whose measure had no value gives ``nan``)."""
        v = np.asarray(self.values, dtype=float)
        return v[np.isfinite(v)]

    def interval(self) -> tuple[float, float, float, float]:
        """Mean, 95% t interval of the mean, and the standard deviation over seeds (``nan`` where undefined)."""
        return mean_interval(self.finite)

    @property
    def stable(self) -> bool:
        """Whether the interval got narrow enough (within the cap)."""
        return self.needed is not None

    def result(self) -> str:
        """Return ``pass`` (the mean lies in the band), ``fail``, or ``no value`` (no seed gave a value)."""
        mean = self.interval()[0]
        if not math.isfinite(mean):
            return "no value"
        return "pass" if self.target.band.contains(mean) else "fail"

    def certain(self) -> bool:
        """Whether the whole interval lies on one side of every bound (inside or outside the band)."""
        mean, lo, hi, _ = self.interval()
        if not math.isfinite(mean) or not (math.isfinite(lo) and math.isfinite(hi)):
            return False
        b = self.target.band
        return all(bound is None or not (lo <= bound <= hi) for bound in (b.lo, b.hi))


def mean_interval(values: np.ndarray) -> tuple[float, float, float, float]:
    """Return the mean of ``values``, its 95% Student t interval and their standard deviation."""
    from scipy import stats

    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return math.nan, math.nan, math.nan, math.nan
    m = float(v.mean())
    if v.size < 2:
        return m, math.nan, math.nan, math.nan
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.975, v.size - 1)) * sd / math.sqrt(v.size)
    return m, m - half, m + half, sd


def half_width(values: Sequence[float]) -> float:
    """Half-width of the 95% t interval of the mean of the finite ``values`` (``inf`` for fewer than two)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return math.inf
    _, lo, hi, _ = mean_interval(v)
    return (hi - lo) / 2.0


@dataclass
class Scorecard:
    """The scored targets and what was run (see :func:`scorecard`)."""

    scores: list[TargetScore]
    manifest: dict[str, Any]

    def table(self) -> pd.DataFrame:
        """One row per target (the columns of :data:`CSV_COLUMNS`)."""
        rows = []
        for s in self.scores:
            t = s.target
            mean, lo, hi, sd = s.interval()
            rows.append({
                "id": t.id, "role": t.role, "result": s.result(), "mean": mean, "ci_lo": lo, "ci_hi": hi,
                "band_lo": t.band.lo, "band_hi": t.band.hi, "published": t.published, "unit": t.unit,
                "seeds": len(s.values), "needed": s.needed, "stable": s.stable, "certain": s.certain(),
                "precision": s.precision, "sd": sd, "description_ja": t.description["ja"],
                "description_en": t.description["en"],
                "source_short": str(t.source.get("short") or t.source["cite"]),
                "source": " ".join(str(t.source["cite"]).split()),
                "source_year": int(t.source["year"]), "run": t.run, "scenario": s.scenario, "scale": s.scale,
                "measure": t.measure, "args": ", ".join(f"{k}={v}" for k, v in t.args.items()),
                "at": t.when.text(), "band_basis": t.band.basis,
                "band_basis_ja": t.band.basis_in("ja"), "parameters": "; ".join(t.parameters),
                "fitted_by": t.fitted_by, "fast": t.fast,
            })
        df = pd.DataFrame(rows, columns=list(CSV_COLUMNS))
        return df.astype({"needed": "Int64"})

    def seeds_table(self) -> pd.DataFrame:
        """One row per target and seed: ``id``, ``seed``, ``value``."""
        first = int(self.manifest["settings"]["first_seed"])
        return pd.DataFrame([{"id": s.target.id, "seed": first + i, "value": v} for s in self.scores
                             for i, v in enumerate(s.values)], columns=["id", "seed", "value"])

    def counts(self) -> dict[str, dict[str, int]]:
        """Targets that pass, and all targets, by role."""
        out = {r: {"pass": 0, "total": 0} for r in ROLES}
        for s in self.scores:
            out[s.target.role]["total"] += 1
            out[s.target.role]["pass"] += s.result() == "pass"
        return out


def select(targets: Targets, scenarios: Sequence[str] = (), fast: bool = False,
           ids: Sequence[str] = ()) -> list[Target]:
    """Return the targets to score: all, or those of runs on ``scenarios``, of the fast subset, or with ``ids``.

    A scenario name selects the runs on it and on its variants (``ikoma`` also selects ``ikoma-platform``).

    Raises:
        ScorecardError: For a scenario no run uses or an unknown id.
    """
    chosen = list(targets.targets)
    if scenarios:
        known = targets.scenarios()

        def of(name: str, wanted: str) -> bool:  # ikoma also selects its variants ikoma-platform, ...
            return name == wanted or name.startswith(f"{wanted}-")

        bad = [s for s in scenarios if not any(of(k, s) for k in known)]
        if bad:
            raise ScorecardError(f"SCENARIO: got {bad[0]!r}; allowed: a scenario the targets are scored on "
                                 f"({', '.join(known)})")
        chosen = [t for t in chosen if any(of(targets.runs[t.run].scenario, s) for s in scenarios)]
    if ids:
        bad = [i for i in ids if i not in {t.id for t in targets.targets}]
        if bad:
            raise ScorecardError(f"target: got {bad[0]!r}; allowed: the ids of the targets file")
        chosen = [t for t in chosen if t.id in ids]
    if fast:
        chosen = [t for t in chosen if t.fast]
    return chosen


def scorecard(targets: Targets | None = None, scenarios: Sequence[str] = (), *, seeds: int | None = None,
              scale: float | None = None, fast: bool = False, jobs: int = 1, ids: Sequence[str] = (),
              progress: Callable[[str], None] | None = None, command: Sequence[str] | None = None) -> Scorecard:
    """Score the model against the targets.

    Args:
        targets: The targets (default: the bundled file).
        scenarios: Score only the targets of runs on these scenarios (default: all).
        seeds: The most seeds of any run (default ``settings.max_seeds``; the fast subset: ``fast_seeds``).
        scale: ``municipality.scale`` of every whole-model run (the population runs keep their scenario's).
        fast: Score only the fast subset, at each run's ``fast_scale`` with ``settings.fast_seeds`` seeds.
        jobs: Parallel workers (:func:`kyojosim.runs.executor.map_runs`); seeds are added ``jobs`` at a time.
        ids: Score only these targets.
        progress: Called with a line of text as each run's seeds finish.
        command: The command line, for the manifest.

    Raises:
        ScorecardError: For a bad option or a target whose measure fails on the run.
    """
    from ..runs.results import utc_now, versions

    targets = targets or load_targets()
    st = targets.settings
    if seeds is not None and (isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 2):
        raise ScorecardError(f"--seeds: got {seeds!r}; allowed: 2 or more (a 95% interval needs two)")
    if scale is not None and not 0 < scale <= 1:
        raise ScorecardError(f"--scale: got {scale!r}; allowed: 0 < S <= 1")
    if fast:
        low = high = min(st.fast_seeds, seeds) if seeds is not None else st.fast_seeds
        low = max(low, 2)
        high = max(high, 2)
    else:
        high = seeds if seeds is not None else st.max_seeds
        low = min(st.min_seeds, high)
    chosen = select(targets, scenarios, fast, ids)
    if not chosen:
        raise ScorecardError(f"no target to score: none of the {'fast subset ' if fast else ''}targets is scored on "
                             f"{', '.join(scenarios) or 'these runs'}; allowed: a scenario of "
                             f"{', '.join(targets.scenarios())}")
    t0 = time.perf_counter()
    started = utc_now()
    scores: list[TargetScore] = []
    run_info: dict[str, Any] = {}
    for name, spec in targets.runs.items():
        mine = tuple(t for t in chosen if t.run == name)
        if not mine:
            continue
        sc = run_scale(spec, fast, scale)
        values: dict[str, list[float]] = {t.id: [] for t in mine}
        needed: dict[str, int | None] = dict.fromkeys(values)
        prec = {t.id: t.needed_precision(st) for t in mine}
        done = 0
        batch = low
        while done < high:
            todo = list(range(st.first_seed + done, st.first_seed + min(done + batch, high)))
            tasks = [(spec, mine, s, sc) for s in todo]
            for out in map_runs(run_seed, tasks, jobs=jobs, ordered=True):
                for tid, v in out.items():
                    values[tid].append(v)
            done += len(todo)
            for tid, vals in values.items():
                if needed[tid] is None and done >= low and half_width(vals) <= prec[tid]:
                    needed[tid] = done
            if all(n is not None for n in needed.values()):
                break
            batch = max(jobs, 1)
        scn = _scenario_for(spec, sc)
        run_info[name] = {"scenario": spec.scenario, "kind": spec.kind, "years": scn.simulation.years
                          if spec.kind == "model" else spec.years, "scale": scn.municipality.scale,
                          "seeds": [st.first_seed + i for i in range(done)], "scenario_digest": scn.digest()}
        for t in mine:
            scores.append(TargetScore(t, values[t.id], needed[t.id], prec[t.id], scn.municipality.scale,
                                      spec.scenario))
        if progress is not None:
            stable = sum(n is not None for n in needed.values())
            progress(f"{name}: {done} seeds, {stable} of {len(mine)} targets stable")
    order = {t.id: i for i, t in enumerate(targets.targets)}
    scores.sort(key=lambda s: order[s.target.id])
    base_digests = {}
    for name in dict.fromkeys(info["scenario"] for info in run_info.values()):
        try:
            base_digests[name] = load_scenario(name).digest()
        except ScenarioError:
            continue
    manifest = {
        "format": FORMAT, "format_version": 1, "kyojosim_version": versions()["kyojosim"], "versions": versions(),
        "created": started, "finished": utc_now(), "elapsed_s": round(time.perf_counter() - t0, 1),
        "command": list(command) if command is not None else None, "fast": fast, "scale": scale,
        "max_seeds": high, "jobs": jobs, "scenarios_selected": list(scenarios),
        "settings": dataclasses.asdict(st), "targets_file": str(targets.path), "targets_digest": targets.digest,
        "scenario_digests": base_digests, "runs": run_info,
    }
    card = Scorecard(scores, manifest)
    card.manifest["counts"] = card.counts()
    return card


def write_scorecard(card: Scorecard, out: str | Path, pages: Sequence[Path] = ()) -> dict[str, Path]:
    """Write ``scorecard.csv``, ``scorecard_seeds.csv`` and ``scorecard.json`` into ``out`` (created), atomically.

    An old ``scorecard.json`` is removed first and the new one written last, so a folder with a
    ``scorecard.json`` holds the complete scorecard it describes.

    Args:
        card: The scorecard.
        out: The output folder.
        pages: Pages already written into ``out`` (the HTML), listed in the manifest.

    Returns:
        File kind -> path.

    Raises:
        ScorecardError: If the folder cannot be created or written.
    """
    from ..atomic import write_json, write_text

    folder = Path(out)
    try:
        if folder.exists() and not folder.is_dir():
            raise ScorecardError(f"--out: {folder} exists and is not a folder; allowed: a folder")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "scorecard.json").unlink(missing_ok=True)
        written = {
            "csv": write_text(folder / "scorecard.csv", card.table().to_csv(index=False, float_format="%.6g")),
            "seeds": write_text(folder / "scorecard_seeds.csv",
                                card.seeds_table().to_csv(index=False, float_format="%.6g")),
        }
        manifest = dict(card.manifest)
        manifest["files"] = {**{k: p.name for k, p in written.items()}, "pages": [Path(p).name for p in pages]}
        written["json"] = write_json(folder / "scorecard.json", manifest)
    except OSError as exc:
        raise ScorecardError(f"--out: cannot write the scorecard to {folder}: {exc.strerror or exc}") from exc
    return written


__all__ = ["CSV_COLUMNS", "FORMAT", "Band", "RunSpec", "Scorecard", "ScorecardError", "Settings", "Target",
           "TargetError", "TargetScore", "Targets", "When", "default_targets_path", "half_width", "is_fitted",
           "load_targets", "mean_interval", "parameter_exists", "provenance_problems", "run_seed", "scorecard",
           "select", "write_scorecard"]
