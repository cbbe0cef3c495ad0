"""The Streamlit app's controls and numbers (AppTest), and the map layers it draws (geoplan.webmap).

AppTest runs ``apps/streamlit_app.py`` in this process but cannot render the
``st_folium`` component, so ``streamlit_folium.st_folium`` is replaced by a fake
that records the map it was given and returns the drawings a test sets.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("streamlit")
folium = pytest.importorskip("folium")

import pyogrio  # noqa: E402
import streamlit_folium  # noqa: E402
from affine import Affine  # noqa: E402
from pyproj import CRS, Transformer  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from geoplan import drawing  # noqa: E402
from geoplan.io import Raster  # noqa: E402
from geoplan.placement import evaluate_sites, place_sites, planning_context  # noqa: E402
from geoplan.webmap import asset_urls_in_html, base_map, plan_layers, use_local_assets  # noqa: E402
from geoplan.webmap.map import PointData, district_class, districts_geojson  # noqa: E402
from geoplan.webmap.overlay import (  # noqa: E402
    NODATA,
    classify,
    coverage_grid,
    coverage_overlay,
    population_overlay,
    warp_to_web_mercator,
)

from .conftest import REPO_ROOT  # noqa: E402

APP = REPO_ROOT / "apps" / "streamlit_app.py"


class FakeMap:
    """Stands in for ``st_folium``: records each call, returns ``drawings``."""

    def __init__(self) -> None:
        self.drawings: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []

    def __call__(self, fig: Any, **kwargs: Any) -> dict[str, Any]:
        self.calls.append({"fig": fig, **kwargs})
        return {"all_drawings": list(self.drawings)}


@pytest.fixture(scope="module")
def xiamen_plan(xiamen):
    """Context and the greedy plan for the plan's 18,500 stations in 2025 (library, not app)."""
    ctx = planning_context(xiamen)
    return ctx, place_sites(xiamen, total=18_500, year=2025, context=ctx)


@pytest.fixture(scope="module")
def app():
    """The app after its first run, with the fake map (one app for the module: the first run is slow)."""
    fake = FakeMap()
    mp = pytest.MonkeyPatch()
    mp.setattr(streamlit_folium, "st_folium", fake)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    yield at, fake
    mp.undo()


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}; have {[m.label for m in at.metric]}"
    return found[0]


def caption_with(at: AppTest, text: str) -> str:
    found = [c.value for c in at.caption if text in c.value]
    assert found, f"no caption containing {text!r}"
    return found[0]


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [lon, lat]}}


def uncovered_place(proj, ctx, selected) -> tuple[float, float]:
    """Lon/lat of the most populous cell that the plan leaves uncovered."""
    grid = coverage_grid(ctx, selected)
    d = proj.demand
    codes = grid.values[d.row, d.col]
    k = int(np.argmax(np.where(codes == 0, d.pop, -1)))
    lon, lat = Transformer.from_crs(proj.metric_crs, 4490, always_xy=True).transform(d.x[k], d.y[k])
    return float(lon), float(lat)


# ------------------------------------------------------------------------------------------------
# The app
# ------------------------------------------------------------------------------------------------


def test_first_view_shows_the_library_numbers_for_the_plan_total(app, xiamen, xiamen_plan):
    at, fake = app
    ctx, plan = xiamen_plan
    s = plan.summary
    assert at.slider(key="total").value == 18_500
    assert metric(at, "Stations (existing + new)") == "18,500"
    assert metric(at, "Stations per 10k (city)") == f"{s.per_10k:.2f}"
    assert metric(at, "Districts meeting target") == f"{s.districts_meeting_target} / 6"
    assert metric(at, "Residents covered") == f"{100 * s.coverage_after:.1f} %"
    # 18,500 covers every district's shortfall: the app's prefix of the greedy order is the greedy plan
    assert "Greedy plan" in caption_with(at, "greedy order")
    # the map got the planned sites and the districts as swappable layers, assets served locally
    call = fake.calls[-1]
    names = [g.layer_name for g in call["feature_group_to_add"]]
    assert f"Planned 5G sites (greedy order) ({s.new:,})" in names
    assert call["returned_objects"] == ["all_drawings"]
    html = call["fig"].get_root().render()
    assert [u for u in asset_urls_in_html(html) if not u.startswith("../../app/static/")] == []
    # modelled layers are named in the sidebar
    notice = " ".join(w.value for w in at.sidebar.warning)
    for layer in ("population", "sites", "candidates"):
        assert f"**{layer}**" in notice


