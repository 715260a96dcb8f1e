"""The operator's log says which object each handler line is about."""

from __future__ import annotations

import re

from tests.operator.factories import unique_name
from tests.operator.harness import RunningOperator, wait_for

# kopf's full format: "[time] logger [LEVEL   ] message".
RECORD = re.compile(r"^\[[^\]]+\] (?P<logger>\S+)\s+\[(?P<level>[A-Z]+)\s*\] (?P<message>.*)$")
ABOUT_A_HANDLER = re.compile(r"^(\[[^\]]+\] )?((Handler|Timer|Daemon) '|\w+ is processed:)")
OBJECT = re.compile(r"^\[[a-z0-9-]+/[a-z0-9.-]+\] ")


def _records(op: RunningOperator) -> list[tuple[str, str]]:
    matches = (RECORD.match(line) for line in op.log().splitlines())
    return [(m["logger"], m["message"]) for m in matches if m]


def test_every_handler_line_names_its_namespace_and_name(
    live_operator: RunningOperator, kube_namespace: str
) -> None:
    op, namespace, name = live_operator, kube_namespace, unique_name()
    op.ready_tenant_with_agent(namespace, name)
    op.delete(namespace, "whatsapptenant", name)

    wait_for(
        lambda: [m for _, m in _records(op) if m.startswith(f"[{namespace}/{name}] Deletion")],
        bool,
    )
    records = _records(op)
    about_handlers = [(logger, m) for logger, m in records if ABOUT_A_HANDLER.match(m)]
    mine = {m for _, m in about_handlers if m.startswith(f"[{namespace}/{name}] ")}
    agent = {m for _, m in about_handlers if m.startswith(f"[{namespace}/helper] ")}

    assert f"[{namespace}/{name}] Handler 'reconcile' succeeded." in mine
    assert f"[{namespace}/{name}] Handler 'clean-up' succeeded." in mine
    assert f"[{namespace}/helper] Handler 'attach' succeeded." in agent
    assert [m for _, m in about_handlers if not OBJECT.match(m)] == []
    assert [m for logger, m in records if logger == "kopf.objects" and not OBJECT.match(m)] == []
