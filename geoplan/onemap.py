"""The one-map schema of a delivery: layer names, element codes, field names and coded values.

geoplan's defaults come from the layer specs (``layers/<key>.toml``: ``onemap_name``,
``onemap_alias``, ``ysdm``) and from ``geoplan/onemap.toml`` (coded values with
Chinese labels: 宏站/微站/室分, 现状/规划, operators ...). A bureau whose data
specification names things differently writes a *mapping file* (TOML) that
overrides any of them, without touching geoplan::

    [delivery]
    producer = "厦门市自然资源和规划局"

    [layers.planned_sites]
    name = "WXJZGH"             # layer name in the delivery
    ysdm = "2090010200"         # element code
    [layers.planned_sites.fields]
    SITE_TYPE = "ZXLX"          # geoplan field -> delivery field

    [domains.site_type]
    name = "ZXLXDM"             # domain name
    codes = { micro = "微站（含智慧杆）" }   # labels of geoplan's codes

:func:`mapping_template` gives every name geoplan uses in that form, to copy and
edit; :func:`load_mapping` reads a mapping file over the defaults and refuses
unknown layers, domains and codes with a message naming the fix.

Examples
--------
>>> om = default_onemap()
>>> om.layer("planned_sites").name, om.domain("planned_sites", "SITE_TYPE").codes["macro"]
('JZ5GGH', '宏站')
>>> om.domain("edge_dc", "STATUS").label("planned"), om.domain("sites", "STATUS") is None
('规划', True)
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import io
from .errors import ConfigError
from .layers import FieldSpec, layer_spec, layer_specs

__all__ = ["ONEMAP_FIELDS", "AREA_FIELD", "CodedDomain", "LayerNames", "OneMap", "default_onemap", "load_mapping",
           "mapping_template"]

#: The one-map attribute fields every exported layer starts with.
ONEMAP_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("BSM", "int", True, "标识码", "Feature identifier, unique across the delivery"),
    FieldSpec("YSDM", "str", True, "要素代码", "Element code of the layer (layers/<key>.toml ysdm)"),
    FieldSpec("XZQDM", "str", False, "行政区代码", "Code of the district the feature lies in (GB/T 2260)"),
    FieldSpec("XZQMC", "str", False, "行政区名称", "Name of the district the feature lies in"),
)
#: Area of each polygon on the CGCS2000 ellipsoid (square metres), after the spec's fields.
AREA_FIELD = FieldSpec("JSMJ", "float", False, "计算面积（平方米）",
                       "Ellipsoidal area on the CGCS2000 ellipsoid, m² (independent of the output CRS)")

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class CodedDomain:
    """A coded-value domain: the codes geoplan writes and their Chinese labels.

    Attributes
    ----------
    key : str
        Key in ``onemap.toml`` (``site_type``, ``status`` ...).
    name : str
        Domain name in the delivery (FileGDB domain, GeoPackage constraint).
    description : str
        What the codes are.
    type : {"str", "int"}
        Type of the fields it applies to.
    fields : tuple of str
        ``"FIELD"`` (every layer) or ``"layer.FIELD"`` (one layer).
    label_field : str
        Label field beside the code in shapefiles and GeoJSON (``""``: none).
    codes : dict
        Code (as text) → label, in order.
    """

    key: str
    name: str
    description: str
    type: str
    fields: tuple[str, ...]
    label_field: str
    codes: dict[str, str]

    def applies(self, layer: str, field_name: str) -> bool:
        """Whether the domain governs ``field_name`` of ``layer``."""
        return field_name in self.fields or f"{layer}.{field_name}" in self.fields

    def label(self, value: Any) -> str | None:
        """The label of ``value`` (``None`` for a missing value or a code the domain lacks)."""
        if value is None or (isinstance(value, float) and value != value):
            return None
        code = str(int(value)) if self.type == "int" and isinstance(value, int | float) else str(value)
        return self.codes.get(code)


@dataclass(frozen=True)
class LayerNames:
    """A layer's identity in the delivery.

    Attributes
    ----------
    key : str
        geoplan's layer key.
    name, alias, ysdm : str
        Layer name (图层名), alias and element code (要素代码).
    fields : dict
        geoplan field → delivery field, for the fields that are renamed.
    """

    key: str
    name: str
    alias: str
    ysdm: str
    fields: dict[str, str] = field(default_factory=dict)

    def field_name(self, name: str) -> str:
        """The delivery name of geoplan field ``name``."""
        return self.fields.get(name, name)


@dataclass(frozen=True)
class OneMap:
    """Every name and code of a delivery: layers, fields, domains, and who produces it.

    Attributes
    ----------
    layers : dict
        Layer key → :class:`LayerNames` (only layers that differ from the specs need be given).
    domains : tuple of CodedDomain
    producer : str
        Organisation producing the delivery (metadata); ``""`` when not set.
    source : str
        ``"geoplan defaults"`` or the mapping file's name.
    """

    layers: dict[str, LayerNames]
    domains: tuple[CodedDomain, ...]
    producer: str = ""
    source: str = "geoplan defaults"

    def layer(self, key: str) -> LayerNames:
        """The names of layer ``key`` (from its spec unless the mapping renames it)."""
        if key in self.layers:
            return self.layers[key]
        spec = layer_spec(key)
        return LayerNames(key=key, name=spec.onemap_name, alias=spec.onemap_alias, ysdm=spec.ysdm)

    def domain(self, layer: str, field_name: str) -> CodedDomain | None:
        """The domain governing ``field_name`` of ``layer``, if any (a layer-specific one first)."""
        specific = [d for d in self.domains if f"{layer}.{field_name}" in d.fields]
        general = [d for d in self.domains if field_name in d.fields]
        found = specific or general
        return found[0] if found else None

    def to_dict(self) -> dict[str, Any]:
        """The mapping as TOML-ready data (the form :func:`load_mapping` reads)."""
        return mapping_template(self)


def _domain(key: str, raw: Mapping[str, Any], where: str) -> CodedDomain:
    try:
        codes = {str(k): str(v) for k, v in dict(raw["codes"]).items()}
        dom = CodedDomain(key=key, name=str(raw["name"]), description=str(raw.get("description", "")),
                          type=str(raw.get("type", "str")), fields=tuple(str(f) for f in raw["fields"]),
                          label_field=str(raw.get("label_field", "")), codes=codes)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: domain '{key}' lacks or mistypes {exc}. Fix: give name, fields and codes") \
            from exc
    if dom.type not in ("str", "int"):
        raise ConfigError(f"{where}: domain '{key}' has type {dom.type!r}. Fix: type = \"str\" or \"int\"")
    return dom


@functools.cache
def default_onemap() -> OneMap:
    """geoplan's own names and codes: the layer specs and ``geoplan/onemap.toml``."""
    raw = io.read_package_toml("geoplan", "onemap.toml")
    domains = tuple(_domain(k, v, "geoplan/onemap.toml") for k, v in raw.get("domains", {}).items())
    return OneMap(layers={}, domains=domains)


