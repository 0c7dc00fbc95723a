"""The one vocabulary (src/kyojosim/present/glossary.yaml): complete in both languages, covering every
vocabulary of the model, every text key the code and the templates use, and free of the words it replaced."""

from __future__ import annotations

import ast
import dataclasses
import re
import string
from pathlib import Path

import pytest

from kyojosim.constants import CATEGORIES, CHANNELS, PARTICIPATION_GROUPS, REQUESTER_AGE_GROUPS, SEXES
from kyojosim.measures.outcomes import METRICS
from kyojosim.params.scenario import Interventions
from kyojosim.present import labels
from kyojosim.present.dashboard.wrapper import PERIOD_MONTHS
from kyojosim.present.labels import LANGS, GlossaryError, glossary, term, text

SRC = Path(labels.__file__).resolve().parents[1]
PRESENT = SRC / "present"
TEMPLATES = PRESENT / "templates"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

REPLACED = ("解決率", "有償シェアリングサービス", "シェアリング", "現実のみ", "現実とネット両方", "地域＋オンライン",
            "どこにも不参加", "バリアント", "ベースライン", "対のブートストラップ", "決着", "ニーズ",
            "オフライン交流会", "通報担当", "依頼者の支払")
"""Words of the former labels (two wordings of one thing, or internal jargon): none may come back."""


def entries(node, path=()):
    """Yield (path, {ja, en}) for every entry of a section of the glossary."""
    if isinstance(node, dict) and set(node) == set(LANGS):
        yield path, node
        return
    assert isinstance(node, dict), (path, node)
    for key, value in node.items():
        assert isinstance(key, str), (path, key)  # YAML reads off, on, yes, no unquoted as booleans
        yield from entries(value, (*path, key))


DIFFERENT_FIELDS = {("texts", "dashboard", "date")}
"""Entries whose languages fill different values: a date is 2016年1月 in Japanese, January 2016 in English."""


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_entry_has_both_languages_with_the_same_values_to_fill():
    for section in ("terms", "texts"):
        for path, entry in entries(glossary()[section]):
            ja, en = entry["ja"], entry["en"]
            assert type(ja) is type(en) and isinstance(ja, (str, list)), path
            if isinstance(ja, list):
                assert len(ja) == len(en) and all(x.strip() for x in ja + en), path
                continue
            assert ja.strip() and en.strip(), path
            if (section, *path) not in DIFFERENT_FIELDS:
                assert fields(ja) == fields(en), (path, fields(ja), fields(en))


def test_every_vocabulary_of_the_model_is_named_in_both_languages():
    named = {
        "category": CATEGORIES, "participation": PARTICIPATION_GROUPS, "channel": CHANNELS,
        "age_group": REQUESTER_AGE_GROUPS, "sex": SEXES, "period": tuple(PERIOD_MONTHS),
        "intervention": tuple(f.name for f in dataclasses.fields(Interventions)),
    }
    for vocabulary, members in named.items():
        for lang in LANGS:
            assert set(members) <= set(labels.terms(vocabulary, lang)), (vocabulary, lang)
    for m in METRICS.values():
        assert m.ja.strip() and m.en.strip(), m.name
        if m.unit != "index":
            assert labels.unit_label(m.name, "ja") and labels.unit_label(m.name, "en"), (m.name, m.unit)
        if m.of is not None:
            vocabulary, member = m.of
            for lang in LANGS:
                assert term(vocabulary, member, lang), m.name


def test_every_assumption_and_every_parameter_a_bundled_experiment_varies_has_a_name():
    """The report names the assumptions of its failure regions and the settings of a design in words."""
    from kyojosim.params.experiment import find_experiment, load_experiment
    from kyojosim.params.scenario import assumption_register
    from kyojosim.present.fmt import parameter_value

    keys = set(assumption_register()["key"])
    for path in sorted(find_experiment("ikoma-interventions").parent.glob("*.yaml")):
        keys |= set(load_experiment(path).design.get("parameters") or {})
    assert len(keys) > 40
    for key in keys:
        for lang in LANGS:
            assert labels.parameter_label(key, lang) != key, (key, lang)
    assert parameter_value("helping.weekly_hours_free", 2.5, "ja") == "2.5" + term("unit", "hours", "ja")
    assert parameter_value("needs.hours", 1.2, "en") == "×1.2"  # a mapping scaled as a whole: its factor
    assert parameter_value("ict.yearly_uptake", 0.07, "ja") == "7%"  # a share
    assert parameter_value("interventions.sharing_platform.reference_price", 1000, "en") == "¥1,000"


