"""`python -m wta_runtime worker`, the runtime pod's command, without the `wta` CLI around it.

The CLI's imports (typer, uvicorn, rich, the staff and API key commands) cost every tenant's
idle pod memory and its wake-up import time; the worker needs none of them.
"""

from __future__ import annotations

import sys

# httpx imports its command line client (click, rich and pygments, ~5 MiB) whenever those are
# installed, as they are for `wta`. None in sys.modules makes that import fail, and httpx falls
# back to the stand-in it has for when they are missing; the worker never runs it.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def run_worker_process() -> None:
    """Run a worker until SIGTERM; a configuration mistake ends in one line, as `wta` says it."""
    import uvloop
    from pydantic import ValidationError

    from wta_runtime.logging_setup import configure_logging
    from wta_runtime.manifests import ManifestError
    from wta_runtime.settings import get_settings
    from wta_runtime.worker.main import run_worker

    try:
        settings = get_settings()
        configure_logging(settings.log_level)
        # uvloop: the worker is mostly network round trips (NATS, PostgreSQL, model, Twilio).
        uvloop.run(run_worker(settings))
    except (ManifestError, ValidationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