def load_mapping(path: str | os.PathLike[str] | None) -> OneMap:
    """geoplan's defaults overridden by the mapping file at ``path`` (``None``: the defaults).

    Raises
    ------
    ConfigError
        Unknown sections, layers, domains or codes; a field or domain name a GIS
        format cannot hold; two fields of a layer mapped to one name.
    """
    base = default_onemap()
    if path is None:
        return base
    raw = io.read_toml(path, what="one-map mapping file")
    where = f"mapping file {Path(path).name}"
    unknown = set(raw) - {"delivery", "layers", "domains"}
    if unknown:
        raise ConfigError(f"{where}: unknown section(s) {', '.join(sorted(unknown))}. "
                          "Fix: use [delivery], [layers.<key>] and [domains.<key>]")
    layers = {k: _layer_names(k, v, where) for k, v in raw.get("layers", {}).items()}
    by_key = {d.key: d for d in base.domains}
    domains = list(base.domains)
    for key, over in raw.get("domains", {}).items():
        if key not in by_key:
            raise ConfigError(f"{where}: unknown domain '{key}'. Fix: use one of {', '.join(by_key)}")
        domains[domains.index(by_key[key])] = _domain_override(by_key[key], over, where)
    producer = str(raw.get("delivery", {}).get("producer", ""))
    return OneMap(layers=layers, domains=tuple(domains), producer=producer, source=Path(path).name)