def test_the_replaced_words_do_not_come_back():
    texts_ = [str(e[lang]) for section in ("terms", "texts") for _, e in entries(glossary()[section]) for lang in LANGS]
    texts_ += [m.ja for m in METRICS.values()]
    texts_ += [p.read_text(encoding="utf-8") for p in TEMPLATES.glob("*")]
    for word in REPLACED:
        hits = [t for t in texts_ if word in t]
        assert not hits, (word, hits[:3])


def _used_keys() -> dict[str, set[str]]:
    """The glossary keys the code and templates use: text("s.k"), term("v", ...), texts("s") and t.k / t["k"]."""
    used: dict[str, set[str]] = {"text": set(), "prefix": set(), "vocabulary": set(), "section": set()}
    for path in [*PRESENT.rglob("*.py"), SRC / "cli.py"]:
        source = path.read_text(encoding="utf-8")
        used["text"] |= set(re.findall(r"\btext\(\s*\"([a-z_]+\.[a-z0-9_]+)\"", source))
        used["prefix"] |= set(re.findall(r"\btext\(\s*f\"([a-z_]+\.[a-z0-9_]*)\{", source))
        used["vocabulary"] |= set(re.findall(r"\bterms?\(\s*\"([a-z_]+)\"", source))
        used["section"] |= set(re.findall(r"\btexts\(\s*\"([a-z_]+)\"", source))
    return used


def test_every_key_the_code_uses_is_in_the_glossary():
    used = _used_keys()
    assert len(used["text"]) > 50 and "report.finding_up" in used["text"]  # the scan finds the keys
    for key in used["text"]:
        section, name = key.split(".")
        assert name in glossary()["texts"][section], key
    for prefix in used["prefix"]:
        section, start = prefix.split(".")
        assert any(name.startswith(start) for name in glossary()["texts"][section]), prefix
    assert used["vocabulary"] <= set(glossary()["terms"]), used["vocabulary"] - set(glossary()["terms"])
    assert used["section"] <= set(glossary()["texts"]), used["section"] - set(glossary()["texts"])


TEMPLATE_SECTIONS = {"report.html.j2": ("report", "common"), "robustness.html.j2": ("report", "common"),
                     "scorecard.html.j2": ("scorecard",)}
"""The glossary sections each template reads as ``t``."""
MODULE_SECTIONS = {"figures.py": ("figures",), "report.py": ("report", "common"),
                   "dashboard/components.py": ("dashboard",), "scorecard.py": ("scorecard",),
                   "robustness_figures.py": ("robustness_figures",), "national_figures.py": ("national",)}
"""The glossary sections each module reads as ``t[...]``."""


def test_every_key_the_templates_and_the_modules_read_is_in_the_glossary():
    assert {p.name for p in TEMPLATES.glob("*.j2")} == set(TEMPLATE_SECTIONS)  # a new template says what it reads
    for name, sections in TEMPLATE_SECTIONS.items():
        keys = set(re.findall(r"\bt\.([a-z0-9_]+)", (TEMPLATES / name).read_text(encoding="utf-8")))
        allowed = set().union(*(glossary()["texts"][s] for s in sections))
        assert keys and keys <= allowed, (name, keys - allowed)
    for module, sections in MODULE_SECTIONS.items():
        source = (PRESENT / module).read_text(encoding="utf-8")
        keys = set(re.findall(r"\bt\[\"([a-z0-9_ ]+)\"\]", source))
        allowed = set().union(*(glossary()["texts"][s] for s in sections))
        assert keys and keys <= allowed, (module, keys - allowed)


def test_no_label_is_written_in_the_code():
    """Japanese words in the presentation code are in the glossary, not in string literals (docstrings aside)."""
    allowed = {("webfont.py", "・"), ("labels.py", None)}  # a fallback glyph; the Japanese ranges of a pattern
    found = []
    for path in PRESENT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(n.value) for n in ast.walk(tree)
                      if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                    and JAPANESE.search(node.value)
                    and (path.name, node.value) not in allowed and (path.name, None) not in allowed):
                found.append((path.relative_to(PRESENT).as_posix(), node.lineno, node.value))
    assert not found, found


def test_missing_keys_are_clear_errors():
    with pytest.raises(GlossaryError, match="no text texts.report.nothing"):
        text("report.nothing", "ja")
    with pytest.raises(GlossaryError, match="terms.category has no 'gardening'"):
        term("category", "gardening", "en")
    with pytest.raises(GlossaryError, match="needs the value"):
        text("report.title", "ja", municipality="x")


def test_japanese_lines_folded_in_the_file_join_without_a_space():
    caveat = text("report.caveat_not_forecast", "ja")
    assert " " not in caveat and "施策によって手助け" in caveat
    assert text("dashboard.play", "ja") == "▶ 再生"  # a space the file means is kept
