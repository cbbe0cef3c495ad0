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
from geoplan import workspace as wsp  # noqa: E402
from geoplan.io import Raster  # noqa: E402
from geoplan.placement import evaluate_sites, place_sites, planning_context  # noqa: E402
from geoplan.webmap import asset_urls_in_html, base_map, plan_layers, use_local_assets  # noqa: E402
from geoplan.webmap.i18n import layer_name, map_word, money_parts, percent, t  # noqa: E402
from geoplan.webmap.map import PointData, district_class, districts_geojson  # noqa: E402
from geoplan.webmap.overlay import (  # noqa: E402
    MAP_COVERED_SHARE,
    NODATA,
    classify,
    coverage_grid,
    coverage_overlay,
    population_overlay,
    warp_to_web_mercator,
)

from ._latin import latin_words  # noqa: E402
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
    at.session_state["side_ready"] = True  # what the page's timer does a moment after the first map (edge, charging)
    at.run()
    yield at, fake
    while at.session_state["run"] if "run" in at.session_state else False:  # no thread left behind
        at.session_state["run"]["run"].cancel()
        at.session_state["run"]["run"].wait(30)
        at.run()
    mp.undo()


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}; have {[m.label for m in at.metric]}"
    return found[0]


def caption_with(at: AppTest, text: str) -> str:
    found = [c.value for c in at.caption if text in c.value]
    assert found, f"no caption containing {text!r}"
    return found[0]


def wsp_folder():
    """The app's workspace folder for the embedded project (GEOPLAN_WORKSPACE_DIR is a temporary folder in tests)."""
    from geoplan import io

    return io.workspace_dir() / "embedded"


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
# The app (Chinese by default for a Chinese project; labels come from geoplan.webmap.i18n)
# ------------------------------------------------------------------------------------------------


def ws(at: AppTest):
    return at.session_state["history"].current


def site_feature(fid: str, lon: float, lat: float) -> dict[str, Any]:
    f = point(lon, lat)
    f["properties"] = {"id": fid}
    return f


def area_feature(fid: str, ring: list[tuple[float, float]]) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"id": fid},
            "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}}


def wait_for_run(at: AppTest, timeout_s: float = 120.0) -> None:
    """Rerun the app until the background optimisation has been taken into the workspace."""
    started = time.monotonic()
    while at.session_state["run"] if "run" in at.session_state else False:
        assert time.monotonic() - started < timeout_s, "the optimisation did not finish"
        time.sleep(0.3)
        at.run()


def test_first_view_shows_the_library_numbers_for_the_plan_total(app, xiamen, xiamen_plan):
    at, fake = app
    ctx, plan = xiamen_plan
    s = plan.summary
    assert at.slider(key="total").value == 18_500 and at.number_input(key="total_box").value == 18_500
    assert metric(at, t("stations")) == "18,500"
    assert metric(at, t("per_10k")) == f"{s.per_10k:.2f}"
    assert metric(at, t("meeting")) == f"{s.districts_meeting_target} / 6"
    assert metric(at, t("covered")) == percent(s.coverage_after)
    # 18,500 covers every district's shortfall: the app's prefix of the greedy order is the greedy plan
    assert caption_with(at, "贪心方案").startswith("贪心方案")
    # the map got the planned sites, the districts and the drawings as swappable layers, assets served locally
    call = fake.calls[-1]
    names = [g.layer_name for g in call["feature_group_to_add"]]
    assert f"{map_word('Planned 5G sites (greedy order)', 'zh')} ({s.new:,})" in names and "drawings" in names
    assert call["returned_objects"] == ["all_drawings"] and call["key"] == "map"
    html = call["fig"].get_root().render()
    assert [u for u in asset_urls_in_html(html) if not u.startswith("../../app/static/")] == []
    assert "geoplanLand" in html  # the offline base map is part of the static map
    notice = " ".join(w.value for w in at.sidebar.warning)
    for layer in ("population", "sites", "candidates"):  # by their Chinese names
        assert f"**{layer_name(layer, 'zh')}**" in notice


def test_the_static_map_does_not_change_with_the_controls(app):
    """Every control swaps feature groups; the map itself (and so the planner's drawings) stays mounted."""
    at, fake = app
    from streamlit_folium import _get_map_string, generate_js_hash

    def map_hash() -> str:  # what st_folium keys its component on: the same key, the same mounted map
        fig = fake.calls[-1]["fig"]
        fig.get_root().render()
        return generate_js_hash(_get_map_string(fig), "map")

    before = map_hash()
    at.number_input(key="edge_count").set_value(20).run()
    at.slider(key="charging_share").set_value(0.3).run()
    at.selectbox(key="basemap").set_value("osm").run()
    at.slider(key="total").set_value(19_000).run()
    assert not at.exception
    assert map_hash() == before
    html = fake.calls[-1]["fig"].get_root().render()
    assert "tile.openstreetmap.org" not in html  # tiles come as a feature group, not in the static map
    at.selectbox(key="basemap").set_value("none")
    at.number_input(key="edge_count").set_value(32)
    at.slider(key="charging_share").set_value(0.2)
    at.slider(key="total").set_value(18_500).run()


