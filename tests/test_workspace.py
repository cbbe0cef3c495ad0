"""The workspace model (geoplan.workspace), drawn areas (geoplan.areas), kept-site snapping, the disk cache
of planning contexts, background runs (geoplan.runs) and the map image: the app's logic, without a browser."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from geoplan import io, mapimage
from geoplan import workspace as wsp
from geoplan.areas import candidate_mask, restrict_context
from geoplan.errors import InfeasibleError, ReadError, ValidationError
from geoplan.placement import MAX_SNAP_M, evaluate_sites, place_sites, planning_context, snap_sites
from geoplan.placement.cache import cached_context, cached_order, project_fingerprint
from geoplan.runs import Run, why_less_than_estimate
from geoplan.scenarios import Scenario


@pytest.fixture(scope="module")
def ctx(xiamen):
    return planning_context(xiamen)


def site(fid: str, lon: float, lat: float, **kw) -> wsp.Drawing:
    return wsp.Drawing(fid, "site", {"type": "Point", "coordinates": [lon, lat]}, site_type="macro", **kw)


RING = [(118.08, 24.45), (118.12, 24.45), (118.12, 24.48), (118.08, 24.48), (118.08, 24.45)]

lon = st.floats(117.8, 118.5, allow_nan=False)
lat = st.floats(24.3, 24.9, allow_nan=False)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(points=st.lists(st.tuples(lon, lat, st.booleans()), max_size=6), total=st.integers(10_000, 30_000),
       name=st.sampled_from(["default", "方案 A", "plan-2025 (v2)"]))
def test_workspace_round_trips_through_its_file(tmp_path, points, total, name):
    ws = wsp.Workspace(name=name, settings={"total": total, "indoor": False, "basemap": "custom",
                                            "tile_url": "http://t.local/{z}/{x}/{y}.png"},
                       drawings=tuple(site(f"s{i}", x, y, kept=k) for i, (x, y, k) in enumerate(points))
                       + (wsp.Drawing("a1", "area", {"type": "Polygon", "coordinates": [[list(p) for p in RING]]},
                                      role="exclusion"),),
                       scenarios=(Scenario(name="x", total=total),), optimised={"selected": [1, 2], "status": "ok"})
    saved = wsp.save_workspace(ws, folder=tmp_path)
    back = wsp.load_workspace(name, folder=tmp_path)
    assert back == saved and back.content() == ws.content()
    assert name in wsp.list_workspaces(folder=tmp_path)


def test_workspace_file_problems_are_reported_at_once(tmp_path):
    doc = wsp.Workspace().to_dict()
    with pytest.raises(ValidationError, match="newer geoplan"):
        wsp.workspace_from_dict({**doc, "version": wsp.VERSION + 1})
    with pytest.raises(ValidationError, match="not a geoplan workspace"):
        wsp.workspace_from_dict({"drawings": []})
    bad = {**doc, "settings": {"total": "many"}, "drawings": [{"kind": "site", "geometry": {"type": "Point"}},
                                                             {"kind": "area", "role": "park", "geometry": {
                                                                 "type": "Polygon",
                                                                 "coordinates": [[list(p) for p in RING]]}}]}
    with pytest.raises(ValidationError) as err:
        wsp.workspace_from_dict(bad)
    assert len(err.value.problems) == 3
    # a damaged file is a clear read error, and nothing half-written is left by a save
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(ReadError, match="not valid UTF-8 JSON"):
        wsp.load_workspace("broken", folder=tmp_path)
    with pytest.raises(ValidationError, match="cannot be a workspace name"):
        wsp.workspace_path("../etc", folder=tmp_path)
    assert io.workspace_dir().is_absolute()


def test_history_undoes_and_redoes_content_but_keeps_the_settings():
    h = wsp.History(wsp.Workspace(settings={"total": 1}))
    assert not h.push(replace(h.current, settings={"total": 2}))  # a setting alone is no undo step
    assert h.push(replace(h.current, drawings=(site("a", 118.1, 24.5),)))
    assert h.push(replace(h.current, drawings=(site("a", 118.1, 24.5, kept=True),)))
    h.current = replace(h.current, settings={"total": 3})
    assert h.undo().drawings[0].kept is False and h.current.settings == {"total": 3}
    assert h.undo().drawings == () and not h.can_undo
    assert h.redo().drawings[0].id == "a" and h.can_redo


def test_settings_travel_in_the_url_and_bad_values_are_named():
    q = wsp.settings_to_query({"total": 18_500, "indoor": True, "lang": "zh", "unknown": "x"})
    assert q == {"total": "18500", "indoor": "1", "lang": "zh"}
    back, problems = wsp.settings_from_query({**q, "year": "next", "ws": "default"})
    assert back == {"total": 18_500, "indoor": True, "lang": "zh"}
    assert [p.field for p in problems] == ["year"]


def test_scenario_names_follow_the_settings_and_are_never_reused():
    a = Scenario(name=wsp.scenario_name(Scenario(total=18_500)), total=18_500)
    b = Scenario(total=15_000)
    assert wsp.scenario_name(b) != a.name and "15,000" in wsp.scenario_name(b)
    listed, note = wsp.add_scenario([a], replace(b, name=a.name))
    assert [s.name for s in listed] == [a.name, f"{a.name} (2)"] and "taken by other settings" in note
    same, note = wsp.add_scenario(listed, replace(a, name="another name"))
    assert same == listed and "already listed" in note


def test_drawings_from_the_map_keep_ids_and_refuse_sites_outside(xiamen):
    ws = wsp.Workspace(drawings=(site("a", 118.10, 24.50, kept=True),))
    feats = [{"type": "Feature", "properties": {"id": "a"}, "geometry": {"type": "Point", "coordinates": [118.11, 24.5]}},
             {"type": "Feature", "properties": {"id": "b"}, "geometry": {"type": "Point", "coordinates": [118.06, 24.72]}},
             {"type": "Feature", "properties": {"id": "sea"}, "geometry": {"type": "Point", "coordinates": [118.3, 24.3]}},
             {"type": "Feature", "properties": {"id": "c"},
              "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in RING]]}}]
    upd = wsp.apply_drawings(ws, feats, proj=xiamen, site_type="micro", area_role="candidate")
    got = {d.id: d for d in upd.workspace.drawings}
    assert set(got) == {"a", "b", "c"} and upd.changed
    assert got["a"].kept and got["a"].lonlat == (118.11, 24.5)  # moved on the map, still kept
    assert got["b"].site_type == "micro" and got["c"].role == "candidate"
    (r,) = upd.refused
    assert r.id == "sea" and r.distance_m > 10_000 and "outside every district" in r.message
    # deleted on the map: gone from the workspace
    assert wsp.apply_drawings(upd.workspace, feats[1:2], proj=xiamen).workspace.drawings == (got["b"],)


def test_kept_sites_move_at_most_the_limit_and_far_ones_are_refused_by_name(xiamen, ctx):
    near = ctx.cand_xy[:3] + 100.0
    s = snap_sites(ctx, near)
    assert (s.distance_m <= MAX_SNAP_M).all() and len(s.too_far) == 0
    x, y = Transformer.from_crs(4490, xiamen.metric_crs, always_xy=True).transform([118.06, 118.3], [24.72, 24.3])
    far = np.column_stack([x, y])
    with pytest.raises(InfeasibleError, match=r"kept site 2 at 118\.30000°E 24\.30000°N is [0-9.]+ km"):
        snap_sites(ctx, far)
    assert snap_sites(ctx, far, strict=False).columns[1] == -1
    # the engine refuses the same site instead of moving it by kilometres
    with pytest.raises(InfeasibleError, match="kept site 2"):
        place_sites(xiamen, total=18_500, year=2025, context=ctx, fixed_xy=far)
    res = place_sites(xiamen, total=18_500, year=2025, context=ctx, fixed_xy=near[:1])
    assert s.columns[0] in set(res.placement.selected.tolist())


def test_areas_steer_the_candidates(ctx):
    out = candidate_mask(ctx, exclusion=[RING])
    inside = candidate_mask(ctx, candidate=[RING])
    assert (~out).sum() > 0 and np.array_equal(out, ~inside)
    sub, cols = restrict_context(ctx, out)
    assert sub.coverage.shape[1] == out.sum() and np.array_equal(sub.cand_xy, ctx.cand_xy[cols])
    assert restrict_context(ctx, np.ones(len(out), dtype=bool))[0] is ctx


def test_disk_cache_gives_the_same_context_and_order_and_follows_the_project(xiamen, tiny, tmp_path):
    a = cached_context(xiamen, folder=tmp_path)
    b = cached_context(xiamen, folder=tmp_path)
    assert b.build_s == 0.0 and (a.coverage != b.coverage).nnz == 0
    assert evaluate_sites(a, np.arange(50)).summary == evaluate_sites(b, np.arange(50)).summary
    sel, sites = cached_order(b, year=2025, total=18_500, folder=tmp_path)
    assert np.array_equal(sel, place_sites(xiamen, total=18_500, year=2025, context=a).placement.selected)
    assert len(sites) == len(sel)
    assert project_fingerprint(xiamen) != project_fingerprint(tiny)
    assert len(list(tmp_path.glob("*.npz"))) == 2
    (next(tmp_path.glob("context-*.npz"))).write_bytes(b"not a zip")  # a damaged cache file is rebuilt
    assert cached_context(xiamen, folder=tmp_path).build_s > 0


def test_runs_report_progress_and_cancel_the_exact_solver(xiamen, ctx):
    messages: list[str] = []
    started = threading.Event()

    def work(progress, cancel):
        def hook(f, m):
            messages.append(m)
            started.set()
            progress(f, m)
        return place_sites(xiamen, total=15_000, year=2025, context=ctx, method="exact", time_limit_s=120,
                           progress=hook, cancel=cancel)

    run = Run(work).start()
    assert started.wait(120)
    run.cancel()
    run.wait(180)
    assert run.done and run.error is None, run.error
    assert run.result.summary.status in ("cancelled", "optimal")  # an easy instance may finish first
    assert messages and messages[0].startswith("exact: choosing")
    assert why_less_than_estimate(status="cancelled", gap=0.01, time_limit_s=60, total=15_000, covered=0.8,
                                  estimate_covered=0.81, estimate_is_plan=True) == "cancelled"
    assert why_less_than_estimate(status="optimal", gap=0.0, time_limit_s=60, total=15_000, covered=0.8,
                                  estimate_covered=0.81, estimate_is_plan=False) == "quotas"
    failing = Run(lambda p, c: 1 / 0).start().wait(10)
    assert isinstance(failing.error, ZeroDivisionError)


def test_map_image_is_a_png_with_the_plan(xiamen, ctx):
    res = place_sites(xiamen, total=12_000, year=2025, context=ctx)
    png = mapimage.plan_map_png(xiamen, district_table=res.districts, planned=res.sites, title="厦门市 12,000")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert mapimage.cjk_font() is not None  # the test set-up installs fonts-noto-cjk: no boxes in the title


def test_json_and_arrays_are_written_atomically(tmp_path):
    p = io.write_json({"a": "厦门"}, tmp_path / "sub" / "x.json")
    assert json.loads(p.read_text(encoding="utf-8")) == {"a": "厦门"} and io.read_json(p) == {"a": "厦门"}
    io.write_arrays({"v": np.arange(3)}, tmp_path / "c.npz")
    assert io.read_arrays(tmp_path / "c.npz")["v"].tolist() == [0, 1, 2]
    assert io.read_arrays(tmp_path / "missing.npz") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz", "sub"]  # no temporary files left
