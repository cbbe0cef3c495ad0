"""The typer application, output formats and the mapping of errors to exit codes."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from .. import labels
from ..errors import (
    ConfigError,
    GeoplanError,
    InfeasibleError,
    ReadError,
    SolverError,
    ValidationError,
    WriteError,
)

__all__ = ["app", "place_app", "main", "Format", "Lang", "LangOpt", "emit", "csv_text", "fit_columns", "console",
           "err_console", "EXIT_CODES", "ProjectOpt", "stdout_for_output_only"]

app = typer.Typer(
    name="geoplan", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="Plan new infrastructure (5G sites, edge data centres, EV charging) against a city's or province's plan.",
)
place_app = typer.Typer(no_args_is_help=True, help="Choose sites: 5G stations, edge data centres, charging.")
app.add_typer(place_app, name="place")

# a wide console when output is piped or captured, so tables are not squeezed to 80 columns
console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True)

#: Exit code of each error type (0 success, 1 unexpected, 2 usage error from typer/click).
EXIT_CODES: dict[type[GeoplanError], int] = {
    ValidationError: 3,
    ConfigError: 4,
    ReadError: 5,
    WriteError: 5,
    InfeasibleError: 6,
    SolverError: 7,
}


class Format(str, Enum):
    """Output formats every command offers."""

    table = "table"
    json = "json"
    csv = "csv"


class Lang(str, Enum):
    """Language of table and CSV headers."""

    en = "en"
    zh = "zh"


LangOpt = typer.Option(Lang.en, "--lang", help="Headers of the table and CSV: en (column names) or zh (中文表头).")
ProjectOpt = typer.Option(None, "--project", "-p", help="Project file (geoplan.toml); the embedded Xiamen project by default.",
                          exists=False, dir_okay=False)
CandidatesOpt = typer.Option("population", "--candidates", help="Generated candidates beside the project's "
                             "candidate inventories: population (populated cells by weight), kmeans (weighted k-means "
                             "centres), grid (a square grid where people live) or none (inventories only).")
MixOpt = typer.Option(None, "--mix", help="Shares of macro,micro,indoor among modelled candidates, e.g. "
                      "0.6,0.25,0.15 (default: by radio environment).")


def parse_mix(text: str | None) -> tuple[float, float, float] | None:
    """``"0.6,0.25,0.15"`` → ``(0.6, 0.25, 0.15)``; the shares are checked by the library.

    >>> parse_mix("0.6, 0.25, 0.15")
    (0.6, 0.25, 0.15)
    """
    if text is None:
        return None
    try:
        parts = tuple(float(x) for x in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3:
        raise ConfigError(f"--mix {text!r} is not three numbers. Fix: give macro,micro,indoor shares such as "
                          "0.6,0.25,0.15")
    return (parts[0], parts[1], parts[2])


def csv_text(frame: pd.DataFrame, *, lang: Lang = Lang.en) -> str:
    """A table as CSV for spreadsheets: UTF-8 with a BOM (Excel shows the Chinese), tidy numbers, headers in ``lang``."""
    out = labels.tidy(frame)
    if lang is Lang.zh:
        out = out.apply(lambda col: col.map(lambda v: {True: "是", False: "否"}.get(v, v) if isinstance(v, bool) else v)
                        if col.dtype == object or pd.api.types.is_bool_dtype(col) else col)
    out.columns = labels.headers(out.columns, lang=lang.value)
    return "\ufeff" + out.to_csv(index=False)


def fit_columns(frame: pd.DataFrame, headers: list[str], width: int, *, keep: int = 2) -> list[int]:
    """Indices of the columns that fit ``width`` terminal cells (the first ``keep`` always), in order."""
    widths = []
    for i, c in enumerate(frame.columns):
        cells = [cell_len(_cell(v)) for v in frame[c].tolist()[:200]]
        widths.append(max([cell_len(headers[i]), *cells]) + 3)
    shown, used = [], 4
    for i, w in enumerate(widths):
        if i < keep or used + w <= width:
            shown.append(i)
            used += w
    return shown


def emit(data: dict[str, Any], fmt: Format, *, frame: pd.DataFrame | None = None, title: str = "",
         footer: list[str] | None = None, lang: Lang = Lang.en) -> None:
    """Print ``data`` as JSON, ``frame`` as CSV, or a rich table (columns that fit the terminal) with ``footer``."""
    if fmt is Format.json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=_jsonable) + "\n")
    elif fmt is Format.csv:
        if frame is None:
            raise ConfigError("this command has no table to write as CSV. Fix: use --format json")
        sys.stdout.write(csv_text(frame, lang=lang))
    else:
        if frame is not None:
            _print_table(frame, title=title, lang=lang)
        for line in footer or []:
            console.print(line)


def _print_table(frame: pd.DataFrame, *, title: str, lang: Lang) -> None:
    tidy = labels.tidy(frame)
    heads = labels.headers(tidy.columns, lang=lang.value)
    shown = fit_columns(tidy, heads, console.width)
    t = Table(title=title, show_lines=False)
    for i in shown:
        c = tidy.columns[i]
        t.add_column(heads[i], justify="right" if pd.api.types.is_numeric_dtype(tidy[c]) else "left",
                     overflow="fold")
    share = [labels.is_share(str(tidy.columns[i])) for i in shown]
    for row in tidy.itertuples(index=False):
        t.add_row(*[labels.percent(row[i]) if s and _number(row[i]) else _cell(row[i])
                    for i, s in zip(shown, share, strict=True)])
    console.print(t)
    hidden = [heads[i] for i in range(len(heads)) if i not in shown]
    if hidden:
        console.print(f"[dim]{len(hidden)} more column(s) do not fit {console.width} columns: "
                      f"{', '.join(hidden)}. Widen the terminal, or use --format csv for every column.[/]",
                      highlight=False)


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and v == v


def _cell(v: Any) -> str:
    if v is None or v is pd.NA:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if v != v:  # NaN
            return "–"
        return f"{v:,.4g}" if abs(v) < 1 else f"{v:,.2f}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _jsonable(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _exit_code(exc: GeoplanError) -> int:
    for typ, code in EXIT_CODES.items():
        if isinstance(exc, typ):
            return code
    return 1


def _wants_json(args: list[str]) -> bool:
    """Whether the command line asks for JSON output (``--format json``; ``--report json`` for export)."""
    for i, a in enumerate(args):
        if a in ("--format", "-f", "--report") and i + 1 < len(args) and args[i + 1] == "json":
            return True
        if a in ("--format=json", "--report=json"):
            return True
    return False


# options that take several values after one flag (``whatif --total 15000 16500 18500``), by command
_MULTI_VALUE = {"whatif": ("--total", "-n")}


def _expand_multi(args: list[str]) -> list[str]:
    """Repeat a multi-value flag before each of its values: ``--total 1 2`` → ``--total 1 --total 2``.

    >>> _expand_multi(["whatif", "--total", "15000", "16500", "--year", "2025"])
    ['whatif', '--total', '15000', '--total', '16500', '--year', '2025']
    """
    if not args or args[0] not in _MULTI_VALUE:
        return list(args)
    flags = _MULTI_VALUE[args[0]]
    out: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        out.append(a)
        i += 1
        if a in flags:
            first = True
            while i < len(args) and not args[i].startswith("-"):
                if not first:
                    out.append(a)
                out.append(args[i])
                first = False
                i += 1
    return out


@contextlib.contextmanager
def stdout_for_output_only() -> Iterator[None]:
    """Send what C libraries print (HiGHS's banner at ``Highs()``, GDAL ...) to stderr; stdout keeps geoplan's output.

    C code writes to file descriptor 1 directly, past Python's ``sys.stdout``; a
    solver banner there breaks ``--format json`` and ``csv`` piped into another
    program. While the block runs, descriptor 1 points at stderr and
    ``sys.stdout`` writes to a duplicate of the real stdout.
    """
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no descriptor 1 (an embedding host): nothing to guard
        yield
        return
    old = sys.stdout
    try:
        own = old.fileno() == 1
    except (OSError, ValueError, AttributeError):  # a captured stream (tests): leave sys.stdout as it is
        own = False
    os.dup2(2, 1)
    if own:
        sys.stdout = open(saved, "w", encoding=old.encoding or "utf-8", errors="replace",  # noqa: SIM115
                          closefd=False, newline=None)
    try:
        yield
    finally:
        if own:
            sys.stdout.flush()
            sys.stdout = old
        os.dup2(saved, 1)
        os.close(saved)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app, turn geoplan errors into clear messages and exit codes."""
    args = _expand_multi(sys.argv[1:] if argv is None else list(argv))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        with stdout_for_output_only():
            app(args=args, prog_name="geoplan", standalone_mode=False)
    except GeoplanError as exc:
        code = _exit_code(exc)
        if _wants_json(args):
            problems = [vars(p) for p in getattr(exc, "problems", [])]
            payload = {"error": type(exc).__name__, "message": str(exc), "problems": problems}
            sys.stderr.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
        else:
            err_console.print(f"[bold red]{type(exc).__name__}[/]: {exc}", highlight=False, markup=True,
                              soft_wrap=True)
        raise SystemExit(code) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        raise SystemExit(130) from None
    except Exception as exc:  # usage errors of the click inside typer: its message, no traceback
        show, usage_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(usage_code, int):
            show()
            raise SystemExit(usage_code) from None
        raise
