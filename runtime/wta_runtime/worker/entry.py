"""`python -m wta_runtime worker`, the runtime pod's command, without the `wta` CLI around it.

The CLI's imports (typer, uvicorn, rich, the staff and API key commands) cost every tenant's
idle pod memory and its wake-up import time; the worker needs none of them.
"""

from __future__ import annotations

import sys
import warnings

# What the worker's libraries import and it never uses, kept out of every tenant's pod. None in
# sys.modules makes an import fail with ImportError, which both libraries handle:
# - httpx imports its command line client (click, rich and pygments, ~5 MiB) whenever those are
#   installed, as they are for `wta`; it falls back to the stand-in it has for when they are not.
# - requests, which comes with the Twilio SDK, imports a character detector (charset_normalizer,
#   ~4 MiB) for bodies that declare no charset; the worker sends through the SDK's aiohttp client
#   and never reads a requests response. Without one, requests reads such a body as UTF-8 and
#   warns once at import.
for _unused in ("httpx._main", "charset_normalizer", "chardet"):
    sys.modules.setdefault(_unused, None)  # type: ignore[arg-type]
warnings.filterwarnings("ignore", message="Unable to find acceptable character detection")


def run_worker_process() -> None:
    """Run a worker until SIGTERM; a configuration mistake ends in one line, as `wta` says it."""
    import uvloop
    from pydantic import ValidationError

    from wta_runtime import openai_deferred_types
    from wta_runtime.logging_setup import configure_logging
    from wta_runtime.manifests import ManifestError
    from wta_runtime.settings import get_settings
    from wta_runtime.worker.main import run_worker

    # Before the first model call imports the OpenAI SDK: only the type modules used are imported.
    openai_deferred_types.install()
    try:
        settings = get_settings()
        configure_logging(settings.log_level)
        # uvloop: the worker is mostly network round trips (NATS, PostgreSQL, model, Twilio).
        uvloop.run(run_worker(settings))
    except (ManifestError, ValidationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
