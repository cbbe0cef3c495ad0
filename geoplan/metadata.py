"""Metadata of a one-map delivery: how each layer was made, as a table, JSON and an XML sidecar.

Every record names its source by a *relative* name only (a file name, or a path
below the project folder): a delivery never carries the folder layout of the
machine that made it. The XML sidecar follows the items the spatial-planning
"one map" (国土空间规划"一张图") data-submission guidance asks of a dataset —
identification (title, area, producer, date), spatial reference (CRS, datum,
projection), extent, sources and lineage per layer, and a statement naming
every modelled (synthetic) layer — with Chinese element names; docs/onemap.md
lists them.

Examples
--------
>>> relative_source("/home/me/xiamen/data/sites.gpkg", root="/home/me/xiamen")
'data/sites.gpkg'
>>> relative_source("/srv/other/place/pop.tif", root="/home/me/xiamen")
'pop.tif'
>>> modelled_statement([{"layer": "JZ5G", "alias": "5G基站（现状）", "modelled": True},
...                     {"layer": "XZQ", "alias": "行政区", "modelled": False}])
'模拟数据（非实测）：JZ5G 5G基站（现状）。其余图层为输入数据或计算结果。'
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import pandas as pd
from pyproj import CRS

__all__ = ["XML_SCHEMA", "relative_source", "relative_text", "metadata_table", "metadata_json", "metadata_xml",
           "modelled_statement"]

#: Identifier of the XML sidecar's layout.
XML_SCHEMA = "geoplan.metadata/1"


def relative_source(path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None) -> str:
    """``path`` relative to ``root`` when it lies below it, else its file name alone."""
    p = PurePath(path)
    if root is not None:
        try:
            return Path(p).resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            pass
    return p.name


def relative_text(value: str, *, root: str | os.PathLike[str] | None = None) -> str:
    """A source text with an absolute path reduced by :func:`relative_source` (other text unchanged)."""
    text = str(value)
    if text and (PurePath(text).is_absolute() or (len(text) > 2 and text[1] == ":" and text[2] in "\\/")):
        return relative_source(text, root=root)
    return text


def modelled_statement(records: Sequence[Mapping[str, Any]]) -> str:
    """The modelled-layer statement: which layers are modelled (synthetic), in Chinese."""
    names = [f"{r['layer']} {r['alias']}" for r in records if r.get("modelled")]
    unknown = [f"{r['layer']} {r['alias']}" for r in records if r.get("modelled") is None]
    out = ("模拟数据（非实测）：" + "、".join(names) + "。") if names else "本成果不含模拟数据图层。"
    if unknown:
        out += "来源未声明是否为模拟数据：" + "、".join(unknown) + "。"
    return out + "其余图层为输入数据或计算结果。"


def _modelled_code(v: Any) -> int:
    """1 modelled, 0 not, -1 not stated."""
    return -1 if v is None else int(bool(v))


def _js(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, default=str)


def metadata_table(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The ``geoplan_metadata`` table: one row per layer."""
    col = {k: [r.get(k, "") for r in records] for k in ("layer", "key", "alias", "ysdm", "title", "geometry", "crs",
                                                        "geoplan_version", "created")}
    return pd.DataFrame({
        "LAYER": col["layer"], "LAYER_KEY": col["key"], "ALIAS": col["alias"], "YSDM": col["ysdm"],
        "TITLE": col["title"], "FEATURES": np.array([r["features"] for r in records], dtype=np.int32),
        "GEOMETRY": col["geometry"], "CRS": col["crs"], "SOURCE": [str(r.get("source", "")) for r in records],
        "MODELLED": np.array([_modelled_code(r.get("modelled")) for r in records], dtype=np.int32),
        "METHOD": [str(r.get("method", "")) for r in records],
        "PARAMETERS": [_js(r.get("parameters", {})) for r in records],
        "NOTE": [str(r.get("note", "")) for r in records], "FIELDS": [_js(r.get("fields", [])) for r in records],
        "VERSION": col["geoplan_version"], "CREATED": col["created"],
    })


def metadata_json(doc: Mapping[str, Any]) -> bytes:
    """The JSON sidecar (``geoplan_metadata.json``) of shapefile and GeoJSON deliveries."""
    return json.dumps(doc, ensure_ascii=False, indent=2, default=str).encode("utf-8")


def _sub(parent: ET.Element, tag: str, text: Any = None, **attrib: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrib)
    if text is not None:
        el.text = str(text)
    return el


