"""Stand-ins for what ollama_server, opencode_server and stt_server download (the test containers have no route
out): Ollama's and opencode's release archives holding a small Python program in place of the binary, a
faster-whisper wheel whose model repeats what it was given, and a stand-in download site (a static HTTP
server in the throwaway daemon's network namespace, on a bridge's gateway address) for the roles' online paths.

The stand-in programs answer HTTP as the real ones are configured to (address and port from the same
environment and flags), with who runs them and from where, so a test reads the role's wiring back."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import subprocess
import tarfile
import zipfile
from pathlib import Path

from tests.image_helpers import BUSYBOX
from tests.incusd_helpers import ThrowawayIncus
from tests.wait_helpers import wait_until

# Answers every GET with what the service's settings gave it: a real request over its configured address.
_SERVE = """\
import http.server, json, os, sys


def serve(host, port, answer):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({**answer, "path": self.path, "uid": os.getuid(), "cwd": os.getcwd()}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_HEAD = do_GET

    http.server.ThreadingHTTPServer((host, int(port)), Handler).serve_forever()
"""

OLLAMA = f"""#!/usr/bin/python3
# Stand-in for Ollama (anklume-tui tests): `ollama serve` on OLLAMA_HOST.
{_SERVE}
if sys.argv[1:] != ["serve"]:
    sys.exit("ollama stand-in: only `serve`")
host, _, port = os.environ["OLLAMA_HOST"].rpartition(":")
serve(host, port, {{"standin": "ollama", "keep_alive": os.environ.get("OLLAMA_KEEP_ALIVE")}})
"""

OPENCODE = f"""#!/usr/bin/python3
# Stand-in for opencode (anklume-tui tests): `opencode serve --hostname H --port P`.
{_SERVE}
args = sys.argv[1:]
if args[:1] != ["serve"]:
    sys.exit("opencode stand-in: only `serve`")
serve(args[args.index("--hostname") + 1], args[args.index("--port") + 1], {{"standin": "opencode"}})
"""

FASTER_WHISPER = '''\
"""Stand-in for faster-whisper (anklume-tui tests): the model "hears" the audio's size."""
import os
from types import SimpleNamespace


class WhisperModel:
    def __init__(self, name, device="auto", compute_type="default"):
        if name.startswith("/") and not os.path.isfile(os.path.join(name, "model.bin")):
            raise FileNotFoundError(f"no model.bin in {name}")
        self.name = name

    def transcribe(self, path, language=None):
        heard = os.path.getsize(path)
        segments = [SimpleNamespace(text=f" stand-in {self.name} heard {heard} bytes")]
        return iter(segments), SimpleNamespace(language=language or "en", duration=0.0)
'''


def _tar_gz(members: dict[str, tuple[bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, (data, mode) in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 1700000000
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _zip(members: dict[str, tuple[bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, (data, mode) in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            archive.writestr(info, data)
    return buf.getvalue()


def _wheel(name: str, version: str, files: dict[str, bytes]) -> tuple[str, bytes]:
    """A pure-Python wheel (PEP 427), RECORD hashes included."""
    dist = f"{name.replace('-', '_')}-{version}.dist-info"
    files = {
        **files,
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: anklume-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    files[f"{dist}/RECORD"] = ("\n".join([*record, f"{dist}/RECORD,,"]) + "\n").encode()
    return f"{name.replace('-', '_')}-{version}-py3-none-any.whl", _zip({p: (d, 0o644) for p, d in files.items()})


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def write_stand_ins(folder: Path) -> dict[str, Path]:
    """The archives, the wheelhouse, a model folder, and a site folder serving them as the roles' URLs do:
    `/ollama-linux-amd64.tgz`, `/opencode-linux-x64.zip`, and a PEP 503 index under `/simple/`."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {
        "ollama": folder / "ollama-linux-amd64.tgz",
        "opencode": folder / "opencode-linux-x64.zip",
        "wheelhouse": folder / "wheels",
        "model": folder / "model",
        "site": folder / "site",
    }
    made["ollama"].write_bytes(_tar_gz({"bin/ollama": (OLLAMA.encode(), 0o755), "lib/ollama/README": (b"", 0o644)}))
    made["opencode"].write_bytes(_zip({"opencode": (OPENCODE.encode(), 0o755)}))
    made["wheelhouse"].mkdir()
    wheel, data = _wheel("faster-whisper", "1.0.0", {"faster_whisper/__init__.py": FASTER_WHISPER.encode()})
    (made["wheelhouse"] / wheel).write_bytes(data)
    made["model"].mkdir()
    (made["model"] / "model.bin").write_bytes(b"stand-in weights\n")
    site = made["site"]
    (site / "simple" / "faster-whisper").mkdir(parents=True)
    (site / "simple" / "faster-whisper" / wheel).write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    (site / "simple" / "faster-whisper" / "index.html").write_text(
        f'<html><body><a href="{wheel}#sha256={digest}">{wheel}</a></body></html>\n'
    )
    (site / "simple" / "index.html").write_text(
        '<html><body><a href="faster-whisper/">faster-whisper</a></body></html>\n'
    )
    for key in ("ollama", "opencode"):
        (site / made[key].name).write_bytes(made[key].read_bytes())
    return made


class StandInSite:
    """`python3 -m http.server` serving a folder on `address:port` inside the daemon's network namespace: the
    containers reach it over their bridge, as they would a mirror; its access log says what they fetched."""

    def __init__(self, daemon: ThrowawayIncus, folder: Path, address: str, port: int = 8765) -> None:
        self.url = f"http://{address}:{port}"
        self.log = folder.parent / "site-access.log"
        self._log = self.log.open("w")
        self._proc = subprocess.Popen(
            ["nsenter", f"--net=/proc/{daemon.pid}/ns/net", "--", "python3", "-m", "http.server"]
            + ["--bind", address, "--directory", str(folder), str(port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_until(
            lambda: (
                daemon.nsenter(
                    "python3", "-c", f"import urllib.request; urllib.request.urlopen('{self.url}/')", check=False
                ).returncode
                == 0
            ),
            20,
            f"the stand-in site on {self.url}",
            0.1,
        )

    def fetched(self) -> list[str]:
        """The paths asked for with GET, in order."""
        self._log.flush()
        return [line.split('"GET ')[1].split()[0] for line in self.log.read_text().splitlines() if '"GET ' in line]

    def close(self) -> None:
        self._proc.kill()
        self._proc.wait()
        self._log.close()


# The stand-in web app's command: a page saying which app it stands for and on which port, served by busybox.
_WEB_APP = (
    'mkdir -p /www && echo "{\\"standin\\": \\"$0\\", \\"port\\": \\"$PORT\\"}" > /www/index.html'
    ' && exec httpd -f -p "$PORT" -h /www'
)


def _web_app_image(name: str, port: int) -> tuple[bytes, bytes]:
    """A one-layer image's config and (uncompressed) layer: busybox serving a page on $PORT (default `port`),
    saying `name` and the port it listens on."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        for folder in ("bin", "tmp"):
            info = tarfile.TarInfo(folder)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o1777 if folder == "tmp" else 0o755, 1700000000
            tar.addfile(info)
        data = Path(BUSYBOX).read_bytes()
        info = tarfile.TarInfo("bin/busybox")
        info.size, info.mode, info.mtime = len(data), 0o755, 1700000000
        tar.addfile(info, io.BytesIO(data))
        for applet in ("sh", "mkdir", "echo", "httpd"):
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname, info.mode, info.mtime = tarfile.SYMTYPE, "busybox", 0o777, 1700000000
            tar.addfile(info)
    layer_bytes = layer.getvalue()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": ["PATH=/bin", f"PORT={port}"], "Cmd": ["/bin/sh", "-c", _WEB_APP, name]},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer_bytes).hexdigest()]},
        }
    ).encode()
    return config, layer_bytes


def docker_image_archive(path: Path, tag: str, name: str, port: int) -> Path:
    """A `docker save` archive of the stand-in web app image, tagged `tag`."""
    config, layer = _web_app_image(name, port)
    diff_id = hashlib.sha256(layer).hexdigest()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [tag], "Layers": [f"{diff_id}/layer.tar"]}]).encode()
    path.write_bytes(_tar({"manifest.json": manifest, config_name: config, f"{diff_id}/layer.tar": layer}))
    return path


def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1700000000
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


# A registry (HTTP API v2) serving what `registry_files` wrote, read-only: enough for `docker pull`.
REGISTRY = """\
import http.server, json, pathlib, sys

ROOT = pathlib.Path(sys.argv[1])
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


class Registry(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        parts = self.path.split("?")[0].strip("/").split("/")
        body, kind, digest = None, "application/json", ""
        if parts == ["v2"]:
            body = b"{}"
        elif len(parts) > 3 and parts[-2] == "manifests":
            found = ROOT / "manifests" / "/".join(parts[1:-2]) / parts[-1]
            if found.is_file():
                body, kind = found.read_bytes(), MANIFEST
                digest = json.loads((ROOT / "digests.json").read_text())["/".join(parts[1:-2] + parts[-1:])]
        elif len(parts) > 3 and parts[-2] == "blobs":
            found = ROOT / "blobs" / parts[-1]
            if found.is_file():
                body, kind, digest = found.read_bytes(), "application/octet-stream", parts[-1]
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        if digest:
            self.send_header("Docker-Content-Digest", digest)
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(body)

    do_HEAD = do_GET


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Registry).serve_forever()
"""


def registry_files(folder: Path, images: dict[str, tuple[str, int]]) -> Path:
    """The folder REGISTRY serves: for each `repo:tag` → (name, port), the stand-in web app image as
    docker_image_archive makes it (manifest, config and gzipped layer blobs)."""
    digests = {}
    for reference, (name, port) in images.items():
        repo, tag = reference.rsplit(":", 1)
        config, layer = _web_app_image(name, port)
        packed = gzip.compress(layer, mtime=0)
        blobs = {}
        for data in (config, packed):
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            (folder / "blobs").mkdir(parents=True, exist_ok=True)
            (folder / "blobs" / digest).write_bytes(data)
            blobs[id(data)] = (digest, len(data))
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "digest": blobs[id(config)][0],
                    "size": blobs[id(config)][1],
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                        "digest": blobs[id(packed)][0],
                        "size": blobs[id(packed)][1],
                    }
                ],
            }
        ).encode()
        (folder / "manifests" / repo).mkdir(parents=True, exist_ok=True)
        digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
        for ref in (tag, digest):  # docker asks by tag, then by the digest the answer gave
            (folder / "manifests" / repo / ref).write_bytes(manifest)
            digests[f"{repo}/{ref}"] = digest
    (folder / "digests.json").write_text(json.dumps(digests))
    (folder / "registry.py").write_text(REGISTRY)
    return folder
