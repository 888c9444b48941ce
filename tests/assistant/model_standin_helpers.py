"""A stand-in for the user's model server, bound to loopback inside the test: it speaks Ollama's `/api/chat`
(JSON lines) and the OpenAI-compatible `/v1/chat/completions` (server-sent events), streams a fixed answer in
small pieces, and counts and keeps every request it gets."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class StandIn:
    answer: str = ""
    answers: list[str] = field(default_factory=list)  # one per request, in order, before `answer`
    requests: list[dict] = field(default_factory=list)  # {"path", "headers", "body"}
    url: str = ""

    def next_answer(self) -> str:
        return self.answers.pop(0) if self.answers else self.answer

    def config(self, backend: str, **more: str) -> str:
        base = self.url if backend == "ollama" else f"{self.url}/v1"
        lines = [f'backend = "{backend}"', f'base_url = "{base}"', 'model = "stand-in"']
        lines += [f'{key} = "{value}"' for key, value in more.items()]
        return "\n".join(lines) + "\n"


def _pieces(text: str, size: int = 7) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _handler(standin: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            standin.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            answer = standin.next_answer()
            if self.path == "/api/chat":
                chunks = [
                    json.dumps({"message": {"role": "assistant", "content": p}, "done": False}) + "\n"
                    for p in _pieces(answer)
                ]
                chunks.append(json.dumps({"message": {"role": "assistant", "content": ""}, "done": True}) + "\n")
                kind = "application/x-ndjson"
            elif self.path == "/v1/chat/completions":
                chunks = [f"data: {json.dumps({'choices': [{'delta': {'content': p}}]})}\n\n" for p in _pieces(answer)]
                chunks.append("data: [DONE]\n\n")
                kind = "text/event-stream"
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in chunks:
                data = chunk.encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")

    return Handler


@contextmanager
def model_standin() -> Iterator[StandIn]:
    standin = StandIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(standin))
    standin.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def configure(config_home: Path, text: str) -> None:
    (config_home / "anklume").mkdir(parents=True, exist_ok=True)
    (config_home / "anklume" / "assistant.toml").write_text(text)