def test_slider_and_number_box_update_the_numbers(app, xiamen, xiamen_plan):
    at, fake = app
    before = metric(at, t("per_10k"))
    started = time.perf_counter()
    at.slider(key="total").set_value(19_000).run()
    elapsed = time.perf_counter() - started
    assert not at.exception
    assert metric(at, t("stations")) == "19,000" and at.number_input(key="total_box").value == 19_000
    assert metric(at, t("per_10k")) != before
    assert elapsed < 3.0, f"a slider rerun took {elapsed:.2f} s"
    # typing a number moves the slider (rounded to its step of 50)
    at.number_input(key="total_box").set_value(14_020).run()
    assert at.slider(key="total").value == 14_000 and metric(at, t("stations")) == "14,000"
    assert caption_with(at, "快速估算").startswith("快速估算")  # below the shortfalls: an estimate, said so
    at.slider(key="total").set_value(18_500).run()


def test_drawn_site_is_evaluated_kept_optimised_and_undone(app, xiamen, xiamen_plan):
    at, fake = app
    ctx, plan = xiamen_plan
    lon, lat = uncovered_place(xiamen, ctx, plan.placement.selected)
    expected = drawing.evaluate_drawn_sites(ctx, np.array([[lon, lat]]), site_type="macro",
                                            selected=plan.placement.selected, year=2025)
    assert expected.site_gain[0] > 0
    fake.drawings = [site_feature("s1", lon, lat)]
    at.run()
    assert not at.exception
    assert [d.id for d in ws(at).sites] == ["s1"] and not ws(at).kept
    assert metric(at, t("drawn_sites")) == "1"
    assert metric(at, t("added_covered")) == f"{expected.site_gain[0]:,.0f}"
    district = expected.districts["XZQMC"][expected.site_district[0]]
    assert metric(at, t("district_per10k", d=district)) == \
        f"{expected.districts['per_10k_after'][expected.site_district[0]]:.2f}"
    assert any("距最近候选站址" in c.value for c in at.caption)  # the snap distance is shown
    at.button(key="keep").click().run()
    assert [d.id for d in ws(at).kept] == ["s1"]
    # the total stays 18,500: the kept site takes the place of the optimiser's last one
    assert metric(at, t("stations")) == "18,500"
    assert "1 个保留的手绘站址" in caption_with(at, "快速估算")
    assert any(g.layer_name == "保留的手绘站点 (1)" for g in fake.calls[-1]["feature_group_to_add"])

    at.button(key="optimise").click().run()
    wait_for_run(at)
    assert not at.exception
    opt = ws(at).optimised
    assert opt["method"] == "greedy" and opt["snap_m"][0] < 500
    assert caption_with(at, "已优化").startswith("已优化")
    assert "移到最近的候选站址" in caption_with(at, "已优化")
    ev = evaluate_sites(ctx, np.asarray(opt["selected"]), year=2025)
    assert metric(at, t("per_10k")) == f"{ev.summary.per_10k:.2f}" and ev.summary.stations == 18_500
    # undo takes the optimised plan back, redo restores it
    at.button(key="undo").click().run()
    assert ws(at).optimised is None and "快速估算" in caption_with(at, "快速估算")
    at.button(key="redo").click().run()
    assert ws(at).optimised is not None
    at.button(key="clear_kept").click().run()
    assert ws(at).kept == () and len(ws(at).sites) == 1
    fake.drawings = []
    at.run()
    assert ws(at).drawings == ()


def test_site_drawn_outside_every_district_is_refused(app):
    at, fake = app
    fake.drawings = [site_feature("sea", 118.30, 24.30)]  # in the sea south-east of Xiamen
    at.run()
    assert not at.exception
    assert ws(at).drawings == ()
    errors = " ".join(e.value for e in at.error)
    assert "东经 118.30000°、北纬 24.30000°" in errors and "不在" in errors
    rev = at.session_state["draw_rev"]
    fake.drawings = []
    at.run()
    assert at.session_state["draw_rev"] == rev  # the map was told once to drop the refused marker


