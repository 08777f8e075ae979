"""Recorded answers to the model re-rank's requests, so the evaluation can replay them offline.

    python bench/context_eval.py --claims --rerank                 # replay the recorded answers
    python bench/context_eval.py --claims --rerank-requests DIR    # write the requests not answered yet
    python bench/rerank_answers.py collect DIR                     # keep DIR/answer-*.json

No model is reachable where scaffold is developed, so the answers in `bench/rerank/answers.json`
were written by helpers standing in for one: each given only the request as scaffold builds it
(`generator.context.rerank`: the system prompt, the task and the candidates' cards) and asked
for the answer a strong model would give. They are keyed by the request's digest: a change to
the prompt, the cards or the pool makes every request new, and the evaluation says how many
had no recorded answer (their tasks keep BM25's documents) until they are answered again.

`--rerank-requests DIR` writes each such request as `request-<id>.md` (system prompt, message,
answer format) and `request-<id>.json` (its digest and task); whoever answers writes
`answer-<id>.json`, the JSON the answer format asks for; `collect DIR` adds them here.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ANSWERS = HERE / "rerank" / "answers.json"

sys.path.insert(0, str(HERE.parent))

from generator.context.rerank import OUTPUT_CONFIG, Reranked, RerankRequest, parse  # noqa: E402

BY = "the recorded stand-in"


def load(path: Path = ANSWERS) -> dict[str, dict[str, Any]]:
    """The recorded answers by request digest: {"task": ..., "answer": {"documents": [...]}}."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return dict(data)


@dataclass
class Replay:
    """A `Rerank` answering from the recorded answers; what it could not answer is kept in `missed`."""

    answers: dict[str, dict[str, Any]] = field(default_factory=load)
    missed: dict[str, RerankRequest] = field(default_factory=dict)

    def __call__(self, request: RerankRequest) -> Reranked:
        digest = request.digest()
        recorded = self.answers.get(digest)
        if recorded is None:
            self.missed[digest] = request
            return Reranked(None, BY, error="no recorded answer for this request")
        return Reranked(parse(json.dumps(recorded["answer"]), request), BY)


def write_requests(requests: dict[str, RerankRequest], folder: Path) -> int:
    """Each request as `request-<id>.md` to answer and `request-<id>.json` to collect by; how many."""
    folder.mkdir(parents=True, exist_ok=True)
    for digest, request in requests.items():
        name = digest[:16]
        text = f"## system\n\n{request.system()}\n\n## user\n\n{request.user()}\n\n## output_config\n\n"
        (folder / f"request-{name}.md").write_text(text + json.dumps(OUTPUT_CONFIG, indent=2) + "\n", "utf-8")
        (folder / f"request-{name}.json").write_text(json.dumps({"digest": digest, "task": request.task}), "utf-8")
    return len(requests)


def collect(folder: Path, path: Path = ANSWERS) -> int:
    """Add `folder`'s answers to the recorded ones; how many were added. A malformed answer is an error."""
    answers = load(path)
    added = 0
    for meta in sorted(folder.glob("request-*.json")):
        answer_file = folder / meta.name.replace("request-", "answer-", 1)
        if not answer_file.exists():
            continue
        info = json.loads(meta.read_text(encoding="utf-8"))
        answer = json.loads(answer_file.read_text(encoding="utf-8"))
        if not isinstance(answer, dict) or not isinstance(answer.get("documents"), list):
            raise SystemExit(f"{answer_file}: not the answer format (an object with a list of documents)")
        answers[info["digest"]] = {"task": info["task"], "answer": answer}
        added += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(answers, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return added


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["collect"])
    parser.add_argument("folder", type=Path, help="where the requests were written and the answers are")
    args = parser.parse_args(argv)
    print(f"{collect(args.folder)} answers added to {ANSWERS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
