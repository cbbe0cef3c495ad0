"""Schemas of geoplan's settings files, declared with pydantic and reported as geoplan problems.

A settings file (the project file, a scenario file, the targets file of issue 11)
is described by :class:`Section` models: one per TOML table, each field with its
type, range, allowed values and a description. :func:`check` validates the
parsed TOML against a model and turns *every* complaint into a
:class:`~geoplan.errors.Problem` (section, setting, what is wrong, how to fix it),
raised together as one :class:`~geoplan.errors.ConfigError`.

The value types below accept what a planner writes where it is unambiguous and
refuse the rest with the exact fix:

* numbers: TOML numbers, and numbers written as text (``"18500"``); refused:
  ``"516万"`` ("write 5160000"), ``"60%"`` ("write 0.6"), ``"1ms"`` ("write 1":
  the unit is in the setting's name), ``"5,160,000"``, ``true``, infinities and NaN;
* flags: ``true`` / ``false``, ``1`` / ``0`` and the words yes/no, 是/否; any
  other text is refused (``modelled = "no"`` is false, not true);
* CRS: ``"EPSG:4490"``, ``"GCJ-02"`` ... or an EPSG number (``crs = 4490``);
* text encodings: any name Python and GDAL know (``"GBK"``, ``"UTF-8"``).

Examples
--------
>>> class Demo(Section):
...     total: Count
...     modelled: Flag = False
>>> Demo.model_validate({"total": "18500", "modelled": "no"})
Demo(total=18500, modelled=False)
>>> try:
...     check(Demo, {"total": "516万"}, where="demo.toml", section="[demo]")
... except ConfigError as exc:
...     print(exc.problems[0])
[demo] total: '516万' is written with 万. Fix: write total = 5160000 (a plain number without quotes)
"""

from __future__ import annotations

import codecs
import datetime as _dt
import difflib
import math
import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic import ValidationError as _PydanticError
from pydantic_core import PydanticCustomError

from .errors import ConfigError, Problem

__all__ = [
    "Section",
    "check",
    "problems_of",
    "Number",
    "PositiveNumber",
    "Count",
    "PositiveCount",
    "Share",
    "Year",
    "Flag",
    "Text",
    "Name",
    "CrsText",
    "EncodingName",
    "as_number",
    "as_share",
    "as_flag",
]

M = TypeVar("M", bound=BaseModel)


