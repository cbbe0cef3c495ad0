"""geoplan map app: a planner's workspace — see the plan, draw sites and areas, run what-ifs, download.

Run it with ``make app`` (the embedded Xiamen project), or::

    streamlit run apps/streamlit_app.py -- --project path/to/geoplan.toml

(or set ``GEOPLAN_PROJECT``). Everything is computed by the ``geoplan`` library;
this file only reads the controls, calls the library and draws the answers.

Durable work
------------
The session — settings, drawn sites and areas, kept sites, scenarios and the
optimised plan — is a :class:`geoplan.workspace.Workspace`, saved to its JSON
file on every change (``$GEOPLAN_WORKSPACE_DIR``, default
``~/.local/share/geoplan/workspaces/<project>/<name>.json``) and opened again on
reload. The settings and the workspace name are in the URL, so a link shares a
view. Drawings are restored onto the map from the workspace; every control that
changes a layer swaps a feature group, so the map keeps its drawings, zoom and
layer choices. Undo and redo step through drawings, kept sites, scenarios and
the optimised plan.

How the station slider stays fast (about a second per move)
-----------------------------------------------------------
The app runs the greedy optimiser once per (year, band, users, site mix) for the
largest total the slider offers (kept on disk between runs with the planning
context: :mod:`geoplan.placement.cache`), and a slider move evaluates the first N
sites of that greedy order (``evaluate_sites``, ~0.05 s). When the total covers
every district's shortfall, those first N sites *are* the greedy plan for N;
below that the app labels the numbers "quick estimate". **Optimise** runs the
optimiser for exactly the chosen total in the background (:class:`geoplan.runs.Run`)
with live progress and a cancel; its result replaces the estimate until a
control changes.
"""

from __future__ import annotations

import os
import time

if os.environ.get("GEOPLAN_APP_TRACE"):
    print(f"[trace] {time.time():.3f} script start", flush=True)

import json
import sys
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from pyproj import Transformer
from streamlit_folium import st_folium

import geoplan as gp
from geoplan import drawing, export, mapimage, planfile, radio, scenarios
from geoplan import workspace as wsp
from geoplan.areas import candidate_mask, restrict_context
from geoplan.charging import ChargingPlan
from geoplan.edge import EdgePlan
from geoplan.errors import ConfigError, GeoplanError
from geoplan.placement import (
    CANDIDATE_GENERATORS,
    MAX_SNAP_M,
    NETWORK_BANDS,
    NETWORKS,
    SITE_TYPES,
    PlanningContext,
    PlanSettings,
    PlanSummary,
    SitingSummary,
    Totals,
    choose_engine,
    evaluate_sites,
    place_sites,
    plan_siting,
    snap_sites,
)
from geoplan.placement._memory import site_conflicts, sites_frame
from geoplan.placement.costing import COST_NOTE
from geoplan.runs import Run, why_less_than_estimate
from geoplan.targets import Plan, plan_of
from geoplan.webmap import (
    BASEMAPS,
    ST_FOLIUM_BASE_URL,
    PointData,
    base_map,
    coverage_grid,
    coverage_overlay,
    plan_layers,
    planned_points,
    side_layers,
    site_density_overlay,
    siting_layers,
    tile_group,
    use_local_assets,
)
from geoplan.webmap.i18n import (
    LANGS,
    TEXT,
    basis_text,
    column_label,
    coverage_refers,
    default_lang,
    district_tooltip,
    error_text,
    label_columns,
    layer_name,
    map_word,
    money,
    money_parts,
    percent,
    progress_text,
    t,
    value_word,
)
from geoplan.webmap.localtiles import local_tile_group, local_tiles
from geoplan.webmap.map import SITES_MIN_ZOOM, MapReady

if str(Path(__file__).resolve().parent) not in sys.path:  # `streamlit run` adds the script's folder; AppTest does not
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from appdata import (  # noqa: E402 - the caches shared with apps/serve.py's warm-up
    BASEMAP_KEYS,
    PAGE_STARTED,
    SIDE_READY,
    SLIDER_STEP,
    car_parks_compliance,
    charging_plan,
    check_table,
    context,
    default_settings,
    edge_plan,
    greedy_order,
    load,
    plan_settings,
    project_arg,
    project_key,
    settings_ok,
    siting_data,
    slider_range,
    static_layers,
    workspace_folder,
)

MAP_HEIGHT = 640  # pixels before the page's CSS makes the map fill the window (see _style)
ROLE_KEYS = {r: f"role_{r}" for r in wsp.AREA_ROLES}


def trace(what: str) -> None:
    """With ``GEOPLAN_APP_TRACE`` set, print a timestamped step (the browser test's start-up breakdown)."""
    if os.environ.get("GEOPLAN_APP_TRACE"):
        print(f"[trace] {time.time():.3f} {what}", flush=True)


trace("imports done")


# ----------------------------------------------------------------------------------------------
# Layers built per run from the shared caches (apps/appdata.py)
# ----------------------------------------------------------------------------------------------


def siting_groups(ctx: PlanningContext, key: str, lang: str) -> list[folium.FeatureGroup]:
    """Fresh groups every run (a folium element belongs to one map), from cached data."""
    points, zones, n = siting_data(ctx, key, ctx.settings)
    return siting_layers(points=points, zones=zones, n_layers=n, lang=lang)


# ----------------------------------------------------------------------------------------------
# The workspace: opened once per browser session, saved on every change
# ----------------------------------------------------------------------------------------------


def open_workspace(key: str, plan: Plan, lang0: str) -> None:
    """On a session's first run: open the workspace named in the URL (or the default) and set the controls."""
    ss = st.session_state
    if "history" in ss:
        return
    folder = workspace_folder(key)
    try:
        name = wsp.check_name(st.query_params.get("ws") or wsp.DEFAULT_NAME)
    except GeoplanError:
        name = wsp.DEFAULT_NAME
    ws = wsp.Workspace(name=name, project=key)
    if name in wsp.list_workspaces(folder=folder):
        try:
            ws = wsp.load_workspace(name, folder=folder)
        except GeoplanError as exc:
            ss.ws_error = error_text(exc, lang0)
    linked, problems = wsp.settings_from_query(dict(st.query_params))
    if problems:
        ss.ws_error = error_text(ConfigError(problems, where="the link"), lang0)
    apply_settings({"lang": lang0, **ws.settings, **linked}, plan)
    ss.history = wsp.History(ws)
    ss.saved = ws.to_dict()
    ss.draw_rev = uuid.uuid4().hex


def apply_settings(settings: dict[str, Any], plan: Plan) -> None:
    """Put saved settings into the controls' session state (before the controls are drawn)."""
    ss = st.session_state
    for k, v in settings.items():
        if k in wsp.SETTINGS and settings_ok(k, v, plan):
            ss[k] = v
    if "total" in ss:
        ss.total_box = ss.total


def save_workspace(settings: dict[str, Any]) -> None:
    """Record the controls in the workspace; write it when anything changed; put the settings in the URL."""
    ss = st.session_state
    hist: wsp.History = ss.history
    hist.push(replace(hist.current, settings=settings))
    doc = hist.current.to_dict()
    doc.pop("saved_at")
    if doc != ss.saved:
        try:
            hist.current = wsp.save_workspace(hist.current, folder=workspace_folder(hist.current.project))
        except GeoplanError as exc:
            st.sidebar.error(error_text(exc, ss.get("lang", "zh")), icon=":material/error:")
        ss.saved = doc
    query = {"ws": hist.current.name, **wsp.settings_to_query(settings)}
    if dict(st.query_params) != query:
        st.query_params.from_dict(query)


def change(ws: wsp.Workspace, *, redraw: bool = False) -> None:
    """Make ``ws`` the workspace (an undo step); ``redraw`` puts its drawings back onto the map."""
    ss = st.session_state
    ss.history.push(ws)
    if redraw:
        ss.draw_rev = uuid.uuid4().hex


