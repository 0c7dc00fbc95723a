"""Tests that keep docs/ODD.md, docs/scenarios.md and docs/experiments.md true to the code.

The parameter table of ``docs/ODD.md`` (between ``<!-- params:start -->`` and
``<!-- params:end -->``), its assumption register (between ``<!-- assumptions:start -->`` and
``<!-- assumptions:end -->``) and the tables of default vectors in ``docs/scenarios.md`` (between
``<!-- defaults:start -->`` and ``<!-- defaults:end -->``) are generated from the scenario
schema by this file. After changing a parameter, its default, its source or its plausible range,
regenerate them::

    .venv/bin/python tests/test_docs.py

The error messages quoted in ``docs/scenarios.md`` and ``docs/experiments.md`` are produced here
again and must match.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import tempfile
import types
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import numpy as np
import pytest

from kyojosim import ScenarioError
from kyojosim.cli import main
from kyojosim.constants import AGE_BAND_LABELS, CATEGORIES, HOUSEHOLD_KINDS, N_AGE_BANDS, OFFLINE_COMMUNITIES
from kyojosim.params.scenario import SCENARIO_DIR, assumption_register, is_assumption, load_scenario, scenario_fields

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "ODD.md"
SCENARIOS_DOC = ROOT / "docs" / "scenarios.md"
EXPERIMENTS_DOC = ROOT / "docs" / "experiments.md"
PARAMS = ("<!-- params:start -->", "<!-- params:end -->")
ASSUMPTIONS = ("<!-- assumptions:start -->", "<!-- assumptions:end -->")
DEFAULTS = ("<!-- defaults:start -->", "<!-- defaults:end -->")
REGENERATE = "regenerate with: .venv/bin/python tests/test_docs.py"

SOURCE_PREFIXES = ("assumption", "scenario file", "see keys", "estimate", "setting")
"""A source that cites nothing must start with one of these ("setting": a choice of the run or of a policy)."""
CITATION = re.compile(r"(19|20)\d\d|図表")
"""A citation names a dated publication or table (a year such as 2015) or a white-paper figure (図表)."""

INLINE_SEQUENCE = 7
"""Sequences up to this length are shown in full in the parameter table."""
INLINE_MAPPING = 4
"""Mappings up to this many entries are shown in full in the parameter table."""

MEANING = {
    # used where a parameter declares no doc= of its own
    "municipality.start_year": "calendar year of the initial population (census year)",
    "municipality.area_km2": "area of the municipality",
    "municipality.age_structure.male": "men by 5-year age band at the start year",
    "municipality.age_structure.female": "women by 5-year age band at the start year",
    "municipality.households.shares": "share of households of each kind (targets of household formation)",
    "municipality.districts[].name": "name of the district",
    "municipality.districts[].area_km2": "area of the district",
    "municipality.districts[].lat": "latitude of the district's centre",
    "municipality.districts[].lon": "longitude of the district's centre",
    "municipality.districts[].population_share": "share of households placed in the district (shares sum to 1)",
    "residents.employment_rate_male": "share of men employed at the start, by age band",
    "residents.employment_rate_female": "share of women employed at the start, by age band",
    "residents.driving_rate": "share who drive at the start, by age band",
    "residents.frail_mortality_ratio": "death rate of the frail relative to the non-frail of the same age band and sex",
    "demography.mortality.male": "yearly death probability of men by age band (base year)",
    "demography.mortality.female": "yearly death probability of women by age band (base year)",
    "demography.mortality.annual_improvement": "yearly relative fall of all death probabilities",
    "demography.mortality.multiplier": "local factor on all death probabilities",
    "demography.fertility.tfr": "total fertility rate (children per woman over ages 15-49)",
    "demography.fertility.age_pattern": "share of the TFR in each 5-year age of mother, 15-19 ... 45-49",
    "demography.fertility.sex_ratio_at_birth": "boys born per girl",
    "demography.household_change.union_rate": "yearly chance that an adult aged 25-44 living alone seeks a partner",
    "demography.projection.years": "years of the projection",
    "demography.projection.total": "projected total population",
    "demography.projection.share_65plus": "projected share aged 65+",
    "demography.projection.share_75plus": "projected share aged 75+ (optional)",
    "demography.projection.source": "citation of the projection",
    "communities.membership_rate": "relative membership rate of each kind of real-world community",
    "communities.sns_use_rate": "share of co-members of each kind who also keep in touch online",
    "communities.participation_year": "which survey row (図表4-3-5-2) the initial participation mix reproduces",
    "communities.plaza_share": "share of online participants who also use plaza-type (広場型) boards",
    "communities.workplace_in_town": "share of alumni, union and workplace memberships whose group is in town",
    "network.block_households": "households per block (班/組), the unit of neighbour ties",
    "network.community_group_size": "largest size of a chapter (group) of a real-world community",
    "network.online_ties": "mean online-only ties per online participant, within the district",
    "network.strength": "tie strength by kind",
    "ict.smartphone_rate": "share using a smartphone, by age band",
    "ict.sns_rate": "share using social media, by age band",
    "ict.yearly_uptake": "yearly take-up factor for non-users (times the band's use rate)",
    "simulation.years": "length of the run in years",
    "simulation.step_days": "length of one step in days",
    "simulation.seed": "seed of every random stream",
    "description": "one-line description",
}


# --------------------------------------------------------------------------------------
# generating the tables
# --------------------------------------------------------------------------------------


def _inner(tp: Any) -> tuple[bool, Any]:
    """Return (optional, type without None)."""
    args = get_args(tp)
    if get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return True, rest[0]
    return False, tp


def _num(x: Any) -> str:
    if isinstance(x, bool) or isinstance(x, str):
        return str(x)
    if isinstance(x, int):
        return "2⁶³−1" if x == 2**63 - 1 else str(x)
    return np.format_float_positional(float(x), trim="0")


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _is_required(f: dataclasses.Field) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _default_value(f: dataclasses.Field) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def _describe_default(path: str, f: dataclasses.Field, tp: Any) -> str:
    if _is_required(f):
        return "required (scenario file)"
    optional, inner = _inner(tp)
    value = _default_value(f)
    if dataclasses.is_dataclass(inner):
        return "none (section left out)" if value is None else "section (defaults below)"
    if value is None:
        return "none"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, tuple):
        if len(value) <= INLINE_SEQUENCE:
            return "(" + ", ".join(_num(v) for v in value) + ")"
        what = " by age band" if len(value) == N_AGE_BANDS else ""
        if len(set(value)) == 1:
            return f"{len(value)} values{what}, all {_num(value[0])}"
        return f"{len(value)} values{what}, {_num(min(value))} to {_num(max(value))} (see scenarios.md)"
    if isinstance(value, dict):
        if not value:
            return "{} (empty)"
        if len(value) <= INLINE_MAPPING:
            return ", ".join(f"{k} {_num(v)}" for k, v in value.items())
        if tuple(value) == CATEGORIES:  # the eight kinds of need, listed in full
            return ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in value.items())
        what = "by community kind" if tuple(value) == OFFLINE_COMMUNITIES else "values"
        return (f"{len(value)} values {what}, {_num(min(value.values()))} to {_num(max(value.values()))} "
                "(see scenarios.md)")
    return f"`{_num(value)}`"


def _describe_range(f: dataclasses.Field, tp: Any) -> str:
    meta = f.metadata
    optional, inner = _inner(tp)
    origin = get_origin(inner)
    parts: list[str] = []
    if meta.get("unit"):
        parts.append(meta["unit"])
    if origin is Literal:
        parts.append("one of " + ", ".join(repr(a) for a in get_args(inner)))
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is not None and hi is not None:
        left = "(" if meta.get("lo_open") else "["
        right = ")" if meta.get("hi_open") else "]"
        parts.append(f"{left}{_num(lo)}, {_num(hi)}{right}")
    elif lo is not None:
        parts.append(f"{'>' if meta.get('lo_open') else '≥'} {_num(lo)}")
    elif hi is not None:
        parts.append(f"{'<' if meta.get('hi_open') else '≤'} {_num(hi)}")
    if origin is tuple:
        elem = get_args(inner)[0]
        if dataclasses.is_dataclass(elem):
            parts.append("list (one entry per district)" if elem.__name__ == "District" else "list")
        elif meta.get("length") == N_AGE_BANDS:
            parts.append("18 values (0-4 … 85+)")
        elif meta.get("length"):
            parts.append(f"{meta['length']} values")
        else:
            parts.append("list")
    if origin is dict:
        keys = meta.get("keys")
        if keys == HOUSEHOLD_KINDS:
            parts.append("keys: the 7 household kinds")
        elif keys == OFFLINE_COMMUNITIES:
            parts.append("keys: the 10 community kinds")
        elif keys:
            parts.append("keys: " + ", ".join(keys))
        elif get_args(inner)[0] is int:
            parts.append("keys: first years of 5-year periods")
    if meta.get("sums_to_one"):
        parts.append("sums to 1")
    if dataclasses.is_dataclass(inner) and not parts:
        parts.append("section")
    if optional and not dataclasses.is_dataclass(inner):
        parts.append("or none")
    return "; ".join(parts) if parts else "text" if inner is str else ""


def _meaning(path: str, f: dataclasses.Field, tp: Any) -> str:
    doc = f.metadata.get("doc", "") or MEANING.get(path, "")
    _, inner = _inner(tp)
    if not doc:
        target = inner
        if get_origin(inner) is tuple and dataclasses.is_dataclass(get_args(inner)[0]):
            target = get_args(inner)[0]
        if dataclasses.is_dataclass(target):
            doc = (target.__doc__ or "").strip().splitlines()[0]
    return doc


def param_table() -> str:
    """Return the Markdown table of every scenario parameter."""
    lines = [
        "| Key | Default | Unit, range | Meaning | Source of the default |",
        "|---|---|---|---|---|",
    ]
    for path, f, tp in scenario_fields():
        cells = [f"`{path}`", _describe_default(path, f, tp), _describe_range(f, tp), _meaning(path, f, tp),
                 f.metadata.get("source", "")]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def _plain_num(x: Any) -> str:
    return _num(x) if not isinstance(x, (list, tuple, dict)) else str(x)


def register_table() -> str:
    """Return the Markdown table of the assumption register (every ``assumption:`` parameter)."""
    lines = [
        "| Key | Default | Plausible range | Basis of the range |",
        "|---|---|---|---|",
    ]
    fields = {path: (f, tp) for path, f, tp in FIELDS}
    for row in assumption_register().itertuples(index=False):
        f, tp = fields[row.key]
        whole = _inner(tp)[1] is int  # the frame holds floats; an integer key shows whole numbers
        lo, hi = (_plain_num(int(x) if whole else x) for x in (row.plausible_lo, row.plausible_hi))
        unit = f" {row.unit}" if row.unit else ""
        span = f"× {lo} to × {hi}" if row.scale == "factor" else f"{lo} to {hi}{unit}"
        cells = [f"`{row.key}`", _describe_default(row.key, f, tp), span, row.basis]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def _long_defaults() -> tuple[list[tuple[str, tuple]], list[tuple[str, dict]]]:
    by_band, by_kind = [], []
    for path, f, _tp in scenario_fields():
        if _is_required(f):
            continue
        value = _default_value(f)
        if isinstance(value, tuple) and len(value) == N_AGE_BANDS:
            by_band.append((path, value))
        elif isinstance(value, dict) and tuple(value) == OFFLINE_COMMUNITIES:
            by_kind.append((path, value))
    return by_band, by_kind


def defaults_tables() -> str:
    """Return the Markdown tables of the default vectors (by age band and by community kind)."""
    by_band, by_kind = _long_defaults()
    out = ["Columns (defaults by age band):", ""]
    out += [f"{i + 1}. `{path}`" for i, (path, _) in enumerate(by_band)]
    out += ["", "| age | " + " | ".join(str(i + 1) for i in range(len(by_band))) + " |",
            "|---|" + "---:|" * len(by_band)]
    for b, label in enumerate(AGE_BAND_LABELS):
        out.append(f"| {label} | " + " | ".join(_num(float(v[b])) for _, v in by_band) + " |")
    out += ["", "| community kind | " + " | ".join(f"`{p.split('.')[-1]}`" for p, _ in by_kind) + " |",
            "|---|" + "---:|" * len(by_kind)]
    for k in OFFLINE_COMMUNITIES:
        out.append(f"| {k} | " + " | ".join(_num(v[k]) for _, v in by_kind) + " |")
    out += ["", "(" + "; ".join(f"`{p}`" for p, _ in by_kind) + ".)"]
    return "\n".join(out)


def block(text: str, markers: tuple[str, str]) -> str:
    """Return the text between two marker lines (without the markers)."""
    start, end = markers
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        raise ValueError(f"markers {start} ... {end} not found")
    return text[i + len(start) : j].strip("\n")


def replace_block(text: str, markers: tuple[str, str], body: str) -> str:
    """Return ``text`` with the part between the markers replaced by ``body``."""
    start, end = markers
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        raise ValueError(f"markers {start} ... {end} not found")
    return text[: i + len(start)] + "\n" + body + "\n" + text[j:]


def write_docs() -> None:
    """Regenerate the generated parts of docs/ODD.md and docs/scenarios.md in place."""
    odd = replace_block(ODD.read_text(encoding="utf-8"), PARAMS, param_table())
    ODD.write_text(replace_block(odd, ASSUMPTIONS, register_table()), encoding="utf-8")
    text = SCENARIOS_DOC.read_text(encoding="utf-8")
    SCENARIOS_DOC.write_text(replace_block(text, DEFAULTS, defaults_tables()), encoding="utf-8")


# --------------------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------------------

FIELDS = scenario_fields()
ASSUMPTION_FIELDS = [(p, f, tp) for p, f, tp in FIELDS if is_assumption(f)]


@pytest.fixture(scope="module")
def odd_text() -> str:
    return ODD.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def scenarios_text() -> str:
    return SCENARIOS_DOC.read_text(encoding="utf-8")


def test_every_key_is_documented(odd_text):
    missing = [path for path, _, _ in FIELDS if f"`{path}`" not in odd_text]
    assert not missing, f"scenario keys missing from docs/ODD.md (as `key.path`): {', '.join(missing)}; {REGENERATE}"


@pytest.mark.parametrize("path,field", [(p, f) for p, f, _ in FIELDS], ids=[p for p, _, _ in FIELDS])
def test_source_cites_or_says_why(path, field):
    source = field.metadata.get("source", "")
    assert source.strip(), f"parameter {path}: empty source= metadata"
    assert source.lower().startswith(SOURCE_PREFIXES) or CITATION.search(source), (
        f"parameter {path}: source {source!r} neither cites a dated table or figure nor starts with "
        f"one of {', '.join(SOURCE_PREFIXES)}"
    )


@pytest.mark.parametrize("path,field,tp", ASSUMPTION_FIELDS, ids=[p for p, _, _ in ASSUMPTION_FIELDS])
def test_every_assumption_has_a_plausible_range(path, field, tp):
    meta = field.metadata
    _, inner = _inner(tp)
    vector = get_origin(inner) in (tuple, dict)
    rng = meta.get("plausible_factor") if vector else meta.get("plausible")
    wrong = meta.get("plausible") if vector else meta.get("plausible_factor")
    kind = "plausible_factor=(lo, hi) (a factor on every element)" if vector else "plausible=(lo, hi)"
    assert rng is not None and wrong is None, (
        f"parameter {path}: its source says assumption, so it needs {kind} with basis=; {REGENERATE}")
    assert str(meta.get("basis", "")).strip(), f"parameter {path}: a plausible range needs its basis= (one line)"
    lo, hi = rng
    assert lo < hi, f"parameter {path}: plausible range {rng} is empty"
    default = _default_value(field)
    if vector:
        assert lo <= 1 <= hi, f"parameter {path}: a plausible factor {rng} must contain 1 (the default)"
        return
    assert default is None or lo <= default <= hi, f"parameter {path}: default {default} outside plausible {rng}"
    hard_lo, hard_hi = meta.get("lo"), meta.get("hi")
    assert hard_lo is None or lo > hard_lo or (lo == hard_lo and not meta.get("lo_open")), (
        f"parameter {path}: plausible {rng} reaches below the allowed values (lo={hard_lo})")
    assert hard_hi is None or hi < hard_hi or (hi == hard_hi and not meta.get("hi_open")), (
        f"parameter {path}: plausible {rng} reaches above the allowed values (hi={hard_hi})")


def test_only_assumptions_have_plausible_ranges():
    extra = [p for p, f, _ in FIELDS if not is_assumption(f) and (f.metadata.get("plausible") is not None
                                                                  or f.metadata.get("plausible_factor") is not None)]
    assert not extra, f"plausible ranges on parameters whose source is not an assumption: {', '.join(extra)}"


def test_assumption_register_lists_every_assumption_with_the_scenarios_values():
    reg = assumption_register()
    assert list(reg["key"]) == [p for p, _, _ in ASSUMPTION_FIELDS]
    assert reg["plausible_lo"].notna().all() and reg["plausible_hi"].notna().all() and (reg["basis"] != "").all()
    assert set(reg["scale"]) == {"value", "factor"}
    row = reg.set_index("key").loc["interventions.sharing_platform.meetup_contacts"]
    assert row["value"] == row["default"] == 3 and row["scale"] == "value"
    assert (row["plausible_lo"], row["plausible_hi"]) == (1, 6)
    assert reg.set_index("key").loc["needs.hours", "scale"] == "factor"
    # the values are the scenario's own
    scn = load_scenario("yamae", {"helping.weekly_hours_free": 3.5})
    mine = assumption_register(scn).set_index("key")
    assert mine.loc["helping.weekly_hours_free", "value"] == 3.5
    assert mine.loc["helping.weekly_hours_free", "default"] == 5.0
    assert mine.loc["needs.hours", "value"] == dict(scn.needs.hours)


def test_assumption_register_in_odd_is_current(odd_text):
    assert block(odd_text, ASSUMPTIONS) == register_table(), (
        f"the assumption register of docs/ODD.md is out of date; {REGENERATE}")


def test_param_table_is_current(odd_text):
    current = block(odd_text, PARAMS)
    expected = param_table()
    if current != expected:
        stale = sorted(set(expected.splitlines()) ^ set(current.splitlines()))
        keys = sorted({m.group(1) for line in stale for m in [re.match(r"\| `([^`]+)`", line)] if m})
        pytest.fail(f"the parameter table of docs/ODD.md is out of date (rows for: {', '.join(keys) or '?'}); "
                    f"{REGENERATE}")


def test_default_vectors_are_current(scenarios_text):
    assert block(scenarios_text, DEFAULTS) == defaults_tables(), (
        f"the default vectors of docs/scenarios.md are out of date; {REGENERATE}"
    )


ERROR_CASES = [
    # (file name, file text or None, overrides, keyword overrides)
    ("typo.yaml", "base: yamae\ndemografy:\n  fertility: {tfr: 1.6}\n", None, {}),
    ("shares.yaml", "base: yamae\nmunicipality:\n  households:\n    shares: {single_elderly: 0.5, "
     "elderly_couple: 0.15, couple_only: 0.10, couple_with_children: 0.17, single_parent: 0.04, "
     "single_adult: 0.10, three_generation: 0.31}\n", None, {}),
    ("town.yaml", "municipality:\n  name: 某町\n", None, {}),
    ("lost.yaml", "base: nowhere.yaml\n", None, {}),
    ("district.yaml", "base: yamae\nmunicipality:\n  districts:\n    - {name: A, area_km2: 0, lat: 32.2, "
     "lon: 130.7, population_share: 1.0}\n", None, {}),
    ("yamae", None, None, {"demography__fertility__tfrr": 1.6}),
    ("yamae", None, {"simulation.seed": "x"}, {}),
    ("yamae", None, {"communities.participation_year": 2012}, {}),
    ("yamae", None, {"residents.driving_rate": [0.5, 0.5]}, {}),
    ("yamae", None, {"simulation.step_days": 14}, {}),
    ("dup.yaml", "base: yamae\nsimulation: {seed: 1}\nsimulation: {seed: 2}\n", None, {}),
    ("notes.yaml", "some notes, not a scenario\n", None, {}),
    ("deep.yaml", "[" * 100 + "]" * 100 + "\n", None, {}),
    ("yamae", None, {"municipality.population": 40_000_000}, {}),
    ("yamae", None, {"name": "../elsewhere"}, {}),
]


def error_message(name: str, text: str | None, overrides: dict | None, kw: dict, workdir: Path) -> str:
    """Load a scenario that should fail, in ``workdir``, and return its message as docs/scenarios.md quotes it."""
    with contextlib.chdir(workdir):
        if text is not None:
            (workdir / name).write_text(text, encoding="utf-8")
        try:
            load_scenario(name, overrides, **kw)
        except ScenarioError as exc:
            return str(exc).replace(str(SCENARIO_DIR / "yamae.yaml"), "…/scenarios/yamae.yaml")
    raise AssertionError(f"no error for {name} {overrides or kw}")


def yaml_blocks(text: str) -> list[str]:
    """Return the contents of the ```yaml fenced blocks of a Markdown text."""
    return re.findall(r"^```yaml\n(.*?)^```", text, flags=re.S | re.M)


def test_example_scenario_loads_and_validates(tmp_path, scenarios_text, capsys):
    (example,) = [b for b in yaml_blocks(scenarios_text) if b.startswith("name: example-town")]
    (tmp_path / "example_town.yaml").write_text(example, encoding="utf-8")
    with contextlib.chdir(tmp_path):
        assert main(["validate", "example_town.yaml"]) == 0
    out = capsys.readouterr().out.strip()
    assert f"$ kyojosim validate example_town.yaml\n{out}\n" in scenarios_text, f"validate prints: {out}"
    scn = load_scenario(tmp_path / "example_town.yaml")
    assert sum(scn.municipality.age_structure.male) + sum(scn.municipality.age_structure.female) == 1000


def test_variant_example_loads(tmp_path, scenarios_text):
    (variant,) = [b for b in yaml_blocks(scenarios_text) if b.startswith("base: yamae")]
    (tmp_path / "yamae_tfr16.yaml").write_text(variant, encoding="utf-8")
    scn = load_scenario(tmp_path / "yamae_tfr16.yaml")
    base = load_scenario("yamae")
    assert scn.name == "yamae-tfr16" and scn.demography.fertility.tfr == 1.6
    assert scn.municipality == base.municipality
    assert scn.demography.fertility.age_pattern == base.demography.fertility.age_pattern


@pytest.mark.parametrize("case", ERROR_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(ERROR_CASES)])
def test_error_messages_in_docs_are_real(tmp_path, scenarios_text, case):
    message = error_message(*case, tmp_path)
    assert message in scenarios_text, f"docs/scenarios.md does not quote the real message:\n{message}"


EXPERIMENT_ERROR_CASES = [
    # (overrides or design of a small experiment written to experiments/mine.yaml)
    {"overrides": {"helping.weekly_hours_fre": 3}},
    {"design": {"type": "sobol", "n": 6, "parameters": {"helping.weekly_hours_free": [2.0, 8.0]}}},
]


@pytest.mark.parametrize("case", EXPERIMENT_ERROR_CASES, ids=["typo", "sobol-n"])
def test_experiment_error_messages_in_docs_are_real(tmp_path, capsys, case):
    import yaml

    (tmp_path / "experiments").mkdir()
    data = {"name": "mine", "seed": 1, "scenarios": ["yamae"], **case}
    (tmp_path / "experiments" / "mine.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with contextlib.chdir(tmp_path):
        assert main(["sweep", "experiments/mine.yaml", "--out", str(tmp_path / "out"), "--quiet"]) == 2
    message = capsys.readouterr().err.strip()
    # the documentation shortens the list of valid keys to "..."
    shown = re.sub(r"valid keys: [^(]*\(", "valid keys: ... (", message)
    assert shown in EXPERIMENTS_DOC.read_text(encoding="utf-8"), f"docs/experiments.md does not quote:\n{shown}"


def test_dotted_keys_in_scenarios_md_exist(scenarios_text):
    from kyojosim.params.scenario import Scenario, resolve_path

    sections = {f.name for f in dataclasses.fields(Scenario)}
    found = re.findall(r"`([a-z_]+(?:\.[a-z0-9_]+)+)(\*?)`", scenarios_text)
    keys = {(k, star) for k, star in found if k.split(".")[0] in sections}
    assert len(keys) > 30
    paths = [p for p, _, _ in FIELDS]
    for key, star in sorted(keys):
        if star:  # a family of keys such as helping.weekly_hours_*
            assert any(p.startswith(key) for p in paths), key
        else:
            resolve_path(Scenario, key, "docs/scenarios.md")  # raises for a key that does not exist


def test_kwargs_example():
    assert load_scenario("yamae", simulation__seed=3).simulation.seed == 3
    assert load_scenario("yamae", {"simulation.seed": 3}) == load_scenario("yamae", simulation__seed=3)


def test_resident_columns_match_odd(odd_text):
    from kyojosim.core.population import Population

    section = odd_text.split("### 2.1 Residents", 1)[1].split("\n### ", 1)[0]
    documented = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
    assert sorted(documented) == sorted(Population.columns())


def odd_yearly_steps(odd_text: str) -> list[str]:
    """Return the bold names of the numbered steps of docs/ODD.md §3.2 as schedule names.

    ``**Close the aid year**`` becomes ``close_aid_year``: lower case, ``_`` for spaces and hyphens,
    without "the".
    """
    section = odd_text.split("### 3.2 ", 1)[1].split("\n### ", 1)[0]
    steps = re.findall(r"^(\d+)\. \*\*(.+?)\*\*", section, flags=re.M)
    assert [int(n) for n, _ in steps] == list(range(1, len(steps) + 1)), "ODD §3.2: steps not numbered 1, 2, ..."
    return ["_".join(w for w in re.split(r"[\s-]+", name.lower()) if w != "the") for _, name in steps]


def test_yearly_schedule_matches_odd(odd_text):
    from kyojosim.model import YEARLY

    assert [name for name, _ in YEARLY] == odd_yearly_steps(odd_text)


if __name__ == "__main__":
    write_docs()
    with tempfile.TemporaryDirectory() as tmp:  # print the messages docs/scenarios.md quotes
        for case in ERROR_CASES:
            print(error_message(*case, Path(tmp)))
