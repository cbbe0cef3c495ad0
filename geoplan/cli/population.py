"""``geoplan population``: a population grid from the planner's land use, district totals kept exactly."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from ..dasymetric import GROUPS, RF_DEFAULTS, UNINHABITED, model_project_population, population_output
from ..errors import ConfigError
from ._app import Format, OverwriteOpt, ProjectOpt, app, emit
from ._progress import progress_bar

__all__ = ["population_cmd"]


def _groups(text: str) -> tuple[str, ...]:
    groups = tuple(g.strip() for g in text.split(",") if g.strip())
    bad = [g for g in groups if g not in GROUPS]
    if bad:
        raise ConfigError(f"--uninhabited: unknown group(s) {', '.join(bad)}. Fix: use {', '.join(GROUPS)}")
    return groups


@app.command("population")
def population_cmd(
    out: Path = typer.Option(None, "--out", "-o", help="GeoTIFF to write (default: the project's "
                             "[layers.population] path, when it does not exist yet)."),
    cell_m: float = typer.Option(100.0, "--cell-m", help="Cell size of the grid, metres."),
    trees: int = typer.Option(RF_DEFAULTS["n_estimators"], "--trees", help="Trees of the random forest "
                              "(WorldPop: 500)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random forest."),
    model: str = typer.Option("auto", "--model", help="Weights of the grid: forest (class densities corrected by "
                              "the random forest), classes (class densities alone) or auto (whichever predicts "
                              "districts left out better)."),
    uninhabited: str = typer.Option(",".join(UNINHABITED), "--uninhabited", help="Land-use groups nobody lives on "
                                    "unless building footprints stand there (comma-separated; "
                                    f"groups: {', '.join(GROUPS)})."),
    overwrite: bool = OverwriteOpt,
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, json or csv."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    project: Path = ProjectOpt,
) -> None:
    """Model a population grid from the project's land use (and buildings, POIs): WorldPop's random forest.

    District totals (the districts' POP) are kept exactly; the model's error is
    measured by leaving each district out in turn.
    """
    if project is None:
        raise ConfigError("geoplan population works on your project. Fix: give --project geoplan.toml with "
                          "[layers.districts] (POP = census totals) and [layers.landuse] (docs/population.md)")
    if trees < 10:
        raise ConfigError(f"--trees {trees} is too few for a random forest. Fix: use 100 or more (WorldPop: 500)")
    target = population_output(project, out=out, overwrite=overwrite)  # refused before the work, not after
    if target.suffix.lower() not in (".tif", ".tiff"):
        raise ConfigError(f"{target} is not a GeoTIFF name. Fix: give --out with a .tif suffix")
    with progress_bar("population grid", enabled=not quiet and fmt is Format.table) as hook:
        result, written = model_project_population(project, out=target, cell_m=cell_m, n_estimators=trees,
                                                   seed=seed, uninhabited=_groups(uninhabited), model=model,
                                                   overwrite=overwrite, progress=hook)
    s = result.summary
    top = sorted(result.importances.items(), key=lambda kv: -kv[1])[:5]
    dens = ", ".join(f"{k} {v:,.0f}/km²" for k, v in s["class_density_km2"].items())
    footer = [
        f"MODELLED {s['cell_m']:g} m grid ({s['height']:,} × {s['width']:,} cells, {s['crs']}) written to {written}: "
        f"{s['population']:,} persons; every district's total kept exactly ({'yes' if s['totals_exact'] else 'NO'}).",
        f"Method: {s['method']}; {s['trees']} trees on {s['trained_on']} districts; nobody on "
        f"{', '.join(s['uninhabited'])} unless buildings stand there. Class densities: {dens}.",
        (f"Leave-one-district-out error of the totals (mean / median): forest {s['loo_mape_forest']:.1%} / "
         f"{s['loo_median_ape_forest']:.1%}, class densities alone {s['loo_mape_classes']:.1%} / "
         f"{s['loo_median_ape_classes']:.1%}, one average density {s['loo_mape_baseline']:.1%} / "
         f"{s['loo_median_ape_baseline']:.1%}. The grid uses: {s['model']} ({s['model_choice']}).")
        if s["loo_mape_forest"] is not None else "Leave-one-district-out error: too few districts to measure.",
        "Most important covariates of the forest: " + ", ".join(f"{k} {v:.2f}" for k, v in top) + ".",
        f"Add it to the project: \\[layers.population] path = \"{Path(os.path.relpath(written, project.parent)).as_posix()}\""
        ", modelled = true.",
    ]
    emit(result.to_dict() | {"out": str(written)}, fmt, frame=result.districts, footer=footer,
         title="Population grid by district (census vs leave-one-out estimates)")