def test_prefix_of_the_greedy_order_is_the_greedy_plan_above_the_quotas(xiamen, xiamen_plan):
    ctx, plan = xiamen_plan
    big = place_sites(xiamen, total=19_000, year=2025, context=ctx)
    n = plan.summary.new
    assert np.array_equal(np.sort(big.placement.selected[:n]), np.sort(plan.placement.selected))
    ev = evaluate_sites(ctx, big.placement.selected[:n], year=2025)
    assert ev.summary.per_10k == plan.summary.per_10k


def test_slider_moves_update_the_numbers_fast(app, xiamen, xiamen_plan):
    at, fake = app
    before = metric(at, "Stations per 10k (city)")
    started = time.perf_counter()
    at.slider(key="total").set_value(19_000).run()
    elapsed = time.perf_counter() - started
    assert not at.exception
    assert metric(at, "Stations (existing + new)") == "19,000"
    assert metric(at, "Stations per 10k (city)") != before
    assert elapsed < 3.0, f"a slider rerun took {elapsed:.2f} s"
    # below the sum of the district shortfalls the prefix is only an estimate, and says so
    at.slider(key="total").set_value(14_000).run()
    assert metric(at, "Stations (existing + new)") == "14,000"
    assert "Quick estimate" in caption_with(at, "greedy order")
    at.slider(key="total").set_value(18_500).run()


def test_drawn_site_is_evaluated_kept_and_optimised(app, xiamen, xiamen_plan):
    at, fake = app
    at.slider(key="total").set_value(18_500)
    ctx, plan = xiamen_plan
    lon, lat = uncovered_place(xiamen, ctx, plan.placement.selected)
    expected = drawing.evaluate_drawn_sites(ctx, np.array([[lon, lat]]), site_type="macro",
                                            selected=plan.placement.selected, year=2025)
    assert expected.site_gain[0] > 0
    fake.drawings = [point(lon, lat)]
    at.run()
    assert not at.exception
    assert metric(at, "Drawn sites") == "1"
    assert metric(at, "Added residents covered") == f"{expected.site_gain[0]:,.0f}"
    district = expected.districts["XZQMC"][expected.site_district[0]]
    assert metric(at, f"{district}: stations per 10k") == \
        f"{expected.districts['per_10k_after'][expected.site_district[0]]:.2f}"

    version = at.session_state["map_version"]
    at.button(key="keep").click().run()
    assert at.session_state["kept"] == [{"lon": lon, "lat": lat, "type": "macro"}]
    assert at.session_state["map_version"] == version + 1  # a new map: the drawing layer starts empty
    fake.drawings = []
    at.run()
    # the total stays 18,500: the kept site takes the place of the optimiser's last one
    assert metric(at, "Stations (existing + new)") == "18,500"
    assert "1 kept drawn site" in caption_with(at, "greedy order")
    assert any(g.layer_name == "Drawn sites kept (1)" for g in fake.calls[-1]["feature_group_to_add"])

    at.button(key="optimise").click().run()
    assert not at.exception
    res = at.session_state["optimised"]["result"]
    assert res.summary.stations == 18_500
    assert caption_with(at, "Optimised").startswith("Optimised: greedy for exactly 18,500")
    assert metric(at, "Stations per 10k (city)") == f"{res.summary.per_10k:.2f}"
    at.button(key="clear_kept").click().run()
    assert at.session_state["kept"] == []


