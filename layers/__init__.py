"""The layer specs, shipped inside geoplan as ``geoplan._layers`` (data only: read them with geoplan.io)."""
