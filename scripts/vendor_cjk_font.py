"""Cut the app's Chinese web font: a subset of Noto Sans SC as WOFF2, for intranet machines without a CJK font.

Source: Debian's ``fonts-noto-cjk`` (``NotoSansCJK-Regular.ttc``, face "Noto Sans CJK SC"), SIL Open Font
Licence 1.1. Characters kept: ASCII, CJK punctuation and full-width forms, the 3,755 characters of GB 2312
level 1 (common Chinese), and every character of the app's interface text (``geoplan.webmap.i18n``).
Needs ``fonttools`` and ``brotli`` (``pip install fonttools brotli``).

    python scripts/vendor_cjk_font.py            # writes apps/static/fonts/NotoSansSC-subset.woff2
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

from geoplan.webmap.i18n import all_text

SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
OUT = Path(__file__).resolve().parent.parent / "apps" / "static" / "fonts" / "NotoSansSC-subset.woff2"


def gb2312_level1() -> str:
    chars = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return "".join(chars)


def main() -> int:
    if not SOURCE.is_file():
        print(f"{SOURCE} is missing: apt-get install fonts-noto-cjk", file=sys.stderr)
        return 1
    coll = TTCollection(str(SOURCE))
    font = next(f for f in coll.fonts if "SC" in f["name"].getDebugName(1))
    text = "".join(chr(c) for c in range(0x20, 0x7F)) + "".join(chr(c) for c in range(0x3000, 0x3040))
    text += "".join(chr(c) for c in range(0xFF00, 0xFF5F)) + "·—…‘’“”°²±×÷→←↑↓≤≥" + gb2312_level1() + all_text()
    opts = subset.Options()
    opts.flavor = "woff2"
    opts.layout_features = ["*"]
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    sub = subset.Subsetter(opts)
    sub.populate(text=text)
    sub.subset(font)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    font.flavor = "woff2"
    font.save(str(OUT))
    print(f"{OUT} ({OUT.stat().st_size / 1e6:.2f} MB, {len(set(text))} characters)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
