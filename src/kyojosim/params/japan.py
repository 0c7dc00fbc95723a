"""Japan's municipalities: the census and IPSS tables shipped with kyojosim, and lookup by code or name.

The tables (``src/kyojosim/data/japan/``, provenance in its README and docs/ODD.md §6.4) are the
census 1980-2015 by sex and 5-year age, table 00100 of the census 2015 (population, households,
area), the IPSS 2018 municipal projection 2015-2045 by sex and 5-year age and the IPSS 2023
projection of the three bundled towns, for the 1,741 municipalities of October 2016. Every file is
checked against the SHA-256 recorded when it was built (``manifest.json``) before it is read: a
damaged or changed file is a :class:`DataError`, never a silent change of results.

Lookup (:func:`lookup`) takes a 5-digit 全国地方公共団体コード (or the 6-digit one with its check
digit), a name in Japanese with or without its prefecture (``"生駒市"``, ``"奈良県生駒市"``,
``"生駒"``) or a romanised name (``"Ikoma"``, ``"Ikoma-shi"``, ``"Fuchu city, Tokyo"``). Romanised
names are made from the official kana readings of the 総務省 code list (not guessed from the kanji),
in Hepburn without long vowels; the English words city, ward, town and village (or shi, ku, machi,
cho, mura, son) narrow the kind, and a prefecture name narrows the place. A name that fits several
municipalities (府中市, 伊達市) is a :class:`MunicipalityError` listing them with their prefectures
and codes; an unknown one lists the nearest names.

Designated cities (政令指定都市) are whole cities here, as in the IPSS projection (``ipss_type`` 1)
and the census by age; their wards (行政区) have only table 00100 figures (:func:`wards`), which
:mod:`kyojosim.runs.builder` uses for the city's districts. Asking for a ward by name is an error that
names its city.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..constants import N_AGE_BANDS
from ..errors import KyojoError

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "japan"
"""Where the tables are (inside the installed package)."""

CENSUS_YEARS = tuple(range(1980, 2016, 5))
IPSS_YEARS = tuple(range(2015, 2046, 5))
AGE_GROUPS = tuple(f"{5 * i}～{5 * i + 4}歳" for i in range(18)) + ("90歳以上",)
"""The 19 age groups of the tables (0-4 ... 85-89, 90+); the model's 85+ band is the last two."""
UNKNOWN = "年齢不詳"
TOTAL = "総数"
FUKUSHIMA = "07"
"""Prefecture code of 福島県, whose municipalities the IPSS 2018 projection does not give one by one."""

T_CENSUS = "平成27年国勢調査 (census 2015)"
T_00100 = "平成27年国勢調査 人口等基本集計 表番号00100"
T_CENSUS_AGE = "国勢調査 1980-2015 男女・5歳階級別人口"
T_IPSS = "IPSS 日本の地域別将来推計人口（平成30年推計）"
T_R5 = "IPSS 日本の地域別将来推計人口（令和5年推計）"

KIND_WORDS = {
    "市": ("city", "shi"),
    "区": ("ward", "ku"),
    "町": ("town", "machi", "cho", "chou", "choo"),
    "村": ("village", "mura", "son"),
}
_WORD_KIND = {w: k for k, words in KIND_WORDS.items() for w in words}
_PREF_SUFFIX = re.compile(r"(都|道|府|県)$")


BUILDER_VERSION = 1
"""Version of the scenarios built from these tables (:mod:`kyojosim.runs.builder`, ``kyojosim new``).

It changes whenever the builder would write a different file for the same tables; it is part of
the key of every built file (:func:`scenario_key`), so cached files are rebuilt, and of the hash of
an experiment that names municipalities, so its results folder is not resumed with other scenarios."""
FIT_SEEDS = (1, 2, 3, 4)
"""Seeds whose mean the migration shifts of a built scenario are fitted to (the projection checks use seeds 1-3)."""


class DataError(KyojoError):
    """A shipped data file is missing or is not the file recorded when the tables were built."""


class MunicipalityError(KyojoError, LookupError):
    """A municipality was not found, or a name fits several.

    Attributes:
        query: What was asked for.
        candidates: The municipalities that fit (ambiguous) or come closest (unknown).
        reason: ``"unknown"``, ``"ambiguous"``, ``"ward"``, ``"prefecture"``, ``"invalid"`` (not a code or
            a name) or ``"no_data"`` (no projection, or nobody lived there).
    """

    def __init__(self, message: str, query: object, candidates: list[MunicipalityRecord] | None = None,
                 reason: str = "invalid"):
        super().__init__(message)
        self.query = query
        self.candidates = list(candidates or [])
        self.reason = reason