def test_drawn_areas_evaluate_and_steer_the_plan(app, xiamen_plan):
    at, fake = app
    ctx, plan = xiamen_plan
    ring = [(118.08, 24.45), (118.12, 24.45), (118.12, 24.48), (118.08, 24.48), (118.08, 24.45)]
    fake.drawings = [area_feature("a1", ring)]
    at.run()
    a = drawing.area_coverage(ctx, ring, selected=plan.placement.selected)
    text = " ".join(m.value for m in at.markdown)
    assert f"{a.population:,.0f} 居民" in text and f"{a.area_km2:,.2f} 平方千米" in text
    # the same area as an exclusion area: no planned site inside it
    at.selectbox(key="area_role").set_value("exclusion").run()
    fake.drawings = [area_feature("a2", ring)]
    at.run()
    assert [d.role for d in ws(at).areas()] == ["exclusion"]
    assert "排除区内" in caption_with(at, "排除区内")
    from geoplan.areas import candidate_mask

    inside = ~candidate_mask(ctx, exclusion=[ring])
    planned = fake.calls[-1]["feature_group_to_add"]
    assert inside.any() and planned
    fake.drawings = []
    at.selectbox(key="area_role").set_value("evaluation").run()
    assert ws(at).areas() == ()


def test_scenario_names_follow_the_settings(app):
    at, fake = app
    at.slider(key="total").set_value(18_500).run()
    at.button(key="add_scenario").click().run()
    at.slider(key="total").set_value(15_000).run()
    at.button(key="add_scenario").click().run()
    at.slider(key="total").set_value(16_500).run()
    at.text_input(key="scenario_name").set_value("18,500 站 · 2025 · n78 室内 · 贪心").run()
    at.button(key="add_scenario").click().run()
    names = [(s.name, s.total) for s in ws(at).scenarios]
    assert names == [("18,500 站 · 2025 · n78 室内 · 贪心", 18_500), ("15,000 站 · 2025 · n78 室内 · 贪心", 15_000),
                     ("18,500 站 · 2025 · n78 室内 · 贪心 (2)", 16_500)]
    at.text_input(key="scenario_name").set_value("").run()
    at.slider(key="total").set_value(15_000).run()
    at.button(key="add_scenario").click().run()
    assert len(ws(at).scenarios) == 3 and "相同设置的情景已在列表中" in " ".join(i.value for i in at.info)
    at.button(key="compare").click().run()
    assert not at.exception
    summary, per = at.session_state["comparison"]
    assert summary["total"].tolist() == [18_500, 15_000, 16_500]
    assert summary["edge_dcs"].tolist() == [32, 32, 32]  # the sidebar's edge and charging settings go along
    at.button(key="clear_scenarios").click().run()
    at.slider(key="total").set_value(18_500).run()


def test_downloads_layers_and_map_png(app, tmp_path):
    at, fake = app
    at.slider(key="total").set_value(12_000).run()
    at.selectbox(key="export_format").set_value("gpkg").run()
    at.button(key="build_export").click().run()
    assert not at.exception
    files = at.session_state["downloads"]["files"]
    name, data, mime = files[0]
    assert name == "geoplan_12000_2025.gpkg" and data[:15] == b"SQLite format 3"
    assert any(f[0].endswith("FGWG.tif") for f in files)  # the coverage grid beside it
    png = [f for f in files if f[0].endswith(".png")]
    assert png and png[0][1][:8] == b"\x89PNG\r\n\x1a\n"
    out = tmp_path / name
    out.write_bytes(data)
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
    ps = plan.layers["planned_sites"]  # the siting conflicts of the sites on screen travel with them
    flagged = set(ps.loc[ps["CONFLICTS"].fillna("") != "", "SITE_ID"])
    table = plan.layers.get("conflicts")
    assert flagged == (set(table["SITE_ID"]) if table is not None else set())
    at.slider(key="total").set_value(18_500).run()