# ----------------------------------------------------------------------------------------------
# Controls
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
    tile_url: str
    tile_crs: str
    tianditu_key: str | None
    lang: str
    tile_file: str = ""
    siting_layers: bool = False


def _defaults(proj: gp.Project, plan: Plan) -> None:
    for k, v in default_settings(proj, plan).items():
        st.session_state.setdefault(k, v)


def settings_controls(sb: Any, proj: gp.Project, lang: str) -> PlanSettings:
    """Network, band of new sites, users, site mix and candidate source."""
    ss = st.session_state
    nets = proj.radio_params.networks
    network = sb.selectbox(t("network", lang), list(NETWORKS), key="network", help=t("network_help", lang),
                           format_func=lambda k: t("net_any", lang) if k == "any" else nets[k].name if lang == "zh"
                           else f"{nets[k].name} ({k})")
    bands = list(radio.BANDS) if network == "any" else list(nets[network].bands)
    before = ss.get("band_network")
    if (before is not None and before != network) or ss.get("band") not in bands:
        ss.band = NETWORK_BANDS[network]  # another network, or a saved band it does not build: the network's band
    ss.band_network = network
    band = sb.selectbox(t("band", lang), bands, key="band", help=t("band_help", lang),
                        format_func=lambda b: f"{b} — {radio.BANDS[b].fc_ghz:g} GHz")
    indoor = sb.checkbox(t("indoor", lang), key="indoor", help=t("indoor_help", lang))
    sb.caption(coverage_refers(network, band, indoor, lang))  # what every coverage figure of the page refers to
    mix_mode = sb.radio(t("mix_mode", lang), ["env", "custom"], key="mix_mode", horizontal=True,
                        format_func=lambda m: t("mix_env" if m == "env" else "mix_custom", lang))
    if mix_mode == "custom":
        macro = sb.slider(t("macro_pct", lang), 0, 100, step=5, key="macro")
        st.session_state.micro = min(st.session_state.micro, 100 - macro)
        micro = sb.slider(t("micro_pct", lang), 0, 100 - macro, step=5, key="micro") if macro < 100 else 0
        sb.caption(t("indoor_pct", lang, pct=100 - macro - micro))
    has_inventory = proj.layer("candidates") is not None or bool(proj.siting.group("inventories"))
    choices = [c for c in CANDIDATE_GENERATORS if c != "none" or has_inventory]
    if st.session_state.get("candidates") not in choices:
        st.session_state.candidates = "population"
    candidates = sb.selectbox(t("candidates", lang), choices, key="candidates",
                              format_func=lambda k: value_word("candidates", k, lang), help=t("cand_help", lang))
    weight = sb.number_input(t("cost_weight", lang), min_value=0.0, max_value=1000.0, step=5.0, key="cost_weight",
                             help=t("cost_weight_help", lang))
    settings = plan_settings(proj, {"network": network, "band": band, "indoor": indoor, "mix_mode": mix_mode,
                                    "macro": ss.macro, "micro": ss.micro, "candidates": candidates,
                                    "cost_weight": weight})  # the same as the server's warm-up makes
    return settings


def _box_to_slider(low: int, high: int) -> None:
    ss = st.session_state
    v = int(round(float(ss.total_box) / SLIDER_STEP) * SLIDER_STEP)
    ss.total = ss.total_box = min(max(v, low), high)


def total_controls(box: Any, plan: Plan, existing: int, rng: tuple[int, int, int], lang: str) -> int:
    """The station slider with a number box beside it (typing a number reruns once, not per arrow press)."""
    ss = st.session_state
    low, high, first = rng
    ss.setdefault("total", first)
    ss.total = min(max(int(ss.total), low), high)
    ss.total_box = ss.total
    st_target = plan.text_target("5g_stations")
    helptext = (t("total_help", lang, existing=existing, stated=int(st_target.value), year=st_target.year)
                if st_target else f"{existing:,}")
    c1, c2 = box.columns([2.2, 1])
    c1.slider(t("total", lang), min_value=low, max_value=high, step=SLIDER_STEP, key="total", help=helptext,
              on_change=lambda: st.session_state.update(total_box=st.session_state.total))
    c2.number_input(t("total_box", lang), min_value=low, max_value=high, step=SLIDER_STEP, key="total_box",
                    on_change=_box_to_slider, args=(low, high))
    return int(ss.total)


def side_controls(sb: Any, proj: gp.Project, lang: str) -> dict[str, Any]:
    """Edge, charging and base-map controls (with their validation next to them)."""
    out: dict[str, Any] = {}
    with sb.expander(t("edge_charging", lang)):
        out["edge_count"] = int(st.number_input(t("edge_count", lang), 1, 500, key="edge_count"))
        demand = proj.layer("edge_demand")
        if demand is not None and out["edge_count"] > len(demand):
            st.warning(t("edge_too_many", lang, count=out["edge_count"], points=len(demand)), icon=":material/warning:")
        out["latency_ms"] = float(st.number_input(t("latency", lang), 0.2, 20.0, step=0.1, key="latency_ms"))
        st.session_state["edge_error_box"] = st.empty()
        out["round_trip"] = bool(st.checkbox(t("round_trip", lang), key="round_trip"))
        out["share"] = float(st.slider(t("share", lang), 0.05, 0.60, step=0.01, key="charging_share",
                                       format="%.2f"))
        st.caption(percent(out["share"], 0))
        st.session_state["charging_error_box"] = st.empty()
    with sb.expander(t("basemap", lang)):
        out["basemap"] = st.selectbox(t("tiles", lang), BASEMAP_KEYS, key="basemap",
                                      format_func=lambda k: t(f"tiles_{k}", lang) if f"tiles_{k}" in TEXT
                                      else BASEMAPS[k].label)  # type: ignore[union-attr]
        out["tile_url"] = st.text_input(t("tile_url", lang), key="tile_url") if out["basemap"] == "custom" else ""
        out["tile_crs"] = st.selectbox(t("tile_crs", lang), ["EPSG:3857", "EPSG:4490"], key="tile_crs") \
            if out["basemap"] == "custom" else "EPSG:3857"
        out["tianditu_key"] = st.text_input(t("tk", lang), value=os.environ.get("GEOPLAN_TIANDITU_KEY", ""),
                                            type="password", key="tk") if out["basemap"] == "tianditu" else None
        out["tile_file"] = st.text_input(t("tile_file", lang), key="tile_file", help=t("tile_file_help", lang),
                                         placeholder="/data/basemap/xiamen.mbtiles") if out["basemap"] == "local" \
            else ""
        st.session_state["basemap_error_box"] = st.empty()
        st.caption(t("tiles_note", lang))
        out["siting_layers"] = bool(st.checkbox(t("siting_layers", lang), key="siting_layers",
                                                help=t("siting_layers_help", lang)))
    return out


def modelled_notice(sb: Any, proj: gp.Project, modelled_layers: tuple[str, ...], ctx: PlanningContext,
                    lang: str) -> list[str]:
    """Name the modelled layers in the sidebar; returns their keys."""
    modelled = sorted(set(modelled_layers) | ({"candidates"} if ctx.candidates_modelled else set()))
    if modelled:  # in Chinese the layers' names (the project file's English notes are in the English interface)
        notes = [t("modelled_line", lang, name=layer_name(k, lang), layer=k,
                   note=proj.provenance.get(k, {}).get("note") or t("modelled_default", lang))
                 for k in modelled if k != "candidates"]
        if ctx.candidates_modelled:
            notes.append(t("modelled_cands", lang, name=layer_name("candidates", lang), n=ctx.coverage.shape[1],
                           how=value_word("candidates", ctx.settings.candidates, lang)))
        sb.warning(t("modelled", lang) + "\n\n" + "\n".join(notes), icon=":material/warning:")  # no emoji scan
    return modelled


