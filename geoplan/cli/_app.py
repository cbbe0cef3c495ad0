"""The typer application, output formats and the mapping of errors to exit codes.

Exit codes (the same for a mistake made on the command line, in the project
file or in a scenario file; ``docs/errors-and-limits.md``):

====  ===================================================================
0     success
1     internal error (a bug: "internal error, please report"; ``--debug`` or
      ``GEOPLAN_DEBUG=1`` shows the traceback), or out of memory
2     the command line cannot be parsed (unknown option, missing value)
3     invalid input data (:class:`~geoplan.errors.ValidationError`, ``CRSError``)
4     unusable settings: an option value, the project file, a scenario file
      (:class:`~geoplan.errors.ConfigError`)
5     a file cannot be read or written (``ReadError``, ``WriteError``)
6     the request cannot be met (``InfeasibleError``)
7     the solver failed (``SolverError``)
130   interrupted by SIGINT (Ctrl-C); 143 by SIGTERM; 129 by SIGHUP
====  ===================================================================

Everything printed from data or paths is printed as plain text, never as Rich
markup: a district called ``[/]`` or a fix naming ``[population_stats]`` comes
out as written.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import sys
import traceback
from collections.abc import Collection, Iterator
from contextvars import ContextVar
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import labels
from .._signals import raising_signals
from ..errors import (
    ConfigError,
    GeoplanError,
    InfeasibleError,
    Interrupted,
    ReadError,
    SolverError,
    ValidationError,
    WriteError,
)

if TYPE_CHECKING:
    from ..planfile import PlanFile

__all__ = ["app", "place_app", "main", "Format", "Lang", "LangOpt", "emit", "csv_text", "fit_columns", "console",
           "err_console", "EXIT_CODES", "ProjectOpt", "OverwriteOpt", "plain", "check_out", "write_out", "stdout_for_output_only"]

app = typer.Typer(
    name="geoplan", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="Plan new infrastructure (5G sites, edge data centres, EV charging) against a city's or province's plan.",
)
place_app = typer.Typer(no_args_is_help=True, help="Choose sites: 5G stations, edge data centres, charging.")
app.add_typer(place_app, name="place")

# a wide console when output is piped or captured, so tables are not squeezed to 80 columns
console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True)

#: Exit code of each error type (0 success, 1 unexpected, 2 unparseable command line; see the module docstring).
EXIT_CODES: dict[type[GeoplanError], int] = {
    cls: cls.exit_code for cls in (ValidationError, ConfigError, ReadError, WriteError, InfeasibleError, SolverError)
}
#: Exit code when a value given on the command line is not usable (as a ConfigError).
BAD_VALUE_EXIT = ConfigError.exit_code


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="On an internal error, print the traceback "
                                     "(also GEOPLAN_DEBUG=1).")) -> None:
    """Plan new infrastructure (5G sites, edge data centres, EV charging) against a city's or province's plan."""


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
NetworkOpt = typer.Option("any", "--network", help="Whose users coverage counts: any (all operators, the plan's "
                          "count), cmcc (中国移动), ctcu (中国电信/中国联通, shared), cbn (中国广电, also on 中国移动's "
                          "700 MHz).")
BandOpt = typer.Option(None, "--band", help="Band of new sites: n78, n41, n79, n28, n1 (default: the network's: "
                       "n78 for any and ctcu, n41 for cmcc, n28 for cbn). Existing stations use the bands they carry.")
NCandidatesOpt = typer.Option(None, "--n-candidates", help="Number of modelled candidates (default: 2.5 per site "
                              "the plan's last targets need, at least 15,000; a coarse population raster gets "
                              "several per cell).")
SpacingOpt = typer.Option(None, "--candidate-spacing-m", help="Spacing of modelled candidates, m (the grid's "
                          "spacing; otherwise one candidate per spacing² of populated area).")
QuotasOpt = typer.Option("plan", "--quotas", help="How the density target binds: area (one figure for the whole "
                         "city/province: only the total must reach it), district (every district), or plan (as the "
                         "plan states).")
BasisOpt = typer.Option(None, "--basis", help="Population basis of the density target: census, yearend (the "
                        "year's year-end total, or the latest before it) or projection (yours, in the project "
                        "file); the project's by default.")
OverwriteOpt = typer.Option(False, "--overwrite", help="Replace an existing output: a file, or the files geoplan "
                            "wrote in an earlier delivery folder (nothing else there is touched). Project inputs "
                            "are never overwritten.")


def check_out(out: Path | None, *, layer: str, overwrite: bool, protect: Any = ()) -> None:
    """Refuse an ``--out`` before the work: an unknown file type, or a destination the write path refuses."""
    if out is None:
        return
    from .. import io

    io.vector_driver(out, layer=layer)
    io.check_output(out, layer=layer, overwrite=overwrite, protect=protect)


def write_out(plan: PlanFile, out: Path | None, *, layer: str, overwrite: bool,
              protect: Collection[str | os.PathLike[str]]) -> None:
    """Write ``--out``: a plan file for ``*.gpkg``; the one layer alone for GeoJSON and shapefiles."""
    if out is None:
        return
    from .. import io, planfile

    if out.suffix.lower() == ".gpkg":
        planfile.write_plan(plan, out, overwrite=overwrite, protect=protect)
    else:
        io.write_vector(plan.layers[layer], out, layer=layer, overwrite=overwrite, protect=protect)


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


_warnings: ContextVar[list[str] | None] = ContextVar("geoplan_cli_warnings", default=None)


def emit(data: dict[str, Any], fmt: Format, *, frame: pd.DataFrame | None = None, title: str = "",
         footer: list[str] | None = None, lang: Lang = Lang.en) -> None:
    """Print ``data`` as JSON, ``frame`` as CSV, or a table (columns that fit the terminal) with ``footer`` lines.

    JSON gets the warnings logged during the command under ``"warnings"`` and
    ``null`` for NaN and infinities (so any JSON parser reads it). Tables print
    data as plain text; a footer line may be wrapped whole in one style
    (``"[yellow]...[/]"``), and nothing inside it is read as markup.
    """
    if fmt is Format.json:
        payload = dict(data)
        collected = _warnings.get()
        if collected is not None:
            payload["warnings"] = list(dict.fromkeys([*payload.get("warnings", []), *collected]))
        text = json.dumps(_finite(payload), ensure_ascii=False, indent=2, default=_jsonable, allow_nan=False)
        sys.stdout.write(text + "\n")
    elif fmt is Format.csv:
        if frame is None:
            raise ConfigError("this command has no table to write as CSV. Fix: use --format json")
        sys.stdout.write(csv_text(frame, lang=lang))
    else:
        if frame is not None:
            _print_table(frame, title=title, lang=lang)
        for line in footer or []:
            console.print(plain(line), soft_wrap=True)


_STYLED = re.compile(r"\[(yellow|red|green|bold|dim|italic|bold red|bold yellow)\](.*)\[/\1?\]", re.S)


def plain(line: str) -> Text:
    """``line`` as Rich text with no markup read from it; a whole-line ``[style]...[/]`` wrapper becomes its style.

    >>> plain("[yellow]Modelled: [population_stats] of 思明区[/]").plain
    'Modelled: [population_stats] of 思明区'
    >>> plain("district [/] name").plain
    'district [/] name'
    """
    m = _STYLED.fullmatch(line)
    return Text(m.group(2), style=m.group(1)) if m else Text(line)


def _finite(o: Any) -> Any:
    """``o`` with NaN and infinities as ``None`` (JSON has no such numbers)."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_finite(v) for v in o]
    try:
        import numpy as np

        if isinstance(o, np.floating):
            return float(o) if np.isfinite(o) else None
        if isinstance(o, np.ndarray):
            return _finite(o.tolist())
    except ImportError:  # pragma: no cover
        pass
    return o