def test_base_map_controls_and_their_errors(app):
    at, fake = app
    at.selectbox(key="year").set_value(2023).run()
    assert not at.exception
    assert "2023 年目标每万人 25 个基站" in caption_with(at, "2023 年目标")
    at.selectbox(key="year").set_value(2025).run()

    def tiles_html() -> str:
        m = folium.Map(tiles=None)
        fake.calls[-1]["feature_group_to_add"][0].add_to(m)
        return m.get_root().render()

    # AMap tiles are GCJ-02: the map shifts them onto the data
    at.selectbox(key="basemap").set_value("amap").run()
    assert "autonavi.com" in tiles_html() and "marginLeft" in tiles_html()
    # Tianditu needs a key: said next to the control, and the map still comes (offline base map)
    at.selectbox(key="basemap").set_value("tianditu").run()
    assert any("needs a key" in e.value for e in at.sidebar.error)
    # in Chinese: which control, what kind of problem, then the library's English detail (inside the base-map panel)
    assert any(e.value.startswith(f"“{t('tk')}”：设置有误（英文原文）") for e in at.sidebar.expander[1].error)
    at.selectbox(key="basemap").set_value("custom").run()
    at.text_input(key="tile_url").set_value("http://tiles.bureau.local/vec_c/{z}/{x}/{y}.png").run()
    at.selectbox(key="tile_crs").set_value("EPSG:4490").run()
    assert any("Web Mercator" in e.value for e in at.sidebar.error)
    at.selectbox(key="tile_crs").set_value("EPSG:3857").run()
    assert "tiles.bureau.local" in tiles_html()
    at.selectbox(key="basemap").set_value("none").run()


def test_local_tile_file_base_map_and_its_errors(app, tmp_path):
    """A local MBTiles / PMTiles file is served by the app's loopback tile server; bad files are refused beside it."""
    import urllib.request

    from ._tilesets import XIAMEN, render_tile, tile_range, write_mbtiles, write_pmtiles

    at, fake = app

    def html() -> str:
        m = folium.Map(tiles=None)
        for g in fake.calls[-1]["feature_group_to_add"]:
            g.add_to(m)
        return m.get_root().render()

    at.selectbox(key="basemap").set_value("local").run()
    assert any(t("tile_file_none") in i.value for i in at.sidebar.info)
    beijing = (116.2, 39.8, 116.6, 40.1)
    bad = {
        tmp_path / "missing.mbtiles": "does not exist",
        write_mbtiles(tmp_path / "v.mbtiles", {(0, 0, 0): b"\x1a\x00"}, metadata={"format": "pbf"}): "vector tiles",
        write_mbtiles(tmp_path / "beijing.mbtiles", {k: render_tile(*k) for k in tile_range(beijing, (9,))},
                      metadata={"format": "png", "bounds": ",".join(map(str, beijing))}): "does not overlap",
    }
    for path, words in bad.items():
        at.text_input(key="tile_file").set_value(str(path)).run()
        assert not at.exception
        assert any(words in e.value and "Fix:" in e.value for e in at.sidebar.error), (words, at.sidebar.error)
        assert "127.0.0.1" not in html()  # no tiles, the offline base map only
    good = write_mbtiles(tmp_path / "xiamen.mbtiles", {k: render_tile(*k) for k in tile_range(XIAMEN, (8, 9, 10))},
                         metadata={"name": "厦门底图", "format": "png", "minzoom": "8", "maxzoom": "10",
                                   "bounds": ",".join(map(str, XIAMEN))})
    at.text_input(key="tile_file").set_value(str(good)).run()
    assert not at.exception and not at.sidebar.error
    assert "厦门底图：MBTiles，PNG，缩放级别 8～10" in caption_with(at, "MBTiles") and "回环地址" in caption_with(at, "MBTiles")
    url = re.search(r"http://127\.0\.0\.1:\d+/[\w-]+/\{z\}/\{x\}/\{y\}", html())
    assert url and '"maxNativeZoom": 10' in html() and "geoplan-tile-notice" in html()
    z, x, y = tile_range(XIAMEN, (9,))[0]
    with urllib.request.urlopen(url.group(0).format(z=z, x=x, y=y), timeout=10) as r:
        assert r.headers["Content-Type"] == "image/png" and r.read() == render_tile(z, x, y)
    assert at.session_state["tile_file"] == str(good)  # saved with the workspace's settings and in the URL
    coarse = write_pmtiles(tmp_path / "coarse.pmtiles", {k: render_tile(*k) for k in tile_range(XIAMEN, (4, 5, 6))})
    at.text_input(key="tile_file").set_value(str(coarse)).run()
    assert any(t("tiles_coarse", z=6) in w.value for w in at.sidebar.warning)
    at.selectbox(key="basemap").set_value("none").run()


def test_edge_count_beyond_demand_points_is_flagged_next_to_it(app, xiamen):
    at, fake = app
    at.number_input(key="edge_count").set_value(500).run()
    n = len(xiamen.layer("edge_demand"))
    assert any(f"{n}" in w.value and "500" in w.value for w in at.sidebar.warning)
    at.number_input(key="edge_count").set_value(32).run()


