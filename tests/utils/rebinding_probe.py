"""`python -m tests.utils.rebinding_probe`, run in a network namespace of its own (`unshare -rn`):
media downloads from a host whose name resolves to a public address when it is checked and to
loopback afterwards (DNS rebinding). Prints, as JSON, what each download got and the requests
each server saw (path, and whether it carried credentials). The public server is also the
configured Twilio base, by its address: only requests to that origin carry the tenant's token.

Inside the namespace the public address is one of its own (on its `lo`): nothing leaves it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from wta_runtime.catalog import load_catalog
from wta_runtime.channel.media import MediaDownloader, MediaPolicy, MediaRefusedError

PUBLIC = "93.184.216.34"
PHOTO = b"\xff\xd8\xff\xe0 the photo the contact sent"
INSIDE = b"\xff\xd8\xff\xe0 what only the cluster may read"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class RebindingResolver:
    """A name server answering `PUBLIC` the first `public_answers` times, then loopback."""

    def __init__(self, public_answers: int) -> None:
        self.public_answers = public_answers
        self.asked = 0

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked += 1
        return [PUBLIC] if self.asked <= self.public_answers else ["127.0.0.1"]


Seen = list[tuple[str, bool]]


def _handler(content: bytes, seen: Seen) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.path, "Authorization" in self.headers))
            if self.path == "/redirect":
                self.send_response(307)
                self.send_header("Location", f"http://localhost:{self.server.server_port}/photo")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serving(address: str, port: int, content: bytes, seen: Seen) -> Iterator[int]:
    server = ThreadingHTTPServer((address, port), _handler(content, seen))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


async def download(url: str, resolver: RebindingResolver, twilio_base: str) -> str:
    """`photo`, `inside` or `refused: <reason>`: what the download of `url` got."""
    tenant = load_catalog(EXAMPLES).by_name("acme-pizza")
    downloader = MediaDownloader(MediaPolicy(), twilio_api_url=twilio_base, resolve=resolver)
    try:
        media = await downloader.download(tenant, url)
    except MediaRefusedError as exc:
        return f"refused: {exc.reason}"
    finally:
        await downloader.close()
    return {PHOTO: "photo", INSIDE: "inside"}.get(media.content, "something else")


def main() -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", f"{PUBLIC}/32", "dev", "lo"], check=True)
    public_seen: Seen = []
    inside_seen: Seen = []
    with (
        serving(PUBLIC, 0, PHOTO, public_seen) as port,
        serving("127.0.0.1", port, INSIDE, inside_seen),
    ):
        twilio_base = f"http://{PUBLIC}:{port}"
        scenarios = {
            "photo": (f"http://localhost:{port}/photo", 1),
            "redirect": (f"http://localhost:{port}/redirect", 2),
            "redirect_rebound": (f"http://localhost:{port}/redirect", 1),
            "twilio_base": (f"{twilio_base}/photo", 0),
        }
        got = {
            name: asyncio.run(download(url, RebindingResolver(answers), twilio_base))
            for name, (url, answers) in scenarios.items()
        }
    print(json.dumps({"got": got, "public_seen": public_seen, "inside_seen": inside_seen}))


if __name__ == "__main__":
    main()