# ----------------------------------------------------------------------------------------------
# The plan on screen
# ----------------------------------------------------------------------------------------------


@dataclass
class Shown:
    """The plan on screen: selected candidates, district table and totals, and how they were made."""

    sel: np.ndarray
    table: pd.DataFrame
    summary: Totals
    planned_pts: PointData
    planned: gpd.GeoDataFrame
    mode: str
    optimised: bool
    key: dict[str, Any]
    kept_gdf: gpd.GeoDataFrame | None = None
    drawn_radius: np.ndarray | None = None
    opt: dict[str, Any] = field(default_factory=dict)
    siting: SitingSummary | None = None


def _kept_frame(kept: tuple[wsp.Drawing, ...], gains: np.ndarray, first_rank: int) -> gpd.GeoDataFrame:
    """Sites the planner kept, as ``planned_sites`` rows (SOURCE = drawn)."""
    return gpd.GeoDataFrame({
        "SITE_ID": [f"D{k + 1:05d}" for k in range(len(kept))],
        "SITE_TYPE": [s.site_type for s in kept],
        "RANK": np.arange(first_rank, first_rank + len(kept), dtype=np.int64),
        "GAIN_POP": np.round(np.asarray(gains, dtype=float), 1), "SOURCE": "drawn",
    }, geometry=gpd.points_from_xy([s.lonlat[0] for s in kept], [s.lonlat[1] for s in kept]), crs=4490)


def plan_key(c: Controls, ws: wsp.Workspace) -> dict[str, Any]:
    """What an optimised plan was made for (compared to decide whether it still applies)."""
    return {"total": c.total, "year": c.year, "settings": c.settings.to_dict(),
            "kept": [[*s.lonlat, s.site_type] for s in ws.kept],
            "areas": [[a.role, a.ring] for a in ws.areas() if a.role != "evaluation"]}


def allowed(ctx: PlanningContext, ws: wsp.Workspace) -> np.ndarray | None:
    """Candidates outside exclusion areas (and inside candidate areas, if any), or None without such areas."""
    ex, cand = [a.ring for a in ws.areas("exclusion")], [a.ring for a in ws.areas("candidate")]
    return candidate_mask(ctx, exclusion=ex, candidate=cand) if ex or cand else None


def optimised_plan(ctx: PlanningContext, c: Controls, opt: dict[str, Any], key: dict[str, Any],
                   lang: str) -> Shown:
    """The saved optimised plan, evaluated again (only its candidate columns and status are saved)."""
    ss = st.session_state
    sel = np.asarray(opt["selected"], dtype=np.int64)
    cache_id = (id(ctx), tuple(sel.tolist()))
    if ss.get("opt_cache", (None,))[0] != cache_id:
        sites = sites_frame(ctx, sel, build_year=c.year)
        ss.opt_cache = (cache_id, sites, planned_points(sites), evaluate_sites(ctx, sel, year=c.year))
    _, sites, pts, ev = ss.opt_cache
    gap = t("gap_part", lang, gap=percent(opt["gap"], 2)) if opt.get("gap") is not None else ""
    mode = t("mode_opt", lang, method=t(opt["method"], lang), total=c.total, status=value_word("status", opt["status"], lang),
             gap=gap)
    if key["kept"]:
        mode += t("mode_opt_kept", lang, n=len(key["kept"]), d=max(opt.get("snap_m") or [0.0]), lim=MAX_SNAP_M)
    return Shown(sel, ev.districts, ev.summary, pts, sites, mode, True, key, opt=opt,
                 siting=plan_siting(ctx, sel, cost_weight=ctx.cost_weight(c.settings)))


def current_plan(proj: gp.Project, key: str, ctx: PlanningContext, c: Controls, ws: wsp.Workspace, *,
                 max_total: int, need_all: int, lang: str) -> Shown:
    """The optimised plan for exactly these controls, or the prefix of the greedy order (with kept sites)."""
    pkey = plan_key(c, ws)
    if ws.optimised is not None and ws.optimised.get("key") == pkey:
        return optimised_plan(ctx, c, dict(ws.optimised), pkey, lang)
    with st.spinner(t("sp_order", lang)):
        order, order_sites, order_points = greedy_order(proj, ctx, key, c.settings, c.year, max_total)
    mask = allowed(ctx, ws)
    idx = np.arange(len(order)) if mask is None else np.flatnonzero(mask[order])
    kept = ws.kept
    n_opt = max(c.total - int(ctx.existing_per_district.sum()) - len(kept), 0)
    take = idx[:n_opt]
    sel = np.asarray(order[take], dtype=np.int64)
    pts = order_points.head(n_opt) if mask is None else PointData.from_frame(order_sites.iloc[take], list(
        order_points.columns))
    kept_gdf = radius = None
    if kept:
        lonlat = np.array([s.lonlat for s in kept], dtype=float).reshape(-1, 2)
        dp = drawing.plan_with_drawn(ctx, sel, lonlat, site_type=[s.site_type or "macro" for s in kept], year=c.year)
        table, summary = dp.districts, dp.summary
        kept_gdf, radius = _kept_frame(kept, dp.evaluation.site_gain, n_opt + 1), dp.evaluation.site_radius_m
    else:
        ev = evaluate_sites(ctx, sel, year=c.year)
        table, summary = ev.districts, ev.summary
    shown = Shown(sel, table, summary, pts, order_sites.iloc[take], "", False, pkey, kept_gdf, radius,
                  siting=plan_siting(ctx, sel, cost_weight=ctx.cost_weight(c.settings)))
    is_plan = not kept and mask is None and c.total >= need_all
    shown.mode = (t("mode_greedy", lang, n=n_opt, total=c.total) if is_plan else t(
        "mode_estimate", lang, n=n_opt, max=max_total, kept=t("mode_kept", lang, n=len(kept)) if kept else ""))
    if mask is not None:
        shown.mode += t("mode_excluded", lang, n=int((~mask).sum()))
    shown.opt = {"estimate_is_plan": is_plan}
    return shown


def reuse_line(shown: Shown, lang: str) -> str | None:
    """What the plan's new sites reuse and save, and their soft conflicts (shown under the map)."""
    si = shown.siting
    if si is None or not si.sites:
        return None
    fam = si.reused_by_family
    return t("reuse_caption", lang, reused=si.reused, sites=si.sites, tower=fam["tower"], pole=fam["pole"],
             rooftop=fam["rooftop"], savings=si.savings, soft=si.soft_conflict_sites)


def headline(proj: gp.Project, plan: Plan, c: Controls, shown: Shown, lang: str) -> None:
    """Title and the five headline numbers (the fifth: site cost and what reuse saves)."""
    s = shown.summary
    target = float(s.target_per_10k)
    st.markdown(f"#### {proj.name}")
    st.caption(t("target_caption", lang, title=plan.title, doc=plan.document, year=c.year, target=target))
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.metric(t("stations", lang), f"{s.stations:,}", t("new_delta", lang, n=s.new), delta_color="off")
    per = s.per_10k or 0.0
    c2.metric(t("per_10k", lang), f"{per:.2f}", t("vs_target", lang, d=per - target), delta_color="normal")
    c3.metric(t("meeting", lang), f"{s.districts_meeting_target} / {s.districts}")
    refers = coverage_refers(c.settings.network, c.settings.band, c.settings.indoor, lang)
    c4.metric(t("covered", lang), percent(s.coverage_after),
              t("pts_today", lang, d=100 * (s.coverage_after - s.coverage_before))
              if s.coverage_before is not None and s.coverage_after is not None else None,
              help=t("covered_help", lang, refers=refers))  # and under the settings in the sidebar
    si = shown.siting
    if si is not None and si.sites:
        value, unit = money_parts(si.cost_total, lang)  # the unit in the label: "1.23 亿元" did not fit at 1280 px
        c5.metric(t("site_cost_in", lang, unit=unit), value,
                  t("savings_delta", lang, v=money(si.savings, lang)) if si.savings else None, delta_color="off",
                  help=t("cost_note", lang, note=COST_NOTE))
    st.caption(shown.mode)
    opt = shown.opt
    if shown.optimised and opt.get("estimate_covered") is not None and s.coverage_after is not None:
        why = why_less_than_estimate(status=opt["status"], gap=opt.get("gap"), time_limit_s=opt["time_limit_s"],
                                     total=c.total, covered=s.coverage_after, estimate_covered=opt["estimate_covered"],
                                     estimate_is_plan=opt["estimate_is_plan"])
        if why is not None:
            gap = percent(opt.get("gap"), 2)
            text = {"time_limit": t("why_time", lang, lim=opt["time_limit_s"], gap=gap),
                    "cancelled": t("why_cancel", lang, gap=gap), "quotas": t("why_quota", lang, total=c.total)}[why]
            st.info(t("exact_less", lang, a=percent(s.coverage_after), b=percent(opt["estimate_covered"]), why=text), icon=":material/info:")