def _districts_html(fake: FakeMap) -> str:
    m = folium.Map(tiles=None)
    next(g for g in fake.calls[-1]["feature_group_to_add"] if g.layer_name.startswith(("Districts", "区县"))).add_to(m)
    return re.sub(r"\\u([0-9a-f]{4})", lambda u: chr(int(u.group(1), 16)), m.get_root().render())  # JSON escapes


def test_english_interface_and_human_table_labels(app):
    at, fake = app
    # Chinese by default: the edge & charging metrics and the district tooltip too
    for key in ("e_dcs", "e_radius", "e_within", "e_worst", "c_compliant", "c_to_add", "c_new", "c_core"):
        assert metric(at, t(key, "zh"))
    assert "个需求点" in caption_with(at, "平均单向时延") and "服务半径" in caption_with(at, "配建充电设施")
    page = _districts_html(fake)
    assert "每万人基站" in page and "stations per 10k" not in page and "meets the target" not in page
    at.radio(key="lang").set_value("en").run()
    assert metric(at, "Stations (existing + new)") == "18,500"
    assert metric(at, "Edge data centres") and metric(at, "New public charging stations")
    assert "stations per 10k" in _districts_html(fake)
    cols = [c for df in at.dataframe for c in df.value.columns]
    for raw in ("XZQDM", "XZQMC", "uncovered_weight", "new_fitout", "coverage_after"):
        assert raw not in cols
    at.radio(key="lang").set_value("zh").run()


def test_workspace_is_saved_and_restored_in_a_new_session(app, xiamen, xiamen_plan):
    at, fake = app
    ctx, _ = xiamen_plan
    lon, lat = Transformer.from_crs(xiamen.metric_crs, 4490, always_xy=True).transform(*(ctx.cand_xy[10] + 40.0))
    fake.drawings = [site_feature("keepme", float(lon), float(lat))]
    at.run()
    at.button(key="keep").click().run()
    at.slider(key="total").set_value(17_000).run()
    path = wsp.workspace_path("default", folder=wsp_folder())
    saved = wsp.load_workspace("default", folder=wsp_folder())
    assert path.is_file() and saved.settings["total"] == 17_000 and [d.id for d in saved.kept] == ["keepme"]
    # a new browser session (a reload) opens the same workspace
    fresh = AppTest.from_file(str(APP), default_timeout=120)
    fresh.run()
    assert not fresh.exception
    assert fresh.slider(key="total").value == 17_000
    assert [d.id for d in ws(fresh).kept] == ["keepme"]
    assert metric(fresh, t("stations")) == "17,000"
    # saved under a name, and opened again
    at.text_input(key="ws_new_name").set_value("方案 A").run()
    at.button(key="ws_save_as").click().run()
    assert ws(at).name == "方案 A" and "方案 A" in wsp.list_workspaces(folder=wsp_folder())
    fake.drawings = []
    at.button(key="clear_kept").click().run()
    at.run()
    at.slider(key="total").set_value(18_500).run()


def test_candidate_generator_control_replans_with_the_library(app, xiamen):
    at, fake = app
    at.slider(key="total").set_value(18_500)
    at.selectbox(key="candidates").set_value("kmeans").run()
    assert not at.exception, [e.message for e in at.exception]
    ctx = planning_context(xiamen, candidates="kmeans")
    plan = place_sites(xiamen, total=18_500, year=2025, context=ctx)
    assert metric(at, t("covered")) == percent(plan.summary.coverage_after)
    assert "人口加权 k-means 中心" in " ".join(w.value for w in at.sidebar.warning)
    at.selectbox(key="candidates").set_value("population").run()
    assert not at.exception


def test_network_control_says_what_coverage_refers_to_and_replans(app, xiamen):
    at, fake = app
    at.slider(key="total").set_value(18_500)
    refers = " ".join(c.value for c in at.sidebar.caption)
    assert "覆盖口径：全部运营商，" in refers and "新建站 n78" in refers and "室内用户" in refers
    at.selectbox(key="network").set_value("cmcc").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox(key="band").value == "n41"  # 中国移动 builds n41 by default
    refers = " ".join(c.value for c in at.sidebar.caption)
    assert "覆盖口径：中国移动，" in refers and "新建站 n41" in refers
    ctx = planning_context(xiamen, network="cmcc")
    plan = place_sites(xiamen, total=18_500, year=2025, context=ctx)
    assert metric(at, t("covered")) == percent(plan.summary.coverage_after)
    assert wsp.settings_to_query(ws(at).settings)["network"] == "cmcc"  # saved with the workspace and the URL
    at.selectbox(key="network").set_value("any").run()
    assert not at.exception and at.selectbox(key="band").value == "n78"