def _print_table(frame: pd.DataFrame, *, title: str, lang: Lang) -> None:
    tidy = labels.tidy(frame)
    heads = labels.headers(tidy.columns, lang=lang.value)
    shown = fit_columns(tidy, heads, console.width)
    t = Table(title=Text(title) if title else None, show_lines=False)
    for i in shown:
        c = tidy.columns[i]
        t.add_column(Text(heads[i]), justify="right" if pd.api.types.is_numeric_dtype(tidy[c]) else "left",
                     overflow="fold")
    share = [labels.is_share(str(tidy.columns[i])) for i in shown]
    for row in tidy.itertuples(index=False):
        t.add_row(*[Text(labels.percent(row[i]) if s and _number(row[i]) else _cell(row[i]))
                    for i, s in zip(shown, share, strict=True)])
    console.print(t)
    hidden = [heads[i] for i in range(len(heads)) if i not in shown]
    if hidden:
        console.print(Text(f"{len(hidden)} more column(s) do not fit {console.width} columns: "
                           f"{', '.join(hidden)}. Widen the terminal, or use --format csv for every column.",
                           style="dim"), highlight=False)


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
    return int(getattr(exc, "exit_code", 1))


def _wants_json(args: list[str]) -> bool:
    """Whether the command line asks for JSON output (``--format json``; ``--report json`` for export)."""
    for i, a in enumerate(args):
        if a in ("--format", "-f", "--report") and i + 1 < len(args) and args[i + 1] == "json":
            return True
        if a in ("--format=json", "--report=json"):
            return True
    return False


# options that take several values after one flag (``whatif --total 15000 16500 18500``,
# ``place sites --years 2023 2024 2025``), by command
_MULTI_VALUE = {"whatif": ("--total", "-n"), "place sites": ("--years",)}


