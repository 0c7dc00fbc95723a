"""Experiment files: scenarios x variants x a parameter design x replicates, resolved up front.

An experiment is a YAML file (``experiments/*.yaml``; see ``docs/experiments.md``) such as::

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

:func:`load_experiment` checks every key and value, then resolves the scenario of every run (so
that a bad override or design parameter is reported before any run starts) and returns an
:class:`Experiment` whose :attr:`Experiment.runs` lists the runs in their fixed order: scenario,
variant, design point, replicate. Replicate ``k`` has the same seed in every variant and design
point (common random numbers); the seeds come from ``np.random.SeedSequence(seed).spawn(replicates)``.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin

import numpy as np

from ._schema import suggest
from ._schema import unwrap_optional as _is_optional
from .errors import ScenarioError
from .scenario import Interventions, Scenario, find_scenario, load_scenario

EXPERIMENT_DIR = Path(__file__).resolve().parents[2] / "experiments"
"""Where the bundled experiment files are (the repository's ``experiments/``)."""

DESIGN_TYPES: tuple[str, ...] = ("none", "factorial", "list", "lhs", "sobol")
"""Kinds of parameter design."""

TOP_KEYS: tuple[str, ...] = ("name", "description", "seed", "replicates", "years", "scale", "overrides",
                             "scenarios", "variants", "design")
VARIANT_KEYS: tuple[str, ...] = ("baseline", "interventions", "overrides", "description")
INTERVENTION_KEYS: tuple[str, ...] = ("enabled", "start", "end")
INTERVENTION_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Interventions))
DESIGN_KEYS: dict[str, tuple[str, ...]] = {
    "none": ("type",),
    "factorial": ("type", "parameters"),
    "list": ("type", "points"),
    "lhs": ("type", "parameters", "n"),
    "sobol": ("type", "parameters", "n", "calc_second_order"),
}
MAX_SEED = 2**63 - 1
_RUN_ID_UNSAFE = re.compile(r"[^0-9A-Za-z_.]+")


class ExperimentError(ScenarioError):
    """An experiment file is invalid (same message form as :class:`~kyojosim.errors.ScenarioError`)."""


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
        resolved: The fully resolved scenario of the run (seed, years and every override applied).
    """

    run_id: str
    scenario: str
    variant: str
    point: int
    replicate: int
    seed: int
    params: dict[str, Any]
    intervention_start: int | None
    resolved: Scenario = field(repr=False, compare=False)

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

    def to_dict(self) -> dict[str, Any]:
        """Return the resolved experiment as plain data (spec, seeds, design and points)."""
        return {**copy.deepcopy(self.spec), "seeds": list(self.seeds), "baseline": self.baseline,
                "design": copy.deepcopy(self.design), "points": copy.deepcopy(list(self.points))}

    def __repr__(self) -> str:
        return (f"Experiment({self.name!r}, {len(self.runs)} runs: {len(self.spec['scenarios'])} scenarios x "
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


def replicate_seeds(seed: int, replicates: int) -> tuple[int, ...]:
    """Return the replicate seeds: ``SeedSequence(seed).spawn(replicates)``, each as a 63-bit integer."""
    children = np.random.SeedSequence(int(seed)).spawn(int(replicates))
    return tuple(int(c.generate_state(1, dtype=np.uint64)[0]) & MAX_SEED for c in children)


def _err(file: str, key: str, given: Any, allowed: str, problem: str = "invalid value") -> ExperimentError:
    return ExperimentError(file, key, given, allowed, problem)


def _check_keys(data: Mapping[str, Any], valid: tuple[str, ...], file: str, where: str) -> None:
    for key in data:
        if key not in valid:
            path = f"{where}.{key}" if where else str(key)
            raise _err(file, path, key, suggest(str(key), list(valid)), "unknown key")


def _mapping(value: Any, file: str, where: str, what: str = "a mapping") -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _err(file, where, value, f"allowed: {what}", "wrong type")
    return dict(value)


def _int(value: Any, file: str, where: str, lo: int, hi: int = MAX_SEED) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _err(file, where, value, f"allowed: an integer in [{lo}, {hi}]", "wrong type")
    if value < lo or value > hi:
        raise _err(file, where, value, f"allowed: an integer in [{lo}, {hi}]", "out of range")
    return int(value)


def _number(value: Any, file: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise _err(file, where, value, "allowed: a finite number", "wrong type")
    return float(value)


def key_type(path: str) -> Any:
    """Return the Python type of the scenario parameter at a dotted path (which must be valid)."""
    tp: Any = Scenario
    for seg in path.split("."):
        _, tp = _is_optional(tp)
        origin = get_origin(tp)
        if dataclasses.is_dataclass(tp):
            tp = typing.get_type_hints(tp)[seg]
        elif origin is tuple:
            tp = get_args(tp)[0]
        elif origin is dict:
            tp = get_args(tp)[1]
    return _is_optional(tp)[1]


def _check_key(key: Any, file: str, where: str) -> str:
    """Check that ``key`` is a dotted scenario key; re-raise the schema error at the experiment's key path."""
    from ._schema import resolve_path

    if not isinstance(key, str) or not key:
        raise _err(file, where, key, "allowed: a dotted scenario key such as helping.weekly_hours_free",
                   "wrong type")
    try:
        resolve_path(Scenario, key.replace("__", "."), file)
    except ScenarioError as exc:
        raise _err(file, f"{where}.{key}", exc.given, f"{exc.allowed} (in scenario key {exc.key!r})",
                   exc.problem) from None
    return key.replace("__", ".")