# ----------------------------------------------------------------------------------------------
# Optimise in the background: progress, cancel, result
# ----------------------------------------------------------------------------------------------


def start_run(proj: gp.Project, ctx: PlanningContext, c: Controls, ws: wsp.Workspace, shown: Shown,
              method: str, time_limit_s: float) -> None:
    """Start optimising exactly ``c.total`` stations in the background."""
    mask = allowed(ctx, ws)
    ctx_r, cols = restrict_context(ctx, mask) if mask is not None else (ctx, np.arange(ctx.coverage.shape[1]))
    kept = ws.kept
    fixed = None
    if kept:
        lon, lat = np.array([s.lonlat for s in kept], dtype=float).T
        x, y = Transformer.from_crs(4490, proj.metric_crs, always_xy=True).transform(lon, lat)
        fixed = np.column_stack([x, y])

    def work(progress: Any, cancel: Any) -> dict[str, Any]:
        res = place_sites(proj, total=c.total, year=c.year, method=method, context=ctx_r, fixed_xy=fixed,
                          cost_weight=ctx.cost_weight(c.settings),
                          time_limit_s=time_limit_s, progress=progress, cancel=cancel)
        s = res.summary
        snap = snap_sites(ctx_r, fixed).distance_m.tolist() if fixed is not None else []
        return {"key": shown.key, "selected": cols[np.asarray(res.placement.selected)].tolist(), "method": method,
                "status": s.status, "gap": s.gap, "runtime_s": s.runtime_s, "time_limit_s": time_limit_s,
                "snap_m": snap, "estimate_covered": shown.summary.coverage_after,
                "estimate_is_plan": bool(shown.opt.get("estimate_is_plan"))}

    st.session_state.run = {"run": Run(work).start(), "total": c.total, "method": method, "limit": time_limit_s}
    st.session_state.run_error = None


@st.fragment(run_every=0.5)
def run_status() -> None:
    """Live progress of the background run (solver's best plan, bound, gap), with a cancel button."""
    ss = st.session_state
    job = ss.get("run")
    if not job:
        return
    lang, r = ss.get("lang", "zh"), job["run"]
    if r.done:
        st.rerun(scope="app")
    limit = job["limit"] if job["method"] == "exact" else max(r.elapsed_s, 1.0)
    st.progress(min(max(r.fraction, r.elapsed_s / limit if job["method"] == "exact" else r.fraction), 0.99),
                text=t("running", lang, total=job["total"], method=t(job["method"], lang), s=r.elapsed_s, lim=limit))
    st.caption(t("cancelling", lang) if r.cancelled else progress_text(r.message, lang))
    if st.button(t("cancel", lang), key="cancel_run", disabled=r.cancelled):
        r.cancel()


def finish_run() -> None:
    """Take a finished run's plan into the workspace (or its error next to the Optimise button)."""
    ss = st.session_state
    job = ss.get("run")
    if not job or not job["run"].done:
        return
    ss.run = None
    r = job["run"]
    if r.error is not None:
        ss.run_error = error_text(r.error, ss.get("lang", "zh")) if isinstance(r.error, GeoplanError) \
            else f"{type(r.error).__name__}: {r.error}"
        return
    change(replace(ss.history.current, optimised=r.result))
    ss.run_note = t("cancelled", ss.get("lang", "zh")) if r.result["status"] == "cancelled" else None


def optimise_controls(sb: Any, proj: gp.Project, ctx: PlanningContext, c: Controls, ws: wsp.Workspace,
                      shown: Shown, lang: str) -> str:
    """The optimiser, its time limit, the Optimise button and the running job; returns the method."""
    ss = st.session_state
    method = sb.radio(t("optimiser", lang), ["greedy", "exact"], horizontal=True, key="method",
                      format_func=lambda m: t(m, lang))
    limit = float(sb.number_input(t("time_limit", lang), 5.0, 3600.0, step=5.0, key="time_limit_s")) \
        if method == "exact" else 60.0
    running = bool(ss.get("run"))
    if sb.button(t("optimise", lang, total=c.total), key="optimise", type="primary", disabled=running):
        start_run(proj, ctx, c, ws, shown, method, limit)
        running = True
    if running:
        with sb:
            run_status()
    if ss.get("run_error"):
        sb.error(ss.run_error, icon=":material/error:")
    if ss.get("run_note"):
        sb.info(ss.run_note, icon=":material/info:")
    return str(method)


# ----------------------------------------------------------------------------------------------
# The map
# ----------------------------------------------------------------------------------------------


def edge_and_charging(proj: gp.Project, key: str, c: Controls
                      ) -> tuple[EdgePlan | None, ChargingPlan | None, gpd.GeoDataFrame | None]:
    """Edge and charging plans; an error shows next to the control that caused it."""
    ss = st.session_state
    edge = None
    if not ss.get("side_ready"):  # a session's first run draws the map first; these follow a moment later,
        if (c.edge_count, c.latency_ms, c.round_trip, c.share) not in SIDE_READY:  # unless made at server start
            return None, None, None
        ss.side_ready = True
    if proj.layer("edge_demand") is not None:
        try:
            with st.spinner(t("sp_edge", c.lang)):
                edge = edge_plan(proj, key, c.edge_count, c.latency_ms, c.round_trip)
        except GeoplanError as exc:
            ss.edge_error_box.error(t("edge_error", c.lang, e=error_text(exc, c.lang, control=t("latency", c.lang))), icon=":material/error:")
    try:
        with st.spinner(t("sp_charging", c.lang)):
            chg = charging_plan(proj, key, c.share) if proj.layer("car_parks") is not None else None
            car_parks = car_parks_compliance(proj, key, c.share) if chg is not None else None
    except GeoplanError as exc:
        chg = car_parks = None
        ss.charging_error_box.error(error_text(exc, c.lang, control=t("share", c.lang)), icon=":material/error:")
    return edge, chg, car_parks


def _local_tiles(proj: gp.Project, c: Controls) -> folium.FeatureGroup | None:
    """A local MBTiles / PMTiles file from the app's tile server; what it is and how it fits, under the control."""
    box = st.session_state.basemap_error_box.container()
    if not c.tile_file.strip():
        box.info(t("tile_file_none", c.lang), icon=":material/info:")
        return None
    left, bottom, right, top = (float(v) for v in proj.districts.total_bounds)
    try:
        served, fit = local_tiles(c.tile_file, project_bounds=(left, bottom, right, top), project=proj.name)
    except GeoplanError as exc:
        box.error(error_text(exc, c.lang, control=t("tile_file", c.lang)), icon=":material/error:")
        return None
    i = served.info
    box.caption(t("tiles_local_info", c.lang, name=i.name, kind=i.kind, fmt=i.format.upper(), z0=i.min_zoom,
                  z1=i.max_zoom, url=served.server))
    if fit.share < 0.95:
        box.warning(t("tiles_partial", c.lang, pct=percent(fit.share, 0)), icon=":material/warning:")
    if fit.coarse:
        box.warning(t("tiles_coarse", c.lang, z=fit.max_zoom), icon=":material/warning:")
    if fit.zoom_in_from is not None:
        box.warning(t("tiles_zoom_in", c.lang, z=fit.zoom_in_from), icon=":material/warning:")
    return local_tile_group(served, failed_message=t("tiles_local_failed", c.lang))


