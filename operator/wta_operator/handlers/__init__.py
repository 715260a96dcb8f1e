"""kopf handlers: importing this package registers them; `register_timers` adds the timers."""

from wta_operator.handlers import agents, indexes, lifecycle, sleep, tenants
from wta_operator.settings import OperatorConfig


def register_timers(config: OperatorConfig) -> None:
    """Timers need their interval when registered, so they wait for the settings."""
    tenants.register_resync(config)
    agents.register_recheck(config)


__all__ = ["agents", "indexes", "lifecycle", "register_timers", "sleep", "tenants"]