def test_cost_weight_control_shows_reuse_cost_and_the_siting_layers(app, xiamen, xiamen_plan):
    at, fake = app
    ctx, _ = xiamen_plan
    at.slider(key="total").set_value(18_500)
    at.checkbox(key="siting_layers").check()
    at.number_input(key="cost_weight").set_value(20.0).run()
    assert not at.exception, [e.message for e in at.exception]
    assert metric(at, t("site_cost_in", unit="亿元"))  # the quick estimate has its cost too
    assert ws(at).settings["cost_weight"] == 20.0 and ws(at).settings["siting_layers"] is True  # saved, in the URL
    at.button(key="optimise").click().run()
    wait_for_run(at)
    assert not at.exception, [e.message for e in at.exception]
    plan = place_sites(xiamen, total=18_500, year=2025, context=ctx, cost_weight=20)
    si = plan.summary.siting
    assert ws(at).optimised["selected"] == plan.placement.selected.tolist()  # the app's plan is the library's
    assert metric(at, t("covered")) == percent(plan.summary.coverage_after)
    assert metric(at, t("site_cost_in", unit="亿元")) == money_parts(si.cost_total)[0] == f"{si.cost_total / 1e4:,.2f}"
    assert f"{si.sites:,} 个新站中 {si.reused:,} 个利用现有设施" in caption_with(at, "利用现有设施")
    groups = {g.layer_name: g for g in fake.calls[-1]["feature_group_to_add"]}
    assert any(n.startswith("候选站址资源（按类型）") for n in groups)  # swapped in, no remount (Chinese names)
    assert any(n.startswith("选址约束 (5个图层)") for n in groups)
    planned = next(g for n, g in groups.items() if n.startswith("规划5G基站"))
    html = planned.add_to(folium.Map()).get_root().render()
    html = re.sub(r"\\u([0-9a-f]{4})", lambda u: chr(int(u.group(1), 16)), html)  # JSON escapes
    assert "选址冲突" in html and "站址成本（万元）" in html  # conflicts and cost on hover
    at.checkbox(key="siting_layers").uncheck()
    at.number_input(key="cost_weight").set_value(0.0).run()
    assert not at.exception
    assert not any(g.layer_name.startswith("选址约束") for g in fake.calls[-1]["feature_group_to_add"])


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
    before = ctx.share0 >= MAP_COVERED_SHARE  # a cell is drawn covered when at least half of it is
    assert np.array_equal(codes0 == 1, before) and not (codes0 == 2).any()
    every = np.arange(ctx.coverage.shape[1])
    codes = coverage_grid(ctx, every).values[d.row, d.col]
    new = codes == 2
    assert np.array_equal(codes == 1, before)
    from geoplan import coverage as cov

    after = cov.covered_share(ctx.coverage, every, base=ctx.share0) >= MAP_COVERED_SHARE
    assert np.array_equal(new, after & ~before)
    # unpopulated cells are nodata, and the overlay is a PNG
    assert (grid0.values == NODATA).sum() == grid0.values.size - len(d.pop)
    assert coverage_overlay(grid0).png[:8] == b"\x89PNG\r\n\x1a\n"
    # a drawn site covers the cells within its radius
    lon, lat = Transformer.from_crs(tiny.metric_crs, 4490, always_xy=True).transform(d.x[:1], d.y[:1])
    drawn = coverage_grid(ctx, [], drawn_lonlat=np.column_stack([lon, lat]),
                          drawn_radius_m=[150.0]).values[d.row, d.col]
    from geoplan.radio import disc_square_share

    share = np.minimum(1.0, ctx.share0 + disc_square_share(d.x - d.x[0], d.y - d.y[0], 150.0, side_m=100.0))
    assert np.array_equal(drawn >= 1, share >= MAP_COVERED_SHARE) and (drawn[0] >= 1)


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


