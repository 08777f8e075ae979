"""What `scaffold mcp` answers, as JSON-ready data: the same core calls as the CLI's, minus the words.

Each method is one tool of the server. It resolves the knowledge home as every command does
(`home`, then SCAFFOLD_HOME, then the user config, then the bundled copy) on each call, so a
home recorded in mid-session is picked up, and raises `ScaffoldError`s with the CLI's one-line
messages. The home's index, the BM25 rankers and the redaction results are cached on disk and
the scanners stay imported, so a repeated call costs milliseconds.

Nothing leaves unredacted. Texts the core already redacted (the prompt, a document, a search
snippet) are marked `Clean` where they are made; every other string of an answer, error
messages included, passes the same `Redactor` on its way out (`redact`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.context.tokens import DEFAULT_BUDGET
from generator.errors import UsageError

if TYPE_CHECKING:
    from generator.context.api import DocumentInfo
    from generator.settings import Settings

DOC_KINDS = ("decision", "incident", "runbook")


class Clean(str):
    """A string safe to send as it is (the core redacted it, or it is a path scaffold chose); `redact`
    passes it as it is."""

    __slots__ = ()


class Tools:
    """One assistant session's access to the knowledge home (`home` as the `--home` flag)."""

    def __init__(self, home: str | Path | None = None) -> None:
        self.home = str(home) if home else None
        # Tools run on the SDK's worker threads; one call at a time keeps the caches whole. Reentrant,
        # so that a signal handler on the thread that holds it (the event loop) can take it too.
        self.lock = threading.RLock()

    def settings(self) -> Settings:
        from generator.settings import Settings

        return Settings.load(home=self.home)

    # --- the knowledge home ------------------------------------------------------------------

    def get_context(
        self,
        task: str,
        kind: str | None = None,
        project: str | None = None,
        budget: int = DEFAULT_BUDGET,
        rerank: bool | None = None,
    ) -> dict[str, Any]:
        """Exactly `scaffold context --json TASK` (with `--rerank`/`--no-rerank` for True/False): the
        prompt, its sections and why, omissions, redactions."""
        from generator.context.api import build_context

        if rerank:
            # The CLI's messages say to leave out --rerank. The user config is read on each call; a
            # variable set in the assistant's shell now, or a part installed now, reaches a server
            # started before only once it is restarted.
            from generator.errors import MissingExtraError
            from generator.plumbing.extras import AI, installed
            from generator.settings import API_KEY

            # The part first, as `scaffold context --rerank` checks them: without it, a key is of no use yet.
            if not installed(AI):
                raise MissingExtraError(
                    f"rerank needs scaffold's optional '{AI.name}' part where the scaffold server runs: install "
                    f"it ({AI.command}) and restart the server; or call get_context without rerank"
                )
            if self.settings().key is None:
                raise UsageError(
                    "rerank needs an Anthropic API key where the scaffold server runs: set "
                    f"{API_KEY.where('config')}, or {API_KEY.where('env')} in the server's environment and "
                    "restart it; or call get_context without rerank"
                )

        result = build_context(
            task, kind=kind or None, project=project or None, budget=budget, home=self.home, rerank=rerank
        )
        data = result.to_dict()
        data["prompt"] = Clean(data["prompt"])
        return data

    def classify(self, task: str) -> dict[str, Any]:
        from generator.context.api import explain_kind

        return explain_kind(task, home=self.home).to_dict()

    def search_knowledge(self, query: str, limit: int = 10) -> dict[str, Any]:
        from generator.context.api import search

        found = search(query, limit=limit, home=self.home)
        results = []
        for hit in found.hits:
            entry = hit.to_dict()
            entry["snippet"] = Clean(entry["snippet"])
            results.append(entry)
        return {"query": Clean(found.query), "results": results}

    def read_document(self, path: str) -> dict[str, Any]:
        from generator.context.api import read_document

        data = read_document(path, home=self.home).to_dict()
        data["text"] = Clean(data["text"])
        return data

    def documents(self) -> tuple[DocumentInfo, ...]:
        from generator.context.api import list_documents

        return list_documents(home=self.home)

    def prompt(self, task: str, kind: str | None = None, project: str | None = None) -> str:
        """The paste-ready prompt for a task (`scaffold context TASK`), for the server's prompt template."""
        from generator.context.api import build_context

        return Clean(build_context(task, kind=kind or None, project=project or None, home=self.home).prompt)

    def new_document(
        self,
        doc_kind: str,
        title: str,
        sections: Mapping[str, str | None],
        fields: Mapping[str, str | None],
        day: str | None = None,
    ) -> dict[str, Any]:
        """Write the next numbered decision, incident or runbook; never commits."""
        from generator.context.home import new_document

        when = _iso_date(day) if day else None
        made = new_document(
            doc_kind,
            title,
            home=self.home,
            when=when,
            sections={name: text for name, text in sections.items() if text},
            fields={name: text for name, text in fields.items() if text},
        )
        # Paths scaffold chose, its file name already without any secret the title held: a path that
        # reads as random (`/Users/jdoe/kb/...`) must still tell the assistant where the file is.
        return {
            "path": Clean(made.path),
            "document": Clean(made.path.relative_to(made.home / "context").as_posix()),
            "home": Clean(made.home),
            "committed": False,
            "warnings": made.warnings(),
            "next": Clean(f"review and edit it, then commit it in {made.home}"),
        }

    # --- templates and projects --------------------------------------------------------------

    def list_templates(self) -> dict[str, Any]:
        from generator.pipeline import list_templates

        return list_templates(settings=self.settings()).to_dict()

    def project_status(self, path: str = ".") -> dict[str, Any]:
        """What `scaffold check --json PATH` says about one generated project."""
        from generator.pipeline import check_project

        return check_project(path or ".", settings=self.settings()).to_dict()

    # --- on the way out ----------------------------------------------------------------------

    def redact(self, value: Any) -> Any:
        """`value` (JSON-like) with likely secrets in every string not already `Clean` replaced."""
        from generator.context.documents import redaction_cache
        from generator.context.redact import Piece, Redactor

        found: list[str] = []
        _strings(value, found)
        if not found:
            return value
        texts = list(dict.fromkeys(found))
        # A fresh Redactor each time: it starts from what the core's calls have just saved (the
        # file is parsed once per process), where a long-lived one would write back a stale cache.
        redactor = Redactor(redaction_cache())
        results = redactor.redact([Piece("<answer>", 1, text) for text in texts])
        redactor.save()
        replaced = {text: result.text for text, result in zip(texts, results, strict=True)}
        return _replace(value, replaced)


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{value!r} is not a date like 2025-03-14") from None


def _strings(value: Any, found: list[str]) -> None:
    if isinstance(value, Clean):
        return
    if isinstance(value, str):
        found.append(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _strings(key, found)
            _strings(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _strings(item, found)


def _replace(value: Any, replaced: Mapping[str, str]) -> Any:
    if isinstance(value, Clean):
        return str(value)
    if isinstance(value, str):
        return replaced.get(value, value)
    if isinstance(value, Mapping):
        return {_replace(key, replaced): _replace(item, replaced) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_replace(item, replaced) for item in value]
    return value
