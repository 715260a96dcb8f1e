"""Runs kopf with our handlers, in the namespaces and mode the settings ask for."""

from __future__ import annotations

import logging

import kopf

from wta_operator.settings import OperatorConfig


def main() -> None:
    """Read the settings, register the handlers, run until SIGTERM/SIGINT."""
    config = OperatorConfig()
    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
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