def _tiles(proj: gp.Project, c: Controls) -> folium.FeatureGroup | None:
    if c.basemap == "local":
        return _local_tiles(proj, c)
    left, bottom, right, top = proj.districts.total_bounds
    try:
        return tile_group(basemap=c.basemap, tianditu_key=c.tianditu_key, url=c.tile_url, crs=c.tile_crs,
                          centre=((left + right) / 2, (bottom + top) / 2),
                          failed_message=t("tiles_failed", c.lang))
    except GeoplanError as exc:
        control = t("tile_url" if c.basemap == "custom" else "tk" if c.basemap == "tianditu" else "tiles", c.lang)
        st.session_state.basemap_error_box.error(error_text(exc, c.lang, control=control), icon=":material/error:")
        return None


def map_layers(proj: gp.Project, key: str, ctx: PlanningContext, c: Controls, ws: wsp.Workspace, shown: Shown,
               edge: EdgePlan | None, chg: ChargingPlan | None, car_parks: gpd.GeoDataFrame | None
               ) -> tuple[Any, list[folium.FeatureGroup]]:
    """The coverage grid and every swappable layer: tiles, plan, edge and charging, drawings."""
    kept_lonlat = np.array([s.lonlat for s in ws.kept], dtype=float).reshape(-1, 2)
    grid = coverage_grid(ctx, shown.sel, drawn_lonlat=None if shown.kept_gdf is None else kept_lonlat,
                         drawn_radius_m=shown.drawn_radius)
    kept_pts = None
    if ws.kept and not shown.optimised:
        kept_pts = planned_points(shown.kept_gdf if shown.kept_gdf is not None
                                  else _kept_frame(ws.kept, np.full(len(ws.kept), np.nan), 1))
    density = site_density_overlay(proj.population, ctx.cand_xy[shown.sel]) if len(shown.sel) else None
    groups = [g for g in [_tiles(proj, c)] if g is not None]
    labels, words = district_tooltip(c.lang)
    groups += plan_layers(districts=static_layers(proj, key)["districts"], district_table=shown.table,
                          planned_sites=shown.planned_pts, coverage=coverage_overlay(grid), kept_sites=kept_pts,
                          plan_label="Planned 5G sites" if shown.optimised else "Planned 5G sites (greedy order)",
                          site_density=density, drawings=[d.to_feature() for d in ws.drawings],
                          drawings_revision=st.session_state.draw_rev, district_labels=labels,
                          district_words=words, lang=c.lang)
    groups += side_layers(edge_sites=edge.sites if edge else None,
                          edge_radius_m=edge.summary.radius_km * 1000 if edge else None, car_parks=car_parks,
                          charging_stations=chg.stations if chg else None, lang=c.lang)
    if c.siting_layers:
        groups += siting_groups(ctx, key, c.lang)
    for g in groups:
        use_local_assets(g, base_url=ST_FOLIUM_BASE_URL)
    return grid, groups


def place_search(proj: gp.Project, lang: str) -> dict[str, Any]:
    """Find a district, a named place of the project or coordinates; the map flies there (no rebuild)."""
    q = st.text_input(t("search", lang), key="search", placeholder=t("search_hint", lang),
                      label_visibility="collapsed")
    found = wsp.find_place(proj, q) if q else None
    if q and found is None:
        st.caption(t("search_none", lang, q=q))
    return {} if found is None else {"center": (found[1], found[0]), "zoom": found[2]}


def render_map(proj: gp.Project, key: str, modelled: list[str], groups: list[folium.FeatureGroup],
               lang: str, view: dict[str, Any]) -> dict[str, Any] | None:
    """The map: its static part stays mounted; ``groups`` are swapped in place on every change."""
    statics = static_layers(proj, key)
    m = base_map(proj, population=statics["population"], existing_sites=statics["existing"], modelled=modelled, lang=lang,
                 height=MAP_HEIGHT, districts=statics["districts"], existing_density=statics["existing_density"])
    MapReady().add_to(m)  # the edge and charging plans follow once the browser has drawn this map
    use_local_assets(m, base_url=ST_FOLIUM_BASE_URL)
    state = st_folium(m, key="map", height=MAP_HEIGHT, use_container_width=True, returned_objects=["all_drawings"],
                      feature_group_to_add=groups, layer_control=folium.LayerControl(collapsed=True), **view)
    st.caption(t("map_caption", lang, z=SITES_MIN_ZOOM))
    return state


def sync_drawings(proj: gp.Project, state: dict[str, Any] | None) -> None:
    """Take what the planner drew, moved or deleted on the map into the workspace (refusing sites outside)."""
    ss = st.session_state
    feats = (state or {}).get("all_drawings")
    if feats is None:
        return
    sig = json.dumps(feats, sort_keys=True)
    if sig == ss.get("drawings_sig"):
        return
    ss.drawings_sig = sig
    upd = wsp.apply_drawings(ss.history.current, feats, proj=proj, site_type=ss.draw_type, area_role=ss.area_role)
    ss.refused = [t("refused_site", ss.lang, lon=r.lonlat[0], lat=r.lonlat[1], city=proj.name, near=r.nearest,
                    km=r.distance_m / 1000) for r in upd.refused]
    if upd.changed or upd.refused:
        change(upd.workspace, redraw=bool(upd.refused))
        st.rerun()


# ----------------------------------------------------------------------------------------------
# Side panel: drawings, kept sites, areas, undo
# ----------------------------------------------------------------------------------------------


def trial_sites_panel(ctx: PlanningContext, c: Controls, ws: wsp.Workspace, shown: Shown) -> None:
    """Evaluate the sites drawn but not kept on top of the plan; keep those near a candidate."""
    lang = c.lang
    kept, trial = ws.kept, [d for d in ws.sites if not d.kept]
    lonlat = np.array([d.lonlat for d in (*kept, *trial)], dtype=float).reshape(-1, 2)
    evb = drawing.evaluate_drawn_sites(ctx, lonlat, site_type=[d.site_type or "macro" for d in (*kept, *trial)],
                                       selected=shown.sel, year=c.year)
    s, e = shown.summary, evb.summary
    st.metric(t("drawn_sites", lang), f"{len(trial)}")
    st.metric(t("added_covered", lang), f"{float(evb.site_gain[len(kept):].sum()):,.0f}")
    st.metric(t("covered", lang), percent(e.coverage_after),
              t("pts_plan", lang, d=100 * ((e.coverage_after or 0.0) - (s.coverage_after or 0.0))))
    now_per = shown.table["per_10k"].to_numpy(dtype=float)
    after_per = evb.districts["per_10k_after"].to_numpy(dtype=float)
    kd = evb.site_district[:len(kept)]
    for i in np.flatnonzero(evb.districts["drawn"].to_numpy() > np.bincount(kd[kd >= 0], minlength=len(now_per))):
        st.metric(t("district_per10k", lang, d=evb.districts["XZQMC"].iloc[i]), f"{after_per[i]:.2f}",
                  t("per10k_vs", lang, d=after_per[i] - now_per[i], target=s.target_per_10k))
    xy = np.column_stack(Transformer.from_crs(4490, ctx.project.metric_crs, always_xy=True).transform(
        lonlat[len(kept):, 0], lonlat[len(kept):, 1]))
    snap = snap_sites(ctx, xy, strict=False)
    ok = [d.id for d, dist in zip(trial, snap.distance_m, strict=True) if dist <= MAX_SNAP_M]
    for d, dist in zip(trial, snap.distance_m, strict=True):
        text = t("snap_ok" if dist <= MAX_SNAP_M else "snap_far", lang, d=dist if dist <= MAX_SNAP_M else dist / 1000,
                 lim=MAX_SNAP_M)
        (st.caption if dist <= MAX_SNAP_M else st.warning)(t("trial_line", lang, type=value_word(
            "site_type", d.site_type or "macro", lang), lon=d.lonlat[0], lat=d.lonlat[1], text=text))
    if ok and st.button(t("keep", lang, n=len(ok)), key="keep"):
        change(replace(ws, drawings=tuple(replace(d, kept=True) if d.id in ok else d for d in ws.drawings)))
        st.rerun()


