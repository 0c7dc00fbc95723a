"""The one vocabulary of kyojosim's outputs, in Japanese and English: terms, texts and metric labels.

Every word the report, the dashboard, the figures and the command line show comes from
``glossary.yaml`` beside this module (terms such as the categories of trouble, the channels, the
interventions and the participation groups, and the texts of each output) or, for the metrics, from
their declaration in :data:`kyojosim.measures.outcomes.METRICS` (their ``ja`` and ``en`` fields, read
by :func:`metric_label`). Nothing else holds a label.

- :func:`term` and :func:`terms`: the name of one thing of the model (``term("intervention",
  "sharing_platform", "ja")`` is 有償シェアサービス), and a whole vocabulary;
- :func:`text` and :func:`texts`: a text of an output, filled with values, and all texts of an output
  (the report's templates read them as ``t.<key>``);
- :func:`metric_label`: the label of a metric, qualified by the member of its vocabulary;
- :func:`variant_labels`: the display name of each variant of an experiment, as its file gives it
  (``label: {ja: ..., en: ...}``) or built from the interventions it switches on.

The dictionaries ``CATEGORY_LABELS``, ``PARTICIPATION_LABELS``, ... are views of the glossary, kept
for code that reads a whole vocabulary at once.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Mapping
from importlib.resources import files
from typing import Any

import yaml

from ..errors import KyojoError
from ..measures.outcomes import METRICS, is_money, is_percent

LANGS: tuple[str, ...] = ("ja", "en")
GLOSSARY_FILE = "glossary.yaml"
"""The vocabulary file, package data of :mod:`kyojosim.present`."""


class GlossaryError(KyojoError):
    """A term or text is not in the glossary, or the glossary is malformed."""


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is a supported language, else raise a :class:`~kyojosim.errors.KyojoError`."""
    if lang not in LANGS:
        raise KyojoError(f"lang: got {lang!r}; allowed: {', '.join(LANGS)}")
    return lang


@functools.cache
def glossary() -> dict[str, Any]:
    """Return the glossary as plain data (``terms`` and ``texts``), read once."""
    source = files("kyojosim.present").joinpath(GLOSSARY_FILE)
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not {"terms", "texts"} <= set(data):
        raise GlossaryError(f"{GLOSSARY_FILE}: expected the sections terms and texts")
    return _unfold(data)


_CJK = "\u3000-\u30ff\u3400-\u9fff\uff00-\uffef"
_FOLD = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")


def _unfold(node: Any) -> Any:
    """Join the Japanese lines that YAML folded with a space (Japanese sets no space between words)."""
    if isinstance(node, dict):
        return {k: (_FOLD.sub("", v) if k == "ja" and isinstance(v, str) else
                    [_FOLD.sub("", x) for x in v] if k == "ja" and isinstance(v, list) else _unfold(v))
                for k, v in node.items()}
    return node


def term(vocabulary: str, key: str, lang: str = "ja") -> str:
    """Return the name of ``key`` in a vocabulary of the glossary (``terms``).

    Raises:
        GlossaryError: If the vocabulary or the key is not in the glossary.
    """
    check_lang(lang)
    entries = glossary()["terms"].get(vocabulary)
    if entries is None:
        raise GlossaryError(f"{GLOSSARY_FILE}: no vocabulary {vocabulary!r}")
    entry = entries.get(key)
    if entry is None:
        raise GlossaryError(f"{GLOSSARY_FILE}: terms.{vocabulary} has no {key!r}")
    return str(entry[lang])


def terms(vocabulary: str, lang: str = "ja") -> dict[str, str]:
    """Return a whole vocabulary, key -> name, in the glossary's order."""
    check_lang(lang)
    entries = glossary()["terms"].get(vocabulary)
    if entries is None:
        raise GlossaryError(f"{GLOSSARY_FILE}: no vocabulary {vocabulary!r}")
    return {str(k): str(v[lang]) for k, v in entries.items()}


def _entry(key: str) -> Mapping[str, Any]:
    section, _, name = key.partition(".")
    entries = glossary()["texts"].get(section)
    if entries is None or name not in entries:
        raise GlossaryError(f"{GLOSSARY_FILE}: no text texts.{key}")
    return entries[name]


def text(key: str, lang: str = "ja", **values: Any) -> str:
    """Return a text of an output (``"report.findings_h"``), its ``{names}`` filled from ``values``.

    Raises:
        GlossaryError: If the text is not in the glossary or a value it names is not given.
    """
    check_lang(lang)
    template = _entry(key)[lang]
    if not values:
        return str(template)
    try:
        return str(template).format(**values)
    except KeyError as exc:
        raise GlossaryError(f"{GLOSSARY_FILE}: texts.{key} needs the value {exc}") from None


