"""Reference data per PC4: the CBS formats load whole or not at all, with clear errors."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from publieksdata.errors import PubliekError
from publieksdata.insights.dimensions import DIMENSIONS
from publieksdata.insights.source import Source
from publieksdata.insights.visits import DISTANCE, visits
from publieksdata.pseudonymise.keys import DeploymentKey
from publieksdata.release.insights import Insights
from publieksdata.release.policy import ReleasePolicy
from publieksdata.release.tables import SHOWN
from publieksdata.standard.definitions import distance_band, distance_km
from publieksdata.warehouse.areas import load_areas, read_areas
from publieksdata.warehouse.store import Warehouse
from tests.conftest import Delivered

REFDATA = Path(__file__).resolve().parents[3] / "shared" / "refdata"
KERNCIJFERS = REFDATA / "cbs_pc4_2020_kerncijfers.csv"
MUNICIPALITIES = REFDATA / "pc4_gemeente_bevolking_2021.csv"
needs_refdata = pytest.mark.skipif(not REFDATA.is_dir(), reason="../shared/refdata is absent")


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    key = DeploymentKey.generate()
    return Warehouse(tmp_path / "w.duckdb", key.fingerprint)


@needs_refdata
def test_the_cbs_files_load_and_secret_figures_stay_unknown(warehouse: Warehouse) -> None:
    with warehouse:
        assert load_areas(warehouse, KERNCIJFERS) == ("cbs-kerncijfers", 4068)
        total, secret = warehouse.db.execute(
            "SELECT sum(inhabitants), count(*) FILTER (inhabitants IS NULL) FROM areas"
        ).fetchall()[0]
        with KERNCIJFERS.open(encoding="utf-8") as handle:
            figures = [int(row["INWONER"]) for row in csv.DictReader(handle)]
        assert total == sum(f for f in figures if f >= 0)
        assert secret == figures.count(-99997) > 0
        assert load_areas(warehouse, MUNICIPALITIES) == ("pc4-municipality", 4074)
        amsterdam = warehouse.db.execute(
            "SELECT municipality_code, municipality, province_code FROM areas WHERE pc4 = '1011'"
        ).fetchall()
        assert amsterdam == [("GM0363", "Amsterdam", "PV27")]


@pytest.mark.parametrize(
    ("content", "code", "where"),
    [
        ("PC4,INWONER\n1011,9705\n101,20\n", "areas-value", "rij 3"),
        ("PC4,INWONER\n1011,9705\n1012,veel\n", "areas-value", "kolom 'INWONER'"),
        ("PC4,INWONER\n1011,9705\n1011,20\n", "areas-value", "twee keer"),
        ("PC4,INWONER\n1011,-5\n", "areas-value", "negatief"),
        ("postcode;aantal\n1011;5\n", "areas-format", "PC4 en INWONER"),
        ("pc4,inwoners,gemeentecode,gemeente,provinciecode\n1011,5,0363,A,PV27\n",
         "areas-value", "GM0363"),
        ("", "areas-format", "PC4 en INWONER"),
    ],
)  # fmt: skip
def test_bad_reference_files_are_refused_whole(
    warehouse: Warehouse, tmp_path: Path, content: str, code: str, where: str
) -> None:
    path = tmp_path / "refdata.csv"
    path.write_text(content, "utf-8")
    with warehouse:
        with pytest.raises(PubliekError) as caught:
            load_areas(warehouse, path)
        assert warehouse.scalar("SELECT count(*) FROM areas") == 0
    assert caught.value.code == code
    assert where in caught.value.text("nl")


def test_secret_figures_are_unknown_not_negative(tmp_path: Path) -> None:
    path = tmp_path / "refdata.csv"
    path.write_text("PC4,INWONER\n1011,-99997\n1012,40\n", "utf-8")
    expected = [{"pc4": "1011", "inhabitants": None}, {"pc4": "1012", "inhabitants": 40}]
    assert read_areas(path) == ("cbs-kerncijfers", expected)


@needs_refdata
def test_penetration_divides_released_reach_by_inhabitants(delivered: Delivered,
                                                           tmp_path: Path) -> None:  # fmt: skip
    shutil.copy(delivered.warehouse, tmp_path / "w.duckdb")
    with Warehouse(tmp_path / "w.duckdb", delivered.key.fingerprint) as warehouse:
        load_areas(warehouse, MUNICIPALITIES)
    insights = Insights(Source.duckdb(tmp_path / "w.duckdb"), delivered.key, ReleasePolicy())
    population = dict(duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True).execute(
        "SELECT province_code, sum(inhabitants) FROM areas GROUP BY ALL").fetchall())  # fmt: skip
    released = insights.sector().penetration(by="province")
    rows = released.table.to_pylist()
    assert any(r["status"] == SHOWN for r in rows)
    country = sum(n for n in population.values() if n)
    for row in rows:
        if row["province"] is None:
            assert row["inhabitants"] == country
        elif row["province"] in population:
            assert row["inhabitants"] == population[row["province"]]
        if row["status"] == SHOWN and row["inhabitants"]:
            assert row["per_1000"] == round(1000 * row["persons"] / row["inhabitants"], 1)
    assert released.rows()[1][0] != rows[0]["province"], "provinces show by name"


def test_penetration_without_reference_data_says_what_to_do(delivered: Delivered) -> None:
    insights = Insights(Source.duckdb(delivered.warehouse), delivered.key, ReleasePolicy())
    with pytest.raises(PubliekError) as caught:
        insights.sector().penetration()
    assert caught.value.code == "areas-missing"
    assert "publieksdata refdata" in caught.value.text("en")


BOUNDARIES = REFDATA / "pc4_cbs2020_wgs84.geojson"


@needs_refdata
def test_boundaries_give_each_area_its_middle(tmp_path: Path) -> None:
    name, rows = read_areas(BOUNDARIES)
    assert (name, len(rows)) == ("pc4-boundaries", 4067)
    middle = next(r for r in rows if r["pc4"] == "1011")  # Amsterdam, the old centre
    assert abs(float(str(middle["latitude"])) - 52.372) < 0.01
    assert abs(float(str(middle["longitude"])) - 4.906) < 0.01
    broken = tmp_path / "broken.geojson"
    broken.write_text(
        '{"type": "FeatureCollection", "features": [{"properties": {"pc4": '
        '"1011"}, "geometry": {"type": "Point", "coordinates": [4.9, 52.4]}}]}'
    )
    with pytest.raises(PubliekError) as caught:
        read_areas(broken)
    assert caught.value.code == "areas-value"
    assert "Polygon" in caught.value.text("en")


@needs_refdata
def test_distance_travelled_follows_the_definition(delivered: Delivered, tmp_path: Path) -> None:
    shutil.copy(delivered.warehouse, tmp_path / "w.duckdb")
    with Warehouse(tmp_path / "w.duckdb", delivered.key.fingerprint) as warehouse:
        load_areas(warehouse, MUNICIPALITIES)
        load_areas(warehouse, BOUNDARIES)
        db = warehouse.db
        areas = {pc4: (lat, lon, n, town) for pc4, lat, lon, n, town in db.execute(
            "SELECT pc4, latitude, longitude, inhabitants, municipality_code FROM areas "
            "WHERE latitude IS NOT NULL").fetchall()}  # fmt: skip
        institution, town = db.execute(
            "SELECT i.institution_id, i.municipality_code FROM institutions i JOIN visit_facts v "
            "USING (institution_id) GROUP BY ALL ORDER BY count(*) DESC LIMIT 1"
        ).fetchall()[0]
        homes = [
            pc4
            for (pc4,) in db.execute(
                "SELECT pc4 FROM visit_facts WHERE institution_id = ?", [institution]
            ).fetchall()
        ]
    weights = [(lat, lon, (n or 0) + 1) for lat, lon, n, t in areas.values() if t == town]
    total = sum(w for *_, w in weights)
    middle = (sum(a * w for a, _, w in weights) / total, sum(b * w for _, b, w in weights) / total)
    want = Counter(
        distance_band(distance_km(areas[h][:2], middle)) if h in areas else "unknown" for h in homes
    )
    insights = Insights(Source.duckdb(tmp_path / "w.duckdb"), delivered.key, ReleasePolicy())
    base = visits(insights.source, institutions=[institution], extras={DISTANCE})
    counted = base.group_by(band=DIMENSIONS["distance"].expression(base)).aggregate(
        n=base.count()).to_pyarrow().to_pylist()  # fmt: skip
    assert {r["band"]: r["n"] for r in counted} == dict(want)
    assert len(want) > 2, "visitors come from near and far"
