"""A local simplestreams image server over HTTPS, standing in for images.linuxcontainers.org or a private mirror.

It serves one image (the tarballs of tests/image_helpers.py) as `streams/v1/index.json`, `streams/v1/images.json`
and the two files, with a self-signed certificate made here by the openssl CLI, and logs every path asked for.
Its listening socket is made inside a daemon's private network namespace (ThrowawayIncus.in_netns), so the
daemon reaches it on 127.0.0.1 and nothing outside the namespace can.
"""

from __future__ import annotations

import hashlib
import json
import os
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.image_helpers import ImageFiles
from tests.incusd_helpers import ThrowawayIncus

SERIAL = "20240101_00:00"
VERSION_DIR = "images/debian/12/amd64/default/20240101_0000"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (Go checks the subjectAltName, not the CN), and its key."""
    cert, key = folder / "mirror.crt", folder / "mirror.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=anklume-test-mirror",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def combined_fingerprint(image: ImageFiles) -> str:
    """What Incus names a split image by: sha256 of the metadata tarball followed by the rootfs tarball."""
    digest = hashlib.sha256()
    for path in (image.meta, image.rootfs):
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def write_stream(root: Path, image: ImageFiles, aliases: str = "debian/12,debian/bookworm") -> str:
    """The server's tree under root: the index, the products and the two files (hard links when possible).
    Returns the image's fingerprint. Both files keep their ftypes' names though they are gzip: Incus reads the
    compression from the bytes."""
    files = root / VERSION_DIR
    files.mkdir(parents=True)
    items = {}
    for ftype, source in (("incus.tar.xz", image.meta), ("root.tar.xz", image.rootfs)):
        target = files / ftype
        try:
            os.link(source, target)
        except OSError:
            target.write_bytes(source.read_bytes())
        items[ftype] = {
            "ftype": ftype,
            "path": f"{VERSION_DIR}/{ftype}",
            "sha256": _sha256(target),
            "size": target.stat().st_size,
        }
    fingerprint = combined_fingerprint(image)
    items["incus.tar.xz"]["combined_sha256"] = fingerprint
    items["incus.tar.xz"]["combined_rootxz_sha256"] = fingerprint
    product = "debian:12:amd64:default"
    products = {
        "content_id": "images",
        "datatype": "image-downloads",
        "format": "products:1.0",
        "products": {
            product: {
                "aliases": aliases,
                "arch": "amd64",
                "os": "Debian",
                "release": "12",
                "release_title": "bookworm",
                "variant": "default",
                "versions": {SERIAL: {"items": items}},
            }
        },
    }
    index = {
        "format": "index:1.0",
        "index": {
            "images": {
                "datatype": "image-downloads",
                "path": "streams/v1/images.json",
                "format": "products:1.0",
                "products": [product],
            }
        },
    }
    streams = root / "streams" / "v1"
    streams.mkdir(parents=True)
    (streams / "index.json").write_text(json.dumps(index))
    (streams / "images.json").write_text(json.dumps(products))
    return fingerprint


@dataclass
class ImageServer:
    url: str
    fingerprint: str
    requests: list[str] = field(default_factory=list)

    def fetches(self, suffix: str) -> int:
        return sum(1 for path in self.requests if path.endswith(suffix))


class _Handler(SimpleHTTPRequestHandler):
    log: list[str]

    def do_GET(self) -> None:
        self.log.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@contextmanager
def serve_images(daemon: ThrowawayIncus, root: Path, image: ImageFiles) -> Iterator[ImageServer]:
    """Serve `image` over HTTPS on 127.0.0.1 inside the daemon's network namespace, with the certificate at
    root/../mirror.crt (make_certificate), while the block runs."""
    fingerprint = write_stream(root, image)
    cert, key = root.parent / "mirror.crt", root.parent / "mirror.key"
    log: list[str] = []
    handler = type("Handler", (_Handler,), {"log": log})
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def bind() -> ThreadingHTTPServer:
        return ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))

    server = daemon.in_netns(bind)  # the socket belongs to the namespace it was made in
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, name="simplestreams", daemon=True)
    thread.start()
    try:
        yield ImageServer(f"https://127.0.0.1:{server.server_address[1]}/", fingerprint, log)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
