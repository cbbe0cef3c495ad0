"""Start the map app and prepare its first page while the server starts: ``python apps/serve.py [streamlit options]``.

``streamlit run apps/streamlit_app.py`` imports geoplan, geopandas, folium ... and
loads the project only when the first browser connects, so the first page waits for
all of it. This launcher hands over to Streamlit's own command line (``streamlit run``
with the same options; ``make app`` uses it) and, in a background thread started first,
imports the libraries and fills the app's shared caches (:func:`appdata.warm`: the
project, the planning context, the greedy order, the fixed layers, the edge and
charging plans for the opening settings) while the server starts and the browser
loads Streamlit's page. A page asking for something being prepared waits for it; a
failure in the warm-up is left to the page, which shows it beside its control.
streamlit_folium is left to the page: a component declared outside a page's script run
is never registered, and its files would answer 404.

``GEOPLAN_APP_TRACE=1`` prints timestamped start-up steps (the browser test reads them).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path


def trace(what: str) -> None:
    if os.environ.get("GEOPLAN_APP_TRACE"):
        print(f"[trace] {time.time():.3f} {what}", flush=True)


trace("serve start")
APP = Path(__file__).resolve().parent / "streamlit_app.py"
WARM_THREAD = "geoplan-warm-up"
WARM_SWITCH_S = 0.001
DEFAULT_SWITCH_S = sys.getswitchinterval()


class _NotThisThread(logging.Filter):
    """Drop Streamlit's "missing ScriptRunContext" warnings of the warm-up thread (it runs no page, on purpose)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return threading.current_thread().name != WARM_THREAD


def prepare(argv: list[str]) -> None:
    """Import what the page imports and warm its caches (a background thread)."""
    try:
        from streamlit.runtime.scriptrunner_utils import script_run_context

        logging.getLogger(script_run_context.__name__).addFilter(_NotThisThread())
        import appdata  # geoplan, geopandas, streamlit ...
        import folium.plugins  # noqa: F401

        import geoplan._scenario_file  # noqa: F401  (the first page's scenario table, drawings and downloads)
        import geoplan.areas  # noqa: F401
        import geoplan.drawing  # noqa: F401
        import geoplan.export  # noqa: F401
        import geoplan.mapimage  # noqa: F401
        import geoplan.planfile  # noqa: F401
        import geoplan.runs  # noqa: F401
        import geoplan.webmap.localtiles  # noqa: F401
        trace("warm-up: imports")
        appdata.warm(appdata.project_arg(argv))
        trace("warm-up: caches")
        # streamlit_folium is NOT imported here: declare_component registers a component only inside a
        # page's script run, and a module imported here stays imported, so the page's import would never
        # register it and the map's frame would answer 404 for a page opened after the warm-up.
        trace("warm-up: done")
    except Exception as exc:  # noqa: BLE001 - the page does the same work and reports what fails, beside its control
        print(f"geoplan app: warm-up stopped ({type(exc).__name__}: {exc}); the page computes on demand",
              file=sys.stderr, flush=True)
    finally:
        sys.setswitchinterval(DEFAULT_SWITCH_S)


if __name__ == "__main__":
    # While the warm-up thread imports and computes, the server's thread must still answer the browser's ~70
    # script requests: hand the GIL over every 1 ms instead of Python's 5 ms (restored when the warm-up ends).
    sys.setswitchinterval(WARM_SWITCH_S)
    threading.Thread(target=prepare, args=(sys.argv[1:],), name=WARM_THREAD, daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    trace("serve: server starting")
    sys.exit(cli.main())