def test_drawn_area_reports_population_and_coverage(app, xiamen_plan):
    at, fake = app
    at.slider(key="total").set_value(18_500)
    ctx, plan = xiamen_plan
    ring = [(118.08, 24.45), (118.12, 24.45), (118.12, 24.48), (118.08, 24.48), (118.08, 24.45)]
    fake.drawings = [{"type": "Feature", "properties": {},
                      "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}}]
    at.run()
    fake.drawings = []
    a = drawing.area_coverage(ctx, ring, selected=plan.placement.selected)
    text = " ".join(m.value for m in at.markdown)
    assert f"{a.population:,.0f} residents" in text
    assert f"{a.area_km2:,.2f} km²" in text


def test_scenarios_compare_and_download(app, tmp_path):
    at, fake = app
    at.slider(key="total").set_value(18_500).run()
    at.text_input(key="scenario_name").set_value("plan").run()
    at.button(key="add_scenario").click().run()
    at.slider(key="total").set_value(12_000).run()
    at.text_input(key="scenario_name").set_value("12k").run()
    at.button(key="add_scenario").click().run()
    at.button(key="compare").click().run()
    assert not at.exception
    summary, per = at.session_state["comparison"]
    assert summary["scenario"].tolist() == ["plan", "12k"]
    assert summary["total"].tolist() == [18_500, 12_000]
    assert summary["districts_meeting_target"].iloc[0] == 6 > summary["districts_meeting_target"].iloc[1]
    assert summary["edge_dcs"].tolist() == [32, 32]  # the sidebar's edge and charging settings go along
    assert (summary["charging_new_stations"] > 0).all()

    at.selectbox(key="export_format").set_value("gpkg").run()
    at.button(key="build_export").click().run()
    assert not at.exception
    files = at.session_state["downloads"]["files"]
    name, data, mime = files[0]
    assert name == "geoplan_12000_2025.gpkg" and data[:15] == b"SQLite format 3"
    assert any(f[0].endswith("FGWG.tif") for f in files)  # the coverage grid beside it
    out = tmp_path / name
    out.write_bytes(data)
    layers = dict(pyogrio.list_layers(out))
    assert "JZ5GGH" in layers  # planned 5G sites
    assert pyogrio.read_info(out, layer="JZ5GGH")["features"] == 12_000 - 10_881
    assert len(at.download_button) >= 2  # the density CSV and the GeoPackage
    meta = pyogrio.read_dataframe(out, layer="geoplan_metadata").set_index("LAYER_KEY")
    assert "geoplan map app" in meta.loc["planned_sites", "METHOD"]  # the real method, not "supplied by the caller"
    params = json.loads(meta.loc["planned_sites", "PARAMETERS"])
    assert params["total"] == 12_000 and params["band"] == "n78" and params["indoor"] is True
    from geoplan import planfile

    name, data, _ = next(f for f in files if f[0].endswith("_plan.gpkg"))
    (tmp_path / name).write_bytes(data)
    plan = planfile.read_plan(tmp_path / name)
    assert len(plan.layers["planned_sites"]) == 12_000 - 10_881 and "coverage" in plan.layers


def test_year_and_base_map_controls(app, xiamen_plan):
    at, fake = app
    at.slider(key="total").set_value(18_500)
    at.selectbox(key="year").set_value(2023).run()
    assert not at.exception
    assert "target 25 stations per 10,000 residents in 2023" in caption_with(at, "target 25")
    assert metric(at, "Stations (existing + new)") == "18,500"
    at.selectbox(key="year").set_value(2025).run()
    # AMap tiles are GCJ-02: the map shifts them onto the data
    at.selectbox(key="basemap").set_value("amap").run()
    html = fake.calls[-1]["fig"].get_root().render()
    assert "autonavi.com" in html and "marginLeft" in html
    # Tianditu needs a key: said plainly, and the map still comes (without tiles)
    at.selectbox(key="basemap").set_value("tianditu").run()
    assert any("needs a key" in e.value for e in at.sidebar.error)
    assert "tianditu" not in fake.calls[-1]["fig"].get_root().render()
    at.selectbox(key="basemap").set_value("none").run()


def test_candidate_generator_control_replans_with_the_library(app, xiamen):
    at, fake = app
    at.slider(key="total").set_value(18_500)
    at.selectbox(key="candidates").set_value("kmeans").run()
    assert not at.exception, [e.message for e in at.exception]
    ctx = planning_context(xiamen, candidates="kmeans")
    plan = place_sites(xiamen, total=18_500, year=2025, context=ctx)
    assert metric(at, "Residents covered") == f"{100 * plan.summary.coverage_after:.1f} %"
    assert "weighted k-means centres" in " ".join(w.value for w in at.sidebar.warning)
    at.selectbox(key="candidates").set_value("population").run()
    assert not at.exception


def test_cost_weight_control_shows_reuse_cost_and_the_siting_layers(app, xiamen, xiamen_plan):
    at, fake = app
    ctx, _ = xiamen_plan
    at.slider(key="total").set_value(18_500)
    at.checkbox(key="siting_layers").check()
    at.number_input(key="cost_weight").set_value(20.0).run()
    assert not at.exception, [e.message for e in at.exception]
    assert metric(at, "Site cost of the new sites").endswith("万元")  # the quick estimate has its cost too
    at.button(key="optimise").click().run()
    assert not at.exception, [e.message for e in at.exception]
    plan = place_sites(xiamen, total=18_500, year=2025, context=ctx, cost_weight=20)
    si = plan.summary.siting
    assert at.session_state["optimised"]["result"].summary.siting == si  # the app's plan is the library's
    assert metric(at, "Residents covered") == f"{100 * plan.summary.coverage_after:.1f} %"
    assert metric(at, "Site cost of the new sites") == f"{si.cost_total:,.0f} 万元"
    assert f"Reuse: {si.reused:,} of {si.sites:,}" in caption_with(at, "Reuse:")
    static = [c.layer_name for c in fake.calls[-1]["fig"]._children.values() if hasattr(c, "layer_name")]
    assert any(n.startswith("Candidate inventories by kind") for n in static)  # on the base map, sent once
    assert any(n.startswith("Siting constraints (5 layers)") for n in static)
    groups = {g.layer_name: g for g in fake.calls[-1]["feature_group_to_add"]}
    planned = next(g for n, g in groups.items() if n.startswith("Planned 5G sites"))
    html = planned.add_to(folium.Map()).get_root().render()
    assert "siting conflicts" in html and "site cost (万元)" in html  # conflicts and cost on hover
    at.checkbox(key="siting_layers").uncheck()
    at.number_input(key="cost_weight").set_value(0.0).run()
    assert not at.exception


def test_only_the_app_and_webmap_import_streamlit_and_folium():
    """``import geoplan`` stays free of the app's dependencies (folium, streamlit)."""
    pattern = re.compile(r"^\s*(import|from)\s+(streamlit|streamlit_folium|folium|branca)\b", flags=re.M)
    lib = REPO_ROOT / "geoplan"
    offenders = [str(p.relative_to(lib)) for p in lib.rglob("*.py")
                 if "webmap" not in p.parts and pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
    assert re.search(r"^[^#]*\bglobal\b", APP.read_text(encoding="utf-8"), flags=re.M) is None


# ------------------------------------------------------------------------------------------------
# geoplan.webmap: overlays and layers
# ------------------------------------------------------------------------------------------------


def test_classify_and_warp_keep_codes_and_place_the_grid():
    assert classify(np.array([np.nan, 0.5, 1.0, 499.0, 500.0]), (1.0, 500.0)).tolist() == [NODATA, NODATA, 0, 0, 1]
    values = np.array([[0, 1], [2, NODATA]], dtype=np.uint8)
    r = Raster(values.astype(float), Affine(1000, 0, 600_000, 0, -1000, 2_710_000), CRS.from_epsg(4548), 255.0)
    warped, ((s, w), (n, e)) = warp_to_web_mercator(values, r)
    assert set(np.unique(warped)) <= {0, 1, 2, NODATA}  # nearest neighbour: no blended codes
    lon, lat = Transformer.from_crs(4548, 4326, always_xy=True).transform([600_000, 602_000], [2_708_000, 2_710_000])
    assert w == pytest.approx(min(lon), abs=2e-3) and e == pytest.approx(max(lon), abs=2e-3)
    assert s == pytest.approx(min(lat), abs=2e-3) and n == pytest.approx(max(lat), abs=2e-3)
    # the top-left cell (code 0) is at the top left of the image
    assert warped[0, 0] == 0 and warped[-1, -1] == NODATA


def test_coverage_grid_codes_existing_and_new(tiny):
    ctx = planning_context(tiny, n_candidates=50)
    d = tiny.demand
    grid0 = coverage_grid(ctx, [])
    codes0 = grid0.values[d.row, d.col]
    assert np.array_equal(codes0 == 1, ctx.covered0) and not (codes0 == 2).any()
    every = np.arange(ctx.coverage.shape[1])
    codes = coverage_grid(ctx, every).values[d.row, d.col]
    new = codes == 2
    assert np.array_equal(codes == 1, ctx.covered0)
    from geoplan import coverage as cov

    assert np.array_equal(new, cov.covered(ctx.coverage) & ~ctx.covered0)
    # unpopulated cells are nodata, and the overlay is a PNG
    assert (grid0.values == NODATA).sum() == grid0.values.size - len(d.pop)
    assert coverage_overlay(grid0).png[:8] == b"\x89PNG\r\n\x1a\n"
    # a drawn site covers the cells within its radius
    lon, lat = Transformer.from_crs(tiny.metric_crs, 4490, always_xy=True).transform(d.x[:1], d.y[:1])
    drawn = coverage_grid(ctx, [], drawn_lonlat=np.column_stack([lon, lat]),
                          drawn_radius_m=[150.0]).values[d.row, d.col]
    near = np.hypot(d.x - d.x[0], d.y - d.y[0]) <= 150.0
    assert np.array_equal(drawn >= 1, ctx.covered0 | near)


def test_population_overlay_and_layers(tiny):
    ov = population_overlay(tiny.population)
    assert ov.png[:4] == b"\x89PNG" and ov.data_url.startswith("data:image/png;base64,")
    (s, w), (n, e) = ov.bounds
    assert s < n and w < e
    assert district_class(33.0, 33.0)[0] == "meets the target"
    assert district_class(30.0, 33.0)[0] == "80–95 % of the target"
    assert district_class(float("nan"), 33.0)[0] == "no statistics"
    sites = PointData.from_frame(tiny.layer("sites"), ["SITE_ID", "SITE_TYPE"])
    assert len(sites) == 40 and len(sites.head(5)) == 5
    m = use_local_assets(base_map(tiny, population=ov, existing_sites=sites), base_url="/app/static")
    html = m.get_root().render()
    assert '"SITE_ID":{"codes":[0,1,2,' in html and "L.Control.Draw" in html
    assert [u for u in asset_urls_in_html(html) if not u.startswith("/app/static/")] == []
    table = pd.DataFrame({"XZQDM": tiny.district_codes, "per_10k": [40.0, 10.0], "target_per_10k": [33.0, 33.0]})
    groups = plan_layers(districts=districts_geojson(tiny), district_table=table, planned_sites=None)
    gj = next(c for c in groups[0]._children.values() if isinstance(c, folium.GeoJson))
    colours = [f["properties"]["_colour"] for f in gj.data["features"]]
    assert colours == [district_class(40.0, 33.0)[1], district_class(10.0, 33.0)[1]]