class Section(BaseModel):
    """A table of a settings file: unknown keys refused, values immutable, no infinities or NaN."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, hide_input_in_errors=False,
                              regex_engine="python-re")


# --- value types --------------------------------------------------------------------------------------

_MULTIPLIERS = {"万": 1e4, "亿": 1e8, "千": 1e3, "百万": 1e6, "千万": 1e7, "k": 1e3, "K": 1e3, "M": 1e6}
_PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_WITH_UNIT = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(%|[^\d\s.,+-][^\d]{0,11})")
_GROUPED = re.compile(r"[+-]?\d{1,3}([, ]\d{3})+(\.\d+)?")


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else repr(float(x))


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "true/false"
    if isinstance(v, dict):
        return "a table"
    if isinstance(v, list | tuple):
        return "an array"
    if isinstance(v, _dt.datetime | _dt.date | _dt.time):
        return "a date/time"
    if isinstance(v, str):
        return "text"
    return type(v).__name__


def _err(kind: str, message: str, fix: str) -> PydanticCustomError:
    return PydanticCustomError(f"geoplan_{kind}", message, {"fix": fix})


def as_number(v: Any) -> Any:
    """Accept a number, or a number written as plain text; refuse units, 万, % and separators with the fix.

    Returns the number (``int`` when written without a decimal point); anything
    else unchanged for the model's own type check.

    >>> as_number("18500"), as_number(" 0.6 "), as_number(3)
    (18500, 0.6, 3)
    """
    if isinstance(v, bool):
        raise _err("number", "true/false where a number is expected", "write a number")
    if isinstance(v, int | float):
        return v
    if isinstance(v, dict | list | tuple | _dt.datetime | _dt.date | _dt.time):
        raise _err("number", f"{_kind(v)} where a number is expected", "write a single number")
    if not isinstance(v, str):
        return v
    s = v.strip().replace("\u00a0", " ").replace("，", ",").replace("％", "%")
    if _PLAIN.fullmatch(s):
        x = float(s)
        if not math.isfinite(x):
            raise _err("number", f"{v!r} is not a finite number", "write a finite number")
        return int(s) if re.fullmatch(r"[+-]?\d+", s) else x
    if _GROUPED.fullmatch(s):
        plain = s.replace(",", "").replace(" ", "")
        raise _err("number", f"{v!r} has thousands separators",
                   f"write {plain} (TOML also allows {_underscored(plain)}), without quotes")
    m = _WITH_UNIT.fullmatch(s)
    if m:
        num, unit = float(m.group(1)), m.group(2).strip()
        if unit in _MULTIPLIERS:
            return _raise_unit(v, f"is written with {unit}", _fmt(num * _MULTIPLIERS[unit]))
        if unit == "%":
            raise _err("number", f"{v!r} is a percentage where a plain number is expected",
                       "write the number itself, without %")
        return _raise_unit(v, f"carries the unit '{unit}'", _fmt(num),
                           " (the setting's name or description gives its unit)")
    raise _err("number", f"{v!r} is not a number", "write a plain number without quotes or units")


def _underscored(plain: str) -> str:
    head, _, tail = plain.partition(".")
    sign = "-" if head.startswith("-") else ""
    digits = head.lstrip("+-")
    groups: list[str] = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return sign + "_".join(groups) + (f".{tail}" if tail else "")


def _raise_unit(v: str, what: str, value: str, note: str = "") -> Any:
    # the fix names the setting: filled in by problems_of() from the error location
    raise PydanticCustomError("geoplan_unit", f"{v!r} {what}",
                              {"fix": f"write {{field}} = {value} (a plain number without quotes){note}"})


def as_share(v: Any) -> Any:
    """:func:`as_number` for a share from 0 to 1: ``"60%"`` is refused with "write 0.6".

    >>> as_share("0.2")
    0.2
    """
    if isinstance(v, str):
        s = v.strip().replace("％", "%")
        if s.endswith("%") and _PLAIN.fullmatch(s[:-1].strip()):
            return _raise_unit(v, "is a percentage", _fmt(round(float(s[:-1]) / 100, 12)), " (a share from 0 to 1)")
    return as_number(v)


_TRUE = {"true", "yes", "y", "on", "是", "真", "t"}
_FALSE = {"false", "no", "n", "off", "否", "假", "f"}


def as_flag(v: Any) -> Any:
    """Accept ``true``/``false``, 1/0 and yes/no words (English, 是/否); refuse other values.

    >>> as_flag("no"), as_flag("是"), as_flag(1)
    (False, True, True)
    """
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE | {"1", "0"}:
        return v.strip().lower() in _TRUE | {"1"}
    raise _err("flag", f"{_show(v)} is not true or false", "write true or false (without quotes)")


def _text(v: Any) -> Any:
    if isinstance(v, str):
        if "\x00" in v:
            raise _err("text", "the text holds a NUL character", "retype the value")
        return v
    raise _err("text", f"{_kind(v)} where text is expected", 'write the value in quotes, e.g. "..."')


def _name(v: Any) -> Any:
    v = _text(v)
    if not v.strip():
        raise _err("text", "the value is empty", "write a name")
    return v


def _crs_text(v: Any) -> Any:
    if isinstance(v, bool):
        raise _err("crs", "true/false where a CRS is expected", 'write an EPSG code such as "EPSG:4490"')
    if isinstance(v, int):
        if 1024 <= v <= 999_999:
            return f"EPSG:{v}"
        raise _err("crs", f"{v} is not an EPSG code", 'write an EPSG code such as "EPSG:4490" or "EPSG:4548"')
    v = _text(v)
    if not v.strip():
        raise _err("crs", "the CRS is empty", 'write an EPSG code such as "EPSG:4490", or "GCJ-02" / "BD-09"')
    if len(v) > 10_000:
        raise _err("crs", "the CRS text is longer than 10,000 characters", 'write an EPSG code such as "EPSG:4490"')
    return v.strip()


def _encoding(v: Any) -> Any:
    v = _text(v).strip()
    try:
        codecs.lookup(v)
    except (LookupError, ValueError):
        raise _err("encoding", f"unknown text encoding {v!r}",
                   'use "UTF-8" or "GBK" (GB18030 for rare characters)') from None
    return v


Number = Annotated[float, BeforeValidator(as_number)]
PositiveNumber = Annotated[float, BeforeValidator(as_number), Field(gt=0)]
Count = Annotated[int, BeforeValidator(as_number), Field(ge=0)]
PositiveCount = Annotated[int, BeforeValidator(as_number), Field(gt=0)]
Share = Annotated[float, BeforeValidator(as_share), Field(ge=0, le=1)]
Year = Annotated[int, BeforeValidator(as_number), Field(ge=1949, le=2100)]
Flag = Annotated[bool, BeforeValidator(as_flag)]
Text = Annotated[str, BeforeValidator(_text)]
Name = Annotated[str, BeforeValidator(_name)]
CrsText = Annotated[str, BeforeValidator(_crs_text)]
EncodingName = Annotated[str, BeforeValidator(_encoding)]


# --- pydantic errors → Problems ------------------------------------------------------------------------

def _show(v: Any, limit: int = 60) -> str:
    if isinstance(v, dict | list | tuple):
        return _kind(v)
    r = repr(v)
    return r if len(r) <= limit else r[: limit - 1] + "…"


def _sub_model(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model describing the table at ``loc`` (best effort: through dicts and lists of models)."""
    from typing import get_args

    cur: Any = model
    for part in loc:
        if cur is None:
            return None
        if isinstance(cur, type) and issubclass(cur, BaseModel):
            if isinstance(part, str) and part in cur.model_fields:
                cur = cur.model_fields[part].annotation
                continue
            return None
        args = [a for a in get_args(cur) if a is not type(None)]
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        nested = [a for a in args if get_args(a)]
        cur = models[0] if models else (nested[0] if nested else None)
        if isinstance(cur, type) and issubclass(cur, BaseModel):
            if isinstance(part, str) and part in cur.model_fields:
                cur = cur.model_fields[part].annotation
            # else: ``part`` was a dict key or list index leading to this model
    return cur if isinstance(cur, type) and issubclass(cur, BaseModel) else None


