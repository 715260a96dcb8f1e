"""The ASGI factory uvicorn calls in each worker process (`--factory`)."""

from fastapi import FastAPI

from wta_runtime.gateway.app import create_app
from wta_runtime.settings import get_settings


def app_from_environment() -> FastAPI:
    return create_app(get_settings())