def texts(section: str, lang: str = "ja") -> dict[str, Any]:
    """Return every text of one output (a section of ``texts``) in one language, key -> text or list."""
    check_lang(lang)
    entries = glossary()["texts"].get(section)
    if entries is None:
        raise GlossaryError(f"{GLOSSARY_FILE}: no texts for {section!r}")
    return {str(k): v[lang] for k, v in entries.items()}


# --------------------------------------------------------------------------------------
# views of the vocabularies (for code that reads a whole vocabulary)
# --------------------------------------------------------------------------------------


def _both(vocabulary: str) -> dict[str, dict[str, str]]:
    return {lang: terms(vocabulary, lang) for lang in LANGS}


CATEGORY_LABELS: dict[str, dict[str, str]] = {lang: {**terms("category", lang), **terms("scope", lang)}
                                              for lang in LANGS}
"""The eight categories of need (図表4-3-4-2), ``all`` and residents ``75plus``, by language."""
CATEGORY_LABELS_JA = CATEGORY_LABELS["ja"]
CATEGORY_LABELS_EN = CATEGORY_LABELS["en"]
AGE_GROUP_LABELS = _both("age_group")
PARTICIPATION_LABELS = _both("participation")
"""Community participation groups of 図表4-3-5-2 (real-world and online communities)."""
SEX_LABELS = _both("sex")
CHANNEL_LABELS = _both("channel")
INTERVENTION_LABELS = _both("intervention")
UNITS: dict[str, dict[str, str]] = {
    lang: {**terms("unit", lang), "rate": term("unit", "%", lang), "people": term("unit", "residents", lang)}
    for lang in LANGS
}
"""Units by the unit of a metric (and ``rate``, ``points``, ``yen``, ``people``)."""

VOCABULARY_LABELS = {"category": CATEGORY_LABELS, "age_group": AGE_GROUP_LABELS,
                     "participation": PARTICIPATION_LABELS, "channel": CHANNEL_LABELS}
"""The labels of the vocabularies that qualify a family of metrics (``Metric.of``)."""


def metric_label(metric: str, lang: str = "ja") -> str:
    """Human label of a summary or weekly metric (``matching_rate_chores`` -> ``マッチング率（家事）``).

    The label is the metric's ``ja``/``en`` label in :data:`kyojosim.measures.outcomes.METRICS`, qualified by the
    member of its vocabulary for a family of metrics (``Metric.of``).

    Args:
        metric: A column name of the summary or steps table.
        lang: ``"ja"`` or ``"en"``.

    Returns:
        The label; the column name itself when the metric is not registered.
    """
    check_lang(lang)
    m = METRICS.get(metric)
    if m is None:
        return metric
    base = m.ja if lang == "ja" else m.en
    if m.of is None:
        return base
    vocabulary, member = m.of
    qualifier = term(vocabulary, member, lang)
    return f"{base}（{qualifier}）" if lang == "ja" else f"{base} ({qualifier})"


def parameter_label(key: str, lang: str = "ja") -> str:
    """Return the display name of a scenario parameter (an assumption of the register, a setting a design varies).

    The name is ``terms.parameter`` of the glossary (``helping.weekly_hours_free`` is
    働いていない人が手助けに割ける時間（週）); a parameter the glossary does not name yet keeps its dotted key,
    so that nothing is hidden (``tests/test_glossary.py`` checks that every assumption of the register and
    every parameter a bundled experiment varies is named).
    """
    check_lang(lang)
    entry = glossary()["terms"].get("parameter", {}).get(key)
    return str(entry[lang]) if entry is not None else key


def unit_label(metric: str, lang: str = "ja") -> str:
    """Return the unit of a registered metric in the language (``%``, 円, 件, ...; empty for an index or unknown)."""
    m = METRICS.get(metric)
    if m is None or m.unit == "index":
        return ""
    return term("unit", m.unit, lang)


def is_rate(metric: str) -> bool:
    """Whether a metric is a rate or a share between 0 and 1 (shown in percent; its kind in METRICS)."""
    return is_percent(metric)


def municipality_kind(name: str, lang: str = "ja") -> str:
    """Return what a municipality is called by the last character of its Japanese name: 市, 町, 村, 区 (city, ...)."""
    kinds = terms("municipality_kind", lang)
    return kinds.get(name[-1:], kinds["other"]) if name else kinds["other"]