def _known(model: type[BaseModel] | None) -> list[str]:
    return list(model.model_fields) if model is not None else []


_GENERIC: dict[str, tuple[str, str]] = {
    "missing": ("required setting is missing", "add {field} = ..."),
    "string_type": ("{kind} where text is expected", 'write {field} = "..." (in quotes)'),
    "bool_type": ("{value} is not true or false", "write {field} = true or false (without quotes)"),
    "bool_parsing": ("{value} is not true or false", "write {field} = true or false (without quotes)"),
    "int_type": ("{value} is not a whole number", "write a whole number without quotes"),
    "int_parsing": ("{value} is not a whole number", "write a whole number without quotes"),
    "int_from_float": ("{value} is not a whole number", "write a whole number"),
    "float_type": ("{value} is not a number", "write a number without quotes"),
    "float_parsing": ("{value} is not a number", "write a number without quotes"),
    "finite_number": ("{value} is not a finite number", "write a finite number"),
    "dict_type": ("{kind} where a table is expected", "write it as a [section] or as {{ key = value }}"),
    "model_type": ("{kind} where a table is expected", "write it as a [section] or as {{ key = value }}"),
    "model_attributes_type": ("{kind} where a table is expected", "write it as a [section] or {{ key = value }}"),
    "list_type": ("{kind} where an array is expected", "write it as [value, value, ...]"),
    "tuple_type": ("{kind} where an array is expected", "write it as [value, value, ...]"),
    "too_short": ("{kind} is too short", "give {min_length} item(s) or more"),
    "too_long": ("{kind} is too long", "give at most {max_length} item(s)"),
    "string_too_short": ("the text is empty", "write a value"),
    "string_too_long": ("the text is longer than {max_length} characters", "shorten it"),
    "greater_than": ("{value} is not above {gt}", "use a value above {gt}"),
    "greater_than_equal": ("{value} is below {ge}", "use a value of at least {ge}"),
    "less_than": ("{value} is not below {lt}", "use a value below {lt}"),
    "less_than_equal": ("{value} is above {le}", "use a value of at most {le}"),
    "literal_error": ("{value} is not one of the allowed values", "use one of {expected}"),
    "enum": ("{value} is not one of the allowed values", "use one of {expected}"),
}


