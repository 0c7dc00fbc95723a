"""Random mutations of the bundled scenario and experiment files: an error that names the key, or a sound run.

Each example takes a bundled file, changes one place in it (a value of another type, a key deleted, a
key misspelt, a number pushed out of its allowed range), writes it as YAML and loads it. Either loading
raises a :class:`ScenarioError` whose key is the place changed (or the record holding it), or the
scenario runs (one year, a few hundred residents) and every accounting identity holds: each need is
matched, lapsed or open; the money paid equals the money received; the population balances. Nothing
else may happen: no other exception, no traceback, no run that breaks an identity.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import typing
from pathlib import Path
from typing import Any, get_args, get_origin

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kyojosim import ScenarioError
from kyojosim.params.experiment import EXPERIMENT_DIR, ExperimentSpec, load_experiment
from kyojosim.params.scenario import SCENARIO_DIR, Scenario, load_scenario, read_yaml
from kyojosim.params.schema import unwrap_optional
from kyojosim.runs.results import run_one

SIMULATED = 150
"""About how many residents a mutated scenario's run simulates (its scale is lowered to that)."""


def bundled_scenario(path: Path) -> dict[str, Any]:
    """A bundled file as its own data; a variant (``base:``) resolved, so that its whole scenario is mutated."""
    raw = read_yaml(path, "scenario")
    return load_scenario(path).to_dict() if "base" in raw else raw


SCENARIOS = {p.stem: bundled_scenario(p) for p in sorted(SCENARIO_DIR.glob("*.yaml"))}
EXPERIMENTS = {p.stem: read_yaml(p, "experiment") for p in sorted(EXPERIMENT_DIR.glob("*.yaml"))}
OTHER_TYPES = ["text", 7, 2.5, True, None, [1, 2], {"x": 1}]


# --------------------------------------------------------------------------------------
# where a value is, and what its schema allows
# --------------------------------------------------------------------------------------


