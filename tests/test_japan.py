"""The shipped census and IPSS tables: totals, checksums, lookups by code and name, age structures."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import kyojosim
from kyojosim.errors import KyojoError
from kyojosim.params import japan
from kyojosim.params.japan import DataError, MunicipalityError, lookup

NATIONAL_TOTAL = 127_094_745
"""平成27年国勢調査 表番号00100: the population of Japan on 1 October 2015."""


def test_census_2015_totals_of_the_municipalities_add_up_to_japan():
    census = japan.table("census_1980_2015_by_sex_age.parquet")
    totals = census[(census["sex"] == "total") & (census["age_group"] == "総数")]
    assert totals["code"].nunique() == 1741
    assert int(totals["2015"].sum()) == NATIONAL_TOTAL
    assert japan.national_total_2015() == NATIONAL_TOTAL
    m = kyojosim.municipalities()
    assert len(m) == 1741 and int(m["population"].sum()) == NATIONAL_TOTAL


def test_municipalities_table_has_what_users_need():
    m = kyojosim.municipalities()
    for col in ("code", "name", "prefecture", "population", "households", "area_km2", "ipss"):
        assert col in m.columns
    assert m["code"].is_unique
    assert int(m["ipss"].sum()) == 1682
    assert set(m.loc[~m["ipss"], "prefecture"]) == {"福島県"}
    ikoma = m[m["code"] == "29209"].iloc[0]
    assert (ikoma["name"], ikoma["prefecture"], int(ikoma["population"])) == ("生駒市", "奈良県", 118233)
    assert int(m.loc[m["code"] == "43512", "population"].iloc[0]) == 3422
    assert int(m.loc[m["code"] == "13108", "population"].iloc[0]) == 498109
    # designated cities are whole cities; their wards add up to them
    sapporo = lookup("01100")
    wards = japan.wards("01100")
    assert sapporo.designated and len(wards) == 10
    assert int(wards["population"].sum()) == sapporo.population
    assert japan.wards("29209").empty


def test_shipped_tables_match_their_recorded_checksums():
    sums = japan.verify_all()
    assert set(sums) == set(japan.manifest()["files"])
    for name, digest in sums.items():
        assert digest == japan.manifest()["files"][name]["sha256"]


@pytest.fixture
def damaged(tmp_path, monkeypatch):
    """A copy of the data folder with one byte of the census table changed."""
    copy = tmp_path / "japan"
    shutil.copytree(japan.DATA_DIR, copy)
    target = copy / "census_1980_2015_by_sex_age.parquet"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    monkeypatch.setattr(japan, "DATA_DIR", copy)
    japan._table.cache_clear()
    yield copy
    japan._table.cache_clear()


def test_a_damaged_table_is_an_error_not_a_silent_change(damaged):
    with pytest.raises(DataError, match="census_1980_2015_by_sex_age.parquet: damaged or changed"):
        japan.table("census_1980_2015_by_sex_age.parquet")
    # the other tables still load
    assert len(japan.table("municipalities.parquet")) == 1741
    (damaged / "wards.parquet").unlink()
    with pytest.raises(DataError, match="missing"):
        japan.table("wards.parquet")


@pytest.mark.parametrize("query", ["生駒市", "奈良県生駒市", "奈良県 生駒市", "生駒", "Ikoma", "ikoma-shi",
                                   "IKOMA CITY", "Ikoma, Nara", "29209", 29209, "292095"])
def test_lookup_finds_ikoma_by_code_and_name(query):
    rec = lookup(query)
    assert (rec.code, rec.name, rec.prefecture, rec.name_en) == ("29209", "生駒市", "奈良県", "Ikoma city")


@pytest.mark.parametrize("query, code", [
    ("山江村", "43512"), ("Yamae", "43512"), ("球磨郡山江村", "43512"), ("江東区", "13108"), ("Koto", "13108"),
    ("Kōtō", "13108"), ("Koutou-ku", "13108"), ("Fuchu city, Tokyo", "13206"), ("東京都府中市", "13206"),
    ("府中町", "34302"), ("Date, Hokkaido", "01233"), ("富谷町", "04216"), ("04423", "04216"), ("丹波篠山市", "28221"),
    ("40231", "40305"), ("梼原町", "39405"), ("宝塚市", "28214"), ("Sapporo", "01100"),
])
def test_lookup_other_names(query, code):
    assert lookup(query).code == code


@pytest.mark.parametrize("query, expected", [
    ("府中市", ["府中市 (東京都, 13206)", "府中市 (広島県, 34208)"]),
    ("伊達市", ["伊達市 (北海道, 01233)", "伊達市 (福島県, 07213)"]),
    ("Fuchu", ["府中市 (東京都, 13206)", "府中市 (広島県, 34208)", "府中町 (広島県, 34302)"]),
])
def test_an_ambiguous_name_lists_the_candidates_with_prefectures_and_codes(query, expected):
    with pytest.raises(MunicipalityError) as info:
        lookup(query)
    message = str(info.value)
    assert "ambiguous" in message
    for label in expected:
        assert label in message
    assert [r.label() for r in info.value.candidates] == expected
    assert isinstance(info.value, KyojoError)


@pytest.mark.parametrize("query, suggestion", [("生狛市", "生駒市 (奈良県, 29209)"),
                                               ("Ikomma", "生駒市 (奈良県, 29209)"),
                                               ("Yamea", "山江村 (熊本県, 43512)")])
def test_an_unknown_name_suggests_the_nearest(query, suggestion):
    with pytest.raises(MunicipalityError, match="unknown municipality") as info:
        lookup(query)
    assert suggestion in str(info.value)
    assert "did you mean" in str(info.value)


@pytest.mark.parametrize("query, words", [
    ("札幌市中央区", ["ward", "札幌市 (北海道, 01100)"]),
    ("厚別区", ["ward", "札幌市 (北海道, 01100)"]),
    ("01101", ["ward", "札幌市"]),
    ("東京都", ["prefecture", "東京都"]),
    ("Tokyo", ["prefecture", "東京都"]),
    ("Nara-ken", ["prefecture", "奈良県"]),
    ("13000", ["prefecture"]),
    ("292094", ["check digit", "292095"]),
    ("99999", ["no municipality has that code"]),
    ("", ["a code or a name"]),
])
def test_lookup_errors_say_what_is_wrong(query, words):
    with pytest.raises(MunicipalityError) as info:
        lookup(query)
    for w in words:
        assert w in str(info.value)


def test_tokyo_chuo_ward_is_a_municipality_not_a_ward_of_a_designated_city():
    assert lookup("中央区").code == "13102"


def test_age_structure_keeps_the_census_totals_and_is_the_ipss_base():
    for code in ("43512", "29209", "13108"):
        age, how = japan.age_structure(code)
        rec = lookup(code)
        assert age.shape == (2, 18) and int(age.sum()) == rec.population
        known, unknown = japan.census_counts(code, 2015)
        assert (age.sum(axis=1) == known.sum(axis=1) + unknown).all()
        assert "IPSS" in how
        proj = japan.projection_counts(code)[0]
        assert (age[:, :17] == proj[:, :17]).all() and (age[:, 17] == proj[:, 17] + proj[:, 18]).all()
    ikoma, _ = japan.age_structure("29209")
    assert int(ikoma[:, 13:].sum()) == 30656 and int(ikoma[:, 15:].sum()) == 12579  # IPSS 2015 65+ and 75+


def test_age_unknown_is_distributed_within_each_sex():
    known, unknown = japan.census_counts("07213", 2015)  # 伊達市 (福島県): no projection
    assert unknown.sum() > 0
    full = japan.distribute_unknown(known, unknown)
    assert (full.sum(axis=1) == known.sum(axis=1) + unknown).all()
    assert (full >= known).all()
    added = (full - known).sum(axis=0)
    assert added[4] + added[5] > added[0] + added[1]  # more to 20-29 than to 0-9, as IPSS distributes
    age, how = japan.age_structure("07213")
    assert int(age.sum()) == lookup("07213").population and "national propensity" in how


def test_projection_of_the_three_towns():
    y = japan.projection("43512").set_index("year")
    assert int(y.loc[2045, "total"]) == 1783 and int(y.loc[2030, "total"]) == 2572
    assert y.loc[2045, "share_75plus"] == pytest.approx(514 / 1783)
    assert int(japan.projection("13108").set_index("year").loc[2045, "total"]) == 581259
    k = japan.projection("29209").set_index("year")
    assert int(k.loc[2045, "total"]) == 97098 and int(k.loc[2045, "age65plus"]) == 36710
    assert np.allclose(k["share_65plus"], k["age65plus"] / k["total"])
    with pytest.raises(MunicipalityError, match="福島県"):
        japan.projection("07213")
    r5 = japan.ipss_2023("山江村")
    assert int(r5.loc[r5["year"] == 2020, "total"].iloc[0]) == 3238
