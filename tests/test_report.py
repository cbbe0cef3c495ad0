"""geoplan.report: the planning report renders offline to PDF with Chinese text (checked as page images)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

import geoplan as gp
from geoplan import io, planfile, report
from geoplan.charging import place_charging
from geoplan.edge import place_edge
from geoplan.placement import place_sites, planning_context


@pytest.fixture(scope="module")
def xiamen_plan(xiamen):
    ctx = planning_context(xiamen)
    sites = planfile.sites_plan(xiamen, place_sites(xiamen, year=2025, context=ctx), context=ctx)
    return planfile.merge_plans([sites, planfile.edge_plan(xiamen, place_edge(xiamen)),
                                 planfile.charging_plan(xiamen, place_charging(xiamen))])


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (make test installs it)")
def test_pdf_pages_render_with_embedded_chinese_font(xiamen, xiamen_plan, tmp_path):
    path = report.write_report(xiamen, xiamen_plan, tmp_path / "r.pdf")
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "NotoSansCJK" in fonts and all(" yes " in line for line in fonts.splitlines()[2:])  # embedded
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for words in ("新型基础设施规", "每万人5G基站数", "思明区", "宏站", "边缘数据中心", "模拟数据", "n78"):
        assert words in text, words
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "pg")], check=True,
                   capture_output=True)
    pages = sorted(tmp_path.glob("pg-*.png"))
    assert len(pages) >= 7
    for p in pages:  # every page has content: not blank, not one colour
        arr = np.asarray(Image.open(p).convert("L"), dtype=float)
        assert arr.std() > 5 and (arr < 128).mean() > 0.002, p.name


def test_html_report_is_self_contained(xiamen, xiamen_plan):
    page = report.report_bytes(xiamen, xiamen_plan, format="html").decode("utf-8")
    assert page.count("data:image/png;base64,") >= 5 and "http://" not in page and "https://" not in page
    assert "覆盖率为全网合计" in page and "室内用户" in page  # says which network and setting coverage refers to
    assert "population（人口格网）" in page  # every modelled layer named


def test_without_a_cjk_font_the_report_says_how_to_get_one(tiny, monkeypatch, tmp_path):
    monkeypatch.setenv(io.CJK_FONT_ENV, str(tmp_path / "no-font.ttc"))
    plan = planfile.sites_plan(tiny, place_sites(tiny, year=2025))
    with pytest.raises(gp.ConfigError, match="fonts-noto-cjk"):
        report.write_report(tiny, plan, tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()
    with pytest.raises(gp.ConfigError, match="\\*.pdf or \\*.html"):
        report.report_format("r.docx")