def kept_and_areas(ctx: PlanningContext, ws: wsp.Workspace, shown: Shown, lang: str) -> None:
    """The kept sites (and a button to take them out), and each drawn area's figures."""
    if ws.kept:
        st.caption(t("kept_list", lang))
        xy = np.column_stack(Transformer.from_crs(4490, ctx.project.metric_crs, always_xy=True).transform(
            *np.array([s.lonlat for s in ws.kept], dtype=float).T))
        dist = snap_sites(ctx, xy, strict=False).distance_m
        st.dataframe(label_columns(pd.DataFrame({
            "no": np.arange(1, len(ws.kept) + 1), "type": [s.site_type or "macro" for s in ws.kept],
            "lonlat": [f"{s.lonlat[0]:.5f}, {s.lonlat[1]:.5f}" for s in ws.kept],
            "snap_m": np.round(dist).astype(int)}), lang), hide_index=True)
        if st.button(t("unkeep", lang), key="clear_kept"):
            change(replace(ws, drawings=tuple(replace(d, kept=False) for d in ws.drawings)))
            st.rerun()
    for i, line in enumerate((d for d in ws.drawings if d.kind == "line"), 1):
        st.markdown(t("line", lang, i=i, km=line.length_m / 1000))
    for i, a in enumerate(ws.areas(), 1):
        st.markdown(f"**{t('area', lang, i=i, role=t(ROLE_KEYS[a.role or 'evaluation'], lang))}**")
        try:
            cov = drawing.area_coverage(ctx, a.ring, selected=shown.sel)
        except GeoplanError as exc:
            st.warning(error_text(exc, lang), icon=":material/warning:")
            continue
        st.markdown(t("area_line", lang, km2=cov.area_km2, pop=cov.population, ex=cov.existing_sites,
                      cand=cov.candidates))
        st.markdown(t("area_cov", lang, a=percent(cov.coverage_existing), b=percent(cov.coverage_with_plan)))


def drawings_panel(ctx: PlanningContext, c: Controls, shown: Shown) -> None:
    """The side panel: draw settings, refusals, undo/redo, trial sites, kept sites and areas."""
    ss = st.session_state
    lang, hist = c.lang, ss.history
    ws = hist.current
    st.markdown(f"**{t('drawn', lang)}**")
    st.selectbox(t("draw_type", lang), SITE_TYPES, key="draw_type", format_func=lambda k: map_word(k, lang))
    st.selectbox(t("area_role", lang), wsp.AREA_ROLES, key="area_role", format_func=lambda r: t(ROLE_KEYS[r], lang))
    for msg in ss.get("refused") or []:
        st.error(msg, icon=":material/error:")
    u1, u2 = st.columns(2)
    if u1.button(t("undo", lang), key="undo", disabled=not hist.can_undo):
        hist.undo()
        ss.draw_rev = uuid.uuid4().hex
        st.rerun()
    if u2.button(t("redo", lang), key="redo", disabled=not hist.can_redo):
        hist.redo()
        ss.draw_rev = uuid.uuid4().hex
        st.rerun()
    if not ws.drawings:
        st.info(t("draw_hint", lang), icon=":material/info:")
    if any(not d.kept for d in ws.sites):
        trial_sites_panel(ctx, c, ws, shown)
    kept_and_areas(ctx, ws, shown, lang)


# ----------------------------------------------------------------------------------------------
# Panels below the map
# ----------------------------------------------------------------------------------------------


def districts_tab(c: Controls, shown: Shown, total0: dict[str, Any], consistency: dict[str, Any]) -> None:
    cols = ["XZQMC", "population", "existing", "new", "stations", "per_10k", "target_per_10k", "shortfall",
            "meets_target", "coverage_before", "coverage_after"]
    table = shown.table[[k for k in cols if k in shown.table.columns]].copy()
    if "per_10k" in table:
        table["per_10k"] = table["per_10k"].round(2)
    st.dataframe(label_columns(table, c.lang), hide_index=True, width="stretch")
    st.caption(t("pop_caption", c.lang, basis=basis_text(shown.summary.population_basis, c.lang),
                 stations=total0["stations"], per_10k=total0["per_10k"], shortfall=total0["shortfall"],
                 sum=total0["sum_of_district_shortfalls"]))
    if "station_target" in consistency:
        stc = consistency["station_target"]
        latest = t("consistency_latest", c.lang, v=stc["per_10k_at_latest_yearend"]) \
            if "per_10k_at_latest_yearend" in stc else ""
        st.caption(t("consistency", c.lang, stations=stc["stations"], census=stc["per_10k_at_census"], latest=latest))
    st.download_button(t("density_csv", c.lang), label_columns(table, c.lang).to_csv(index=False).encode("utf-8-sig"),
                       file_name=f"density_{c.total}_{c.year}.csv", mime="text/csv", key="dl_csv")


def scenarios_tab(proj: gp.Project, ctx: PlanningContext, c: Controls, method: str, edge: EdgePlan | None,
                  chg: ChargingPlan | None) -> None:
    ss = st.session_state
    lang, ws = c.lang, ss.history.current
    sc = scenarios.Scenario(name="", total=c.total, year=c.year, method=method, settings=c.settings,
                            drawn_sites=tuple(s.lonlat for s in ws.kept), time_limit_s=float(ss.time_limit_s),
                            edge_count=c.edge_count if edge is not None else None, latency_ms=c.latency_ms,
                            charging_share=c.share if chg is not None else None)
    auto = wsp.scenario_name(sc, lang=lang)
    typed = st.text_input(t("scenario_name", lang), key="scenario_name", placeholder=auto)
    b1, b2, b3 = st.columns(3)
    if b1.button(t("add_scenario", lang), key="add_scenario"):
        new = replace(sc, name=typed.strip() or auto)
        listed, note = wsp.add_scenario(ws.scenarios, new)
        if note is not None:  # the library's sentence, in the interface's language
            same = [s.name for s in ws.scenarios if replace(s, name="").to_dict() == replace(new, name="").to_dict()]
            note = t("sc_same", lang, name=same[0]) if same and len(listed) == len(ws.scenarios) \
                else t("sc_renamed", lang, name=new.name, saved=listed[-1].name)
        change(replace(ws, scenarios=listed))
        ss.scenario_note, ss.comparison = note, None
        st.rerun()
    if ss.get("scenario_note"):
        st.info(ss.scenario_note, icon=":material/info:")
    if b2.button(t("compare", lang), key="compare", disabled=not ws.scenarios):
        bar = st.progress(0.0, text="…")
        try:
            wi = scenarios.run_scenarios(proj, list(ws.scenarios), context=ctx,
                                         progress=lambda f, msg: bar.progress(float(min(max(f, 0.0), 1.0)),
                                                                              text=progress_text(msg, lang)))
        except GeoplanError as exc:
            st.error(error_text(exc, lang), icon=":material/error:")
        else:
            per = wi.districts.pivot(index="scenario", columns="XZQMC", values="per_10k").round(2)
            ss.comparison = (wi.summary, per.rename_axis(index=column_label("scenario", lang), columns=None))
    if b3.button(t("clear", lang), key="clear_scenarios", disabled=not ws.scenarios):
        change(replace(ws, scenarios=()))
        ss.comparison = None
        st.rerun()
    if ws.scenarios:
        st.dataframe(label_columns(pd.DataFrame([s.to_dict() for s in ws.scenarios]), lang), hide_index=True,
                     width="stretch")
        st.download_button(t("scenarios_toml", lang),
                           scenarios.scenarios_toml(ws.scenarios).encode("utf-8"),
                           file_name="scenarios.toml", mime="application/toml", key="dl_toml")
    if ss.get("comparison") is not None:
        summ, per = ss.comparison
        st.dataframe(label_columns(summ, lang), hide_index=True, width="stretch")
        st.caption(t("per10k_by_district", lang))
        st.dataframe(per, width="stretch")