def join(items: list[str], lang: str = "ja") -> str:
    """Join names as a list in the language: ``A・B・C`` / ``A, B and C``."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return text("common.list_sep", lang).join(items[:-1]) + text("common.list_last", lang) + items[-1]


# --------------------------------------------------------------------------------------
# display names of the variants of an experiment
# --------------------------------------------------------------------------------------


def variant_switches(spec: Mapping[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Split a variant as the manifest records it into ``{intervention: switch}`` and the other overrides.

    Reads both forms: a resolved experiment's ``{interventions: {name: {enabled, start, end}}, overrides}``
    and plain dotted overrides (``interventions.<name>.enabled``, ``.start_year``, ``.end_year``).
    """
    switches: dict[str, dict[str, Any]] = {}
    for name, sw in (spec.get("interventions") or {}).items():
        if isinstance(sw, Mapping):
            switches[str(name)] = {"enabled": sw.get("enabled", True), "start": sw.get("start"), "end": sw.get("end")}
        elif isinstance(sw, bool):
            switches[str(name)] = {"enabled": sw, "start": None, "end": None}
        elif isinstance(sw, int):
            switches[str(name)] = {"enabled": True, "start": sw, "end": None}
    flat = dict(spec.get("overrides") or {})
    flat.update({k: v for k, v in spec.items() if isinstance(k, str) and "." in k})
    other: dict[str, Any] = {}
    for key, value in flat.items():
        parts = str(key).split(".")
        if len(parts) == 3 and parts[0] == "interventions" and parts[2] in ("enabled", "start_year", "end_year"):
            sw = switches.setdefault(parts[1], {"enabled": True, "start": None, "end": None})
            sw[{"enabled": "enabled", "start_year": "start", "end_year": "end"}[parts[2]]] = value
        else:
            other[str(key)] = value
    # a setting of an intervention the variant switches on (its price, its subsidy) is part of it, and a
    # scenario's name and description are not settings of the model
    on = {name for name, sw in switches.items() if sw.get("enabled", True)}
    other = {k: v for k, v in other.items() if k not in ("name", "description")
             and not (k.startswith("interventions.") and k.split(".")[1] in on)}
    return switches, other


def switched_on(spec: Mapping[str, Any]) -> list[tuple[str, int | None]]:
    """Return the interventions a variant switches on, with their start years, in the order of the file."""
    switches, _ = variant_switches(spec)
    return [(name, sw.get("start")) for name, sw in switches.items() if sw.get("enabled", True)]


def built_label(spec: Mapping[str, Any], lang: str, years: bool = False) -> str:
    """Build a variant's display name from what it switches on: ``有償シェアサービス＋地域SNS``.

    A variant that switches nothing on is 施策なし (no intervention) or, with other overrides,
    ``設定を3項目変更`` (3 settings changed).
    """
    on = switched_on(spec)
    _, other = variant_switches(spec)
    names: list[str] = []
    for name, start in on:
        label = term("intervention", name, lang) if name in glossary()["terms"]["intervention"] else name
        if years and start is not None:
            label = text("common.with_years", lang, label=label, years=text("common.from_year", lang, year=start))
        names.append(label)
    if not names:
        if other:
            return text("common.changed_settings", lang, n=len(other))
        return text("common.no_intervention", lang)
    label = text("common.plus", lang).join(names)
    if other:
        label += text("common.plus", lang) + text("common.changed_settings", lang, n=len(other))
    return capitalised(label, lang)


def capitalised(label: str, lang: str) -> str:
    """Return a name as it stands alone (a row, a legend): its first letter upper case in English."""
    return label[:1].upper() + label[1:] if lang == "en" else label


