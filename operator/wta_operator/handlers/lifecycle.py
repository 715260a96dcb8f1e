"""Operator start and stop: kopf settings, the Kubernetes/NATS/PostgreSQL clients in memo."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import kopf
from kubernetes import client
from kubernetes import config as kube_config
from prometheus_client import start_http_server

from wta_operator.adapters.database import DatabaseAdmin
from wta_operator.adapters.kube import KubeClient
from wta_operator.adapters.streams import StreamPlane
from wta_operator.naming import FINALIZER
from wta_operator.plane import ControlPlane, control_plane
from wta_operator.settings import OperatorConfig

STORAGE_PREFIX = "operator.wta.io"


def _kube_configuration() -> client.Configuration:
    configuration = client.Configuration()
    try:
        kube_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    except kube_config.ConfigException:
        kube_config.load_kube_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    # Handlers run the blocking client in threads; keep a connection per thread.
    configuration.connection_pool_maxsize = 32
    return configuration


def configure_kopf(settings: kopf.OperatorSettings) -> None:
    """Our finalizer and annotations, explicit events only, and watch timeouts."""
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=STORAGE_PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=STORAGE_PREFIX, key="last-handled-configuration"
    )
    settings.posting.loggers = False  # events come from kopf.event() calls, never from logs
    # Without a server-side timeout a watch can hang silently after network trouble; kopf
    # recommends setting both (https://kopf.readthedocs.io/en/stable/configuration/#api-timeouts).
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 10
    settings.networking.request_timeout = 60
    # Only the resources present at start are served (the chart installs the CRDs first),
    # so the operator needs no list/watch on namespaces and CustomResourceDefinitions.
    settings.scanning.disabled = True
    settings.posting.reporting_component = "wta-operator"


@kopf.on.startup()
async def start_operator(
    settings: kopf.OperatorSettings, memo: kopf.Memo, logger: kopf.Logger, **_: Any
) -> None:
    """Read settings, make the clients, keep them in memo."""
    config = memo.get("config") or OperatorConfig()
    configure_kopf(settings)
    configuration = await asyncio.to_thread(_kube_configuration)
    database = (
        DatabaseAdmin(config.admin_database_url, timeout=config.connect_timeout_seconds)
        if config.admin_database_url is not None
        else None
    )
    if config.operator_metrics_port:
        server, _thread = start_http_server(config.operator_metrics_port)
        memo.metrics_server = server
    memo.plane = ControlPlane(
        config=config,
        kube=KubeClient(client.ApiClient(configuration)),
        streams=StreamPlane(config.nats_url, timeout=config.connect_timeout_seconds),
        database=database,
    )
    logger.info(
        "operator ready: gateway routes in %s/%s, database scopes %s",
        config.gateway_namespace,
        config.gateway_routes_secret,
        "managed" if database else "not managed",
    )


@kopf.on.cleanup()
async def stop_operator(memo: kopf.Memo, **_: Any) -> None:
    """Close NATS and the Kubernetes client."""
    if "plane" in memo:
        await control_plane(memo).close()
    if "metrics_server" in memo:
        memo.metrics_server.shutdown()
    logging.getLogger("wta.operator").info("operator stopped")