def edge_charging_tab(proj: gp.Project, edge: EdgePlan | None, chg: ChargingPlan | None, lang: str) -> None:
    if edge is not None:
        s = edge.summary
        e1, e2, e3, e4 = st.columns(4)
        e1.metric(t("e_dcs", lang), f"{len(edge.sites)}", t("e_new", lang, n=s.new), delta_color="off")
        e2.metric(t("e_radius", lang), t("km", lang, v=f"{s.radius_km:,.1f}"))
        e3.metric(t("e_within", lang), percent(s.covered_share))
        e4.metric(t("e_worst", lang), t("ms", lang, v=f"{s.max_latency_ms:.3f}"))
        st.caption(t("e_caption", lang, points=s.demand_points, mean=s.mean_latency_ms,
                     model=value_word("reading", s.latency_model["reading"], lang), fibre=s.fibre_km,
                     modelled=("、" if lang == "zh" else ", ").join(layer_name(k, lang) for k in s.modelled_layers)
                     or t("none_word", lang)))
        st.dataframe(label_columns(edge.districts, lang), hide_index=True, width="stretch")
    elif proj.layer("edge_demand") is None:
        st.info(t("no_edge", lang), icon=":material/info:")
    if chg is not None:
        cs = chg.summary
        new = cs.new_car_parks
        h1, h2, h3, h4 = st.columns(4)
        h1.metric(t("c_compliant", lang), f"{new.compliant} / {new.car_parks}")
        h2.metric(t("c_to_add", lang), f"{new.to_add:,}", t("c_reserved", lang, n=new.from_reserved),
                  delta_color="off")
        h3.metric(t("c_new", lang), f"{cs.new_stations:,}")
        h4.metric(t("c_core", lang), percent(cs.core_within_share_after),
                  t("pts_today", lang, d=100 * (cs.core_within_share_after - cs.core_within_share_now)))
        src = cs.radius_source.split(": ")[0] if lang == "zh" else cs.radius_source  # the document; its gloss is English
        st.caption(t("c_caption", lang, share=percent(cs.share, 0), r=cs.radius_m, src=src))
        st.dataframe(label_columns(chg.districts, lang), hide_index=True, width="stretch")
    elif proj.layer("car_parks") is None:
        st.info(t("no_charging", lang), icon=":material/info:")


def download_plan(proj: gp.Project, ctx: PlanningContext, c: Controls, shown: Shown, grid: Any,
                  edge: EdgePlan | None, chg: ChargingPlan | None) -> planfile.PlanFile:
    """The plan on screen as a plan file, with the method and every setting that made it."""
    planned = shown.planned if shown.kept_gdf is None else pd.concat([shown.planned, shown.kept_gdf],
                                                                     ignore_index=True)
    s = shown.summary
    params: dict[str, Any] = {"total": c.total, "year": c.year, **c.settings.to_dict(), "optimised": shown.optimised,
                              "kept_drawn_sites": 0 if shown.kept_gdf is None else len(shown.kept_gdf)}
    if isinstance(s, PlanSummary):
        params |= {"method": s.method, "status": s.status, "gap": s.gap, "engine": s.engine}
    elif shown.optimised:
        params |= {k: shown.opt.get(k) for k in ("method", "status", "gap", "time_limit_s")}
    parts = [planfile.site_layers_plan(proj, gpd.GeoDataFrame(planned, geometry="geometry", crs=4490), shown.table,
                                       year=c.year, method=f"geoplan map app — {shown.mode}", parameters=params,
                                       summary=s.to_dict(), coverage=grid,
                                       conflicts=site_conflicts(ctx, shown.sel, shown.planned))]
    if edge is not None:
        parts.append(planfile.edge_plan(proj, edge))
    if chg is not None:
        parts.append(planfile.charging_plan(proj, chg))
    return planfile.merge_plans(parts)


def downloads_tab(proj: gp.Project, ctx: PlanningContext, c: Controls, shown: Shown, grid: Any, edge: EdgePlan | None,
                  chg: ChargingPlan | None) -> None:
    ss, lang = st.session_state, c.lang
    x1, x2 = st.columns(2)
    fmt = x1.selectbox(t("format", lang), [f for f in ("gpkg", "shp", "geojson", "gdb") if f in export.FORMATS],
                       format_func=lambda f: t(f"fmt_{f}", lang), key="export_format")
    crs = x2.selectbox(t("coords", lang), ["EPSG:4490", "auto-gk", "EPSG:4548"], key="export_crs",
                       format_func=lambda v: t(f"crs_{v}", lang))
    st.caption(t("layers_caption", lang))
    dl_key = (json.dumps(shown.key, sort_keys=True), shown.optimised, fmt, crs, c.edge_count, c.latency_ms,
              c.round_trip, c.share)
    if st.button(t("prepare", lang), key="build_export"):
        with st.spinner("…"):
            try:
                plan = download_plan(proj, ctx, c, shown, grid, edge, chg)
                stem = f"geoplan_{c.total}_{c.year}"
                files = export.export_files(proj, stem=stem, format=fmt, plan_file=plan, crs=crs)
                files.append((f"{stem}_plan.gpkg", planfile.plan_bytes(plan), "application/geopackage+sqlite3"))
                from geoplan.report import report_bytes  # matplotlib: loaded when a report is asked for

                files.append((f"{stem}_report.pdf", report_bytes(proj, plan, format="pdf"), "application/pdf"))
                files.append((f"{stem}_map.png", mapimage.plan_map_png(
                    proj, district_table=shown.table, planned=shown.planned, kept=shown.kept_gdf,
                    title=f"{proj.name} — {c.total:,} / {c.year}"), "image/png"))
            except GeoplanError as exc:
                st.error(error_text(exc, lang), icon=":material/error:")
            else:
                ss.downloads = {"key": dl_key, "files": files}
    if ss.get("downloads") is not None and ss.downloads["key"] == dl_key:
        for i, (fname, data, mime) in enumerate(ss.downloads["files"]):
            st.download_button(t("download", lang, f=fname, mb=len(data) / 1e6), data, file_name=fname, mime=mime,
                               key=f"dl_file_{i}")


def ws_label(name: str, lang: str) -> str:
    """A workspace's name as shown (the default one in the interface's language)."""
    return t("ws_default", lang) if name == wsp.DEFAULT_NAME else name


