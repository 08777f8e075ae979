"""A fake Messages API that relays each request to a person (or a model-playing helper) through files.

Fixture answers shaped like the template's fallbacks prove nothing about real fills; this relay lets someone
answer the request exactly as scaffold sent it, the way a strong model would::

    python -m tests.relay /tmp/relay &          # prints the base URL, then waits
    ANTHROPIC_BASE_URL=<url> ANTHROPIC_API_KEY=sk-relay scaffold new-service payouts ...

Each request is saved as `request-N.json` (the body as sent) plus `request-N.md` (its system prompt and
messages as plain text, easier to read); the relay then waits for `answer-N.txt`, whose text becomes the
assistant's message (streamed when the request asked for a stream). The answers can then be kept as test
fixtures. Not used by the test suite itself: it is a tool for trying fills by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.fakeapi import FakeAnthropic, Recorded, Reply, Usage


def _plain(body: dict[str, Any]) -> str:
    """The request as a reader needs it: system prompt, then each message's text, then the answer format."""
    parts: list[str] = [f"# model: {body.get('model')}  max_tokens: {body.get('max_tokens')}\n"]
    system = body.get("system", "")
    blocks = system if isinstance(system, list) else [{"text": system}]
    parts.append("## system\n\n" + "\n\n".join(str(block.get("text", "")) for block in blocks))
    for message in body.get("messages", []):
        content = message.get("content")
        texts = [content] if isinstance(content, str) else [str(block.get("text", "")) for block in content]
        parts.append(f"## {message.get('role')}\n\n" + "\n\n".join(texts))
    output = body.get("output_config")
    if output:
        parts.append("## output_config\n\n" + json.dumps(output, indent=2))
    return "\n\n".join(parts) + "\n"


class Relay:
    """Answers request N with the text of `answer-N.txt` in `folder`, once it appears."""

    def __init__(self, folder: Path, *, poll: float = 0.5) -> None:
        self.folder = folder
        self.poll = poll
        self._count = 0
        self._lock = threading.Lock()

    def __call__(self, request: Recorded) -> Reply:
        with self._lock:
            self._count += 1
            number = self._count
        (self.folder / f"request-{number}.json").write_text(json.dumps(request.body, indent=2), encoding="utf-8")
        (self.folder / f"request-{number}.md").write_text(_plain(request.body), encoding="utf-8")
        print(f"relay: request {number} saved; waiting for {self.folder / f'answer-{number}.txt'}", flush=True)
        answer = self.folder / f"answer-{number}.txt"
        while not answer.exists():
            time.sleep(self.poll)
        time.sleep(self.poll)  # let a writer that creates the file before filling it finish
        text = answer.read_text(encoding="utf-8")
        return Reply.message(
            text, usage=Usage(input_tokens=len(json.dumps(request.body)) // 4, output_tokens=len(text) // 4)
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.relay", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where requests are saved and answers are awaited")
    args = parser.parse_args(argv)
    args.folder.mkdir(parents=True, exist_ok=True)
    with FakeAnthropic(responder=Relay(args.folder)) as fake:
        (args.folder / "base_url").write_text(fake.base_url, encoding="utf-8")
        print(fake.base_url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
