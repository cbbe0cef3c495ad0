"""Build the modelled edge-computing demand points and public car parks of the Xiamen demo (seeded).

    python scripts/build_xiamen_demand.py

Reads the committed districts and population grid (``build_xiamen_data.py``
makes them) and writes, in CGCS2000 (EPSG:4490):

- ``data/gis/xiamen_edge_demand.gpkg`` (layer ``edge_demand``): named ports,
  industrial parks and transport hubs at approximate locations, plus hospitals
  and schools drawn from the population grid;
- ``data/gis/xiamen_car_parks.gpkg`` (layer ``car_parks``): existing and new
  public car parks with total, built and reserved charging spaces.

Everything is MODELLED (``geoplan/synthetic/pois.py``); the same seeds give the same files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from geoplan import io
from geoplan.population import demand_points
from geoplan.project import prepare_layer
from geoplan.synthetic.pois import modelled_car_parks, modelled_edge_demand

#: The source tree's data/gis/ (written here, then shipped inside the package as geoplan._data).
GIS = Path(__file__).resolve().parents[1] / "data" / "gis"
METRIC = "EPSG:4548"


def xiamen_demand() -> tuple[Any, Any, Any]:
    """The committed Xiamen districts (EPSG:4490 and metric) and the demand points of its population grid."""
    districts = prepare_layer(io.read_vector(GIS / "xiamen_districts.gpkg", layer="districts",
                                             sublayer="districts"), "districts")
    dm = districts.to_crs(METRIC)
    raster = io.read_raster(GIS / "xiamen_population_100m.tif")
    return districts, dm, demand_points(raster, districts, metric_crs=dm.crs)


def main() -> None:
    districts, dm, demand = xiamen_demand()

    edge = modelled_edge_demand(demand, districts=dm)
    io.write_vector(prepare_layer(edge, "edge_demand"), GIS / "xiamen_edge_demand.gpkg", layer="edge_demand",
                    driver="GPKG", overwrite=True)
    parks = modelled_car_parks(demand, districts=dm)
    io.write_vector(prepare_layer(parks, "car_parks"), GIS / "xiamen_car_parks.gpkg", layer="car_parks",
                    driver="GPKG", overwrite=True)

    for cat, n in edge["CATEGORY"].value_counts().sort_index().items():
        print(f"edge_demand {cat}: {n}")
    new = parks["IS_NEW"].to_numpy() == 1
    print(f"car parks: {(~new).sum()} existing, {new.sum()} new; spaces {parks['SPACES'].sum():,}; "
          f"built charging spaces {parks['CHG_BUILT'].sum():,}; reserved {parks['CHG_RESV'].sum():,}")
    share = parks.loc[new, "CHG_BUILT"].to_numpy() / parks.loc[new, "SPACES"].to_numpy()
    print(f"new car parks at >= 20 % built: {int(np.sum(share >= 0.2))} of {int(new.sum())}")


if __name__ == "__main__":
    main()