def workspace_tab(key: str, plan: Plan, lang: str) -> None:
    """Where the workspace is saved; save it under a name; open another."""
    ss = st.session_state
    ws: wsp.Workspace = ss.history.current
    folder = workspace_folder(key)
    st.markdown(t("ws_current", lang, name=ws_label(ws.name, lang), path=f"`{folder / (ws.name + '.json')}`"))
    st.caption(t("ws_link", lang))
    if ss.get("ws_error"):
        st.error(t("ws_bad", lang, e=ss.ws_error), icon=":material/error:")
    w1, w2 = st.columns(2)
    new = w1.text_input(t("ws_name", lang), key="ws_new_name")
    if w1.button(t("ws_save_as", lang), key="ws_save_as", disabled=not new.strip()):
        try:
            ss.history.current = wsp.save_workspace(replace(ws, name=wsp.check_name(new)), folder=folder)
            ss.ws_error = None
        except GeoplanError as exc:
            ss.ws_error = error_text(exc, lang, control=t("ws_name", lang))
        st.rerun()
    names = wsp.list_workspaces(folder=folder)
    pick = w2.selectbox(t("ws_open", lang), names, key="ws_pick", format_func=lambda n: ws_label(n, lang)) \
        if names else None
    if pick and w2.button(t("ws_open", lang), key="ws_open"):
        try:
            opened = wsp.load_workspace(pick, folder=folder)
        except GeoplanError as exc:
            ss.ws_error = error_text(exc, lang)
        else:
            apply_settings(dict(opened.settings), plan)
            ss.history, ss.saved, ss.draw_rev = wsp.History(opened), opened.to_dict(), uuid.uuid4().hex
            ss.ws_error = None
        st.rerun()


def province_page(proj: gp.Project, plan: Plan, lang: str) -> None:
    """A province is placed county by county (no in-memory what-if): check, then Optimise."""
    ss = st.session_state
    sb = st.sidebar
    lang = sb.radio(t("language", lang), list(LANGS), key="lang", horizontal=True, format_func=LANGS.get)
    year = sb.selectbox(t("year", lang), plan.years, key="year")
    settings = settings_controls(sb, proj, lang)
    st.title(proj.name)
    st.info(t("province_info", lang), icon=":material/info:")
    rep = gp.targets.check(proj, year=year)
    st.dataframe(label_columns(rep.table, lang), hide_index=True, width="stretch")
    if st.button(t("province_optimise", lang, year=year), key="optimise", type="primary"):
        bar = st.progress(0.0, text="…")
        try:
            ss.province_plan = gp.placement.place_sites(
                proj, year=year, settings=settings,
                progress=lambda f, msg: bar.progress(float(min(max(f, 0.0), 1.0)), text=progress_text(msg, lang)))
        except GeoplanError as exc:
            st.error(error_text(exc, lang), icon=":material/error:")
    res = ss.get("province_plan")
    if res is not None:
        s = res.summary
        st.metric(t("new_delta", lang, n=s.new), f"{s.stations:,}")
        st.caption(t("province_result", lang, stations=s.stations, per_10k=s.per_10k, target=s.target_per_10k,
                     refers=coverage_refers(s.network, s.band, s.users == "indoor", lang),
                     a=percent(s.coverage_before), b=percent(s.coverage_after)))
        st.dataframe(label_columns(res.districts, lang), hide_index=True, width="stretch")


@st.fragment(run_every=6)
def side_later() -> None:
    """On a session's first run: rerun the page soon after, adding edge and charging.

    The map says when it is drawn (``map_ready``, see :class:`geoplan.webmap.map.MapReady`), which normally
    comes first; this timer is the fallback (a browser that never reports)."""
    ss = st.session_state
    if ss.get("side_ready"):
        return
    if ss.get("side_armed"):
        ss.side_ready = True
        st.rerun(scope="app")
    ss.side_armed = True


def _style() -> None:
    """The map fills the window below the headline (at least 440 px), and the page font has Chinese glyphs."""
    st.markdown("""<style>
      iframe[title="streamlit_folium.st_folium"] { height: max(420px, calc(100vh - 300px)) !important; }
      .block-container { padding-top: 1.6rem; }
      header[data-testid="stHeader"] { background: transparent; }  /* the title is not cut by Streamlit's bar */
    </style>""", unsafe_allow_html=True)


def page(proj: gp.Project, plan: Plan, key: str) -> None:
    """Controls → plan → map → panels, for a city project."""
    ss = st.session_state
    sb = st.sidebar
    finish_run()
    if (ss.get("map") or {}).get("map_ready"):
        ss.side_ready = True  # the first map is drawn in the browser: edge and charging now
    lang = sb.radio(t("language", ss.lang), list(LANGS), key="lang", horizontal=True, format_func=LANGS.get)
    sb.header(t("whatif", lang))
    year = sb.selectbox(t("year", lang), plan.years, key="year", help=t("year_help", lang))
    slider_box = sb.container()
    settings = settings_controls(sb, proj, lang)
    try:
        with st.spinner(t("sp_context", lang)):
            ctx = context(proj, f"{key}:{proj.radio_params.digest}", settings)
    except GeoplanError as exc:
        st.error(error_text(exc, lang), icon=":material/error:")
        st.stop()
    trace("context")
    existing = int(ctx.existing_per_district.sum())
    table0, total0, consistency, modelled_layers = check_table(proj, key, year)
    rng = slider_range(plan, existing, int(table0["shortfall"].sum()), int(ctx.coverage.shape[1]))
    total = total_controls(slider_box, plan, existing, rng, lang)
    side = side_controls(sb, proj, lang)
    c = Controls(year=year, total=total, settings=settings, lang=lang, **side)
    ws: wsp.Workspace = ss.history.current
    try:
        shown = current_plan(proj, key, ctx, c, ws, max_total=rng[1], need_all=existing + int(
            table0["shortfall"].sum()), lang=lang)
    except GeoplanError as exc:
        st.error(error_text(exc, lang), icon=":material/error:")
        st.stop()
    trace("plan")
    method = optimise_controls(sb, proj, ctx, c, ws, shown, lang)
    modelled = modelled_notice(sb, proj, modelled_layers, ctx, lang)
    headline(proj, plan, c, shown, lang)
    trace("headline")
    edge, chg, car_parks = edge_and_charging(proj, key, c)
    trace("edge and charging")
    grid, groups = map_layers(proj, key, ctx, c, ws, shown, edge, chg, car_parks)
    trace("layers")
    map_col, side_col = st.columns([3, 1.25])
    with side_col:
        view = place_search(proj, lang)
    with map_col:
        state = render_map(proj, key, modelled, groups, lang, view)
        if (reuse := reuse_line(shown, lang)) is not None:
            st.caption(reuse)
    trace("map")
    sync_drawings(proj, state)
    with side_col:
        drawings_panel(ctx, c, shown)
    tabs = st.tabs([t(k, lang) for k in ("tab_districts", "tab_scenarios", "tab_edge", "tab_downloads",
                                        "tab_workspace")])
    with tabs[0]:
        districts_tab(c, shown, total0, consistency)
    with tabs[1]:
        scenarios_tab(proj, ctx, c, method, edge, chg)
    with tabs[2]:
        edge_charging_tab(proj, edge, chg, lang)
    with tabs[3]:
        downloads_tab(proj, ctx, c, shown, grid, edge, chg)
    with tabs[4]:
        workspace_tab(key, plan, lang)
    save_workspace({k: ss[k] for k in wsp.SETTINGS if k in ss})
    if not ss.get("side_ready"):
        side_later()
    trace("page done")


def main() -> None:
    trace("main")
    PAGE_STARTED.set()
    st.set_page_config(page_title="geoplan", layout="wide")
    _style()
    path = project_arg()
    key = project_key(path)
    lang = st.session_state.get("lang", "zh")  # the project's language is known once it is loaded
    try:
        with st.spinner(t("sp_load", lang)):
            proj = load(path)
    except GeoplanError as exc:
        st.error(t("load_error", lang, e=error_text(exc, lang)), icon=":material/error:")
        st.stop()
    plan = plan_of(proj)
    lang0 = default_lang(proj.district_names)
    open_workspace(key, plan, lang0)
    _defaults(proj, plan)
    if not st.get_option("server.enableStaticServing"):
        st.warning(t("static_off", st.session_state.lang), icon=":material/warning:")
    if choose_engine(proj) == "chunked":
        province_page(proj, plan, st.session_state.lang)
        return
    page(proj, plan, key)


main()
