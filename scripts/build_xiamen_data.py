"""Build the embedded Xiamen dataset in data/gis/ from data/gis/sources/ (seeded, reproducible).

    python scripts/build_xiamen_data.py

1. District boundaries: AMap (GCJ-02) → CGCS2000 (EPSG:4490) with geoplan's own
   GCJ-02 inverse; 2020 census population joined by XZQDM.
2. Modelled 100 m population grid in EPSG:4548 whose district sums equal the census:
   centres, road corridors and urban villages; nobody on the sea inside the outlines, reservoirs,
   the airports, large parks and hills (sources/xiamen_landcover_modelled.geojson).
3. Modelled existing 5G stations at the plan's 2022 baseline (20.5 per 10k residents
   at the 2022 year-end population, 530.8万 → 10,881 stations; one record per physical
   station, a CT/CU shared station counted once), three networks with a minimum spacing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from geoplan import io
from geoplan.population import demand_points
from geoplan.project import prepare_layer
from geoplan.synthetic import modelled_population, modelled_sites

#: The source tree's data/gis/ (written here, then shipped inside the package as geoplan._data).
GIS = Path(__file__).resolve().parents[1] / "data" / "gis"
SRC = GIS / "sources"
METRIC = "EPSG:4548"
BASELINE_PER_10K = 20.5
YEAREND_2022 = 5_308_000


def main() -> None:
    raw = io.read_vector(SRC / "xiamen_districts_gcj02_amap_raw.geojson", layer="districts")
    raw = raw.set_crs(None, allow_override=True) if raw.crs else raw
    districts = prepare_layer(raw, "districts", declared_crs="GCJ-02")
    census = io.read_csv(SRC / "xiamen_district_population.csv", dtype={"XZQDM": str})
    census = census[census["XZQDM"] != "350200"].set_index("XZQDM")
    districts["POP"] = districts["XZQDM"].map(census["pop_census2020"]).astype(float)
    districts["NAME_EN"] = districts["XZQDM"].map(census["name_en"])
    districts["POP_SRC"] = "第七次全国人口普查 2020-11-01"
    districts = districts[["XZQDM", "XZQMC", "NAME_EN", "POP", "POP_SRC", "geometry"]]
    districts = districts.sort_values("XZQDM").reset_index(drop=True)
    io.write_vector(districts, GIS / "xiamen_districts.gpkg", layer="districts", driver="GPKG", overwrite=True)

    dm = districts.to_crs(METRIC)
    landcover = io.read_vector(SRC / "xiamen_landcover_modelled.geojson", layer="landcover")
    pop = modelled_population(dm, districts["POP"].to_numpy(), excluded=landcover)
    io.write_raster(pop, GIS / "xiamen_population_100m.tif", tags={
        "MODELLED": "1", "UNITS": "persons per 100 m cell",
        "METHOD": "dasymetric model: urban centres, road corridors, urban villages, no residents on water, "
                  "airports, parks and hills (geoplan.synthetic.population), scaled to census 2020",
    }, overwrite=True)
    back = io.read_raster(GIS / "xiamen_population_100m.tif")
    demand = demand_points(back, districts, metric_crs=dm.crs)
    n_sites = int(round(BASELINE_PER_10K * YEAREND_2022 / 10_000))
    sites = modelled_sites(demand, n_sites, districts=dm)
    io.write_vector(sites.to_crs(4490), GIS / "xiamen_5g_sites.gpkg", layer="sites", driver="GPKG", overwrite=True)
    sums = np.bincount(demand.district, weights=demand.pop, minlength=len(districts))
    for code, s, c in zip(districts["XZQDM"], sums, districts["POP"], strict=True):
        print(f"{code}: raster {s:,.1f} census {c:,.0f} diff {s - c:+.2f}")
    print(f"cells {len(demand):,}  sites {n_sites:,}")
    print(sites.groupby(["NETWORK", "SITE_TYPE"]).size().to_string())
    print(sites["BANDS"].value_counts().to_string())


if __name__ == "__main__":
    main()