@dataclass(frozen=True)
class MunicipalityRecord:
    """One municipality of the tables.

    Attributes:
        code: 5-digit 全国地方公共団体コード (as in the IPSS table; 富谷市 04216 is 04423 in the census).
        name: Name in the tables (boundaries of October 2016).
        name_en: Romanised name with its kind, ``"Ikoma city"`` (from the official kana).
        prefecture: Prefecture name.
        population: Census 2015 population (table 00100).
        households: Census 2015 number of households (table 00100, general and institutional).
        area_km2: Area in km² (table 00100).
        ipss: Whether the IPSS 2018 projection gives this municipality (all but Fukushima's 59).
        ipss_type: The projection's area type (1 designated city, 2 city, 3 town or village, 4 Tokyo's
            special wards), 0 where there is no projection.
        kana: Official reading (総務省 code list), katakana.
        lat: Latitude of the municipal office (JpGeocode 0.3.1; used to lay out districts).
        lon: Longitude of the same.
        name_now: Name on the code list of 2019 (differs for 篠山市, 檮原町, 那珂川町).
        census_code: Code in the census table (04423 for 富谷市).
    """

    code: str
    name: str
    name_en: str
    prefecture: str
    population: int
    households: int
    area_km2: float
    ipss: bool
    ipss_type: int
    kana: str
    lat: float
    lon: float
    name_now: str
    census_code: str

    @property
    def designated(self) -> bool:
        """Whether this is a designated city (政令指定都市) with wards."""
        return self.ipss_type == 1

    @property
    def full_name(self) -> str:
        """Prefecture and name, ``"奈良県生駒市"``."""
        return f"{self.prefecture}{self.name}"

    def label(self) -> str:
        """Return ``"生駒市 (奈良県, 29209)"``, as errors list candidates."""
        return f"{self.name} ({self.prefecture}, {self.code})"

    @property
    def scenario_name(self) -> str:
        """The name of the scenario built for it (``kyojosim new``): its romanised name and code, ``"ikoma-29209"``."""
        slug = (self.name_en.rsplit(" ", 1)[0] if " " in self.name_en else self.name_en).lower().replace(" ", "-")
        return f"{slug}-{self.code}"


# --------------------------------------------------------------------------------------
# the files, checked
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def manifest() -> dict:
    """Return the build manifest (checksums, row counts, sources) of the shipped tables."""
    path = DATA_DIR / "manifest.json"
    if not path.is_file():
        raise DataError(f"{path}: missing; the Japan tables of this installation are incomplete "
                        "(reinstall kyojosim, or rebuild them with experiments/data/build_japan_tables.py)")
    return json.loads(path.read_text(encoding="utf-8"))


def verify(name: str) -> Path:
    """Check one shipped file against its recorded SHA-256 and size; return its path.

    Raises:
        DataError: If the file is missing, unknown to the manifest, or differs from it.
    """
    files = manifest()["files"]
    if name not in files:
        raise DataError(f"{name}: not one of the shipped Japan tables ({', '.join(files)})")
    path = DATA_DIR / name
    if not path.is_file():
        raise DataError(f"{path}: missing; reinstall kyojosim")
    data = path.read_bytes()
    want = files[name]
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != want["bytes"] or digest != want["sha256"]:
        raise DataError(
            f"{path}: damaged or changed: SHA-256 {digest[:16]}… ({len(data):,} bytes), recorded at build "
            f"{want['sha256'][:16]}… ({want['bytes']:,} bytes); results would not be those of the published "
            "tables. Reinstall kyojosim, or rebuild with experiments/data/build_japan_tables.py")
    return path


def verify_all() -> dict[str, str]:
    """Check every shipped file; return ``{file: sha256}``."""
    return {name: hashlib.sha256(verify(name).read_bytes()).hexdigest() for name in manifest()["files"]}


@functools.cache
def _table(name: str) -> pd.DataFrame:
    path = verify(name)
    return pd.read_parquet(path)


def table(name: str) -> pd.DataFrame:
    """Return a copy of one shipped table (checked), e.g. ``"census_1980_2015_by_sex_age.parquet"``."""
    return _table(name).copy()