def _expand_multi(args: list[str]) -> list[str]:
    """Repeat a multi-value flag before each of its values: ``--total 1 2`` → ``--total 1 --total 2``.

    >>> _expand_multi(["whatif", "--total", "15000", "16500", "--year", "2025"])
    ['whatif', '--total', '15000', '--total', '16500', '--year', '2025']
    >>> _expand_multi(["place", "sites", "--years", "2023", "2024"])
    ['place', 'sites', '--years', '2023', '--years', '2024']
    """
    command = " ".join(args[:2]) if " ".join(args[:2]) in _MULTI_VALUE else (args[0] if args else "")
    if command not in _MULTI_VALUE:
        return list(args)
    flags = _MULTI_VALUE[command]
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


class _Collect(logging.Handler):
    """Keeps the warnings geoplan logs during a command, for ``--format json``."""

    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("geoplan", "py.warnings")):
            with contextlib.suppress(Exception):
                self.sink.append(record.getMessage())


@contextlib.contextmanager
def _logging() -> Iterator[None]:
    """Warnings to stderr (never stdout) and into the JSON output, for the time of one command."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.captureWarnings(True)
    sink: list[str] = []
    handler = _Collect(sink)
    root = logging.getLogger()
    root.addHandler(handler)
    token = _warnings.set(sink)
    try:
        yield
    finally:
        _warnings.reset(token)
        root.removeHandler(handler)
        logging.captureWarnings(False)


def _say(exc_name: str, message: str, *, wants_json: bool, code: int, **extra: Any) -> int:
    """Report an error on stderr: JSON for ``--format json``, else one plain line (or block); return ``code``."""
    with contextlib.suppress(OSError, ValueError):
        if wants_json:
            payload = {"error": exc_name, "exit_code": code, "message": message, **extra}
            sys.stderr.write(json.dumps(_finite(payload), ensure_ascii=False, default=str) + "\n")
        else:
            err_console.print(Text.assemble((exc_name, "bold red"), ": ", message), highlight=False, soft_wrap=True)
        sys.stderr.flush()
    return code


def _interrupted(exc: Interrupted, *, wants_json: bool) -> int:
    return _say("Interrupted", f"stopped by {exc.signal_name} before finishing; unfinished outputs were removed "
                "and existing files are unchanged", wants_json=wants_json, code=exc.exit_code,
                signal=exc.signal_name)


def _run(args: list[str], *, wants_json: bool, debug: bool) -> int:
    """Run the app; every way it can end as an exit code, with a message for the ones that failed."""
    try:
        rc = app(args=args, prog_name="geoplan", standalone_mode=False)
        return rc if isinstance(rc, int) else 0
    except Interrupted as exc:
        return _interrupted(exc, wants_json=wants_json)
    except GeoplanError as exc:
        return _say(type(exc).__name__, str(exc), wants_json=wants_json, code=_exit_code(exc),
                    problems=[vars(p) for p in getattr(exc, "problems", [])])
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        return _say("Interrupted", "stopped before finishing; unfinished outputs were removed",
                    wants_json=wants_json, code=130, signal="SIGINT")
    except MemoryError:
        return _say("MemoryError", "not enough memory for this run. Fix: use a smaller area or a coarser population "
                    "grid, or close other programs", wants_json=wants_json, code=1)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:
        names = {c.__name__ for c in type(exc).__mro__}
        if "ClickException" in names and callable(getattr(exc, "show", None)):  # the command line (typer's click)
            exc.show()  # type: ignore[attr-defined]
            bad_value = "BadParameter" in names and "MissingParameter" not in names
            return BAD_VALUE_EXIT if bad_value else int(getattr(exc, "exit_code", 2))
        if debug:
            traceback.print_exc()
        hint = "" if debug else " (run with --debug or GEOPLAN_DEBUG=1 to see where)"
        return _say("InternalError", f"internal error, please report it: {type(exc).__name__}: {exc}{hint}",
                    wants_json=wants_json, code=1)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run a command, turn every outcome into a message and an honest exit code.

    SIGINT, SIGTERM and SIGHUP stop the command with clean-up (no partial output
    is left, earlier files are kept) and exit 128 + the signal number.
    """
    args = _expand_multi(sys.argv[1:] if argv is None else list(argv))
    wants_json = _wants_json(args)
    debug = "--debug" in args or os.environ.get("GEOPLAN_DEBUG", "").strip() not in ("", "0")
    try:
        with raising_signals(), _logging(), stdout_for_output_only():
            code = _run(args, wants_json=wants_json, debug=debug)
    except Interrupted as exc:  # arrived while a result or an error was being reported
        code = _interrupted(exc, wants_json=wants_json)
    raise SystemExit(code)
