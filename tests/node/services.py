"""The platform's external services for the node's pods, on the host side of the node's veth.

NATS, PostgreSQL and the local Twilio-compatible API listen where the pods reach them (the
veth's host address) as well as on loopback for the tests themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.utils.servers import serve_in_thread
from wta_runtime.catalog import load_catalog
from wta_runtime.local.embedded_postgres import create_database, init_cluster, postgres_process
from wta_runtime.local.nats_server import nats_process
from wta_runtime.local.processes import ManagedProcess, free_port
from wta_runtime.local.twilio_api import RecordedMessage, create_twilio_app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DATABASE = "wta"


@dataclass
class NodeServices:
    """URLs as the pods see them (`*_for_pods`), and what the local Twilio API recorded."""

    nats_for_pods: str
    admin_database_for_pods: str
    twilio_for_pods: str
    messages: list[RecordedMessage]

    def sent_to(self, contact: str) -> list[RecordedMessage]:
        """Messages the platform sent to `contact` through the local Twilio API."""
        return [m for m in self.messages if m.to == f"whatsapp:{contact}"]


def _nats(folder: Path, port: int) -> ManagedProcess:
    server = nats_process(folder / "data", port=port, log_path=folder / "nats.log")
    # nats-server takes the last --addr: every address, so pods reach it through the veth.
    server.argv = [*server.argv, "--addr", "0.0.0.0"]
    return server


def _postgres(folder: Path, port: int, host_ip: str, pod_sources: str) -> ManagedProcess:
    data = folder / "data"
    init_cluster(data)
    hba = data / "pg_hba.conf"
    rule = f"host all all {pod_sources} trust\n"
    if rule not in hba.read_text():
        hba.write_text(hba.read_text() + rule)
    server = postgres_process(data, port=port, log_path=folder / "postgres.log")
    argv = list(server.argv)
    argv[argv.index("-h") + 1] = f"127.0.0.1,{host_ip}"
    server.argv = argv
    return server


@contextmanager
def node_services(folder: Path, host_ip: str, pod_sources: str) -> Iterator[NodeServices]:
    """Start NATS, PostgreSQL and the Twilio API for the examples' accounts; stop them after.

    `pod_sources` is the CIDR the pods' connections come from (the node's side of the veth).
    """
    catalog = load_catalog(EXAMPLES)
    accounts = {t.account_sid: t.auth_token.get_secret_value() for t in catalog.tenants.values()}
    nats_port, pg_port = free_port(), free_port()
    with ExitStack() as stack:
        nats = _nats(folder / "nats", nats_port)
        nats.start()
        stack.callback(nats.stop)
        postgres = _postgres(folder / "postgres", pg_port, host_ip, pod_sources)
        postgres.start()
        stack.callback(postgres.stop)
        create_database(pg_port, DATABASE, DATABASE)
        app = create_twilio_app(accounts)
        twilio = stack.enter_context(serve_in_thread(app, host=host_ip))
        yield NodeServices(
            nats_for_pods=f"nats://{host_ip}:{nats_port}",
            admin_database_for_pods=f"postgresql+asyncpg://postgres@{host_ip}:{pg_port}/{DATABASE}",
            twilio_for_pods=twilio,
            messages=app.state.messages,
        )