def scenario_key(code: str, scale: float | None, seeds: tuple[int, ...] | list[int] = FIT_SEEDS) -> str:
    """Return the key of a scenario built from the tables: their checksums, the builder's version, the settings.

    Args:
        code: The municipality's 5-digit code.
        scale: The fraction of residents simulated (``None``: the builder's default for the municipality).
        seeds: The seeds of the migration fit.

    Returns:
        16 hexadecimal digits; a built file records its key, and a cached file with another key is rebuilt.
    """
    from ..distribution import version

    files = manifest()["files"]
    text = json.dumps({"files": {k: v["sha256"] for k, v in sorted(files.items())}, "builder": BUILDER_VERSION,
                       "version": version(), "code": code, "scale": "default" if scale is None else scale,
                       "seeds": list(seeds)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------
# the list of municipalities
# --------------------------------------------------------------------------------------


def municipalities() -> pd.DataFrame:
    """Return the 1,741 municipalities with their census 2015 figures.

    Returns:
        One row per municipality: ``code``, ``name``, ``prefecture``, ``population`` and
        ``households`` (census 2015, table 00100), ``area_km2``, ``ipss`` (whether the IPSS 2018
        projection gives it), ``ipss_type``, ``name_en``, ``kana``, ``lat``, ``lon``.
    """
    m = _table("municipalities.parquet")
    cols = ["code", "name", "prefecture", "population", "households", "area_km2", "ipss", "ipss_type", "name_en",
            "kana", "lat", "lon"]
    out = m[cols].copy()
    out["ipss_type"] = out["ipss_type"].fillna(0).astype(int)
    return out


@functools.cache
def _records() -> dict[str, MunicipalityRecord]:
    m = _table("municipalities.parquet")
    out = {}
    for r in m.itertuples(index=False):
        out[r.code] = MunicipalityRecord(
            code=r.code, name=r.name, name_en=r.name_en, prefecture=r.prefecture, population=int(r.population),
            households=int(r.households), area_km2=float(r.area_km2), ipss=bool(r.ipss),
            ipss_type=0 if pd.isna(r.ipss_type) else int(r.ipss_type), kana=r.kana, lat=float(r.lat),
            lon=float(r.lon), name_now=r.name_now, census_code=r.census_code)
    return out


def records() -> list[MunicipalityRecord]:
    """Return every municipality of the tables, in code order."""
    return sorted(_records().values(), key=lambda r: r.code)


def record(code: str) -> MunicipalityRecord:
    """Return the municipality with this 5-digit code (see :func:`lookup` for any other query)."""
    return lookup(code)


def wards(code: str) -> pd.DataFrame:
    """Return the wards (行政区) of a designated city from table 00100: code, name, population, households, area.

    Empty for a municipality that is not a designated city.
    """
    w = _table("wards.parquet")
    return w[w["city_code"] == code].reset_index(drop=True).copy()


def national_total_2015() -> int:
    """Return the census 2015 population of Japan (table 00100, 全国)."""
    p = _table("prefectures.parquet")
    return int(p.loc[p["code"] == "00000", "population"].iloc[0])


# --------------------------------------------------------------------------------------
# lookup
# --------------------------------------------------------------------------------------


def romaji_key(text: str) -> str:
    """Return the comparison key of a romanised name: lower case, letters only, long vowels and ``m``/``n`` merged.

    ``"Kōtō"``, ``"Koutou"`` and ``"Koto"`` give ``"koto"``; ``"Shimbashi"`` and ``"Shinbashi"``
    give ``"shinbashi"``.
    """
    t = unicodedata.normalize("NFKD", text.lower())
    t = "".join(ch for ch in t if "a" <= ch <= "z")
    t = re.sub(r"m(?=[bmp])", "n", t)
    for a, b in (("ou", "o"), ("oo", "o"), ("uu", "u"), ("aa", "a"), ("ii", "i"), ("ee", "e")):
        t = t.replace(a, b)
    return t


def _kanji_key(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@functools.lru_cache(maxsize=1)
def _index() -> dict:
    m = _table("municipalities.parquet")
    p = _table("prefectures.parquet")
    recs = _records()
    by_name: dict[str, set[str]] = {}
    by_stem: dict[str, set[str]] = {}
    by_roma: dict[str, set[str]] = {}
    by_roma_full: dict[str, set[str]] = {}
    by_code: dict[str, str] = {}
    for r in m.itertuples(index=False):
        for code in {r.code, r.code_now, r.census_code}:
            by_code[code] = r.code
        for name in {r.name, r.name_now}:
            key = _kanji_key(name)
            by_name.setdefault(key, set()).add(r.code)
            by_stem.setdefault(key[:-1], set()).add(r.code)
        if r.code == "04216":
            by_name.setdefault("富谷町", set()).add(r.code)
        stem = romaji_key(r.romaji)
        by_roma.setdefault(stem, set()).add(r.code)
        for word in KIND_WORDS[r.name[-1]][1:]:
            by_roma_full.setdefault(stem + romaji_key(word), set()).add(r.code)
    prefs = {}
    pref_full = set()
    pref_roma = {}
    for r in p.itertuples(index=False):
        if r.code == "00000":
            continue
        prefs[r.name] = r.code[:2]
        pref_full.add(r.name)
        prefs[_PREF_SUFFIX.sub("", r.name)] = r.code[:2]
        full = romaji_key(r.romaji)
        pref_roma[full] = r.code[:2]
        for suffix in ("to", "fu", "ken"):
            if full.endswith(suffix) and len(full) > len(suffix) + 2:
                pref_roma[full[: -len(suffix)]] = r.code[:2]
    wards = _table("wards.parquet")
    ward_names: dict[str, list[tuple[str, str]]] = {}
    for w in wards.itertuples(index=False):
        city = recs[w.city_code]
        ward_names.setdefault(_kanji_key(w.name), []).append((w.code, w.city_code))
        ward_names.setdefault(_kanji_key(city.name + w.name), []).append((w.code, w.city_code))
    return {"name": by_name, "stem": by_stem, "roma": by_roma, "roma_full": by_roma_full, "code": by_code,
            "pref": prefs, "pref_full": pref_full, "pref_roma": pref_roma, "wards": ward_names}


def _check_digit(code5: str) -> int:
    """Return the check digit of a 5-digit 全国地方公共団体コード (modulus 11)."""
    s = sum(int(d) * w for d, w in zip(code5, (6, 5, 4, 3, 2), strict=True))
    r = s % 11
    return (11 - r) % 10 if r else 0


def _ambiguous(query: object, codes: set[str], how: str) -> MunicipalityError:
    recs = sorted((_records()[c] for c in codes), key=lambda r: r.code)
    listing = "; ".join(r.label() for r in recs)
    return MunicipalityError(
        f"municipality {query!r} is ambiguous: {len(recs)} municipalities {how}: {listing}. "
        "Give the code, or the prefecture with the name (e.g. '" + recs[0].full_name + "')", query, recs,
        "ambiguous")


def _unknown(query: object, suggestions: list[str], note: str = "") -> MunicipalityError:
    recs = [_records()[c] for c in suggestions]
    hint = f"; did you mean: {'; '.join(r.label() for r in recs)}" if recs else ""
    return MunicipalityError(f"unknown municipality {query!r}{hint}{note}. kyojosim.municipalities() lists all "
                             "1,741 (kyojosim municipalities QUERY on the command line)", query, recs, "unknown")


def _suggest_kanji(text: str) -> list[str]:
    idx = _index()
    names = list(idx["name"])
    close = difflib.get_close_matches(text, names, n=5, cutoff=0.4)
    out: list[str] = []
    for n in close:
        out += sorted(idx["name"][n])
    return out[:6]


def _suggest_roma(key: str) -> list[str]:
    idx = _index()
    close = difflib.get_close_matches(key, list(idx["roma"]), n=5, cutoff=0.6)
    out: list[str] = []
    for n in close:
        out += sorted(idx["roma"][n])
    return out[:6]


def lookup(query: str | int) -> MunicipalityRecord:
    """Find one municipality by code or name.

    Args:
        query: ``29209`` or ``"292095"`` (with the check digit); ``"生駒市"``, ``"奈良県生駒市"``,
            ``"生駒"``; ``"Ikoma"``, ``"Ikoma-shi"``, ``"Ikoma city, Nara"``.

    Returns:
        The municipality.

    Raises:
        MunicipalityError: If nothing fits (with the nearest names) or several do (with each one's
            prefecture and code), or if the name is that of a ward of a designated city.
    """
    idx = _index()
    recs = _records()
    if isinstance(query, (int, np.integer)):
        query = f"{int(query):05d}" if int(query) < 100000 else str(int(query))
    if not isinstance(query, str) or not query.strip():
        raise MunicipalityError(f"a municipality is a code or a name, got {query!r}", query)
    text = unicodedata.normalize("NFKC", query).strip()
    # codes
    if re.fullmatch(r"\d{5,6}", text):
        code = text[:5]
        if len(text) == 6 and int(text[5]) != _check_digit(code):
            raise MunicipalityError(f"{text!r} is not a valid 6-digit 全国地方公共団体コード (its check digit would be "
                                    f"{_check_digit(code)}: {code}{_check_digit(code)})", query)
        if code in idx["code"]:
            return recs[idx["code"][code]]
        if code.endswith("000") and code[:2] in idx["pref"].values():
            raise MunicipalityError(f"{text!r} is the code of a prefecture, not of a municipality", query,
                                    reason="prefecture")
        ward = [w for w in _table("wards.parquet").itertuples(index=False) if w.code == code]
        if ward:
            raise _ward_error(query, [(ward[0].code, ward[0].city_code)])
        near = sorted(idx["code"], key=lambda c: abs(int(c) - int(code)))[:3]
        raise _unknown(query, [idx["code"][c] for c in near], " (no municipality has that code)")
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    if re.search(r"[^\x00-\x7f]", plain):
        return _lookup_kanji(query, text)
    return _lookup_roma(query, plain)


def _ward_error(query: object, hits: list[tuple[str, str]]) -> MunicipalityError:
    recs = _records()
    cities = sorted({city for _, city in hits})
    wards = _table("wards.parquet").set_index("code")
    listing = "; ".join(f"{recs[city].name}{wards.loc[code, 'name']} ({code})" for code, city in hits)
    use = ", ".join(recs[c].label() for c in cities)
    return MunicipalityError(
        f"{query!r} is a ward (行政区) of a designated city: {listing}. The census by age and the IPSS projection "
        f"give the whole city only: use {use} (its wards become the districts of its scenario)",
        query, [recs[c] for c in cities], "ward")


def _lookup_kanji(query: object, text: str) -> MunicipalityRecord:
    idx = _index()
    key = _kanji_key(re.sub(r"[()（）、,]", " ", text))
    pref = None
    for name, code2 in sorted(idx["pref"].items(), key=lambda kv: -len(kv[0])):
        if len(name) >= 2 and key.startswith(name) and len(key) > len(name) + 1:
            rest = key[len(name):]
            pref, key = code2, rest
            break
        if name in idx["pref_full"] and key.endswith(name) and len(key) > len(name) + 1:
            pref, key = code2, key[: -len(name)]
            break
    key = re.sub(r"^.+?郡(?=.)", "", key)  # 球磨郡山江村 -> 山江村

    def within(codes: set[str]) -> set[str]:
        return {c for c in codes if pref is None or c[:2] == pref}

    hits = within(idx["name"].get(key, set()))
    how = f"are named {key}"
    if not hits:
        hits = within(idx["stem"].get(key, set()))
        how = f"are named {key} + 市/区/町/村"
    if len(hits) == 1:
        return _records()[next(iter(hits))]
    if len(hits) > 1:
        raise _ambiguous(query, hits, how + ("" if pref is None else " in that prefecture"))
    ward = [(w, c) for w, c in idx["wards"].get(key, []) if pref is None or c[:2] == pref]
    if ward:
        raise _ward_error(query, ward)
    if key in idx["pref"] or (pref is not None and not key):
        raise _prefecture_error(query, idx["pref"].get(key, pref))
    raise _unknown(query, _suggest_kanji(key))


def _prefecture_error(query: object, code2: str) -> MunicipalityError:
    recs = [r for r in _records().values() if r.code[:2] == code2]
    recs.sort(key=lambda r: -r.population)
    name = recs[0].prefecture
    return MunicipalityError(f"{query!r} is a prefecture ({name}), not a municipality: give one of its "
                             f"{len(recs)} municipalities, e.g. {'; '.join(r.label() for r in recs[:3])}", query,
                             recs[:3], "prefecture")


def _lookup_roma(query: object, text: str) -> MunicipalityRecord:
    idx = _index()
    tokens = [t for t in re.split(r"[\s,()/\-_.]+", text.lower()) if t]
    kind = None
    pref = None
    pref_word = False
    words: list[str] = []
    for t in tokens:
        k = romaji_key(t)
        if t in _WORD_KIND or k in _WORD_KIND:
            kind = _WORD_KIND.get(t, _WORD_KIND.get(k))
            continue
        if t in ("prefecture", "pref", "ken", "to", "fu", "metropolis"):
            pref_word = True
            continue
        words.append(k)
    # a prefecture among the words (not the only word: "Nara" alone is 奈良市, "Tokyo" alone a prefecture)
    if len(words) > 1:
        for i, w in enumerate(words):
            if w in idx["pref_roma"]:
                pref = idx["pref_roma"][w]
                words = words[:i] + words[i + 1:]
                break
    key = "".join(words)
    if pref_word and pref is None and key in idx["pref_roma"]:
        raise _prefecture_error(query, idx["pref_roma"][key])

    def within(codes: set[str]) -> set[str]:
        recs = _records()
        return {c for c in codes if (pref is None or c[:2] == pref) and (kind is None or recs[c].name[-1] == kind)}

    hits = within(idx["roma"].get(key, set())) or within(idx["roma_full"].get(key, set()))
    if len(hits) == 1:
        return _records()[next(iter(hits))]
    if len(hits) > 1:
        raise _ambiguous(query, hits, f"read '{key}'")
    if key in idx["pref_roma"]:
        raise _prefecture_error(query, idx["pref_roma"][key])
    note = (" (romanised names are read from the official kana in Hepburn, e.g. 'Fuchu', 'Koto', 'Shinjuku'; "
            "Kunrei spellings such as 'si' or 'tu' are not recognised)")
    raise _unknown(query, _suggest_roma(key), note)


# --------------------------------------------------------------------------------------
# age structures and projections
# --------------------------------------------------------------------------------------


def fold_85plus(arr: np.ndarray) -> np.ndarray:
    """Fold the 19 groups (… 85-89, 90+) of the last axis into the model's 18 bands (… 85+)."""
    out = arr[..., :N_AGE_BANDS].copy()
    out[..., -1] += arr[..., N_AGE_BANDS]
    return out


@functools.cache
def _census_index() -> pd.DataFrame:
    c = _table("census_1980_2015_by_sex_age.parquet")
    return c.set_index(["code", "sex", "age_group"]).sort_index()


def census_counts(code: str, year: int = 2015) -> tuple[np.ndarray, np.ndarray]:
    """Return the census counts of a year as published: (2 x 19 by sex and age group, age unknown by sex).

    Rows are male and female; the age groups are :data:`AGE_GROUPS` (0-4 … 85-89, 90+).
    """
    if year not in CENSUS_YEARS:
        raise KyojoError(f"census year {year}: the tables have {', '.join(map(str, CENSUS_YEARS))}")
    rec = lookup(code)
    c = _census_index()
    col = str(year)
    arr = np.zeros((2, len(AGE_GROUPS)), dtype=np.int64)
    unknown = np.zeros(2, dtype=np.int64)
    for s, sex in enumerate(("male", "female")):
        sub = c.loc[(rec.code, sex)][col]
        arr[s] = sub.reindex(list(AGE_GROUPS)).fillna(0).to_numpy(dtype=np.int64)
        unknown[s] = int(sub.get(UNKNOWN, 0))
    return arr, unknown


@functools.lru_cache(maxsize=1)
def allocation_propensity() -> np.ndarray:
    """Return how IPSS distributed the census 2015 age-unknown over sex and age group, nationally (2 x 19).

    The IPSS 2018 projection's 2015 base is the census 2015 with 年齢不詳 distributed over the
    ages. Summed over the 1,682 municipalities it projects, ``(base - known) / known`` by sex and
    age group is the share added to each group; divided by its mean, it is the relative propensity
    of a person of unknown age to belong to that group (high at 20-34, low for children).
    """
    c = _table("census_1980_2015_by_sex_age.parquet")
    p = _table("ipss_h30_2015_2045_by_sex_age.parquet")
    known = c[c["age_group"].isin(AGE_GROUPS) & c["sex"].isin(["male", "female"]) & c["code"].isin(p["code"])]
    base = p[p["age_group"].isin(AGE_GROUPS) & p["sex"].isin(["male", "female"])]
    k = known.groupby(["sex", "age_group"])["2015"].sum()
    b = base.groupby(["sex", "age_group"])["2015"].sum()
    out = np.zeros((2, len(AGE_GROUPS)))
    for s, sex in enumerate(("male", "female")):
        kk = k.loc[sex].reindex(list(AGE_GROUPS)).to_numpy(dtype=float)
        bb = b.loc[sex].reindex(list(AGE_GROUPS)).to_numpy(dtype=float)
        added = (bb - kk) / kk
        out[s] = added / (np.sum(bb - kk) / np.sum(kk))
    return np.clip(out, 0.0, None)


def distribute_unknown(known: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """Distribute the age-unknown of each sex over its age groups as the IPSS 2015 base does nationally.

    Each group receives ``unknown[s] * known[s, a] * w[s, a] / sum_a(known[s, a] * w[s, a])`` with
    ``w`` the national :func:`allocation_propensity`; the result is rounded to whole persons by
    largest remainders, so that every sex keeps its census total exactly.
    """
    from ..apportion import largest_remainder

    w = allocation_propensity()
    out = known.astype(np.int64).copy()
    for s in range(2):
        if unknown[s] <= 0:
            continue
        weight = known[s] * w[s]
        if weight.sum() <= 0:
            weight = known[s].astype(float) + 1e-9
        out[s] += largest_remainder(weight, int(unknown[s]))
    return out


def age_structure(code: str, year: int = 2015) -> tuple[np.ndarray, str]:
    """Return the population by sex and the model's 18 age bands (2 x 18) and how the age-unknown was handled.

    For 2015 and a municipality the IPSS projection gives, this is the projection's 2015 base:
    the census 2015 with its age-unknown distributed by IPSS (the totals by sex are the census's).
    Otherwise (other years, Fukushima) the census with the age-unknown distributed as the IPSS base
    does nationally (:func:`distribute_unknown`).
    """
    rec = lookup(code)
    known, unknown = census_counts(rec.code, year)
    if year == 2015 and rec.ipss:
        proj = projection_counts(rec.code)
        return fold_85plus(proj[0]), (f"age unknown ({int(unknown.sum()):,}) distributed over the ages as in the 2015 "
                                   f"base of the {T_IPSS}, which is that distribution")
    full = distribute_unknown(known, unknown)
    how = ("no age unknown" if unknown.sum() == 0 else
           f"age unknown ({int(unknown.sum()):,}) distributed over sex and age in proportion to the known counts "
           f"times the national propensity of the 2015 base of the {T_IPSS}")
    return fold_85plus(full), how


@functools.cache
def _ipss_index() -> pd.DataFrame:
    p = _table("ipss_h30_2015_2045_by_sex_age.parquet")
    return p.set_index(["code", "sex", "age_group"]).sort_index()


def projection_counts(code: str) -> np.ndarray:
    """Return the IPSS 2018 projection of a municipality: years (7) x sex (2) x age group (19).

    Raises:
        MunicipalityError: For a municipality of Fukushima (not projected one by one).
    """
    rec = lookup(code)
    if not rec.ipss:
        raise MunicipalityError(no_projection_reason(rec), code, [rec], "no_data")
    p = _ipss_index()
    out = np.zeros((len(IPSS_YEARS), 2, len(AGE_GROUPS)), dtype=np.int64)
    for s, sex in enumerate(("male", "female")):
        sub = p.loc[(rec.code, sex)].reindex(list(AGE_GROUPS))
        for i, y in enumerate(IPSS_YEARS):
            out[i, s] = sub[str(y)].to_numpy(dtype=np.int64)
    return out


def projection(code: str) -> pd.DataFrame:
    """Return the IPSS 2018 projection's total, 65+ and 75+ shares (and 0-14) by year for a municipality."""
    arr = projection_counts(code).sum(axis=1)  # years x age group
    total = arr.sum(axis=1)
    return pd.DataFrame({
        "year": list(IPSS_YEARS),
        "total": total,
        "age0_14": arr[:, :3].sum(axis=1),
        "age65plus": arr[:, 13:].sum(axis=1),
        "age75plus": arr[:, 15:].sum(axis=1),
        "share_65plus": arr[:, 13:].sum(axis=1) / total,
        "share_75plus": arr[:, 15:].sum(axis=1) / total,
    })


def no_projection_reason(rec: MunicipalityRecord) -> str:
    """Explain why a municipality has no IPSS 2018 municipal projection."""
    if rec.code[:2] == FUKUSHIMA:
        return (f"{rec.label()}: the IPSS 2018 projection ({T_IPSS}) gives no figures for the municipalities of "
                "福島県 one by one: after the 2011 nuclear accident the evacuations made municipal migration "
                "impossible to project, and IPSS projected the prefecture as a whole only")
    return f"{rec.label()}: not in the IPSS 2018 projection table"


# --------------------------------------------------------------------------------------
# prefectures, regions and the ageing of every municipality
# --------------------------------------------------------------------------------------

REGIONS: tuple[tuple[str, str, tuple[int, int]], ...] = (
    ("北海道", "Hokkaido", (1, 1)),
    ("東北", "Tohoku", (2, 7)),
    ("関東", "Kanto", (8, 14)),
    ("中部", "Chubu", (15, 23)),
    ("近畿", "Kinki", (24, 30)),
    ("中国", "Chugoku", (31, 35)),
    ("四国", "Shikoku", (36, 39)),
    ("九州・沖縄", "Kyushu-Okinawa", (40, 47)),
)
"""The eight regions (八地方区分) by the range of their prefecture codes: Japanese name, English name, codes."""


def prefectures() -> list[str]:
    """Return the names of the 47 prefectures in the order of their codes (北海道 ... 沖縄県)."""
    p = _table("prefectures.parquet")
    p = p[p["code"] != "00000"].drop_duplicates("code").sort_values("code")
    return p["name"].tolist()


def find_prefecture(query: str | int) -> str:
    """Return the name of a prefecture given by name or code.

    Args:
        query: ``"熊本県"``, ``"熊本"``, ``"Kumamoto"``, ``"kumamoto-ken"``, ``43`` or ``"43000"``.

    Returns:
        The prefecture's name as in the tables (``"熊本県"``).

    Raises:
        MunicipalityError: For anything else (reason ``"unknown"``); the message lists the 47 names.
    """
    idx = _index()
    names = prefectures()
    by_code = {f"{i + 1:02d}": name for i, name in enumerate(names)}
    text = unicodedata.normalize("NFKC", str(query)).strip()
    if re.fullmatch(r"\d{1,2}|\d{2}000", text) and f"{int(text[:2] if len(text) == 5 else text):02d}" in by_code:
        return by_code[f"{int(text[:2] if len(text) == 5 else text):02d}"]
    key = _kanji_key(text)
    if key in idx["pref"]:
        return by_code[idx["pref"][key]]
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)).lower()
    if plain.isascii():  # "Kumamoto", "kumamoto-ken", "Kumamoto prefecture", "Tokyo-to", "Hokkaidō"
        for form in (plain, re.sub(r"[-_\s]+(prefecture|pref|ken|fu|to|metropolis)\.?$", "", plain)):
            if romaji_key(form) in idx["pref_roma"]:
                return by_code[idx["pref_roma"][romaji_key(form)]]
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]}? " if close else ""
    raise MunicipalityError(f"unknown prefecture {query!r}: {hint}the 47 prefectures are {', '.join(names)}", query,
                            reason="unknown")


