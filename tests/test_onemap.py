"""geoplan.onemap and docs/onemap.md: every name and code of a delivery, documented."""

from __future__ import annotations

from pathlib import Path

from geoplan.export import RESULT_FIELDS
from geoplan.layers import layer_specs
from geoplan.onemap import AREA_FIELD, ONEMAP_FIELDS, default_onemap

DOC = Path(__file__).resolve().parent.parent / "docs" / "onemap.md"


def test_docs_list_every_layer_field_code_and_domain():
    text = DOC.read_text(encoding="utf-8")
    for key, spec in layer_specs().items():
        assert f"`{key}`" in text and spec.onemap_name in text and spec.ysdm in text, key
        for f in spec.fields:
            assert f"| {f.name} |" in text, (key, f.name)
    for f in (*ONEMAP_FIELDS, AREA_FIELD, *RESULT_FIELDS):
        assert f"| {f.name} |" in text, f.name
    for d in default_onemap().domains:
        assert d.name in text and d.description in text, d.key
        for code, label in d.codes.items():
            assert f"| `{code}` | {label} |" in text, (d.key, code)


def test_every_coded_field_of_a_spec_has_labels_for_all_its_choices():
    om = default_onemap()
    for key, spec in layer_specs().items():
        for f in spec.fields:
            dom = om.domain(key, f.name)
            if dom is not None and f.choices is not None:
                assert {str(c) for c in f.choices} <= set(dom.codes), (key, f.name)
