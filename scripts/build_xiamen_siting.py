"""Build the modelled siting layers of the Xiamen demo: inventories, constraints, edge sites (seeded).

    python scripts/build_xiamen_siting.py

Reads the committed districts, population grid, existing sites and land cover
(``build_xiamen_data.py`` makes them) and writes, in CGCS2000 (EPSG:4490):

- ``data/gis/xiamen_inventory_modelled.gpkg``: layers ``towers`` (社会塔, 行业塔), ``smart_poles``
  (智慧多功能杆) and ``public_buildings`` (the plan's six categories of opened public facilities);
- ``data/gis/xiamen_constraints_modelled.gpkg``: layers ``water``, ``ecological_redline``,
  ``farmland``, ``airport_clearance``, ``heritage``;
- ``data/gis/xiamen_edge_sites_modelled.gpkg``: layers ``telecom_offices`` and ``substations``.

Everything is MODELLED (``geoplan/synthetic/inventory.py``, ``geoplan/synthetic/constraints.py``);
the same seeds give the same files.
"""

from __future__ import annotations

from pathlib import Path

from build_xiamen_demand import xiamen_demand

from geoplan import io
from geoplan.project import prepare_layer
from geoplan.synthetic.constraints import modelled_constraints
from geoplan.synthetic.inventory import modelled_edge_sites, modelled_inventory

GIS = Path(__file__).resolve().parents[1] / "data" / "gis"


def _write(layers: dict, spec: str, path) -> None:
    first = True
    for name, gdf in layers.items():
        out = prepare_layer(gdf, spec, name=f"{path.stem}:{name}").to_crs(4490)
        io.write_vector(out, path, layer=name, driver="GPKG", append_layer=not first)
        first = False
        print(f"{path.name}:{name}: {len(out):,} features")


def main() -> None:
    districts, dm, demand = xiamen_demand()  # the script's folder is on sys.path when it runs
    landcover = io.read_vector(GIS / "sources" / "xiamen_landcover_modelled.geojson", layer="landcover")

    _write(modelled_inventory(demand, districts=dm), "candidates", GIS / "xiamen_inventory_modelled.gpkg")
    cons = modelled_constraints(dm, landcover, demand)
    for name, gdf in cons.items():
        gdf["KIND"] = name
        print(f"  {name}: {gdf.geometry.area.sum() / 1e6:,.1f} km²")
    _write(cons, "constraints", GIS / "xiamen_constraints_modelled.gpkg")
    _write(modelled_edge_sites(demand, districts=dm), "edge_sites", GIS / "xiamen_edge_sites_modelled.gpkg")


if __name__ == "__main__":
    main()
