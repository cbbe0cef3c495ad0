"""The map app's cached library calls, shared by every browser session — and its warm-up at server start.

Every function here is a ``st.cache_resource`` / ``st.cache_data`` wrapper around one
library call (inputs immutable, results read-only). They live in this module, not in
``streamlit_app.py``, so that ``apps/serve.py`` can fill the same caches while the
server starts: Streamlit keys a cache by the function's module, name and source, and a
function defined in the page script (module ``__main__``) could not be reached from
another thread. :func:`warm` loads the project and computes what the first page needs
for the settings a browser will open with (the defaults and the saved default
workspace); a page that asks for the same thing while it is being computed waits for
it instead of computing it twice.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from rasterio.errors import NotGeoreferencedWarning

import geoplan as gp
from geoplan import io, radio
from geoplan import workspace as wsp
from geoplan.charging import ChargingPlan, charging_compliance, place_charging
from geoplan.edge import EdgePlan, place_edge
from geoplan.errors import GeoplanError
from geoplan.latency import LatencyModel
from geoplan.placement import (
    CANDIDATE_GENERATORS,
    NETWORK_BANDS,
    NETWORKS,
    SITE_TYPES,
    PlanningContext,
    PlanSettings,
    choose_engine,
)
from geoplan.placement.cache import cached_arrays, cached_context, cached_order
from geoplan.project_store import load_project_cached
from geoplan.targets import Plan, plan_of
from geoplan.webmap import (
    BASEMAPS,
    Overlay,
    PointData,
    coverage_grid,
    coverage_overlay,
    districts_geojson,
    inventory_points,
    planned_points,
    population_overlay,
    site_density_overlay,
    zones_geojson,
)
from geoplan.webmap.i18n import LANGS, default_lang

__all__ = ["SLIDER_STEP", "BASEMAP_KEYS", "SIDE_READY", "PAGE_STARTED", "project_arg", "project_key", "load", "context",
           "siting_data", "greedy_order", "static_layers", "edge_plan", "charging_plan", "car_parks_compliance",
           "check_table", "settings_ok", "default_settings", "plan_settings", "has_inventory", "slider_range",
           "workspace_folder", "warm"]

SLIDER_STEP = 50
# The map's PNG overlays silence these two around their own calls, but warnings.catch_warnings is not thread-safe: with
# the warm-up and a page drawing overlays at once, one thread's restore can let the other's warning through to the log.
warnings.filterwarnings("ignore", category=NotGeoreferencedWarning)
warnings.filterwarnings("ignore", message="Use `@` matmul", category=PendingDeprecationWarning)
BASEMAP_KEYS = [*BASEMAPS, "custom", "local"]
#: (edge count, latency, round trip, charging share) whose edge and charging plans the warm-up has made: a first
#: page with these settings draws them at once instead of a moment after the map.
SIDE_READY: set[tuple[int, float, bool, float]] = set()
#: Set by the first page run: the warm-up then leaves the edge and charging plans to the page (they follow its map).
PAGE_STARTED = threading.Event()


def project_arg(argv: list[str] | None = None) -> str | None:
    """The ``--project`` option (after ``--`` on the streamlit command line) or ``$GEOPLAN_PROJECT``."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--project", default=None)
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return args.project or os.environ.get("GEOPLAN_PROJECT") or None


def project_key(path: str | None) -> str:
    return str(Path(path).resolve()) if path else "embedded"


@st.cache_resource(show_spinner=False)
def load(path: str | None) -> gp.Project:
    return load_project_cached(path)  # validated once, then kept on disk until a file it was read from changes


@st.cache_resource(show_spinner=False)
def context(_proj: gp.Project, key: str, settings: PlanSettings) -> PlanningContext:
    return cached_context(_proj, settings.context_key())  # one context for every cost weight


@st.cache_resource(show_spinner=False)
def siting_data(_ctx: PlanningContext, key: str, settings: PlanSettings) -> tuple[PointData, dict[str, Any], int]:
    return inventory_points(_ctx), zones_geojson(_ctx), len(_ctx.zones.layers)


@st.cache_resource(show_spinner=False)
def greedy_order(_proj: gp.Project, _ctx: PlanningContext, key: str, settings: PlanSettings, year: int,
                 max_total: int) -> tuple[np.ndarray, gpd.GeoDataFrame, PointData]:
    sel, sites = cached_order(_ctx, year=year, total=max_total, cost_weight=settings.cost_weight)
    return sel, sites, planned_points(sites)