def test_interface_text_labels_and_tile_urls():
    import pandas as pd

    from geoplan.errors import ConfigError
    from geoplan.webmap import custom_basemap_url, tile_group
    from geoplan.webmap.i18n import COLUMNS, TEXT, WORDS, all_text, default_lang, label_columns
    from geoplan.webmap.map import DISTRICT_CLASSES

    assert t("new_delta", "zh", n=7619) == "新建 +7,619" and t("new_delta", "en", n=7619) == "+7,619 new"
    assert all(zh and en for zh, en in TEXT.values()) and all(zh and en for zh, en in COLUMNS.values())
    assert default_lang(["思明区"]) == "zh" and default_lang(["Fairfax"]) == "en"
    assert all(label in WORDS for _, label, _ in DISTRICT_CLASSES)  # the tooltip's status says each class in Chinese
    table = pd.DataFrame({"XZQMC": ["思明区"], "uncovered_weight": [1.0], "new_fitout": [3], "share": [0.2]})
    assert label_columns(table, "en").to_dict("records") == [
        {"district": "思明区", "weight outside the circle": 1.0, "to fit in new car parks": 3, "share": "20.0 %"}]
    assert list(label_columns(table, "zh").columns) == ["区县", "时延圈外权重", "新建需配建", "比例"]
    # every Chinese character of the interface is in the web font subset the app serves
    from fontTools.ttLib import TTFont

    font = TTFont(str(REPO_ROOT / "apps" / "static" / "fonts" / "NotoSansSC-subset.woff2"))
    cmap = font.getBestCmap()
    assert [c for c in all_text() if ord(c) not in cmap and not c.isspace()] == []
    assert (REPO_ROOT / "apps" / "static" / "fonts" / "LICENSE-OFL.txt").is_file()
    with pytest.raises(ConfigError, match="Web Mercator"):
        custom_basemap_url("http://t.local/vec_c/{z}/{x}/{y}.png", crs="EPSG:4490")
    with pytest.raises(ConfigError, match="XYZ tile template"):
        custom_basemap_url("tiles.local")
    assert tile_group(basemap="none") is None
    m = folium.Map(tiles=None)
    tile_group(basemap="osm").add_to(m)
    assert "geoplan-tile-notice" in m.get_root().render()


def test_place_search_moves_the_map_and_lines_measure(app):
    at, fake = app
    at.text_input(key="search").set_value("思明").run()
    call = fake.calls[-1]
    assert call["zoom"] == 12 and 24.4 < call["center"][0] < 24.5
    at.text_input(key="search").set_value("24.60, 118.10").run()
    assert fake.calls[-1]["center"] == (24.60, 118.10) and fake.calls[-1]["zoom"] == 15
    at.text_input(key="search").set_value("no such place").run()
    assert "no such place" in caption_with(at, "no such place")
    at.text_input(key="search").set_value("").run()
    fake.drawings = [{"type": "Feature", "properties": {"id": "m1"},
                      "geometry": {"type": "LineString", "coordinates": [[118.0, 24.5], [118.1, 24.5]]}}]
    at.run()
    assert "测距 1：10.14 千米" in " ".join(m.value for m in at.markdown)
    fake.drawings = []
    at.run()


def test_server_warm_up_prepares_the_first_page():
    """``apps/serve.py``'s warm-up fills the caches for the settings a new page opens with (defaults, then the
    saved default workspace): that page then draws the edge and charging plans in its first run."""
    import sys

    sys.path.insert(0, str(APP.parent))
    import appdata

    appdata.PAGE_STARTED.clear()  # a server just started: no page yet (earlier tests ran pages in this process)
    appdata.warm(None)
    proj = appdata.load(None)
    values = appdata._opening_settings(proj, appdata.plan_of(proj), "embedded")
    side = (values["edge_count"], values["latency_ms"], values["round_trip"], values["charging_share"])
    assert side in appdata.SIDE_READY
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["side_ready"]  # no second run needed: the warm-up made them for these settings
    assert metric(at, t("e_dcs")) and metric(at, t("c_new"))


# ------------------------------------------------------------------------------------------------
# No English left in the Chinese interface
# ------------------------------------------------------------------------------------------------

def visible_text(at: AppTest) -> list[str]:
    """Every text a planner can see in the app's last run: labels, help, options, captions, metrics, table cells."""
    out: list[str] = []
    for node in at._tree:
        if type(node).__name__ == "Dataframe":
            df = node.value
            out += [str(c) for c in df.columns]
            if not isinstance(df.index, pd.RangeIndex):
                out += [str(i) for i in df.index] + [str(df.index.name or "")]
            out += [str(v) for c in df.columns for v in df[c].dropna().astype(str).unique()]
            continue
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        fields = {d.name for d in proto.DESCRIPTOR.fields}
        out += [getattr(proto, f) for f in ("label", "help", "placeholder", "body", "text", "delta") if f in fields]
        if "options" in fields:
            out += [o if isinstance(o, str) else o.label for o in proto.options]
    return [x for x in out if isinstance(x, str) and x and not x.lstrip().startswith("<style>")]


def test_latin_words_finds_english_and_passes_codes():
    texts = ["覆盖居民 99.98 %", "n78 — 3.5 GHz", "下载 geoplan_18500_2025.gpkg（3.7 MB）", "`geoplan whatif --scenario`",
             "宏站 macro", "Population basis: census", "厦门市 Xiamen (embedded demo)：1 个"]
    assert latin_words(texts, data=("厦门市 Xiamen (embedded demo)",)) == ["Population", "basis", "census", "macro"]


