import json
from pathlib import Path

import numpy as np
import pytest

from geoplan import crs

SOURCES = Path(__file__).resolve().parents[1] / "data" / "gis" / "sources"


def test_gcj02_inverse_matches_published_reference():
    # gcoord (MIT) test vector: GCJ-02 (123, 45) -> WGS84 (122.99395597, 44.99804071), 5 decimals
    lon, lat = crs.gcj02_to_wgs84(123.0, 45.0)
    assert float(lon) == pytest.approx(122.99395597, abs=5e-6)
    assert float(lat) == pytest.approx(44.99804071, abs=5e-6)


def test_gcj02_to_bd09_matches_published_reference():
    lon, lat = crs.gcj02_to_bd09(123.0, 45.0)
    assert float(lon) == pytest.approx(123.00636499, abs=5e-7)
    assert float(lat) == pytest.approx(45.00636899, abs=5e-7)


def test_outside_china_is_untouched():
    lon, lat = crs.wgs84_to_gcj02([2.35, 183.0], [48.85, 45.0])
    np.testing.assert_array_equal(lon, [2.35, 183.0])
    np.testing.assert_array_equal(lat, [48.85, 45.0])


@pytest.mark.parametrize("fwd,inv", [(crs.wgs84_to_gcj02, crs.gcj02_to_wgs84),
                                     (crs.wgs84_to_bd09, crs.bd09_to_wgs84)])
def test_round_trip_below_one_centimetre(fwd, inv):
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(73.7, 134.8, 5000), rng.uniform(18.2, 53.4, 5000)
    back_lon, back_lat = inv(*fwd(lon, lat))
    dx = np.deg2rad(back_lon - lon) * 6_371_000 * np.cos(np.deg2rad(lat))
    dy = np.deg2rad(back_lat - lat) * 6_371_000
    assert np.hypot(dx, dy).max() < 0.01


def test_xiamen_shift_matches_verification_file():
    """The GCJ-02 → WGS84 shift at Xiamen is what data/gis/sources/gcj02_verification.json expects (±15 m)."""
    expected = json.loads((SOURCES / "gcj02_verification.json").read_text())["results"]["xiamen_350200"][
        "expected_wgs_minus_gcj_shift_m"]
    lon_g, lat_g = 118.09, 24.55
    lon_w, lat_w = crs.gcj02_to_wgs84(lon_g, lat_g)
    dx = np.deg2rad(float(lon_w) - lon_g) * 6_371_000 * np.cos(np.deg2rad(lat_g))
    dy = np.deg2rad(float(lat_w) - lat_g) * 6_371_000
    assert dx == pytest.approx(expected["dx"], abs=15)
    assert dy == pytest.approx(expected["dy"], abs=15)


def test_gk_zone_choice():
    assert crs.gk_epsg([118.1]) == 4548
    assert crs.gk_epsg([118.1], zone_prefix=True) == 4527
    assert crs.gk_epsg([119.3]) == 4549
    assert crs.gk_epsg([119.3], zone_prefix=True) == 4528
    with pytest.raises(ValueError):
        crs.gk_epsg([10.0])


def test_to_wgs84_dispatch():
    a = crs.to_wgs84(118.1, 24.5, offset="gcj02")
    b = crs.gcj02_to_wgs84(118.1, 24.5)
    assert float(a[0]) == float(b[0])
    with pytest.raises(ValueError, match="unknown web-map offset"):
        crs.to_wgs84(1.0, 1.0, offset="WGS84")
