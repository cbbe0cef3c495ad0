"""The schema of the project file (``geoplan.toml``), checked before any layer is read.

Every table and setting a project file may hold is declared here with its type,
range and allowed values (see :mod:`geoplan._schema` for what values are
accepted); :func:`parse_project_file` reports every problem at once as one
:class:`~geoplan.errors.ConfigError` (exit code 4)::

    [project]            name, targets (a targets file) or plan (a shipped one), plan_scaling, xzqdm, scope,
                         metric_crs, note
    [population_stats]   scope, census_year, census_total, yearend = { "2023" = 5327000 },
                         projection = { "2025" = 5606061 }, basis = "census" | "yearend" | "projection"
    [layers.<key>]       path, layer, encoding, crs, fields, values, x, y, modelled, note
                         (population: band, no encoding)
    [limits]             max_file_mb, max_text_mb, max_raster_cells, raster_memory_share,
                         max_features, read_timeout_s, max_zip_mb
    [app]                tiles (a local MBTiles / PMTiles file: the map app's default base map)
    [build]              anything (written by geoplan's generators)
    [radio.<path>]       overrides of the radio parameters (geoplan/radio_params.toml, same paths),
                         checked by :func:`geoplan.radio_params.load_params`
    [inventories.<name>] a [layers.*] table and kind           (candidate inventories, docs/siting.md)
    [constraints.<name>] ... and kind, hardness, extra_cost    (siting constraints)
    [edge_sites.<name>]  ... and kind                          (edge data-centre sites)
    [siting]             overrides of geoplan/siting_params.toml (checked by geoplan.siting.params)
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, create_model
from pydantic_core import PydanticCustomError

from . import io
from ._schema import (
    CrsText,
    EncodingName,
    Flag,
    Name,
    PositiveCount,
    PositiveNumber,
    Section,
    Text,
    Year,
    as_number,
    check,
)
from .errors import ConfigError, Problem
from .layers import layer_spec
from .radio_params import load_params

__all__ = ["ProjectFile", "VectorLayer", "RasterLayer", "SitingTable", "ConstraintTable", "LimitsTable", "AppTable",
           "parse_project_file", "VECTOR_LAYERS"]

#: Vector layers a project may name (``districts`` required) besides the ``population`` raster; ``landuse``,
#: ``buildings`` and ``pois`` are the inputs of ``geoplan population``.
VECTOR_LAYERS = ("districts", "sites", "candidates", "edge_dc", "edge_demand", "car_parks", "charging_stations",
                 "landuse", "buildings", "pois")


class ProjectTable(Section):
    """``[project]``."""

    name: Name | None = Field(default=None, description="Name shown in tables and the app")
    targets: Name | None = Field(default=None, description="The plan's targets: a targets file of yours, relative "
                                 "to the project file (docs/targets.md)")
    plan: Name | None = Field(default=None, description="Or a plan shipped with geoplan: xiamen, fujian")
    plan_scaling: Literal["none", "population"] = Field(
        default="none", description="A parent area's plan: withhold its absolute counts, or scale them by population")
    xzqdm: Text | None = Field(default=None, description="GB/T 2260 code of the project's area (default: the "
                               "area its district codes share)")
    scope: Name | None = Field(default=None, description="Name of the project's area")
    metric_crs: CrsText | None = Field(default=None, description="Metric CRS of the algorithms, e.g. EPSG:4548")
    note: Text = ""


YearKey = Annotated[int, BeforeValidator(as_number), Field(ge=1949, le=2100)]


def _projection(v: Any) -> Any:
    """A projected population: persons for the city, or a table of district code = persons."""
    items = v.items() if isinstance(v, dict) else [(None, v)]
    out = {}
    for code, x in items:
        n = as_number(x)
        if isinstance(n, bool) or not isinstance(n, int | float) or not n > 0:
            where = f" for district {code}" if code is not None else ""
            raise PydanticCustomError("geoplan_projection", f"{x!r}{where} is not a positive number of persons",
                                      {"fix": "write persons as a plain number (5606061), or a table of district "
                                              'code = persons ({ "350203" = 1100000, ... })'})
        out[str(code)] = int(round(n))
    return out if isinstance(v, dict) else out["None"]


class PopulationStats(Section):
    """``[population_stats]``: city or province totals, persons."""

    scope: Text = ""
    census_year: Year | None = None
    census_total: PositiveCount | None = Field(default=None, description="Census resident population, persons")
    yearend: dict[YearKey, PositiveCount] = Field(default_factory=dict,
                                                  description="Year-end resident population by year, persons")
    projection: dict[YearKey, Annotated[Any, BeforeValidator(_projection)]] = Field(
        default_factory=dict, description="The planner's projection by year: a city total, or persons per district code")
    basis: Literal["census", "yearend", "projection"] = Field(
        default="census", description="Population basis of the density targets (docs/targets.md)")
    note: Text = ""


class VectorLayer(Section):
    """``[layers.<vector layer>]``."""

    path: Name = Field(description="File, relative to the project file")
    layer: Name | None = Field(default=None, description="Layer inside a GeoPackage, FileGDB or zip")
    encoding: EncodingName | None = Field(default=None, description="Text encoding of a shapefile (UTF-8, GBK)")
    crs: CrsText | None = Field(default=None, description="What the coordinates are when the file says nothing or wrong")
    fields: dict[Name, Name] = Field(default_factory=dict, description="Canonical field → column of the file")
    values: dict[Name, dict[str, Any]] = Field(default_factory=dict, description="Canonical field → { your value = "
                                               "geoplan's value }, e.g. operator names to codes")
    x: Name | None = Field(default=None, description="CSV/XLSX point tables: the x (longitude) column")
    y: Name | None = Field(default=None, description="CSV/XLSX point tables: the y (latitude) column")
    modelled: Flag = Field(default=False, description="Modelled (synthetic) data rather than observed")
    note: Text = ""


class SitingTable(VectorLayer):
    """``[inventories.<name>]`` / ``[edge_sites.<name>]``: a vector layer and the KIND of features that give none."""

    kind: Name | None = Field(default=None, description="KIND of the features that give none (docs/siting.md)")


class ConstraintTable(SitingTable):
    """``[constraints.<name>]``: a constraint layer, hard or soft, and the cost a soft zone adds."""

    hardness: Literal["hard", "soft"] | None = Field(default=None, description="hard: no site inside; soft: listed")
    extra_cost: Annotated[float, BeforeValidator(as_number), Field(ge=0)] = Field(
        default=0.0, description="万元 added to a site inside (soft zones)")


class RasterLayer(Section):
    """``[layers.population]``."""

    path: Name = Field(description="GeoTIFF, relative to the project file")
    band: Annotated[int, BeforeValidator(as_number), Field(ge=1, le=65_535)] = 1
    crs: CrsText | None = None
    modelled: Flag = False
    note: Text = ""


class LimitsTable(Section):
    """``[limits]``: what geoplan agrees to read (see :class:`geoplan.io.Limits`)."""

    max_file_mb: PositiveNumber | None = None
    max_text_mb: PositiveNumber | None = None
    max_raster_cells: PositiveCount | None = None
    raster_memory_share: Annotated[float, BeforeValidator(as_number), Field(gt=0, le=1)] | None = None
    max_features: PositiveCount | None = None
    read_timeout_s: PositiveNumber | None = None
    max_zip_mb: PositiveNumber | None = None


class AppTable(Section):
    """``[app]``: settings of the map app."""

    tiles: Name | None = Field(default=None, description="A local MBTiles or PMTiles file of raster tiles, relative "
                               "to the project file: the app's default base map, offline")


def _required(key: str, what: str) -> Any:
    return Field(json_schema_extra={"missing_fix": f'add a [layers.{key}] table with path = "..." ({what})'})


_layer_fields: dict[str, Any] = {"population": (RasterLayer, _required("population", "a population GeoTIFF")),
                                 "districts": (VectorLayer, _required("districts", "the district polygons"))}
_layer_fields |= {k: (VectorLayer | None, None) for k in VECTOR_LAYERS if k != "districts"}
#: ``[layers]``: one table per layer; districts and population are required.
LayersTable: type[BaseModel] = create_model("LayersTable", __base__=Section, **_layer_fields)


class ProjectFile(Section):
    """A whole project file."""

    project: ProjectTable = ProjectTable()
    population_stats: PopulationStats = PopulationStats()
    layers: LayersTable = Field(json_schema_extra={  # type: ignore[valid-type]
        "missing_fix": 'add [layers.districts] and [layers.population] tables, each with path = "..."'})
    limits: LimitsTable = LimitsTable()
    app: AppTable = AppTable()
    build: dict[str, Any] = Field(default_factory=dict, description="Written by geoplan's generators")
    radio: dict[str, Any] = Field(default_factory=dict, description="Overrides of geoplan/radio_params.toml "
                                  "(checked by geoplan.radio_params.load_params)")
    inventories: dict[Name, SitingTable] = Field(default_factory=dict, description="Candidate inventories")
    constraints: dict[Name, ConstraintTable] = Field(default_factory=dict, description="Siting constraints")
    edge_sites: dict[Name, SitingTable] = Field(default_factory=dict, description="Edge data-centre sites")
    siting: dict[str, Any] = Field(default_factory=dict, description="Overrides of geoplan/siting_params.toml")

    def layer_tables(self) -> dict[str, VectorLayer | RasterLayer]:
        """The layers the file names, districts first."""
        tables = {k: getattr(self.layers, k) for k in ("districts", "population", *VECTOR_LAYERS[1:])}
        return {k: v for k, v in tables.items() if v is not None}

    @property
    def population(self) -> RasterLayer:
        """``[layers.population]``."""
        table = self.layers.population  # type: ignore[attr-defined]
        assert isinstance(table, RasterLayer)
        return table

    def limits_set(self) -> dict[str, Any]:
        """The ``[limits]`` the file sets."""
        return self.limits.model_dump(exclude_none=True)

    def stats_dict(self) -> dict[str, Any]:
        """``[population_stats]`` as a plain dict (years as text keys, as in the file), defaults left out."""
        stats = self.population_stats.model_dump(exclude_none=True, exclude_defaults=True)
        for key in ("yearend", "projection"):
            if key in stats:
                stats[key] = {str(k): v for k, v in stats[key].items()}
        return stats


def _label(table: tuple[Any, ...]) -> str:
    return "[" + ".".join(map(str, table)) + "]" if table else "[top level]"


def parse_project_file(cfg: Any, *, where: str) -> ProjectFile:
    """Validate a parsed project file; every problem in one :class:`ConfigError`.

    Besides the schema, checks that ``plan`` is a shipped plan (and not given
    with ``targets``), that ``xzqdm`` is a GB/T 2260 code, that the population
    basis has its figures, and that the canonical names under ``fields`` and
    ``values`` are fields of the layer's spec.

    Examples
    --------
    >>> pf = parse_project_file({"layers": {"districts": {"path": "d.gpkg", "crs": 4490},
    ...                                     "population": {"path": "p.tif"}}}, where="demo")
    >>> pf.layers.districts.crs, pf.project.plan, pf.population_stats.basis
    ('EPSG:4490', None, 'census')
    """
    pf = check(ProjectFile, cfg, where=where, section=_label)
    problems = _project_problems(pf)
    if pf.radio:
        try:
            load_params(pf.radio)
        except ConfigError as exc:
            problems.append(Problem("[radio]", None, str(exc).split(" Fix: ")[0],
                                    str(exc).split(" Fix: ")[1] if " Fix: " in str(exc) else
                                    "use the paths and ranges of geoplan/radio_params.toml"))
    for key, table in pf.layer_tables().items():
        if not isinstance(table, VectorLayer):
            continue
        known = [f.name for f in layer_spec(key).fields]
        for part, names in (("fields", table.fields), ("values", table.values)):
            for canon in names:
                if canon not in known:
                    problems.append(Problem(f"[layers.{key}.{part}]", canon, f"{key} has no field {canon!r}",
                                            f"name one of {', '.join(known)} (the layer spec's names)"))
    if problems:
        raise ConfigError(problems, where=where)
    return pf


def _project_problems(pf: ProjectFile) -> list[Problem]:
    """What the schema alone cannot say about ``[project]`` and ``[population_stats]``."""
    problems: list[Problem] = []
    head = pf.project
    plans = io.list_plan_files()
    if head.plan is not None and head.plan.lower() not in plans:
        problems.append(Problem("[project]", "plan", f"no plan named {head.plan!r} ships with geoplan",
                                f"use one of {', '.join(plans)}, or a targets file of yours (targets = \"...\")"))
    if head.plan is not None and head.targets is not None:
        problems.append(Problem("[project]", "targets", "both plan and targets are given",
                                "keep one: targets = \"your file\" or plan = \"a shipped plan\""))
    code = head.xzqdm
    if code is not None and not (len(code) == 6 and code.isdigit()):
        problems.append(Problem("[project]", "xzqdm", f"{code!r} is not a 6-digit GB/T 2260 code",
                                'give the area\'s code as text, e.g. xzqdm = "350100"'))
    stats = pf.population_stats
    for key in ("yearend", "projection"):
        if stats.basis == key and not getattr(stats, key):
            problems.append(Problem("[population_stats]", key, f"basis is {key} but the table gives no {key}",
                                    f'add {key} = {{ "2025" = ... }} (persons), or choose another basis'))
    return problems