def problems_of(exc: _PydanticError, model: type[BaseModel], *,
                section: str | Callable[[tuple[Any, ...]], str] = "",
                ) -> list[Problem]:
    """Turn a pydantic ``ValidationError`` into :class:`~geoplan.errors.Problem` objects.

    ``section`` labels the table of each problem: a fixed label (``"[project]"``)
    or a function of the error location's table part (default: ``[a.b]`` from
    the keys leading to the setting).
    """
    out: list[Problem] = []
    for e in exc.errors(include_url=False):
        loc = tuple(e.get("loc", ()))
        if loc and loc[-1] == "[key]":  # a dict key of the wrong kind
            loc = loc[:-1]
        cut = len(loc)
        while cut > 0 and isinstance(loc[cut - 1], int):  # an item of an array: "drawn_sites[2]"
            cut -= 1
        if 0 < cut < len(loc):
            table = loc[:cut - 1]
            field: str | None = str(loc[cut - 1]) + "".join(f"[{i}]" for i in loc[cut:])
        else:
            table, name = (loc[:-1], loc[-1]) if loc else ((), None)
            field = None if name is None else str(name)
        if callable(section):
            label = section(table)
        elif section:
            label = section if not table else f"{section[:-1]}.{'.'.join(map(str, table))}]"
        else:
            label = "[" + ".".join(map(str, table)) + "]" if table else "[top level]"
        out.append(_one_problem(e, model, loc, label, field))
    return out


def _one_problem(e: Any, model: type[BaseModel], loc: tuple[Any, ...], label: str, field: str | None) -> Problem:
    kind, ctx, value = e["type"], dict(e.get("ctx") or {}), e.get("input")
    fmt = {"field": field or "the value", "value": _show(value), "kind": _kind(value), **ctx}
    if kind == "extra_forbidden":
        known = _known(_sub_model(model, loc[:-1]))
        close = difflib.get_close_matches(str(field), known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}? " if close else ""
        return Problem(label, field, f"unknown setting {field!r}",
                       f"{hint}remove it or correct its spelling"
                       + (f" (known here: {', '.join(known)})" if known else ""))
    extra = _field_extra(model, loc)
    if kind == "missing" and "missing_fix" in extra:
        message, fix = "required setting is missing", str(extra["missing_fix"])
    elif kind.startswith("geoplan_"):
        message, fix = e["msg"], str(ctx.get("fix", "correct the value"))
    elif kind in _GENERIC:
        message_t, fix_t = _GENERIC[kind]
        try:
            message, fix = message_t.format(**fmt), fix_t.format(**fmt)
        except (KeyError, IndexError, ValueError):
            message, fix = e["msg"], "correct the value"
    else:
        message, fix = f"{_show(value)}: {e['msg']}", "correct the value"
    return Problem(label, field, message, fix.replace("{field}", field or "the value"))


def _field_extra(model: type[BaseModel], loc: tuple[Any, ...]) -> dict[str, Any]:
    """``json_schema_extra`` of the field at ``loc`` (``{}`` when there is none)."""
    if not loc or not isinstance(loc[-1], str):
        return {}
    sub = _sub_model(model, loc[:-1])
    if sub is None or loc[-1] not in sub.model_fields:
        return {}
    extra = sub.model_fields[loc[-1]].json_schema_extra
    return dict(extra) if isinstance(extra, dict) else {}


def check(model: type[M], data: Any, *, where: str,
          section: str | Callable[[tuple[Any, ...]], str] = "") -> M:
    """Validate ``data`` (parsed TOML) against ``model``; one :class:`ConfigError` listing every problem.

    Parameters
    ----------
    model : type of Section
        The schema.
    data : Any
        The parsed file or table.
    where : str
        The file, for the message ("project file geoplan.toml").
    section : str or callable
        Label of the table (see :func:`problems_of`).
    """
    try:
        return model.model_validate(data)
    except _PydanticError as exc:
        raise ConfigError(problems_of(exc, model, section=section), where=where) from None