def _overlay_arrays(ov: Any, name: str) -> dict[str, np.ndarray]:
    return {f"{name}.png": np.frombuffer(ov.png, dtype=np.uint8), f"{name}.bounds": np.asarray(ov.bounds, dtype=float)}


def _overlay(a: dict[str, np.ndarray], name: str) -> Overlay:
    (s, w), (n, e) = a[f"{name}.bounds"].tolist()
    return Overlay(a[f"{name}.png"].tobytes(), ((s, w), (n, e)))


@st.cache_resource(show_spinner=False)
def static_layers(_proj: gp.Project, key: str) -> dict[str, Any]:
    """Layers that never change for a project; the images are kept in the disk cache between runs."""
    sites = _proj.layer("sites")

    def build() -> dict[str, np.ndarray]:
        out = _overlay_arrays(population_overlay(_proj.population), "population")
        if sites is not None:
            xy = np.column_stack([_proj.metric("sites").geometry.x, _proj.metric("sites").geometry.y])
            out.update(_overlay_arrays(site_density_overlay(_proj.population, xy), "existing"))
        return out

    images = cached_arrays(_proj, "overlays", build)
    return {
        "population": _overlay(images, "population"),
        "districts": districts_geojson(_proj),
        "existing": PointData.from_frame(sites, ["SITE_ID", "SITE_TYPE"]) if sites is not None else None,
        "existing_density": _overlay(images, "existing") if sites is not None else None,
    }


@st.cache_resource(show_spinner=False)
def edge_plan(_proj: gp.Project, key: str, count: int, latency_ms: float, round_trip: bool) -> EdgePlan:
    return place_edge(_proj, count=count, latency_ms=latency_ms, latency=LatencyModel(round_trip=round_trip))


@st.cache_resource(show_spinner=False)
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
# Settings: defaults, checks, the PlanSettings they make
# ----------------------------------------------------------------------------------------------


def settings_ok(k: str, v: Any, plan: Plan) -> bool:
    """Whether a saved or linked setting fits the control it goes into (a bad link must not break the page)."""
    choices: dict[str, Any] = {"year": plan.years, "band": list(radio.BANDS), "network": list(NETWORKS),
                               "candidates": list(CANDIDATE_GENERATORS),
                               "basemap": BASEMAP_KEYS, "lang": list(LANGS), "method": ["greedy", "exact"],
                               "draw_type": list(SITE_TYPES), "area_role": list(wsp.AREA_ROLES),
                               "mix_mode": ["env", "custom"], "tile_crs": ["EPSG:3857", "EPSG:4490"]}
    if k in choices:
        return v in choices[k]
    ranges = {"macro": (0, 100), "micro": (0, 100), "edge_count": (1, 500), "latency_ms": (0.2, 20.0),
              "charging_share": (0.05, 0.60), "time_limit_s": (5.0, 3600.0), "cost_weight": (0.0, 1000.0)}
    return k not in ranges or ranges[k][0] <= v <= ranges[k][1]


def default_settings(proj: gp.Project, plan: Plan) -> dict[str, Any]:
    """Every control's first value for a project (the plan's own edge, latency and charging targets)."""
    edge, lat, share = (plan.text_target(k) for k in ("edge_dc", "latency_ms", "charging_share_new_car_parks"))
    return {"year": plan.years[-1], "network": "any", "band": "n78", "indoor": True, "mix_mode": "env",
            "macro": 60, "micro": 25,
            "candidates": "population", "edge_count": int(edge.value) if edge else 32,
            "latency_ms": float(lat.value) if lat else 1.0, "round_trip": False,
            "charging_share": float(share.value) if share else 0.20, "basemap": "local" if proj.base_tiles else "none",
            "tile_file": str(proj.base_tiles or ""), "tile_url": "",
            "tile_crs": "EPSG:3857", "method": "greedy", "time_limit_s": 60.0, "draw_type": "macro",
            "area_role": "evaluation", "lang": default_lang(proj.district_names),
            "cost_weight": float(proj.siting.params.cost_weight), "siting_layers": False}