def region(code: str, lang: str = "ja") -> str:
    """Return the region (八地方区分) of a municipality or prefecture code, in Japanese or English."""
    pref = int(str(code)[:2])
    for ja, en, (lo, hi) in REGIONS:
        if lo <= pref <= hi:
            return ja if lang == "ja" else en
    raise KyojoError(f"{code!r}: not the code of a prefecture or municipality (prefectures 01-47)")


@functools.cache
def _age_shares(year: int) -> pd.DataFrame:
    c = _table("census_1980_2015_by_sex_age.parquet")
    c = c[(c["sex"] == "total") & c["age_group"].isin(AGE_GROUPS)]
    wide = c.pivot_table(index="code", columns="age_group", values=str(year), aggfunc="sum").reindex(
        columns=list(AGE_GROUPS)).fillna(0)
    known = wide.sum(axis=1).astype(float)
    old = wide[list(AGE_GROUPS[13:])].sum(axis=1).astype(float)
    oldest = wide[list(AGE_GROUPS[15:])].sum(axis=1).astype(float)
    out = pd.DataFrame({"code": wide.index, "share_65plus": (old / known.where(known > 0)).to_numpy(),
                        "share_75plus": (oldest / known.where(known > 0)).to_numpy()})
    return _table("municipalities.parquet")[["code"]].merge(out, on="code", how="left")


