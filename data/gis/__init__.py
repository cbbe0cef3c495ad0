"""The embedded Xiamen data and the Fujian sources, shipped inside geoplan as ``geoplan._data``.

Data only: read them with geoplan.io (``io.shipped("data/gis/...")``).
"""
