"""One way to turn results into JSON-ready values: numpy scalars, arrays, NaN, paths and dataclasses.

Every ``to_dict()`` of a result, the CLI's ``--format json`` and the app go
through :func:`plain` and :func:`records`, so a number is written the same way
everywhere: numpy scalars become Python numbers, non-finite floats become
``None`` (JSON has no NaN), arrays become lists, paths become strings.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plain", "records", "dumps"]


def plain(o: Any, *, ndigits: int | None = None) -> Any:
    """``o`` with every nested value made JSON-ready.

    ``ndigits`` rounds floats (``None`` keeps them as they are).

    Examples
    --------
    >>> plain({"a": np.int64(3), "b": [np.float32(0.5), float("nan")], "c": np.bool_(True)})
    {'a': 3, 'b': [0.5, None], 'c': True}
    >>> plain(1 / 3, ndigits=4)
    0.3333
    """
    if o is None or isinstance(o, bool | str):
        return o
    if isinstance(o, Mapping):
        return {str(k): plain(v, ndigits=ndigits) for k, v in o.items()}
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        to_dict = getattr(o, "to_dict", None)
        return plain(to_dict() if callable(to_dict) else dataclasses.asdict(o), ndigits=ndigits)
    if isinstance(o, list | tuple):
        return [plain(v, ndigits=ndigits) for v in o]
    if isinstance(o, np.ndarray):
        return [plain(v, ndigits=ndigits) for v in o.tolist()]
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.integer | int):
        return int(o)
    if isinstance(o, np.floating | float):
        f = float(o)
        if not math.isfinite(f):
            return None
        return round(f, ndigits) if ndigits is not None else f
    if isinstance(o, PurePath):
        return str(o)
    if o is pd.NA or o is pd.NaT:
        return None
    if isinstance(o, pd.Timestamp):
        return o.isoformat()
    return o


def records(df: pd.DataFrame, *, ndigits: int | None = None) -> list[dict[str, Any]]:
    """A data frame's rows as JSON-ready dicts (column names as strings).

    Examples
    --------
    >>> records(pd.DataFrame({"n": [1, 2], "x": [0.5, float("nan")]}))
    [{'n': 1, 'x': 0.5}, {'n': 2, 'x': None}]
    """
    return [plain(r, ndigits=ndigits) for r in df.to_dict(orient="records")]


def dumps(o: Any, *, indent: int | None = 2) -> str:
    """``o`` as JSON text (UTF-8 characters kept, not escaped).

    Examples
    --------
    >>> dumps({"name": "厦门", "n": np.int64(2)}, indent=None)
    '{"name": "厦门", "n": 2}'
    """
    import json

    return json.dumps(plain(o), ensure_ascii=False, indent=indent)