def plan_settings(proj: gp.Project, values: dict[str, Any]) -> PlanSettings:
    """The :class:`PlanSettings` the side bar's controls make from ``values`` (with the same corrections)."""
    network = values["network"]
    bands = list(radio.BANDS) if network == "any" else list(proj.radio_params.networks[network].bands)
    band = values["band"] if values["band"] in bands else NETWORK_BANDS[network]
    mix = None
    if values["mix_mode"] == "custom":
        macro = int(values["macro"])
        micro = min(int(values["micro"]), 100 - macro) if macro < 100 else 0
        mix = (macro / 100, micro / 100, (100 - macro - micro) / 100)
    candidates = values["candidates"] if values["candidates"] != "none" or has_inventory(proj) else "population"
    return PlanSettings(band=band, network=network, indoor=bool(values["indoor"]), mix=mix, candidates=candidates,
                        cost_weight=float(values["cost_weight"]))


def has_inventory(proj: gp.Project) -> bool:
    return proj.layer("candidates") is not None or bool(proj.siting.group("inventories"))


def slider_range(plan: Plan, existing: int, shortfall: int, candidates: int) -> tuple[int, int, int]:
    """The total slider's lowest, highest and first value (multiples of its step)."""
    st_target = plan.text_target("5g_stations")
    stated = int(st_target.value) if st_target is not None else None
    need_all = existing + shortfall
    max_total = min(existing + candidates, max(25_000, int(np.ceil(1.35 * max(stated or 0, need_all) / 500) * 500)))
    low = -(-existing // SLIDER_STEP) * SLIDER_STEP
    max_total = max(low, max_total // SLIDER_STEP * SLIDER_STEP)
    return low, max_total, min(max(stated or need_all, low), max_total)


def workspace_folder(key: str) -> Path:
    """Where a project's workspaces are kept."""
    slug = "embedded" if key == "embedded" else "p" + hashlib.sha1(key.encode()).hexdigest()[:12]
    return io.workspace_dir() / slug


# ----------------------------------------------------------------------------------------------
# Warm-up: the first page's work, done while the server starts and the browser loads the page
# ----------------------------------------------------------------------------------------------


def _opening_settings(proj: gp.Project, plan: Plan, key: str) -> dict[str, Any]:
    """The settings a browser opening the app without a link starts with: defaults, then the default workspace."""
    values = default_settings(proj, plan)
    folder = workspace_folder(key)
    try:
        if wsp.DEFAULT_NAME in wsp.list_workspaces(folder=folder):
            saved = wsp.load_workspace(wsp.DEFAULT_NAME, folder=folder).settings
            values.update({k: v for k, v in saved.items() if k in values and settings_ok(k, v, plan)})
    except GeoplanError:
        pass  # the page reports a bad workspace file itself
    return values


def _prime_overlays(proj: gp.Project, ctx: PlanningContext) -> None:
    """Draw the plan's overlays once for one site: the page's first drawing finds GDAL's PNG driver and the Web
    Mercator grid ready (0.35 s of the first page otherwise)."""
    one = np.zeros(min(1, len(ctx.cand_xy)), dtype=np.int64)
    coverage_overlay(coverage_grid(ctx, one))
    site_density_overlay(proj.population, ctx.cand_xy[one])


def warm(path: str | None) -> None:
    """Compute, into the shared caches, what the first page needs: project, context, check, order, layers, side plans."""
    key = project_key(path)
    proj = load(path)
    plan = plan_of(proj)
    if choose_engine(proj) == "chunked":
        return  # a province page computes per county on demand
    values = _opening_settings(proj, plan, key)
    settings = plan_settings(proj, values)
    ctx = context(proj, f"{key}:{proj.radio_params.digest}", settings)
    year = int(values["year"])
    table0 = check_table(proj, key, year)[0]
    existing = int(ctx.existing_per_district.sum())
    rng = slider_range(plan, existing, int(table0["shortfall"].sum()), int(ctx.coverage.shape[1]))
    greedy_order(proj, ctx, key, settings, year, rng[1])
    static_layers(proj, key)
    _prime_overlays(proj, ctx)
    if PAGE_STARTED.is_set():
        return  # a browser is already drawing its first map: do not compete with it
    side = (int(values["edge_count"]), float(values["latency_ms"]), bool(values["round_trip"]),
            float(values["charging_share"]))
    if proj.layer("edge_demand") is not None:
        edge_plan(proj, key, *side[:3])
    if proj.layer("car_parks") is not None:
        charging_plan(proj, key, side[3])
        car_parks_compliance(proj, key, side[3])
    SIDE_READY.add(side)