def test_chinese_interface_has_no_english_words(app, xiamen, xiamen_plan):
    """Every tab, panel and control of the Chinese interface, with drawings, kept sites, scenarios and a comparison,
    exact optimisation and a custom site mix: no English word beyond codes and units; the map's tooltips get their
    value words (site types, sources) in Chinese."""
    at, fake = app
    ctx, _ = xiamen_plan
    if ws(at).scenarios:  # no names typed by other tests (a planner's names are data, shown as typed)
        at.button(key="clear_scenarios").click().run()
    lon, lat = Transformer.from_crs(xiamen.metric_crs, 4490, always_xy=True).transform(*(ctx.cand_xy[3] + 30.0))
    fake.drawings = [site_feature("zh1", float(lon), float(lat)), site_feature("zh2", 118.06, 24.72),
                     area_feature("zha", [(118.05, 24.70), (118.08, 24.70), (118.08, 24.73), (118.05, 24.70)]),
                     {"type": "Feature", "properties": {"id": "zhl"},
                      "geometry": {"type": "LineString", "coordinates": [[118.0, 24.5], [118.1, 24.5]]}}]
    at.run()
    at.button(key="keep").click().run()
    fake.drawings = fake.drawings + [site_feature("zh3", 118.15, 24.62)]  # a trial site beside the kept one
    at.run()
    at.button(key="add_scenario").click().run()
    at.slider(key="total").set_value(17_000).run()
    at.button(key="add_scenario").click().run()
    at.button(key="add_scenario").click().run()  # the same settings again: said so, in Chinese
    at.button(key="compare").click().run()
    at.radio(key="method").set_value("exact").run()
    at.radio(key="mix_mode").set_value("custom").run()
    at.checkbox(key="siting_layers").check().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["comparison"] is not None and ws(at).kept
    texts = visible_text(at)
    words = latin_words(texts, data=(xiamen.name, ws(at).name))  # names a planner typed are data
    assert words == [], (words, [x for x in texts if any(w in x for w in words)][:10])
    assert any("宏站" in x for x in texts)  # kept-site table and trial-site lines name the site type in Chinese
    # the map's point tooltips translate raw values (macro, towers, social_tower ...) in the browser
    planned = next(g for g in fake.calls[-1]["feature_group_to_add"] if g.layer_name.startswith(map_word(
        "Planned 5G sites (greedy order)", "zh")))
    m = folium.Map(tiles=None)
    planned.add_to(m)
    page = re.sub(r"\\u([0-9a-f]{4})", lambda u: chr(int(u.group(1), 16)), m.get_root().render())
    assert '"macro":"宏站"' in page and '"towers":"铁塔"' in page
    # English, switched: the same panels in English
    at.radio(key="lang").set_value("en").run()
    en = " ".join(visible_text(at))
    assert "Population basis" in en and "Stations (existing + new)" in en and "macro" in en
    at.radio(key="lang").set_value("zh").run()
    at.checkbox(key="siting_layers").uncheck()
    at.radio(key="mix_mode").set_value("env")
    at.radio(key="method").set_value("greedy")
    at.button(key="clear_scenarios").click().run()
    at.button(key="clear_kept").click().run()
    fake.drawings = []
    at.slider(key="total").set_value(18_500).run()


@pytest.fixture(scope="module")
def province_app(tmp_path_factory):
    """The app on a province project (Fujian at 1 km, made chunked by lowering the engine's threshold)."""
    from geoplan import province
    from geoplan.placement import sites

    out = tmp_path_factory.mktemp("fujian-app")
    province.build_fujian_project(out, cell_m=1000.0)
    mp = pytest.MonkeyPatch()
    mp.setattr(sites, "LARGE_PROJECT_CELLS", 0)
    mp.setenv("GEOPLAN_PROJECT", str(out / "geoplan.toml"))
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    yield at
    mp.undo()


def test_province_page_in_chinese(province_app):
    at = province_app
    assert not at.exception, [e.message for e in at.exception]
    name = at.title[0].value  # the project's own name (data, as its file gives it)
    year = at.selectbox(key="year").value
    at.button(key="optimise").click().run()
    assert not at.exception, [e.message for e in at.exception]
    texts = visible_text(at)
    assert latin_words(texts, data=(name,)) == []
    assert t("province_optimise", year=year) in texts
    assert any("个基站，每万人" in x for x in texts)  # the result line, in Chinese
    at.radio(key="lang").set_value("en").run()
    assert any(x.startswith("Optimise") for x in visible_text(at))