def _overrides(value: Any, file: str, where: str) -> dict[str, Any]:
    data = _mapping(value, file, where, "a mapping of dotted scenario keys to values")
    return {_check_key(k, file, where): v for k, v in data.items()}


def _safe(text: str) -> str:
    return _RUN_ID_UNSAFE.sub("_", text).strip("_") or "x"


# --------------------------------------------------------------------------------------
# sections
# --------------------------------------------------------------------------------------


def _variant(name: str, value: Any, file: str) -> dict[str, Any]:
    where = f"variants.{name}"
    data = _mapping(value, file, where)
    _check_keys(data, VARIANT_KEYS, file, where)
    baseline = data.get("baseline", False)
    if not isinstance(baseline, bool):
        raise _err(file, f"{where}.baseline", baseline, "allowed: true or false", "wrong type")
    ivs = _mapping(data.get("interventions"), file, f"{where}.interventions")
    out_iv: dict[str, dict[str, Any]] = {}
    for iv_name, iv in ivs.items():
        iv_where = f"{where}.interventions.{iv_name}"
        if iv_name not in INTERVENTION_NAMES:
            raise _err(file, iv_where, iv_name, suggest(str(iv_name), list(INTERVENTION_NAMES)), "unknown key")
        if isinstance(iv, bool):
            spec: dict[str, Any] = {"enabled": iv}
        elif isinstance(iv, int):
            spec = {"enabled": True, "start": _int(iv, file, iv_where, 1900, 2200)}
        elif isinstance(iv, Mapping):
            spec = dict(iv)
            _check_keys(spec, INTERVENTION_KEYS, file, iv_where)
            spec.setdefault("enabled", True)
            if not isinstance(spec["enabled"], bool):
                raise _err(file, f"{iv_where}.enabled", spec["enabled"], "allowed: true or false", "wrong type")
            for k in ("start", "end"):
                if spec.get(k) is not None:
                    spec[k] = _int(spec[k], file, f"{iv_where}.{k}", 1900, 2200)
            if spec.get("start") is not None and spec.get("end") is not None and spec["end"] < spec["start"]:
                raise _err(file, f"{iv_where}.end", spec["end"], f"allowed: a year >= start ({spec['start']})",
                           "ends before it starts")
        else:
            raise _err(file, iv_where, iv, "allowed: true, false, a start year, or a mapping with enabled, start, "
                       "end", "wrong type")
        out_iv[iv_name] = spec
    overrides = _overrides(data.get("overrides"), file, f"{where}.overrides")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise _err(file, f"{where}.description", description, "allowed: a text", "wrong type")
    return {"baseline": baseline, "interventions": out_iv, "overrides": overrides, "description": description}


def _variant_overrides(variant: Mapping[str, Any]) -> dict[str, Any]:
    over: dict[str, Any] = {}
    for iv_name, spec in variant["interventions"].items():
        over[f"interventions.{iv_name}.enabled"] = spec["enabled"]
        if spec.get("start") is not None:
            over[f"interventions.{iv_name}.start_year"] = spec["start"]
        if "end" in spec:
            over[f"interventions.{iv_name}.end_year"] = spec["end"]
    over.update(variant["overrides"])
    return over


def _bounds(value: Any, file: str, where: str) -> list[float]:
    if isinstance(value, Mapping):
        _check_keys(value, ("lo", "hi"), file, where)
        if "lo" not in value or "hi" not in value:
            raise _err(file, where, dict(value), "allowed: a mapping with lo and hi, or a list [lo, hi]",
                       "missing key")
        lo, hi = value["lo"], value["hi"]
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        lo, hi = value
    else:
        raise _err(file, where, value, "allowed: [lo, hi] or {lo: ..., hi: ...}", "wrong type")
    lo, hi = _number(lo, file, f"{where}.lo"), _number(hi, file, f"{where}.hi")
    if not lo < hi:
        raise _err(file, where, [lo, hi], "allowed: lo < hi", "empty range")
    return [lo, hi]


