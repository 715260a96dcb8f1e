"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from wta_runtime.gateway.state import GatewayDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def read_health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def read_readiness(state: GatewayDep) -> Response:
    """Ready when NATS answers; Twilio webhooks cannot be accepted otherwise."""
    if not state.nats.is_connected:
        return JSONResponse({"status": "unavailable", "nats": "disconnected"}, status_code=503)
    try:
        await state.nats.flush(timeout=2)
    except Exception:
        return JSONResponse({"status": "unavailable", "nats": "no answer"}, status_code=503)
    return JSONResponse({"status": "ok", "nats": "connected"})


@router.get("/metrics")
async def read_metrics() -> Response:
    """Prometheus metrics of this gateway process."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