def places(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into nested mappings and lists (the root excluded)."""
    out = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for k, v in items:
        out.append((*prefix, k))
        out.extend(places(v, (*prefix, k)))
    return out


def field_meta(root: type, path: tuple) -> dict[str, Any] | None:
    """The metadata (``lo``, ``hi``...) of the parameter a path leads to, and its element type; None if none."""
    tp: Any = root
    meta: dict[str, Any] | None = None
    for seg in path:
        _, tp = unwrap_optional(tp)
        if dataclasses.is_dataclass(tp):
            fields = {f.name: f for f in dataclasses.fields(tp)}
            if seg not in fields:
                return None
            meta = dict(fields[seg].metadata)
            tp = typing.get_type_hints(tp)[seg]
        elif get_origin(tp) is tuple:
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        elif tp is Any and isinstance(seg, str) and "." in seg:  # an experiment's dotted scenario key
            return field_meta(Scenario, tuple(int(s) if s.isdigit() else s for s in seg.split(".")))
        else:
            return None
    _, tp = unwrap_optional(tp)
    return {**(meta or {}), "type": tp}


def out_of_range(value: Any, meta: dict[str, Any]) -> Any:
    """A number just outside the allowed range (or far out, for a number bounded on one side only)."""
    lo, hi = meta.get("lo"), meta.get("hi")
    whole = meta.get("type") is int or (isinstance(value, int) and not isinstance(value, bool))
    if hi is not None:
        v = hi + (1 if whole else max(abs(hi) * 0.01, 0.001))
    elif lo is not None:
        v = lo - (1 if whole else max(abs(lo) * 0.01, 0.001))
    else:
        v = 10**15
    return int(v) if whole else float(v)


def misspell(key: str, how: int) -> str:
    if len(key) < 2:
        return key + "x"
    i = how % (len(key) - 1)
    return [key[:i] + key[i + 1] + key[i] + key[i + 2:], key[:i] + key[i] + key[i:], key + "s"][how % 3]


@st.composite
def mutations(draw, sources: dict[str, dict[str, Any]], root: type):
    """``(name, data, path, kind)``: a bundled file's data with one place changed."""
    name = draw(st.sampled_from(sorted(sources)))
    data = copy.deepcopy(sources[name])
    path = draw(st.sampled_from(places(data)))
    parent = data
    for seg in path[:-1]:
        parent = parent[seg]
    key = path[-1]
    value = parent[key]
    meta = field_meta(root, path)
    kinds = ["swap", "delete"]
    if isinstance(parent, dict):
        kinds.append("misspell")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and meta is not None:
        kinds.append("range")
    kind = draw(st.sampled_from(kinds))
    if kind == "swap":
        parent[key] = draw(st.sampled_from([v for v in OTHER_TYPES if type(v) is not type(value)]))
    elif kind == "delete":
        del parent[key]
    elif kind == "misspell":
        new = misspell(str(key), draw(st.integers(0, 1000)))
        parent[new] = parent.pop(key)
        path = (*path[:-1], new)
    else:
        parent[key] = out_of_range(value, meta or {})
    return name, data, path, kind


def segments(key: str) -> list[str]:
    return [s for s in re.split(r"[.\[\]]+", key) if s]


def names_the_place(error_key: str, path: tuple) -> bool:
    """Whether an error's key path is the changed place, one of its records, or a place in it."""
    e = segments(error_key)
    p = [str(s) for s in path]
    n = 0
    while n < min(len(e), len(p)) and (e[n] == p[n] or e[n] == "*"):
        n += 1
    return n == len(e) or n == len(p) or n >= len(p) - 1


def write(tmp: Path, name: str, data: dict[str, Any]) -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------
# a sound run
# --------------------------------------------------------------------------------------


def run_small(scn: Scenario) -> None:
    """Run a scenario for at most a year with about :data:`SIMULATED` residents; check every accounting identity."""
    m = scn.municipality
    scale = min(m.scale, SIMULATED / m.population)
    result = run_one(scn, years=min(scn.simulation.years, 1), scale=scale)
    needs = result.tables_["needs"]
    if len(needs):
        last = needs[needs["step"] == needs["step"].max()].set_index("category")
        sums = needs.groupby("category")[["arisen", "matched", "lapsed"]].sum()
        # every need that arose was matched, lapsed, or is still open
        assert (sums["arisen"] == sums["matched"] + sums["lapsed"] + last["open"].reindex(sums.index)).all()
    money = result.tables_["money"]
    # the money paid (by requesters and the subsidy) is the money received by helpers
    assert (money["paid_by_requesters"] + money["subsidy"] == money["received_by_helpers"]).all()
    years = result.tables_["years"].to_dict("records")
    for before, after in zip(years, years[1:]):  # the population balances
        assert after["population"] == (before["population"] - after["deaths"] - after["out_migrants"]
                                       + after["births"] + after["in_migrants"])
    steps = result.tables_["steps"]
    assert steps["matching_rate"].dropna().between(0, 1).all()
    assert not np.isinf(steps.select_dtypes("number").to_numpy()).any()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(mutation=mutations(SCENARIOS, Scenario))
def test_a_mutated_scenario_fails_naming_the_key_or_runs_soundly(tmp_path, mutation):
    name, data, path, kind = mutation
    file = write(tmp_path, name, data)
    try:
        scn = load_scenario(file)
    except ScenarioError as exc:
        assert exc.file == str(file), str(exc)
        assert names_the_place(exc.key, path), f"{kind} at {'.'.join(map(str, path))}: {exc}"
        assert "Traceback" not in str(exc) and len(str(exc)) < 600
        event(f"{kind}: error")
        return
    event(f"{kind}: run")
    run_small(scn)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(mutation=mutations(EXPERIMENTS, ExperimentSpec))
def test_a_mutated_experiment_fails_naming_the_key_or_runs_soundly(tmp_path, mutation):
    name, data, path, kind = mutation
    file = write(tmp_path, name, data)
    try:
        exp = load_experiment(file)
    except ScenarioError as exc:  # an ExperimentError
        dotted = ".".join(map(str, path))
        named = names_the_place(exc.key, path) or any(str(seg) in exc.key for seg in path[-2:])
        assert named, f"{kind} at {dotted}: {exc}"
        assert len(str(exc)) < 600
        event(f"{kind}: error")
        return
    event(f"{kind}: run")
    first = exp.runs[0]
    if first.resolved is None:  # a municipality (municipalities:): built as its worker builds it
        from kyojosim.runs.builder import run_scenario

        run_small(run_scenario(first.recipe)[0])
    else:
        run_small(first.resolved)


@pytest.mark.parametrize(("key", "path", "expected"), [
    ("municipality.districts[0].lat", ("municipality", "districts", 0, "lat"), True),
    ("municipality.districts[*].population_share", ("municipality", "districts", 1), True),
    ("municipality.scale", ("municipality", "population"), True),
    ("demography.projection", ("demography", "projection", "years", 3), True),
    ("simulation.seed", ("needs", "hours", "chores"), False),
    ("needs.hours", ("needs", "weekly_rate"), True),
])
def test_names_the_place(key, path, expected):
    assert names_the_place(key, path) is expected
