"""Shared by the role tests: a lab on the systemd image (tests/image_helpers.py, the roles' online packages
pre-seeded), converged twice through `--batch provision`, and a stand-in download site the machines reach."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.incusd_helpers import ThrowawayIncus


@dataclass
class StandInSite:
    """An HTTP server in the daemon's network namespace, on every address there (the bridges' gateways
    included): what a download site is to a role's download check. Records who asked what."""

    port: int
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (client address, method, path)


@contextmanager
def stand_in_site(daemon: ThrowawayIncus) -> Iterator[StandInSite]:
    site = StandInSite(port=0)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:  # noqa: N802 (http.server's name)
            site.requests.append((self.client_address[0], "HEAD", self.path))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = daemon.in_netns(lambda: http.server.ThreadingHTTPServer(("0.0.0.0", 0), Handler))
    site.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="stand-in-site", daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