def variant_specs(manifest: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Return the variants of a results folder's manifest by name (the experiment's list or mapping of them)."""
    experiment = manifest.get("experiment") or {}
    spec = experiment.get("variants") if isinstance(experiment, Mapping) else None
    if isinstance(spec, Mapping):
        return {str(k): (v if isinstance(v, Mapping) else {}) for k, v in spec.items()}
    if isinstance(spec, list):
        return {str(v["name"]): v for v in spec if isinstance(v, Mapping) and v.get("name")}
    return {}


def variant_labels(results: Any, lang: str = "ja") -> dict[str, str]:
    """Return the display name of every variant of an experiment's results, by its name.

    The name is the variant's ``label`` in the experiment file (``label: {ja: ..., en: ...}``); a variant
    without one is named from what it switches on (:func:`built_label`), with start years or a number
    added where two would read the same. The internal name is never shown.

    Args:
        results: Experiment results (``kyojosim.load(folder)``), or their manifest (a mapping).
        lang: ``"ja"`` or ``"en"``.
    """
    check_lang(lang)
    manifest = results if isinstance(results, Mapping) else dict(getattr(results, "manifest", None) or {})
    specs = variant_specs(manifest)
    names: list[str] = []
    if not isinstance(results, Mapping):
        names = [str(v) for v in (getattr(results, "variants", None) or [])]
        design = getattr(results, "design", None)
        if not names and design is not None and "variant" in design.columns:
            names = list(dict.fromkeys(design["variant"].astype(str)))
    names += [v for v in specs if v not in names]
    out: dict[str, str] = {}
    built: list[str] = []
    for name in names:
        spec = specs.get(name, {})
        label = spec.get("label")
        if isinstance(label, Mapping) and label.get(lang):
            out[name] = str(label[lang])
        elif name in specs:
            out[name] = built_label(spec, lang)
            built.append(name)
        else:
            out[name] = ""
    clash = Counter(out.values())
    for name in built:  # two variants that read the same: add the start years
        if clash[out[name]] > 1:
            out[name] = built_label(specs[name], lang, years=True)
    counts = Counter(out.values())
    seen: Counter[str] = Counter()
    unnamed = 0
    for name in names:  # still the same, or unknown: number them
        label = out[name]
        if not label:
            unnamed += 1
            out[name] = text("common.option_n", lang, n=unnamed)
        elif counts[label] > 1:
            seen[label] += 1
            out[name] = f"{label}（{seen[label]}）" if lang == "ja" else f"{label} ({seen[label]})"
    return out


__all__ = [
    "AGE_GROUP_LABELS",
    "CATEGORY_LABELS",
    "CATEGORY_LABELS_EN",
    "CATEGORY_LABELS_JA",
    "CHANNEL_LABELS",
    "INTERVENTION_LABELS",
    "LANGS",
    "PARTICIPATION_LABELS",
    "SEX_LABELS",
    "UNITS",
    "VOCABULARY_LABELS",
    "GlossaryError",
    "built_label",
    "capitalised",
    "check_lang",
    "glossary",
    "is_money",
    "is_rate",
    "join",
    "metric_label",
    "municipality_kind",
    "municipality_names",
    "parameter_label",
    "switched_on",
    "term",
    "terms",
    "text",
    "texts",
    "unit_label",
    "variant_labels",
    "variant_specs",
    "variant_switches",
]


# --------------------------------------------------------------------------------------
# names of the municipalities of an experiment
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _municipality(source: str) -> tuple[str, str] | None:
    """``(name, name_en)`` of the municipality of a scenario (bundled name or file), or ``None``."""
    from ..params.scenario import load_scenario

    try:
        m = load_scenario(source).municipality
    except (KyojoError, OSError, ValueError):
        return None
    return str(m.name), str(getattr(m, "name_en", "") or m.name)


def municipality_names(results: Any, lang: str = "ja") -> dict[str, str]:
    """Return the name of the municipality of each scenario of an experiment's results, by scenario name.

    The scenario is found as :func:`kyojosim.load_scenario` finds it (a bundled name, a file), or among the
    scenario files the experiment lists; a scenario that cannot be found keeps its own name. The
    municipalities an experiment selects with ``municipalities:`` are named from the census table by their
    code (no scenario is read, so that all of Japan is named at once).
    """
    check_lang(lang)
    design = getattr(results, "design", None)
    scenarios = list(dict.fromkeys(design["scenario"].astype(str))) if design is not None else []
    manifest = dict(getattr(results, "manifest", None) or {})
    experiment = manifest.get("experiment") if isinstance(manifest.get("experiment"), Mapping) else {}
    selected = (experiment.get("municipalities") or {}).get("scenarios") or {}
    if selected:  # municipalities: named by their code in the census table, nothing built or read
        from ..params.japan import municipalities

        table = municipalities().set_index("code")["name" if lang == "ja" else "name_en"]
        codes = {str(k): str(v) for k, v in selected.items()}
        return {s: str(table.get(codes[s], s)) if s in codes else s for s in scenarios}
    listed = [str(s) for s in (experiment.get("scenarios") or [])]
    if experiment.get("scenario"):
        listed.append(str(experiment["scenario"]))
    out: dict[str, str] = {}
    for scenario in scenarios:
        found = _municipality(scenario)
        if found is None:
            for source in listed:
                if source == scenario or source.rsplit("/", 1)[-1].removesuffix(".yaml") == scenario:
                    found = _municipality(source)
                    if found is not None:
                        break
        out[scenario] = scenario if found is None else found[0] if lang == "ja" else found[1]
    return out