def age_shares(year: int = 2015) -> pd.DataFrame:
    """Return the shares aged 65+ and 75+ of every municipality at a census, age unknown left out.

    The shares are those of the residents whose age is known (国勢調査 ``年齢不詳`` excluded from the
    denominator, as the census's own 高齢化率 is computed); ``nan`` where nobody was counted.

    Args:
        year: A census year of the tables (1980-2015).

    Returns:
        One row per municipality: ``code``, ``share_65plus``, ``share_75plus``.
    """
    if year not in CENSUS_YEARS:
        raise KyojoError(f"census year {year}: the tables have {', '.join(map(str, CENSUS_YEARS))}")
    return _age_shares(int(year)).copy()


def ipss_2023(code: str) -> pd.DataFrame:
    """Return the IPSS 2023 projection (2020-2050; total, 0-14, 15-64, 65+) where shipped (the three towns)."""
    r5 = _table("ipss_r5_2023_three_towns.parquet")
    return r5[r5["code"] == lookup(code).code].reset_index(drop=True).copy()


__all__ = [
    "BUILDER_VERSION",
    "FIT_SEEDS",
    "REGIONS",
    "DataError",
    "MunicipalityError",
    "MunicipalityRecord",
    "age_shares",
    "age_structure",
    "census_counts",
    "distribute_unknown",
    "find_prefecture",
    "lookup",
    "municipalities",
    "national_total_2015",
    "projection",
    "prefectures",
    "projection_counts",
    "records",
    "region",
    "scenario_key",
    "verify_all",
    "wards",
]