def _numeric_key(key: str, file: str, where: str) -> type:
    tp = key_type(key)
    if tp not in (int, float):
        raise _err(file, f"{where}.{key}", key, "allowed: a numeric scenario key (a number or an integer) for a "
                   "sampled design", "not numeric")
    return tp


def _cast(value: float, tp: type) -> Any:
    return int(round(value)) if tp is int else float(value)


def _design(value: Any, seed: int, file: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Check the design section; return the normalised design and its points."""
    if value is None or value == "none":
        return {"type": "none", "parameters": {}}, [{}]
    data = _mapping(value, file, "design")
    kind = data.get("type", "none")
    if kind not in DESIGN_TYPES:
        raise _err(file, "design.type", kind, "allowed: " + ", ".join(DESIGN_TYPES))
    _check_keys(data, DESIGN_KEYS[kind], file, "design")
    if kind == "none":
        return {"type": "none", "parameters": {}}, [{}]
    if kind == "list":
        points = data.get("points")
        if not isinstance(points, list) or not points:
            raise _err(file, "design.points", points, "allowed: a non-empty list of mappings of dotted keys to "
                       "values", "wrong type")
        keys: list[str] | None = None
        out = []
        for i, p in enumerate(points):
            where = f"design.points[{i}]"
            pd_ = _overrides(p, file, where)
            if not pd_:
                raise _err(file, where, p, "allowed: a mapping of dotted scenario keys to values", "empty")
            if keys is None:
                keys = list(pd_)
            elif sorted(pd_) != sorted(keys):
                raise _err(file, where, sorted(pd_), f"allowed: the same keys as design.points[0] ({', '.join(keys)})",
                           "keys differ")
            out.append({k: pd_[k] for k in keys})
        params = {k: [p[k] for p in out] for k in keys or []}
        return {"type": "list", "parameters": params}, out
    params_raw = _mapping(data.get("parameters"), file, "design.parameters")
    if not params_raw:
        raise _err(file, "design.parameters", data.get("parameters"), "allowed: at least one dotted scenario key",
                   "missing")
    if kind == "factorial":
        params: dict[str, list[Any]] = {}
        for k, vals in params_raw.items():
            key = _check_key(k, file, "design.parameters")
            if not isinstance(vals, list) or not vals:
                raise _err(file, f"design.parameters.{k}", vals, "allowed: a non-empty list of values", "wrong type")
            params[key] = list(vals)
        points = [dict(zip(params, combo, strict=True)) for combo in itertools.product(*params.values())]
        return {"type": "factorial", "parameters": params}, points
    bounds: dict[str, list[float]] = {}
    types_: dict[str, type] = {}
    for k, b in params_raw.items():
        key = _check_key(k, file, "design.parameters")
        types_[key] = _numeric_key(key, file, "design.parameters")
        bounds[key] = _bounds(b, file, f"design.parameters.{k}")
    n = _int(data.get("n"), file, "design.n", 1, 1_000_000) if "n" in data else None
    if n is None:
        raise _err(file, "design.n", None, "allowed: the number of samples, an integer >= 1", "missing key")
    names = list(bounds)
    if kind == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(np.random.SeedSequence(seed))).random(n)
        lo = np.array([bounds[k][0] for k in names])
        hi = np.array([bounds[k][1] for k in names])
        sample = qmc.scale(unit, lo, hi)
        points = [{k: _cast(row[j], types_[k]) for j, k in enumerate(names)} for row in sample]
        return {"type": "lhs", "parameters": bounds, "n": n}, points
    # sobol (Saltelli's scheme through SALib)
    if n & (n - 1):
        raise _err(file, "design.n", n, "allowed: a power of 2 (Sobol sequences need it), e.g. 8, 16, 64",
                   "not a power of 2")
    second = data.get("calc_second_order", False)
    if not isinstance(second, bool):
        raise _err(file, "design.calc_second_order", second, "allowed: true or false", "wrong type")
    from SALib.sample import sobol as sobol_sample

    problem = {"num_vars": len(names), "names": names, "bounds": [bounds[k] for k in names]}
    sample = sobol_sample.sample(copy.deepcopy(problem), n, calc_second_order=second, seed=int(seed) % 2**32)
    points = [{k: _cast(row[j], types_[k]) for j, k in enumerate(names)} for row in sample]
    return ({"type": "sobol", "parameters": bounds, "problem": problem, "calc_second_order": second, "n": n},
            points)


# --------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    from .scenario import read_yaml as _read_yaml

    try:
        return _read_yaml(path, "experiment")
    except ExperimentError:
        raise
    except ScenarioError as exc:
        raise ExperimentError(exc.file, exc.key, exc.given, exc.allowed, exc.problem) from None


def _resolve_scenario(ref: Any, base_dir: Path | None, file: str, where: str) -> Path:
    if not isinstance(ref, str) or not ref:
        raise _err(file, where, ref, "allowed: the name of a bundled scenario or a scenario file", "wrong type")
    if base_dir is not None:
        local = base_dir / ref
        for candidate in (local, local.with_name(local.name + ".yaml")):
            if candidate.is_file():
                return candidate
    path = find_scenario(ref)
    if not path.is_file():
        from .scenario import SCENARIO_DIR

        bundled = sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
        raise _err(file, where, ref, suggest(ref, bundled).replace("valid keys", "bundled scenarios")
                   + " (or a scenario file)", "scenario not found")
    return path


def load_experiment(source: str | Path | Mapping[str, Any] | Experiment) -> Experiment:
    """Load, check and resolve an experiment.

    Args:
        source: An experiment file, the name of a bundled experiment (``"yamae-quick"``), a mapping
            with the same keys as a file, or an :class:`Experiment` (returned as is).

    Returns:
        The :class:`Experiment`, with every run's scenario resolved.

    Raises:
        ExperimentError: For any problem in the experiment, its scenarios, overrides or design
            (the message names the file, the key path, the value given and what is allowed).
    """
    if isinstance(source, Experiment):
        return source
    if isinstance(source, Mapping):
        file, base_dir, raw, default_name = "<experiment>", None, copy.deepcopy(dict(source)), ""
    else:
        path = find_experiment(source)
        if not path.is_file():
            raise _err(str(path), "", str(source), suggest(str(source), bundled_experiments()).replace(
                "valid keys", "bundled experiments") + " (or an experiment file)", "file not found")
        file, base_dir, raw, default_name = str(path), path.parent, _read(path), path.stem
    _check_keys(raw, TOP_KEYS, file, "")
    name = raw.get("name", default_name) or default_name
    if not isinstance(name, str) or not name.strip() or "/" in name or "\\" in name or name.startswith("."):
        raise _err(file, "name", name, "allowed: a non-empty text without / or \\ (it names the results folder)")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise _err(file, "description", description, "allowed: a text", "wrong type")
    if "seed" not in raw:
        raise _err(file, "seed", None, "allowed: an integer >= 0 (the experiment seed)", "missing key")
    seed = _int(raw["seed"], file, "seed", 0)
    replicates = _int(raw.get("replicates", 1), file, "replicates", 1, 100_000)
    common: dict[str, Any] = {}
    years = raw.get("years")
    if years is not None:
        common["simulation.years"] = _int(years, file, "years", 0, 300)
    scale = raw.get("scale")
    if scale is not None:
        scale = _number(scale, file, "scale")
        if not 0 < scale <= 1:
            raise _err(file, "scale", scale, "allowed: a value in (0, 1]", "out of range")
        common["municipality.scale"] = scale
    overrides = _overrides(raw.get("overrides"), file, "overrides")
    for k in ("simulation.seed",):
        if k in overrides:
            raise _err(file, f"overrides.{k}", overrides[k], "allowed: seeds come from the experiment's seed and "
                       "replicates; set seed: instead", "not allowed")
    # scenarios
    scen_raw = raw.get("scenarios")
    if scen_raw is None:
        raise _err(file, "scenarios", None, "allowed: a list of bundled scenario names or scenario files",
                   "missing key")
    if isinstance(scen_raw, str):
        scen_raw = [scen_raw]
    if not isinstance(scen_raw, list) or not scen_raw:
        raise _err(file, "scenarios", scen_raw, "allowed: a non-empty list of bundled scenario names or files",
                   "wrong type")
    scen_paths = [_resolve_scenario(ref, base_dir, file, f"scenarios[{i}]") for i, ref in enumerate(scen_raw)]
    # variants
    var_raw = raw.get("variants")
    if var_raw is None:
        var_raw = {"baseline": {}}
    if isinstance(var_raw, list):  # a list of names: each an unchanged copy is pointless, so require mappings
        raise _err(file, "variants", var_raw, "allowed: a mapping of variant names to {interventions, overrides}",
                   "wrong type")
    var_raw = _mapping(var_raw, file, "variants", "a mapping of variant names to {interventions, overrides}")
    if not var_raw:
        raise _err(file, "variants", var_raw, "allowed: at least one variant", "empty")
    variants: dict[str, dict[str, Any]] = {}
    for vname, vspec in var_raw.items():
        if not isinstance(vname, str) or not vname:
            raise _err(file, f"variants.{vname}", vname, "allowed: a text name", "wrong type")
        variants[vname] = _variant(vname, vspec, file)
    marked = [v for v, s in variants.items() if s["baseline"]]
    if len(marked) > 1:
        raise _err(file, "variants", marked, "allowed: at most one variant with baseline: true", "two baselines")
    baseline = marked[0] if marked else next(iter(variants))
    order = [baseline, *(v for v in variants if v != baseline)]
    safe_variants = {_safe(v) for v in order}
    if len(safe_variants) != len(order):
        raise _err(file, "variants", order, "allowed: variant names that differ in letters and digits",
                   "names clash in run ids")
    design, points = _design(raw.get("design"), seed, file)
    seeds = replicate_seeds(seed, replicates)

    spec = {
        "name": name, "description": description, "seed": seed, "replicates": replicates,
        "years": common.get("simulation.years"), "scale": common.get("municipality.scale"),
        "overrides": overrides, "scenarios": [str(s) for s in scen_raw],
        "variants": {v: {**variants[v], "baseline": v == baseline} for v in order},
        "design": {k: v for k, v in design.items() if k != "problem"},
    }
    # resolve every run's scenario up front (a bad key or value fails here, before any run)
    runs: list[Run] = []
    digests: list[str] = []
    scen_names: dict[str, str] = {}
    for si, spath in enumerate(scen_paths):
        try:
            base = load_scenario(spath, {**common, **overrides})
        except ScenarioError as exc:
            raise _err(file, f"scenarios[{si}] ({spath.name}) with overrides: {exc.key}", exc.given, exc.allowed,
                       exc.problem) from None
        sname = base.name or spath.stem
        if _safe(sname) in scen_names:
            raise _err(file, f"scenarios[{si}]", scen_raw[si], f"allowed: scenarios with different names "
                       f"({sname!r} is already scenarios[{scen_names[_safe(sname)]}])", "duplicate scenario")
        scen_names[_safe(sname)] = str(si)
        resolved: dict[tuple[str, int], Scenario] = {}
        for vname in order:
            vover = _variant_overrides(variants[vname])
            for pi, point in enumerate(points):
                try:
                    scn = base.replace(**vover, **point) if (vover or point) else base
                except ScenarioError as exc:
                    where = f"variants.{vname}" if not point else f"variants.{vname} at design point {pi}"
                    raise _err(file, f"{where}: {exc.key}", exc.given, exc.allowed, exc.problem) from None
                resolved[(vname, pi)] = scn
        for vname in order:
            for pi, point in enumerate(points):
                scn = resolved[(vname, pi)]
                start = _intervention_start(scn, resolved[(baseline, pi)])
                for r, rseed in enumerate(seeds):
                    run_scn = scn.replace(**{"simulation.seed": rseed})
                    run_id = f"{_safe(sname)}-{_safe(vname)}-p{pi}-r{r}"
                    runs.append(Run(run_id=run_id, scenario=sname, variant=vname, point=pi, replicate=r, seed=rseed,
                                    params=dict(point), intervention_start=start, resolved=run_scn))
                digests.append(scn.digest())
    payload = json.dumps({"spec": spec, "points": points, "seeds": seeds, "digests": digests}, sort_keys=True,
                         ensure_ascii=False, separators=(",", ":"), default=str)
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
    return Experiment(name=name, spec=spec, runs=tuple(runs), seeds=seeds, baseline=baseline, variants=tuple(order),
                      design=design, points=tuple(points), hash=digest, file=None if base_dir is None else Path(file))


def _intervention_start(scn: Scenario, base: Scenario) -> int | None:
    """Earliest start year of the interventions ``scn`` switches on and ``base`` does not."""
    starts = []
    for name in INTERVENTION_NAMES:
        mine, theirs = getattr(scn.interventions, name), getattr(base.interventions, name)
        if mine.enabled and not theirs.enabled:
            starts.append(int(mine.start_year))
    return min(starts) if starts else None


__all__ = ["DESIGN_TYPES", "EXPERIMENT_DIR", "Experiment", "ExperimentError", "Run", "bundled_experiments",
           "find_experiment", "load_experiment", "replicate_seeds"]