def _layer_names(key: str, raw: Mapping[str, Any], where: str) -> LayerNames:
    if key not in layer_specs():
        raise ConfigError(f"{where}: unknown layer '{key}'. Fix: use one of {', '.join(sorted(layer_specs()))}")
    spec = layer_spec(key)
    extra = set(raw) - {"name", "alias", "ysdm", "fields"}
    if extra:
        raise ConfigError(f"{where}: [layers.{key}] has unknown key(s) {', '.join(sorted(extra))}. "
                          "Fix: use name, alias, ysdm and [layers.<key>.fields]")
    fields = {str(k): str(v) for k, v in dict(raw.get("fields", {})).items()}
    names = LayerNames(key=key, name=str(raw.get("name", spec.onemap_name)),
                       alias=str(raw.get("alias", spec.onemap_alias)), ysdm=str(raw.get("ysdm", spec.ysdm)),
                       fields=fields)
    for what, value in [("layer name", names.name), *[(f"field {k}", v) for k, v in fields.items()]]:
        if not _NAME_RE.match(value):
            raise ConfigError(f"{where}: [layers.{key}] {what} {value!r} is not a name every GIS format holds. "
                              "Fix: use letters, digits and _ (not first), at most 64 characters")
    targets = list(fields.values())
    dup = sorted({t for t in targets if targets.count(t) > 1})
    if dup:
        raise ConfigError(f"{where}: [layers.{key}.fields] maps several fields to {', '.join(dup)}. "
                          "Fix: give each field its own name")
    return names


def _domain_override(base: CodedDomain, raw: Mapping[str, Any], where: str) -> CodedDomain:
    extra = set(raw) - {"name", "description", "label_field", "codes"}
    if extra:
        raise ConfigError(f"{where}: [domains.{base.key}] has unknown or fixed key(s) {', '.join(sorted(extra))}. "
                          "Fix: change only name, description, label_field and the labels under codes "
                          "(the codes and the fields they apply to are geoplan's)")
    codes = dict(base.codes)
    for code, label in dict(raw.get("codes", {})).items():
        if str(code) not in codes:
            raise ConfigError(f"{where}: domain '{base.key}' has no code {code!r} (codes: {', '.join(codes)}). "
                              "Fix: relabel geoplan's codes only; they are the values geoplan writes")
        codes[str(code)] = str(label)
    name = str(raw.get("name", base.name))
    if not _NAME_RE.match(name):
        raise ConfigError(f"{where}: domain name {name!r} is not a valid name. Fix: letters, digits and _")
    return dataclasses.replace(base, name=name, description=str(raw.get("description", base.description)),
                               label_field=str(raw.get("label_field", base.label_field)), codes=codes)


def mapping_template(onemap: OneMap | None = None) -> dict[str, Any]:
    """Every layer name, element code, field name and domain as mapping-file data, to copy and edit.

    Examples
    --------
    >>> t = mapping_template()
    >>> t["layers"]["planned_sites"]["name"], t["domains"]["status"]["codes"]["existing"]
    ('JZ5GGH', '现状')
    """
    om = onemap or default_onemap()
    layers: dict[str, Any] = {}
    for key, spec in sorted(layer_specs().items()):
        if spec.kind == "input" and spec.is_raster:
            continue
        names = om.layer(key)
        own = [f.name for f in ONEMAP_FIELDS] if not spec.is_raster and not spec.is_table else []
        area = [AREA_FIELD.name] if spec.geometry == "Polygon" else []
        fields = {n: names.field_name(n) for n in [*own, *(f.name for f in spec.fields), *area]}
        layers[key] = {"name": names.name, "alias": names.alias, "ysdm": names.ysdm, "fields": fields}
    domains = {d.key: {"name": d.name, "description": d.description, "label_field": d.label_field,
                       "codes": dict(d.codes)} for d in om.domains}
    return {"delivery": {"producer": om.producer}, "layers": layers, "domains": domains}