def _spatial_reference(root: ET.Element, crs: CRS, label: str) -> None:
    ref = _sub(root, "空间参考")
    _sub(ref, "坐标系统", crs.name)
    _sub(ref, "坐标系统代码", label)
    geod = crs.geodetic_crs
    _sub(ref, "大地基准", geod.name if geod is not None else "")
    _sub(ref, "椭球体", crs.ellipsoid.name if crs.ellipsoid is not None else "")
    if crs.is_projected:
        proj = crs.coordinate_operation
        _sub(ref, "投影", proj.method_name if proj is not None else "")
        cm = next((p.value for p in (proj.params if proj is not None else []) if "meridian" in p.name.lower()), None)
        if cm is not None:
            _sub(ref, "中央经线", f"{cm:g}")
    else:
        _sub(ref, "投影", "无（地理坐标，经纬度，单位：度）")
    _sub(ref, "高程基准", "无（平面数据）")


def _layer_element(parent: ET.Element, r: Mapping[str, Any]) -> None:
    ly = _sub(parent, "图层", 名称=str(r["layer"]))
    _sub(ly, "图层别名", r.get("alias", ""))
    _sub(ly, "要素代码", r.get("ysdm", ""))
    _sub(ly, "标题", r.get("title", ""))
    _sub(ly, "几何类型", r.get("geometry", ""))
    _sub(ly, "要素数", r.get("features", 0))
    if r.get("file"):
        _sub(ly, "文件", r["file"])
    _sub(ly, "数据来源", r.get("source", ""))
    _sub(ly, "是否模拟数据", {1: "是", 0: "否"}.get(_modelled_code(r.get("modelled")), "未声明"))
    _sub(ly, "生成方法", r.get("method", ""))
    _sub(ly, "参数", _js(r.get("parameters", {})))
    if r.get("note"):
        _sub(ly, "说明", r["note"])
    fields = _sub(ly, "字段")
    for f in r.get("fields", []):
        _sub(fields, "字段项", 名称=str(f.get("name", "")), 全称=str(f.get("full_name", "")),
             别名=str(f.get("alias", "")), **({"值域": str(f["domain"])} if f.get("domain") else {}))


def metadata_xml(*, title: str, producer: str, created: str, version: str, crs: CRS, crs_label: str,
                 bounds_lonlat: tuple[float, float, float, float] | None, records: Sequence[Mapping[str, Any]],
                 domains: Sequence[Mapping[str, Any]] = (), plan: Mapping[str, Any] | None = None) -> bytes:
    """The XML metadata sidecar of a delivery (UTF-8, layout :data:`XML_SCHEMA`).

    Parameters
    ----------
    title : str
        Name of the dataset.
    producer : str
        Organisation that produced it (``""``: not stated, and the file says so).
    created, version : str
        Creation time (ISO 8601, UTC) and geoplan version.
    crs, crs_label : CRS, str
        Output CRS and its code (``"EPSG:4490"``).
    bounds_lonlat : (west, south, east, north) or None
        Extent in CGCS2000 degrees.
    records : sequence of dict
        One per layer (``layer``, ``alias``, ``ysdm``, ``features``, ``source``, ``modelled``, ...).
    domains : sequence of dict
        Coded-value domains (``name``, ``description``, ``codes``).
    plan : dict, optional
        The plan the delivery carries (document, target year ...), for the identification.
    """
    root = ET.Element("元数据", 格式=XML_SCHEMA)
    ident = _sub(root, "标识信息")
    _sub(ident, "数据名称", title)
    _sub(ident, "生产单位", producer or "未填写（在映射文件 [delivery] producer 中填写）")
    _sub(ident, "生产日期", created[:10])
    _sub(ident, "生成时间", created)
    _sub(ident, "生产软件", f"geoplan {version}")
    if plan:
        for tag, key in (("规划依据", "document"), ("规划范围", "scope"), ("目标年", "year"),
                         ("行政区代码", "xzqdm")):
            if plan.get(key) not in (None, ""):
                _sub(ident, tag, plan[key])
    _spatial_reference(root, crs, crs_label)
    if bounds_lonlat is not None:
        ext = _sub(root, "数据范围", 单位="度（CGCS2000）")
        for tag, v in zip(("西边界", "南边界", "东边界", "北边界"), bounds_lonlat, strict=True):
            _sub(ext, tag, f"{v:.6f}")
    layers = _sub(root, "图层信息")
    for r in records:
        _layer_element(layers, r)
    if domains:
        doms = _sub(root, "值域")
        for d in domains:
            el = _sub(doms, "代码表", 名称=str(d["name"]), 说明=str(d.get("description", "")))
            for code, label in dict(d["codes"]).items():
                _sub(el, "代码", label, 值=str(code))
    _sub(root, "模拟数据声明", modelled_statement(records))
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"
