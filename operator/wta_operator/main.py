"""Runs kopf with our handlers, in the namespaces and mode the settings ask for."""

from __future__ import annotations

import logging

import kopf

from wta_operator.settings import OperatorConfig


def main() -> None:
    """Read the settings, register the handlers, run until SIGTERM/SIGINT."""
    config = OperatorConfig()
    level = config.log_level.upper()
    # kopf's prefixing formatter starts every line logged about an object (each handler's and
    # timer's outcome, what a handler logs) with its [namespace/name]; a plain one would not.
    kopf.configure(log_format=kopf.LogFormat.FULL, log_prefix=True, debug=level == "DEBUG")
    logging.getLogger().setLevel(level)
    # Importing registers the handlers with kopf's default registry.
    from wta_operator.handlers import register_timers

    register_timers(config)
    liveness = f"http://0.0.0.0:{config.health_port}/healthz" if config.health_port else None
    kopf.run(
        standalone=config.standalone,
        clusterwide=not config.namespaces,
        namespaces=config.namespaces,
        liveness_endpoint=liveness,
        memo=kopf.Memo(config=config),
    )
