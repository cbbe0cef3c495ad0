"""Layer specs: the declarative description of every layer geoplan reads or writes.

The specs live as TOML in the repository's ``layers/`` folder (see its README);
this module turns them into frozen :class:`LayerSpec` objects.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from . import io
from .errors import ConfigError

__all__ = ["FieldSpec", "LayerSpec", "layer_specs", "layer_spec"]


@dataclass(frozen=True)
class FieldSpec:
    """One attribute field of a layer."""

    name: str
    type: str
    required: bool
    alias: str = ""
    description: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] | None = None
    unique: bool = False
    pattern: str | None = None
    pattern_description: str = ""
    synonyms: dict[str, Any] | None = None


@dataclass(frozen=True)
class LayerSpec:
    """A layer's schema and its one-map identity (图层名, 要素代码)."""

    key: str
    title: str
    onemap_name: str
    onemap_alias: str
    ysdm: str
    geometry: str
    kind: str
    modelled_in_demo: bool
    fields: tuple[FieldSpec, ...]

    @property
    def is_raster(self) -> bool:
        """Whether the layer is a raster (no attribute table)."""
        return self.geometry == "raster"

    @property
    def is_table(self) -> bool:
        """Whether the layer is an attribute table without geometry (``geometry = "table"``)."""
        return self.geometry == "table"

    def field(self, name: str) -> FieldSpec:
        """The spec of field ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"layer '{self.key}' has no field '{name}'")

    @property
    def required_fields(self) -> tuple[FieldSpec, ...]:
        """Fields every input layer must have."""
        return tuple(f for f in self.fields if f.required)


def _parse(key: str, raw: dict[str, Any]) -> LayerSpec:
    try:
        head = raw["layer"]
        fields = tuple(
            FieldSpec(
                name=f["name"], type=f["type"], required=bool(f.get("required", False)),
                alias=f.get("alias", ""), description=f.get("description", ""),
                min=f.get("min"), max=f.get("max"),
                choices=tuple(f["choices"]) if "choices" in f else None,
                unique=bool(f.get("unique", False)), pattern=f.get("pattern"),
                pattern_description=f.get("pattern_description", ""),
                synonyms=dict(f["synonyms"]) if "synonyms" in f else None,
            )
            for f in raw.get("fields", [])
        )
        return LayerSpec(
            key=head.get("key", key), title=head["title"], onemap_name=head["onemap_name"],
            onemap_alias=head["onemap_alias"], ysdm=str(head["ysdm"]), geometry=head["geometry"],
            kind=head.get("kind", "input"), modelled_in_demo=bool(head.get("modelled_in_demo", False)),
            fields=fields,
        )
    except KeyError as exc:
        raise ConfigError(f"layer spec '{key}' lacks {exc}. Fix: add it to layers/{key}.toml") from exc


@functools.cache
def layer_specs() -> dict[str, LayerSpec]:
    """All layer specs, by key.

    Examples
    --------
    >>> spec = layer_specs()["districts"]
    >>> spec.onemap_alias, spec.ysdm, [f.name for f in spec.required_fields]
    ('行政区', '1000600100', ['XZQDM', 'XZQMC'])
    """
    return {k: _parse(k, v) for k, v in io.read_layer_specs().items()}


def layer_spec(key: str) -> LayerSpec:
    """The spec of layer ``key``; a clear error when there is none."""
    specs = layer_specs()
    if key not in specs:
        raise ConfigError(f"unknown layer '{key}'; known layers: {', '.join(sorted(specs))}. "
                          "Fix: use one of those names in the project file")
    return specs[key]
