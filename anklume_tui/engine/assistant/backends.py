"""The two chat APIs the assistant speaks over httpx, both streamed: Ollama's `/api/chat` (one JSON object
per line) and the OpenAI-compatible `/chat/completions` (server-sent events). The answer is returned as
text: data for the caller, never evaluated."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from ...errors import Failed
from .config import AssistantConfig

Messages = list[dict[str, str]]


class AssistantFailed(Failed):
    """The model's server could not be reached or answered with an error."""


@dataclass(frozen=True)
class ChatRequest:
    """Exactly what goes over the wire (the key, when there is one, is sent as a bearer header, shown masked)."""

    url: str
    body: dict[str, Any]
    authorized: bool

    def shown(self) -> dict[str, Any]:
        headers = {"Authorization": "Bearer <key from api_key_file>"} if self.authorized else {}
        return {"method": "POST", "url": self.url, "headers": headers, "body": self.body}


def chat_request(config: AssistantConfig, messages: Messages) -> ChatRequest:
    if config.backend == "ollama":
        return ChatRequest(
            f"{config.base_url}/api/chat", {"model": config.model, "messages": messages, "stream": True}, False
        )
    return ChatRequest(
        f"{config.base_url}/chat/completions",
        {"model": config.model, "messages": messages, "stream": True},
        config.api_key_file is not None,
    )


def chat(config: AssistantConfig, request: ChatRequest, on_chunk: Callable[[str], None] | None = None) -> str:
    """Send `request` and gather the streamed answer (each piece also given to `on_chunk` as it comes)."""
    headers = {}
    if request.authorized and (key := config.api_key()):
        headers["Authorization"] = f"Bearer {key}"
    pieces: list[str] = []
    try:
        with (
            httpx.Client(timeout=config.timeout, trust_env=False) as client,
            client.stream("POST", request.url, json=request.body, headers=headers) as response,
        ):
            if response.status_code >= 400:
                response.read()
                raise AssistantFailed(
                    f"{request.url} answered {response.status_code}: {response.text.strip()[:300] or '(no text)'}"
                )
            read = _ollama_pieces if config.backend == "ollama" else _openai_pieces
            for piece in read(response.iter_lines()):
                pieces.append(piece)
                if on_chunk is not None:
                    on_chunk(piece)
    except httpx.HTTPError as exc:
        raise AssistantFailed(f"{request.url}: {type(exc).__name__}: {exc}") from None
    return "".join(pieces)


def _ollama_pieces(lines: Iterator[str]) -> Iterator[str]:
    for line in lines:
        if not line.strip():
            continue
        data = _json(line)
        if data.get("error"):
            raise AssistantFailed(f"the model's server said: {data['error']}")
        yield str((data.get("message") or {}).get("content") or "")
        if data.get("done"):
            return


def _openai_pieces(lines: Iterator[str]) -> Iterator[str]:
    for line in lines:
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        data = _json(payload)
        for choice in data.get("choices") or ():
            yield str((choice.get("delta") or {}).get("content") or "")


def _json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        raise AssistantFailed(f"the model's server sent something that is not JSON: {text[:200]!r}") from None
    if not isinstance(data, dict):
        raise AssistantFailed(f"the model's server sent {type(data).__name__}, not an object")
    return data
