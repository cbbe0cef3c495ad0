"""geoplan map app: see the plan, draw candidate sites, run what-ifs, download the layers.

Run it with ``make app`` (the embedded Xiamen project), or::

    streamlit run apps/streamlit_app.py -- --project path/to/geoplan.toml

(or set ``GEOPLAN_PROJECT``). Everything is computed by the ``geoplan`` library;
this file only reads the controls, calls the library and draws the answers.

How the station slider stays fast (about a second per move)
-----------------------------------------------------------
Choosing sites takes 1–3 s on Xiamen (greedy), too slow for a slider. So the
app runs the greedy optimiser once per (year, band, users, site mix) for the
largest total the slider offers, and a slider move evaluates the first N sites
of that greedy order (``evaluate_sites``, ~0.05 s). When the total covers every
district's shortfall, those first N sites *are* the greedy plan for N (quota
sites come first in the greedy order and the rest is picked by the same lazy
greedy; ``tests/test_app.py`` checks this); below that, the quotas of a smaller
budget are shared in proportion to the shortfalls, which a prefix does not do,
and the app labels the numbers "quick estimate". **Optimise** runs the
optimiser for exactly the chosen total (greedy, or the exact HiGHS model) with
a progress bar, and its result replaces the estimate until a control changes.

Drawn sites are evaluated on top of the current plan with their own link
budget (``geoplan.drawing``); kept ones become part of the scenario (fixed
sites when optimising, snapped to the nearest candidate).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

import geoplan as gp
from geoplan import drawing, export, planfile, radio, scenarios
from geoplan.charging import ChargingPlan, charging_compliance, place_charging
from geoplan.edge import EdgePlan, place_edge
from geoplan.errors import GeoplanError
from geoplan.latency import LatencyModel
from geoplan.placement import (
    CANDIDATE_GENERATORS,
    SITE_TYPES,
    PlanningContext,
    PlanResult,
    PlanSettings,
    PlanSummary,
    SitingSummary,
    Totals,
    choose_engine,
    evaluate_sites,
    plan_siting,
    planning_context,
)
from geoplan.placement.costing import COST_NOTE
from geoplan.targets import Plan, load_plan
from geoplan.webmap import (
    BASEMAPS,
    ST_FOLIUM_BASE_URL,
    PointData,
    base_map,
    coverage_grid,
    coverage_overlay,
    districts_geojson,
    inventory_points,
    plan_layers,
    planned_points,
    population_overlay,
    siting_layers,
    use_local_assets,
    zones_geojson,
)

SLIDER_STEP = 50
MAP_HEIGHT = 620
CAND_LABELS = {"population": "populated cells, by weight", "kmeans": "weighted k-means centres",
               "grid": "square grid where people live", "none": "none: inventories only"}


# ----------------------------------------------------------------------------------------------
# Cached library calls (shared by every session: inputs are immutable, results read-only)
# ----------------------------------------------------------------------------------------------


def _project_arg() -> str | None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--project", default=None)
    args, _ = parser.parse_known_args(sys.argv[1:])
    return args.project or os.environ.get("GEOPLAN_PROJECT") or None


@st.cache_resource(show_spinner="Loading and validating the project …")
def load(path: str | None) -> gp.Project:
    return gp.load_project(path)


@st.cache_resource(show_spinner="Building the coverage model (radio link budget × demand cells) …")
def context(_proj: gp.Project, key: str, settings: PlanSettings) -> PlanningContext:
    return planning_context(_proj, settings=settings.context_key())  # one context for every cost weight


@st.cache_resource(show_spinner=False)
def siting_data(_ctx: PlanningContext, key: str, settings: PlanSettings) -> tuple[PointData, dict[str, Any], int]:
    return inventory_points(_ctx), zones_geojson(_ctx), len(_ctx.zones.layers)


def siting_groups(ctx: PlanningContext, key: str) -> list[folium.FeatureGroup]:
    """Fresh groups every run (a folium element belongs to one map), from cached data."""
    points, zones, n = siting_data(ctx, key, ctx.settings)
    return siting_layers(points=points, zones=zones, n_layers=n)


@st.cache_resource(show_spinner="Running the greedy optimiser once for the largest total …")
def greedy_order(_proj: gp.Project, _ctx: PlanningContext, key: str, settings: PlanSettings, year: int,
                 max_total: int) -> tuple[PlanResult, PointData]:
    res = scenarios.run_scenario(_proj, scenarios.Scenario(name="order", total=max_total, year=year,
                                                           settings=settings), context=_ctx)
    return res, planned_points(res.sites)


@st.cache_resource(show_spinner=False)
def static_layers(_proj: gp.Project, key: str) -> dict[str, Any]:
    sites = _proj.layer("sites")
    return {
        "population": population_overlay(_proj.population),
        "districts": districts_geojson(_proj),
        "existing": PointData.from_frame(sites, ["SITE_ID", "SITE_TYPE"]) if sites is not None else None,
    }


@st.cache_resource(show_spinner="Placing edge data centres …")
def edge_plan(_proj: gp.Project, key: str, count: int, latency_ms: float, round_trip: bool) -> EdgePlan:
    return place_edge(_proj, count=count, latency_ms=latency_ms, latency=LatencyModel(round_trip=round_trip))


@st.cache_resource(show_spinner="Checking car parks and charging coverage …")
def charging_plan(_proj: gp.Project, key: str, share: float) -> ChargingPlan:
    return place_charging(_proj, share=share)


@st.cache_resource(show_spinner=False)
def car_parks_compliance(_proj: gp.Project, key: str, share: float) -> gpd.GeoDataFrame:
    c = charging_compliance(_proj, share=share)
    return gpd.GeoDataFrame(c.table, geometry=_proj.layer("car_parks").geometry.to_numpy(), crs=4490)


@st.cache_data(show_spinner=False)
def check_table(_proj: gp.Project, key: str, year: int) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any],
                                                                 tuple[str, ...]]:
    rep = gp.targets.check(_proj, year=year)
    return rep.table, rep.total.to_dict(), rep.consistency, rep.modelled_layers


# ----------------------------------------------------------------------------------------------
# Helpers that only reshape library output for display
# ----------------------------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{100 * x:.1f} %"


def _kept_frame(kept: list[dict[str, Any]], gains: np.ndarray, first_rank: int) -> gpd.GeoDataFrame:
    """Sites the planner kept, as ``planned_sites`` rows (SOURCE = drawn)."""
    return gpd.GeoDataFrame({
        "SITE_ID": [f"D{k + 1:05d}" for k in range(len(kept))],
        "SITE_TYPE": [s["type"] for s in kept],
        "RANK": np.arange(first_rank, first_rank + len(kept), dtype=np.int64),
        "GAIN_POP": np.round(np.asarray(gains, dtype=float), 1), "SOURCE": "drawn",
    }, geometry=gpd.points_from_xy([s["lon"] for s in kept], [s["lat"] for s in kept]), crs=4490)


def _drawings(state: dict[str, Any] | None) -> tuple[list[tuple[float, float]], list[list[tuple[float, float]]]]:
    """Points and polygon rings drawn on the map (GeoJSON from Leaflet.draw, lon/lat)."""
    points, rings = [], []
    for f in (state or {}).get("all_drawings") or []:
        g = (f or {}).get("geometry") or {}
        if g.get("type") == "Point":
            points.append((float(g["coordinates"][0]), float(g["coordinates"][1])))
        elif g.get("type") == "Polygon" and g.get("coordinates"):
            rings.append([(float(x), float(y)) for x, y in g["coordinates"][0]])
    return points, rings


def _scenario_table(res_table: pd.DataFrame) -> pd.DataFrame:
    cols = {"XZQMC": "district", "population": "population", "existing": "existing", "new": "new",
            "stations": "stations", "per_10k": "per 10k", "target_per_10k": "target per 10k",
            "shortfall": "shortfall", "meets_target": "meets target", "coverage_before": "covered before",
            "coverage_after": "covered after"}
    t = res_table[[c for c in cols if c in res_table.columns]].rename(columns=cols)
    return t


# ----------------------------------------------------------------------------------------------
# The page, in four steps: controls → plan → map → panels
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Controls:
    """What the sidebar asks for."""

    year: int
    total: int
    settings: PlanSettings
    edge_count: int
    latency_ms: float
    round_trip: bool
    share: float
    basemap: str
    tianditu_key: str | None
    siting_layers: bool = False


@dataclass
class Shown:
    """The plan on screen: selected candidates, district table and totals, and how they were made."""

    sel: np.ndarray
    table: pd.DataFrame
    summary: Totals
    planned: gpd.GeoDataFrame
    planned_pts: PointData
    mode: str
    optimised: bool
    kept_gdf: gpd.GeoDataFrame | None = None
    drawn_radius: np.ndarray | None = None
    scen_key: tuple[Any, ...] = field(default=())
    siting: SitingSummary | None = None


def settings_controls(sb: Any, proj: gp.Project) -> PlanSettings:
    """Band, users, site mix and candidate source."""
    band = sb.selectbox("Band (link budget)", list(radio.BANDS), index=list(radio.BANDS).index("n78"), key="band",
                        format_func=lambda b: f"{b} — {radio.BANDS[b].fc_ghz:g} GHz")
    indoor = sb.checkbox("Cover users indoors", value=True, key="indoor",
                         help="Radii include the building-entry loss (most residents are indoors).")
    mix_mode = sb.radio("Site mix of candidate sites", ["by environment (default)", "custom"], key="mix_mode",
                        horizontal=True)
    mix: tuple[float, float, float] | None = None
    if mix_mode == "custom":
        macro = sb.slider("Macro %", 0, 100, 60, 5, key="macro")
        micro = sb.slider("Micro %", 0, 100 - macro, min(25, 100 - macro), 5, key="micro")
        sb.caption(f"Indoor: {100 - macro - micro} %")
        mix = (macro / 100, micro / 100, (100 - macro - micro) / 100)
    has_inventory = proj.layer("candidates") is not None or bool(proj.siting.group("inventories"))
    choices = [c for c in CANDIDATE_GENERATORS if c != "none" or has_inventory]
    candidates = sb.selectbox("Generated candidate sites", choices, key="candidates", format_func=CAND_LABELS.get,
                              help="How modelled candidate sites are made, beside the project's candidate "
                              "inventories (towers, smart poles, opened buildings) if it has any.")
    weight = sb.number_input("Prefer sharing: residents per 万元", min_value=0.0, max_value=1000.0,
                             value=float(proj.siting.params.cost_weight), step=5.0, key="cost_weight",
                             help="Residents of new coverage the plan gives up to save 1万元 of site cost: 0 plans "
                             "for coverage only; 20 reuses towers, smart poles and opened buildings wherever they "
                             "cover nearly as well as a new tower (docs/siting.md).")
    return PlanSettings(band=band, indoor=indoor, mix=mix, candidates=candidates, cost_weight=float(weight))


def slider_range(plan: Plan, existing: int, shortfall: int, candidates: int) -> tuple[int, int, int]:
    """The total slider's lowest, highest and first value (multiples of its step)."""
    st_target = plan.text_target("5g_stations")
    stated = int(st_target.value) if st_target is not None else None
    need_all = existing + shortfall
    max_total = min(existing + candidates, max(25_000, int(np.ceil(1.35 * max(stated or 0, need_all) / 500) * 500)))
    low = -(-existing // SLIDER_STEP) * SLIDER_STEP
    max_total = max(low, max_total // SLIDER_STEP * SLIDER_STEP)
    return low, max_total, min(max(stated or need_all, low), max_total)


def side_controls(sb: Any, plan: Plan) -> dict[str, Any]:
    """Edge, charging and base-map controls."""
    out: dict[str, Any] = {}
    with sb.expander("Edge data centres & EV charging"):
        edge_default = plan.text_target("edge_dc")
        lat_default = plan.text_target("latency_ms")
        share_default = plan.text_target("charging_share_new_car_parks")
        out["edge_count"] = int(st.number_input("Edge data centres", 1, 500,
                                                int(edge_default.value) if edge_default else 32, key="edge_count"))
        out["latency_ms"] = float(st.number_input("Latency circle (ms)", 0.2, 20.0,
                                                  float(lat_default.value) if lat_default else 1.0, 0.1,
                                                  key="latency_ms"))
        out["round_trip"] = bool(st.checkbox("Read the latency as round trip", value=False, key="round_trip"))
        out["share"] = float(st.slider("Charging share of new car parks", 0.05, 0.60,
                                       float(share_default.value) if share_default else 0.20, 0.01,
                                       key="charging_share"))
    with sb.expander("Base map"):
        out["basemap"] = st.selectbox("Tiles", list(BASEMAPS), key="basemap",
                                      format_func=lambda k: "none (works offline)" if BASEMAPS[k] is None
                                      else BASEMAPS[k].label)
        out["tianditu_key"] = st.text_input("Tianditu key (tk)", value=os.environ.get("GEOPLAN_TIANDITU_KEY", ""),
                                            type="password", key="tk") if out["basemap"] == "tianditu" else None
        st.caption("Tiles load only when the server is reachable; everything else is served by this app.")
        out["siting_layers"] = bool(st.checkbox("Candidate inventories and siting constraints", value=False,
                                                key="siting_layers",
                                                help="Layers of the candidate sites by kind (社会塔, 行业塔, 智慧多功能杆, "
                                                "opened buildings) and of the constraint zones (hard and soft)."))
    return out


def modelled_notice(sb: Any, proj: gp.Project, modelled_layers: tuple[str, ...], ctx: PlanningContext) -> list[str]:
    """Name the modelled layers in the sidebar; returns their keys."""
    modelled = sorted(set(modelled_layers) | ({"candidates"} if ctx.candidates_modelled else set()))
    if modelled:
        notes = [f"- **{k}**: {proj.provenance.get(k, {}).get('note') or 'modelled'}" for k in modelled
                 if k != "candidates"]
        if ctx.candidates_modelled:
            notes.append(f"- **candidates**: modelled candidate sites ({CAND_LABELS[ctx.settings.candidates]}) "
                         f"({ctx.coverage.shape[1]:,})")
        sb.warning("**Modelled layers** — synthetic, not observed data; numbers built on them are "
                   "illustrations of the method:\n\n" + "\n".join(notes))
    return modelled


def current_plan(proj: gp.Project, key: str, ctx: PlanningContext, c: Controls, *, max_total: int,
                 need_all: int) -> Shown:
    """The optimised plan for exactly these controls, or the prefix of the greedy order (with kept sites)."""
    ss = st.session_state
    order_plan, order_points = greedy_order(proj, ctx, key, c.settings, c.year, max_total)
    kept: list[dict[str, Any]] = ss.kept
    scen_key = (c.total, c.year, c.settings, tuple((s["lon"], s["lat"], s["type"]) for s in kept))
    opt = ss.optimised if ss.optimised is not None and ss.optimised["key"] == scen_key else None
    if opt is not None:
        res: PlanResult = opt["result"]
        s = res.summary
        mode = (f"Optimised: {s.method} for exactly {c.total:,} stations (status {s.status}"
                + (f", gap {s.gap:.2%}" if s.gap is not None else "") + ")"
                + (f"; {len(kept)} kept drawn site(s) snapped to the nearest candidates" if kept else ""))
        return Shown(np.asarray(res.placement.selected, dtype=np.int64), res.districts, s, res.sites, opt["points"],
                     mode, True, scen_key=scen_key, siting=s.siting)
    n_opt = max(c.total - int(ctx.existing_per_district.sum()) - len(kept), 0)
    sel = np.asarray(order_plan.placement.selected[:n_opt], dtype=np.int64)
    shown = Shown(sel, pd.DataFrame(), order_plan.summary, order_plan.sites.iloc[:n_opt], order_points.head(n_opt),
                  "", False, scen_key=scen_key, siting=plan_siting(ctx, sel, cost_weight=ctx.cost_weight(c.settings)))
    if kept:
        kept_lonlat = np.array([[s["lon"], s["lat"]] for s in kept], dtype=float).reshape(-1, 2)
        dp = drawing.plan_with_drawn(ctx, sel, kept_lonlat, site_type=[s["type"] for s in kept], year=c.year)
        shown.table, shown.summary = dp.districts, dp.summary
        shown.kept_gdf = _kept_frame(kept, dp.evaluation.site_gain, n_opt + 1)
        shown.drawn_radius = dp.evaluation.site_radius_m
    else:
        ev = evaluate_sites(ctx, sel, year=c.year)
        shown.table, shown.summary = ev.districts, ev.summary
    exact_prefix = not kept and c.total >= need_all
    shown.mode = (f"Greedy plan: the first {n_opt:,} sites of the greedy order (equal to optimising {c.total:,}: "
                  "every district's quota is met)" if exact_prefix else
                  f"Quick estimate: the first {n_opt:,} sites of the greedy order for {max_total:,}"
                  + (f" plus {len(kept)} kept drawn site(s)" if kept else "")
                  + " — press Optimise for the plan of exactly this total")
    return shown


def headline(proj: gp.Project, plan: Plan, c: Controls, shown: Shown) -> None:
    """Title and the four headline numbers."""
    s = shown.summary
    st_target = plan.text_target("5g_stations")
    st.title(proj.name)
    target = float(s.target_per_10k)
    st.caption(f"{plan.title} ({plan.document}) — target {target:g} stations per 10,000 residents in {c.year}"
               + (f"; “{st_target.quote}”" if st_target else ""))
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.metric("Stations (existing + new)", f"{s.stations:,}", f"+{s.new:,} new", delta_color="off")
    per = s.per_10k or 0.0
    c2.metric("Stations per 10k (city)", f"{per:.2f}", f"{per - target:+.2f} vs target", delta_color="normal")
    c3.metric("Districts meeting target", f"{s.districts_meeting_target} / {s.districts}")
    c4.metric("Residents covered", _pct(s.coverage_after),
              f"{100 * (s.coverage_after - s.coverage_before):+.1f} pts vs today"
              if s.coverage_before is not None and s.coverage_after is not None else None)
    si = shown.siting
    if si is not None and si.sites:
        c5.metric("Site cost of the new sites", f"{si.cost_total:,.0f} 万元",
                  f"−{si.savings:,.0f} 万元 vs all new" if si.savings else None, delta_color="off",
                  help=COST_NOTE)
        fam = si.reused_by_family
        st.caption(f"Reuse: {si.reused:,} of {si.sites:,} new sites on existing structures ({fam['tower']:,} towers, "
                   f"{fam['pole']:,} smart poles, {fam['rooftop']:,} opened buildings); "
                   f"{si.soft_conflict_sites:,} in soft constraint zones (hover a planned site for its conflicts).")
    st.caption(shown.mode)


def optimise_controls(proj: gp.Project, ctx: PlanningContext, c: Controls, shown: Shown) -> str:
    """The optimiser choice and the Optimise button; returns the method."""
    ss = st.session_state
    oc1, oc2, oc3 = st.columns([1.2, 1, 3])
    method = oc1.radio("Optimiser", ["greedy", "exact"], horizontal=True, key="method",
                       help="exact: HiGHS mixed-integer model (30 s limit), reports its gap")
    if oc2.button(f"Optimise {c.total:,}", key="optimise", type="primary"):
        bar = oc3.progress(0.0, text="starting the optimiser …")
        sc = scenarios.Scenario(name="app", total=c.total, year=c.year, method=method, settings=c.settings,
                                drawn_sites=tuple((s["lon"], s["lat"]) for s in ss.kept), time_limit_s=30.0)
        try:
            wi = scenarios.run_scenarios(proj, [sc], context=ctx,
                                         progress=lambda f, msg: bar.progress(float(min(max(f, 0.0), 1.0)), text=msg))
        except GeoplanError as exc:
            oc3.error(str(exc))
        else:
            ss.optimised = {"key": shown.scen_key, "result": wi.results[0],
                            "points": planned_points(wi.results[0].sites)}
            st.rerun()
    return str(method)


def edge_and_charging(sb: Any, proj: gp.Project, key: str, c: Controls
                      ) -> tuple[EdgePlan | None, ChargingPlan | None, gpd.GeoDataFrame | None]:
    edge = None
    if proj.layer("edge_demand") is not None:
        try:
            edge = edge_plan(proj, key, c.edge_count, c.latency_ms, c.round_trip)
        except GeoplanError as exc:
            sb.error(f"Edge data centres: {exc}")
    try:
        chg = charging_plan(proj, key, c.share) if proj.layer("car_parks") is not None else None
        car_parks = car_parks_compliance(proj, key, c.share) if chg is not None else None
    except GeoplanError as exc:
        chg = car_parks = None
        sb.error(f"Charging: {exc}")
    return edge, chg, car_parks


def render_map(sb: Any, proj: gp.Project, key: str, ctx: PlanningContext, c: Controls, shown: Shown,
               modelled: list[str], edge: EdgePlan | None, chg: ChargingPlan | None,
               car_parks: gpd.GeoDataFrame | None) -> tuple[Any, dict[str, Any] | None]:
    """Draw the map; returns the coverage grid and what the planner drew."""
    ss = st.session_state
    kept = ss.kept
    kept_lonlat = np.array([[s["lon"], s["lat"]] for s in kept], dtype=float).reshape(-1, 2)
    grid = coverage_grid(ctx, shown.sel, drawn_lonlat=None if shown.kept_gdf is None else kept_lonlat,
                         drawn_radius_m=shown.drawn_radius)
    statics = static_layers(proj, key)
    map_kw: dict[str, Any] = dict(
        population=statics["population"], existing_sites=statics["existing"],
        edge_sites=edge.sites if edge else None, edge_radius_m=edge.summary.radius_km * 1000 if edge else None,
        car_parks=car_parks, charging_stations=chg.stations if chg else None, modelled=modelled, height=MAP_HEIGHT)
    try:
        m = base_map(proj, basemap=c.basemap, tianditu_key=c.tianditu_key, **map_kw)
    except GeoplanError as exc:
        sb.error(f"Base map: {exc}")
        m = base_map(proj, basemap="none", **map_kw)
    if c.siting_layers:  # static: sent with the base map, not at every slider move
        for g in siting_groups(ctx, key):
            g.add_to(m)
    use_local_assets(m, base_url=ST_FOLIUM_BASE_URL)
    kept_pts = None
    if kept:
        kept_pts = planned_points(shown.kept_gdf if shown.kept_gdf is not None
                                  else _kept_frame(kept, np.full(len(kept), np.nan), 1))
    groups = plan_layers(districts=statics["districts"], district_table=shown.table, planned_sites=shown.planned_pts,
                         coverage=coverage_overlay(grid), kept_sites=kept_pts,
                         plan_label="Planned 5G sites" if shown.optimised else "Planned 5G sites (greedy order)")
    for g in groups:
        use_local_assets(g, base_url=ST_FOLIUM_BASE_URL)
    state = st_folium(m, key=f"map-{ss.map_version}", height=MAP_HEIGHT, use_container_width=True,
                      returned_objects=["all_drawings"], feature_group_to_add=groups,
                      layer_control=folium.LayerControl(collapsed=True))
    return grid, state


def drawn_sites_panel(ctx: PlanningContext, c: Controls, shown: Shown, points: list[tuple[float, float]]) -> None:
    """Evaluate the drawn points on top of the plan; keep them in the scenario."""
    ss = st.session_state
    kept = ss.kept
    kept_lonlat = np.array([[s["lon"], s["lat"]] for s in kept], dtype=float).reshape(-1, 2)
    draw_type = st.session_state.get("draw_type", SITE_TYPES[0])
    all_lonlat = np.vstack([kept_lonlat, np.asarray(points, dtype=float)])
    evb = drawing.evaluate_drawn_sites(ctx, all_lonlat, site_type=[s["type"] for s in kept] + [draw_type] * len(points),
                                       selected=shown.sel, year=c.year)
    s, e = shown.summary, evb.summary
    st.metric("Drawn sites", f"{len(points)}")
    st.metric("Added residents covered", f"{float(evb.site_gain[len(kept):].sum()):,.0f}")
    st.metric("Residents covered", _pct(e.coverage_after),
              f"{100 * ((e.coverage_after or 0.0) - (s.coverage_after or 0.0)):+.2f} pts")
    st.metric("Districts meeting target", f"{e.districts_meeting_after} / {s.districts}",
              f"{e.districts_meeting_after - s.districts_meeting_target:+d}")
    now_per = shown.table["per_10k"].to_numpy(dtype=float)
    after_per = evb.districts["per_10k_after"].to_numpy(dtype=float)
    kd = evb.site_district[:len(kept)]
    kept_per = np.bincount(kd[kd >= 0], minlength=len(now_per))
    for i in np.flatnonzero(evb.districts["drawn"].to_numpy() > kept_per):
        st.metric(f"{evb.districts['XZQMC'].iloc[i]}: stations per 10k", f"{after_per[i]:.2f}",
                  f"{after_per[i] - now_per[i]:+.2f} (target {s.target_per_10k:g})")
    if e.outside_districts:
        st.warning(f"{e.outside_districts} drawn site(s) lie outside every district.")
    if st.button(f"Keep {len(points)} drawn site(s) in the scenario", key="keep"):
        ss.kept = kept + [{"lon": lon, "lat": lat, "type": draw_type} for lon, lat in points]
        ss.map_version += 1
        st.rerun()


def drawings_panel(ctx: PlanningContext, c: Controls, shown: Shown, state: dict[str, Any] | None) -> None:
    """The side panel: what the planner drew (sites and areas) and the kept sites."""
    ss = st.session_state
    points, rings = _drawings(state)
    st.subheader("Drawn on the map")
    st.selectbox("Type of the sites you draw", SITE_TYPES, key="draw_type")
    if not points and not rings:
        st.info("Use the marker tool (left of the map) to place candidate sites, or the polygon / rectangle "
                "tool to outline an area. Their effect on top of the current scenario shows here.")
    if points:
        drawn_sites_panel(ctx, c, shown, points)
    for i, ring in enumerate(rings, 1):
        try:
            a = drawing.area_coverage(ctx, ring, selected=shown.sel)
        except GeoplanError as exc:
            st.warning(f"Area {i}: {exc}")
            continue
        st.markdown(f"**Area {i}** — {a.area_km2:,.2f} km², {a.population:,.0f} residents, "
                    f"{a.existing_sites:,} existing sites, {a.candidates:,} candidate sites")
        st.markdown(f"covered today {_pct(a.coverage_existing)} → with the plan {_pct(a.coverage_with_plan)}")
    if ss.kept:
        st.caption(f"{len(ss.kept)} drawn site(s) kept in the scenario.")
        if st.button("Remove kept sites", key="clear_kept"):
            ss.kept = []
            ss.map_version += 1
            st.rerun()


def districts_tab(c: Controls, shown: Shown, total0: dict[str, Any], consistency: dict[str, Any]) -> None:
    st.dataframe(_scenario_table(shown.table), hide_index=True, width="stretch",
                 column_config={"per 10k": st.column_config.NumberColumn(format="%.2f"),
                                "covered before": st.column_config.NumberColumn(format="%.3f"),
                                "covered after": st.column_config.NumberColumn(format="%.3f"),
                                "population": st.column_config.NumberColumn(format="%d")})
    st.caption(f"Population basis: {shown.summary.population_basis.get('description', 'census')}. "
               f"Today: {total0['stations']:,} stations, {total0['per_10k']} per 10k; "
               f"{total0['shortfall']:,} more needed for the city as a whole, "
               f"{total0['sum_of_district_shortfalls']:,} district by district.")
    if "station_target" in consistency:
        stc = consistency["station_target"]
        st.caption(f"The plan's {stc['stations']:,} stations equal {stc['per_10k_at_census']} per 10k at the census "
                   f"population" + (f" and {stc['per_10k_at_latest_yearend']} at the latest year-end population"
                                    if "per_10k_at_latest_yearend" in stc else "") + ".")
    st.download_button("Density table (CSV)", _scenario_table(shown.table).to_csv(index=False).encode("utf-8-sig"),
                       file_name=f"density_{c.total}_{c.year}.csv", mime="text/csv", key="dl_csv")


def scenarios_tab(proj: gp.Project, ctx: PlanningContext, c: Controls, method: str, edge: EdgePlan | None,
                  chg: ChargingPlan | None) -> None:
    ss = st.session_state
    name = st.text_input("Scenario name", value=f"{c.total:,} stations, {c.year}, {c.settings.band}",
                         key="scenario_name")
    b1, b2, b3 = st.columns(3)
    if b1.button("Add current settings", key="add_scenario"):
        names = {s.name for s in ss.scenarios}
        uniq, n = name, 2
        while uniq in names:
            uniq, n = f"{name} ({n})", n + 1
        ss.scenarios = ss.scenarios + [scenarios.Scenario(
            name=uniq, total=c.total, year=c.year, method=method, settings=c.settings,
            drawn_sites=tuple((s["lon"], s["lat"]) for s in ss.kept), time_limit_s=30.0,
            edge_count=c.edge_count if edge is not None else None, latency_ms=c.latency_ms,
            charging_share=c.share if chg is not None else None)]
        ss.comparison = None
    if b2.button("Compare", key="compare", disabled=not ss.scenarios):
        bar = st.progress(0.0, text="running scenarios …")
        try:
            wi = scenarios.run_scenarios(proj, ss.scenarios, context=ctx,
                                         progress=lambda f, msg: bar.progress(float(min(max(f, 0.0), 1.0)), text=msg))
        except GeoplanError as exc:
            st.error(str(exc))
        else:
            per = wi.districts.pivot(index="scenario", columns="XZQMC", values="per_10k").round(2)
            ss.comparison = (wi.summary, per)
    if b3.button("Clear", key="clear_scenarios", disabled=not ss.scenarios):
        ss.scenarios, ss.comparison = [], None
    if ss.scenarios:
        st.dataframe(pd.DataFrame([s.to_dict() for s in ss.scenarios]), hide_index=True, width="stretch")
        st.download_button("Scenarios (TOML, re-run with `geoplan whatif --scenario`)",
                           scenarios.scenarios_toml(ss.scenarios).encode("utf-8"),
                           file_name="scenarios.toml", mime="application/toml", key="dl_toml")
    if c.round_trip and ss.scenarios:
        st.caption("Scenarios read the latency budget one way (a scenario file has no round-trip option).")
    if ss.comparison is not None:
        summ, per = ss.comparison
        st.dataframe(summ, hide_index=True, width="stretch")
        st.caption("Stations per 10k by district")
        st.dataframe(per, width="stretch")


def edge_charging_tab(edge: EdgePlan | None, chg: ChargingPlan | None) -> None:
    if edge is not None:
        s = edge.summary
        e1, e2, e3, e4 = st.columns(4)
        e1.metric("Edge data centres", f"{len(edge.sites)}", f"{s.new} new", delta_color="off")
        e2.metric("Latency circle radius", f"{s.radius_km:,.1f} km")
        e3.metric("Demand weight within the circle", _pct(s.covered_share))
        e4.metric("Worst one-way latency", f"{s.max_latency_ms:.3f} ms")
        st.caption(f"{s.demand_points} demand points (ports, parks, hospitals, schools, hubs); mean one-way "
                   f"latency {s.mean_latency_ms:.3f} ms; latency model {s.latency_model['reading']}, "
                   f"fibre {s.fibre_km:,.0f} km. Modelled: {', '.join(s.modelled_layers) or 'none'}.")
        st.dataframe(edge.districts, hide_index=True, width="stretch")
    else:
        st.info("No edge data-centre plan: the project needs an edge_demand layer.")
    if chg is not None:
        cs = chg.summary
        new = cs.new_car_parks
        h1, h2, h3, h4 = st.columns(4)
        h1.metric("New car parks compliant", f"{new.compliant} / {new.car_parks}")
        h2.metric("Charging spaces to add", f"{new.to_add:,}", f"{new.from_reserved:,} on reserved spaces",
                  delta_color="off")
        h3.metric("New public charging stations", f"{cs.new_stations:,}")
        h4.metric("Core residents within the radius", _pct(cs.core_within_share_after),
                  f"{100 * (cs.core_within_share_after - cs.core_within_share_now):+.1f} pts")
        st.caption(f"Share {cs.share:.0%} of spaces in new public car parks; service radius "
                   f"{cs.radius_m:,.0f} m ({cs.radius_source}).")
        st.dataframe(chg.districts, hide_index=True, width="stretch")
    else:
        st.info("No charging check: the project needs a car_parks layer.")


def download_plan(proj: gp.Project, c: Controls, shown: Shown, grid: Any, edge: EdgePlan | None,
                  chg: ChargingPlan | None) -> planfile.PlanFile:
    """The plan on screen as a plan file, with the method and every setting that made it."""
    planned = shown.planned if shown.kept_gdf is None else pd.concat([shown.planned, shown.kept_gdf],
                                                                     ignore_index=True)
    s = shown.summary
    params: dict[str, Any] = {"total": c.total, "year": c.year, **c.settings.to_dict(), "optimised": shown.optimised,
                              "kept_drawn_sites": 0 if shown.kept_gdf is None else len(shown.kept_gdf)}
    if isinstance(s, PlanSummary):
        params |= {"method": s.method, "status": s.status, "gap": s.gap, "engine": s.engine}
    parts = [planfile.site_layers_plan(proj, gpd.GeoDataFrame(planned, geometry="geometry", crs=4490), shown.table,
                                       year=c.year, method=f"geoplan map app — {shown.mode}", parameters=params,
                                       summary=s.to_dict(), coverage=grid)]
    if edge is not None:
        parts.append(planfile.edge_plan(proj, edge))
    if chg is not None:
        parts.append(planfile.charging_plan(proj, chg))
    return planfile.merge_plans(parts)


def downloads_tab(proj: gp.Project, c: Controls, shown: Shown, grid: Any, edge: EdgePlan | None,
                  chg: ChargingPlan | None) -> None:
    ss = st.session_state
    fmt_labels = {"gpkg": "GeoPackage (.gpkg)", "shp": "Shapefiles (.zip)", "geojson": "GeoJSON (.zip)",
                  "gdb": "File geodatabase (.gdb.zip)"}
    fmts = [f for f in fmt_labels if f in export.FORMATS]
    x1, x2 = st.columns(2)
    fmt = x1.selectbox("Format", fmts, format_func=fmt_labels.get, key="export_format")
    crs = x2.selectbox("Coordinates", ["EPSG:4490", "auto-gk", "EPSG:4548"], key="export_crs",
                       format_func=lambda v: {"EPSG:4490": "CGCS2000 geographic (EPSG:4490)",
                                              "auto-gk": "CGCS2000 Gauss-Krüger, zone from the data",
                                              "EPSG:4548": "CGCS2000 / 3° GK CM 117°E (EPSG:4548)"}[v])
    st.caption("Layers: districts with the density check, existing sites, planned sites (with kept drawn "
               "sites), edge data centres, car parks with the charging share rule, new charging stations, the "
               "density table and the coverage grid, with one-map names, codes, Chinese aliases and domains; "
               "and the plan file (…_plan.gpkg) that `geoplan export --from` and `geoplan report --from` read.")
    dl_key = (shown.scen_key, shown.optimised, fmt, crs, c.edge_count, c.latency_ms, c.round_trip, c.share)
    if st.button("Prepare download", key="build_export"):
        with st.spinner("Writing the layers …"):
            try:
                plan = download_plan(proj, c, shown, grid, edge, chg)
                stem = f"geoplan_{c.total}_{c.year}"
                files = export.export_files(proj, stem=stem, format=fmt, plan_file=plan, crs=crs)
                files.append((f"{stem}_plan.gpkg", planfile.plan_bytes(plan), "application/geopackage+sqlite3"))
            except GeoplanError as exc:
                st.error(str(exc))
            else:
                ss.downloads = {"key": dl_key, "files": files}
    if ss.downloads is not None and ss.downloads["key"] == dl_key:
        for i, (fname, data, mime) in enumerate(ss.downloads["files"]):
            st.download_button(f"Download {fname} ({len(data) / 1e6:,.1f} MB)", data, file_name=fname,
                               mime=mime, key=f"dl_file_{i}")


def province_page(proj: gp.Project, plan: Plan) -> None:
    """A province is placed county by county (no in-memory what-if): check, then Optimise."""
    ss = st.session_state
    sb = st.sidebar
    year = sb.selectbox("Target year", plan.years, index=len(plan.years) - 1, key="year")
    settings = settings_controls(sb, proj)
    st.title(proj.name)
    st.info("Province scale: sites are placed county by county (memory bounded); the quick what-if slider is "
            "for city projects. Press Optimise to place the sites for the year's targets (this takes a while).")
    rep = gp.targets.check(proj, year=year)
    st.dataframe(rep.table, hide_index=True, width="stretch")
    if st.button(f"Optimise {year}", key="optimise", type="primary"):
        bar = st.progress(0.0, text="placing sites county by county …")
        try:
            ss.province_plan = gp.placement.place_sites(
                proj, year=year, settings=settings,
                progress=lambda f, msg: bar.progress(float(min(max(f, 0.0), 1.0)), text=msg))
        except GeoplanError as exc:
            st.error(str(exc))
    res = ss.get("province_plan")
    if res is not None:
        s = res.summary
        st.metric("New sites", f"{s.new:,}")
        st.caption(f"{s.stations:,} stations, {s.per_10k}/10k vs target {s.target_per_10k:g}; coverage "
                   f"({s.band}, {s.users} users) {_pct(s.coverage_before)} → {_pct(s.coverage_after)}.")
        st.dataframe(res.districts, hide_index=True, width="stretch")


def main() -> None:
    st.set_page_config(page_title="geoplan — new infrastructure plan", layout="wide")
    ss = st.session_state
    for k, v in {"kept": [], "optimised": None, "scenarios": [], "comparison": None, "map_version": 0,
                 "downloads": None}.items():
        ss.setdefault(k, v)
    if not st.get_option("server.enableStaticServing"):
        st.warning("Static file serving is off, so the map's Leaflet files cannot load. Start the app with "
                   "`make app` (from the repository root, which reads .streamlit/config.toml) or add "
                   "`--server.enableStaticServing true`.")
    path = _project_arg()
    key = str(Path(path).resolve()) if path else "embedded"
    try:
        proj = load(path)
    except GeoplanError as exc:
        st.error(f"The project could not be loaded:\n\n{exc}")
        st.stop()
    plan = load_plan(proj.plan)
    if choose_engine(proj) == "chunked":
        province_page(proj, plan)
        return

    # ---------------- controls ----------------
    sb = st.sidebar
    sb.header("What if …")
    year = sb.selectbox("Target year", plan.years, index=len(plan.years) - 1, key="year",
                        help="The plan's stations-per-10k target of this year sets each district's quota.")
    slider_box = sb.container()
    settings = settings_controls(sb, proj)
    try:
        ctx = context(proj, key, settings.context_key())
    except GeoplanError as exc:
        st.error(str(exc))
        st.stop()
    existing = int(ctx.existing_per_district.sum())
    table0, total0, consistency, modelled_layers = check_table(proj, key, year)
    shortfall = int(table0["shortfall"].sum())
    low, max_total, default = slider_range(plan, existing, shortfall, int(ctx.coverage.shape[1]))
    st_target = plan.text_target("5g_stations")
    with slider_box:
        total = st.slider("Total 5G stations (existing + new)", min_value=low, max_value=max_total,
                          value=default, step=SLIDER_STEP, key="total",
                          help=f"{existing:,} exist; the plan states {int(st_target.value):,} by {st_target.year}."
                          if st_target else f"{existing:,} exist.")
    c = Controls(year=year, total=total, settings=settings, **side_controls(sb, plan))
    modelled = modelled_notice(sb, proj, modelled_layers, ctx)

    # ---------------- plan ----------------
    try:
        shown = current_plan(proj, key, ctx, c, max_total=max_total, need_all=existing + shortfall)
    except GeoplanError as exc:
        st.error(str(exc))
        st.stop()
    headline(proj, plan, c, shown)
    method = optimise_controls(proj, ctx, c, shown)

    # ---------------- map ----------------
    edge, chg, car_parks = edge_and_charging(sb, proj, key, c)
    map_col, side = st.columns([3, 1.3])
    with map_col:
        grid, state = render_map(sb, proj, key, ctx, c, shown, modelled, edge, chg, car_parks)
    with side:
        drawings_panel(ctx, c, shown, state)

    # ---------------- panels ----------------
    t_d, t_s, t_e, t_x = st.tabs(["Districts", "Scenario comparison", "Edge & charging", "Downloads"])
    with t_d:
        districts_tab(c, shown, total0, consistency)
    with t_s:
        scenarios_tab(proj, ctx, c, method, edge, chg)
    with t_e:
        edge_charging_tab(edge, chg)
    with t_x:
        downloads_tab(proj, c, shown, grid, edge, chg)


main()
