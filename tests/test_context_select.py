"""The pure selection: priorities, reasons, budget fitting and what was left out."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from pathlib import Path

import pytest

from generator.context.kinds import UNRANKED_ANSWERS, DocRef, parse_map
from generator.context.links import Retired
from generator.context.redact import Piece
from generator.context.sections import Section
from generator.context.select import Document, Pick, Priority, Task, fit, merge_omissions, select
from generator.errors import BudgetError

MAP = parse_map(
    """\
version: 1
core: [patterns.md, architecture.md]
ranking:
  folders: [decisions, incidents]
  top_k: 3
  per_document: 2
kinds:
  api:
    documents: [style.md#Python, patterns.md, decisions/]
    keywords: [endpoint]
  infra:
    documents: [style.md#Terraform, runbooks/missing.md, style.md#Nope]
""",
    Path("context.yml"),
)


class FakeIndex:
    """Documents and ranking from memory: selection never touches a disk."""

    def __init__(self, docs: dict[str, list[tuple[str, int]]], scores: dict[str, float] | None = None) -> None:
        self.docs = {
            path: [
                Section(path, n, heading, f"{path} > {heading}", n + 1, 0, 0, tokens)
                for n, (heading, tokens) in enumerate(items)
            ]
            for path, items in docs.items()
        }
        self.scores = scores or {}
        self.queries: list[str] = []
        self.links: dict[str, list[str]] = {}
        self.shared: dict[str, list[str]] = {}
        self.looked_up: list[str] = []
        self.statuses: dict[str, Retired] = {}
        self.named: dict[str, list[str]] = {}  # a task's text -> the documents it names
        self.empty: dict[str, str] = {}  # files of the home without a section -> why

    def neighbours(self, path: str, among: Collection[str]) -> list[str]:
        return [linked for linked in self.links.get(path, []) if linked in among]

    def named_in(self, text: str) -> list[str]:
        return self.named.get(text, [])

    def unresolved_in(self, text: str) -> list[str]:
        return []

    def names_document(self, key: str) -> bool:
        return False

    def retired(self, path: str) -> Retired | None:
        return self.statuses.get(path)

    def paths(self) -> list[str]:
        return sorted(self.docs)

    def words_in(self, paths: Sequence[str], words: Sequence[str], enough: int | None = None) -> dict[str, set[str]]:
        """Every document holds every word, unless `shared` says what it holds."""
        self.looked_up.extend(paths)
        return {path: set(self.shared.get(path, words)) & set(words) for path in paths}

    def sections_of(self, path: str) -> list[Section] | None:
        return self.docs.get(path)

    def absent_because(self, path: str) -> str | None:
        return self.empty.get(path)

    def piece(self, section: Section, *, peek: bool = False) -> Piece:
        return Piece(section.path, section.line, f"text of {section.trail}")

    def rank_among(self, query: str, paths: Sequence[str], limit: int) -> list[tuple[Section, float]]:
        hits = [
            (section, self.scores[f"{section.path}#{section.heading}"])
            for path in paths
            for section in self.docs.get(path, [])
            if f"{section.path}#{section.heading}" in self.scores
        ]
        return sorted(hits, key=lambda hit: -hit[1])[:limit]

    def rank(self, query: str, folders: Sequence[str], limit: int) -> list[tuple[Section, float]]:
        self.queries.append(query)
        hits = [
            (section, self.scores[f"{section.path}#{section.heading}"])
            for sections in self.docs.values()
            for section in sections
            if section.folder in folders and f"{section.path}#{section.heading}" in self.scores
        ]
        return sorted(hits, key=lambda hit: -hit[1])[:limit]


DOCS = {
    "patterns.md": [("Patterns", 100), ("Services", 300)],
    "architecture.md": [("Architecture", 200)],
    "style.md": [("Python", 50), ("Terraform", 60)],
    "decisions/0001-a.md": [("A", 10), ("A decision", 20)],
    "decisions/0002-b.md": [("B", 30)],
    "incidents/0001-x.md": [("X", 40), ("X summary", 41), ("X timeline", 42)],
    "runbooks/deploy.md": [("Deploy", 70)],
    "project-contexts/billing.md": [("billing", 80)],
}
SCORES = {
    "incidents/0001-x.md#X timeline": 9.0,
    "incidents/0001-x.md#X summary": 8.0,
    "incidents/0001-x.md#X": 7.0,
    "decisions/0002-b.md#B": 6.0,
    "runbooks/deploy.md#Deploy": 99.0,  # not a ranked folder here
}
INDEX = FakeIndex(DOCS, SCORES)


def size(pick: Pick) -> int:
    return pick.section.tokens


def names(picks: Sequence[Pick]) -> list[str]:
    return [f"{pick.section.path}#{pick.section.heading}" for pick in picks]


def test_core_then_kind_documents_then_project_then_ranked_without_duplicates() -> None:
    task = Task("add an endpoint", project="billing")
    selection = select(task, "api", MAP, INDEX, 10_000, 0, size)
    assert names(selection.picks) == [
        "patterns.md#Patterns",
        "patterns.md#Services",
        "architecture.md#Architecture",
        "style.md#Python",  # a section of a mapped document; patterns.md is already in
        "decisions/0001-a.md#A",  # a mapped folder, in path order
        "decisions/0001-a.md#A decision",
        "decisions/0002-b.md#B",
        "project-contexts/billing.md#billing",
        "incidents/0001-x.md#X",  # ranked: a short document goes in whole, in file order
        "incidents/0001-x.md#X summary",
        "incidents/0001-x.md#X timeline",
    ]
    priorities = [pick.priority for pick in selection.picks]
    assert priorities == sorted(priorities)
    reasons = {pick.section.path: pick.reason for pick in selection.picks}
    assert reasons["patterns.md"] == "core document, always included"
    assert reasons["style.md"] == "listed for kind 'api' in context.yml"
    assert reasons["project-contexts/billing.md"] == "project context for 'billing'"
    # A document scores its best section plus half its second best: 9 + 8 / 2.
    assert reasons["incidents/0001-x.md"].startswith("BM25 rank 1 (score 13.00, 100% of the best) among incidents/")
    assert selection.omitted == ()
    # decisions/0002-b.md was listed for the kind already: ranked, kept, nothing added.
    assert [(item.path, item.kept, item.reason) for item in selection.ranking][1:] == [
        ("decisions/0002-b.md", True, "already included")
    ]


def test_missing_documents_are_warned_about_and_reported() -> None:
    selection = select(Task("make a bucket", project="nobody"), "infra", MAP, INDEX, 10_000, 0, size)
    assert "style.md#Terraform" in names(selection.picks)
    assert any("context.yml:12: kinds.infra.documents: runbooks/missing.md matches no document" in w
               for w in selection.warnings)  # fmt: skip
    assert any("style.md#Nope names no section of it" in w for w in selection.warnings)
    missing = Document("project-contexts/nobody.md", "", 0, "no project context for 'nobody'", "project")
    assert missing in selection.omitted


def test_an_empty_document_is_warned_about_as_empty_not_missing() -> None:
    index = FakeIndex(DOCS, SCORES)
    index.empty = {"runbooks/missing.md": "is empty", "architecture.md": "is empty"}
    del index.docs["architecture.md"]
    selection = select(Task("make a bucket"), "infra", MAP, index, 10_000, 0, size)
    assert any(w.endswith("core document architecture.md is empty") for w in selection.warnings)
    assert any("kinds.infra.documents: runbooks/missing.md is empty; skipped" in w for w in selection.warnings)
    assert not any("missing from" in w or "matches no document" in w for w in selection.warnings)
    # A path written from the repository's root.
    rooted = dataclasses.replace(
        MAP,
        kinds={
            **MAP.kinds,
            "infra": dataclasses.replace(MAP.kinds["infra"], documents=(DocRef("context/runbooks/", None, 7),)),
        },
    )
    selection = select(Task("make a bucket"), "infra", rooted, index, 10_000, 0, size)
    assert any(
        w.endswith("kinds.infra.documents: context/runbooks/ is not found: paths in context.yml are relative to "
                   "context/ (drop `context/`); skipped") for w in selection.warnings
    )  # fmt: skip


def test_a_listed_section_is_named_by_heading_by_heading_path_or_by_anchor() -> None:
    from generator.context.sections import names_heading

    trail = "Deploy runbook > Before you start (part 2)"  # a long section's part, as `_parts` labels it
    # One heading in any case; the path `--explain` shows, or its last steps; a link's anchor.
    named = ["before you start", "Deploy runbook", "Deploy runbook > Before you start", "before-you-start"]
    assert all(names_heading(trail, wanted) for wanted in named)
    # Another heading, a path out of order or too long, an anchor of no heading, a word inside one.
    unnamed = ["Before", "Before you start > Deploy runbook", "x > Deploy runbook > Before you start", "before-you"]
    assert not any(names_heading(trail, wanted) for wanted in unnamed)
    # A heading holding ">" itself is named as written, as before heading paths were.
    assert names_heading("Upgrades > Upgrade 1.x -> 2.x", "Upgrade 1.x -> 2.x")
    assert names_heading("Style > Python >=3.11", "python >=3.11")


def test_no_ranking_without_task_text() -> None:
    index = FakeIndex(DOCS, SCORES)
    selection = select(Task(""), "infra", MAP, index, 10_000, 0, size, rank=True)
    assert index.queries == []
    assert all(pick.priority is not Priority.RANKED for pick in selection.picks)


def test_the_budget_is_filled_by_priority_at_section_boundaries() -> None:
    task = Task("add an endpoint", project="billing")
    # frame 50 + core 600 = 650; then Python 50, A 10, A decision 20, B 30 fit (760);
    # 42 are left: billing (80) does not fit, the ranked X (40) still does.
    selection = select(task, "api", MAP, INDEX, 802, 50, size)
    assert names(selection.picks)[-1] == "incidents/0001-x.md#X"
    assert "project-contexts/billing.md#billing" not in names(selection.picks)
    assert 50 + sum(size(pick) for pick in selection.picks) == 50 + 600 + 50 + 10 + 20 + 30 + 40 <= 802
    assert selection.omitted == (
        Document("project-contexts/billing.md", "project-contexts/billing.md > billing", 80, "over budget", "project"),
        Document(
            "incidents/0001-x.md",
            "incidents/0001-x.md > X summary … incidents/0001-x.md > X timeline (2 sections)",
            83,
            "over budget",
            "ranked",
        ),
    )


def test_a_budget_too_small_for_the_core_is_a_clear_error() -> None:
    with pytest.raises(BudgetError) as caught:
        select(Task("add an endpoint"), "api", MAP, INDEX, 500, 50, size)
    message = str(caught.value)
    assert "a budget of 500 tokens is too small" in message
    assert "core documents (patterns.md, architecture.md) 600" in message
    assert "raise the budget (--budget, or budget in the API and MCP tools) to 650 or more" in message


def test_runs_of_omitted_sections_of_one_document_are_merged() -> None:
    parts = [Document("big.md", f"Big (part {n})", 100, "over budget", "ranked") for n in range(2, 6)]
    kind = Document("big.md", "Big (part 6)", 100, "over budget", "kind")
    merged = merge_omissions([Document("a.md", "A", 5, "over budget", "core"), *parts, kind])
    assert merged == [
        Document("a.md", "A", 5, "over budget", "core"),
        Document("big.md", "Big (part 2) … Big (part 5) (4 sections)", 400, "over budget", "ranked"),
        kind,
    ]


def test_fit_keeps_order_and_counts_the_frame() -> None:
    picks = [Pick(section, Priority.KIND, "r") for section in INDEX.docs["incidents/0001-x.md"]]
    chosen, omitted = fit(picks, 100, 15, size)
    assert [p.section.heading for p in chosen] == ["X", "X summary"]
    assert 15 + sum(size(pick) for pick in chosen) == 96
    assert [o.section for o in omitted] == ["incidents/0001-x.md > X timeline"]


def test_tasks_from_template_answers() -> None:
    answers = {"template": "api", "project_name": "billing-api", "description": "Bills customers"}
    answers |= {"resources": "invoices,credit_notes", "storage": "postgres", "auth": "oauth2"}
    # Not what the project is about: its owner, its Python, its port. Seen in a fill: the default owner,
    # "platform-team", ranked the bundled runbooks first ("Owner: platform-team.") for any project.
    answers |= {"owner": "platform-team", "python_version": "3.12", "port": "8080"}
    task = Task.from_answers(answers)
    assert (task.kind, task.project, task.text) == ("api", "billing-api", "Bills customers")
    assert task.query(UNRANKED_ANSWERS).split("\n") == [
        "Bills customers",
        "billing api",
        "api",  # the template: an API's documents are closer than a script's
        "billing-api",
        "invoices,credit_notes",
        "postgres",
        "oauth2",
    ]
    assert "postgres" not in task.query(UNRANKED_ANSWERS | {"storage"})  # a team's context.yml names more


KIND_MAP = parse_map(
    """\
version: 1
core: [patterns.md]
ranking:
  folders: [decisions, incidents]
  max_documents: 2
  cutoff: 0.5
kinds:
  service:
    core_sections: [service*, http]
    keywords: [service]
  infra:
    core_sections: [terraform]
    keywords: [terraform, bucket]
  script:
    core_sections: [script*]
    keywords: [script]
""",
    Path("context.yml"),
)
CORE = {"patterns.md": [("Everything", 10), ("Python services", 20), ("HTTP APIs", 30), ("Terraform modules", 40),
                        ("Operational scripts", 50), ("Testing", 60)]}  # fmt: skip


def test_core_sections_written_for_other_kinds_are_cut() -> None:
    index = FakeIndex(CORE)
    selection = select(Task("", kind="script"), "script", KIND_MAP, index, 10_000, 0, size, rank=False)
    assert [pick.section.heading for pick in selection.picks] == ["Everything", "Operational scripts", "Testing"]
    assert [pick.reason for pick in selection.picks][:2] == [
        "core document, always included",
        "core document, its section for kind 'script'",
    ]
    assert [(item.section, item.reason) for item in selection.cut] == [
        ("patterns.md > Python services", "core section for kind 'service', not 'script'"),
        ("patterns.md > HTTP APIs", "core section for kind 'service', not 'script'"),
        ("patterns.md > Terraform modules", "core section for kind 'infra', not 'script'"),
    ]
    infra = select(Task("", kind="infra"), "infra", KIND_MAP, index, 10_000, 0, size, rank=False)
    assert "Terraform modules" in [pick.section.heading for pick in infra.picks]
    # A classified task also gets the core sections of the other kinds its keywords match.
    both = select(Task("a script for the bucket"), "script", KIND_MAP, index, 10_000, 0, size, False, ["infra"])
    assert {"Operational scripts", "Terraform modules"} <= {pick.section.heading for pick in both.picks}
    # Another kind's core section that this kind lists is in the prompt, and only there.
    listing = dataclasses.replace(
        KIND_MAP,
        kinds={
            **KIND_MAP.kinds,
            "script": dataclasses.replace(
                KIND_MAP.kinds["script"], documents=(DocRef("patterns.md", "Terraform modules", 9),)
            ),
        },
    )
    listed = select(Task("", kind="script"), "script", listing, index, 10_000, 0, size, rank=False)
    assert "Terraform modules" in [pick.section.heading for pick in listed.picks]
    assert [item.section for item in listed.cut] == ["patterns.md > Python services", "patterns.md > HTTP APIs"]


def test_a_core_document_the_task_names_is_in_as_the_core_step_chose_it() -> None:
    # Named again, its sections for other kinds were cut a second time ("per patterns.md, add a script").
    index = FakeIndex(CORE)
    index.named["per patterns.md, add a script"] = ["patterns.md"]
    plain = select(Task("add a script", kind="script"), "script", KIND_MAP, index, 10_000, 0, size, rank=False)
    named = select(Task("per patterns.md, add a script", kind="script"), "script", KIND_MAP, index, 10_000, 0, size)
    assert [(pick.section.key, pick.reason) for pick in named.picks] == [
        (pick.section.key, pick.reason) for pick in plain.picks
    ]
    assert named.cut == plain.cut


def test_ranked_documents_are_kept_by_score_relative_to_the_best_with_a_cap() -> None:
    docs = {f"decisions/{n}.md": [(f"D{n}", 10)] for n in range(5)}
    scores = {"decisions/0.md#D0": 10.0, "decisions/1.md#D1": 9.0, "decisions/2.md#D2": 8.0,
              "decisions/3.md#D3": 4.0, "decisions/4.md#D4": 3.0}  # fmt: skip
    selection = select(Task("anything"), "service", KIND_MAP, FakeIndex(docs, scores), 10_000, 0, size)
    assert [pick.section.path for pick in selection.picks] == ["decisions/0.md", "decisions/1.md"]
    assert [(item.path, item.kept) for item in selection.ranking] == [
        ("decisions/0.md", True),
        ("decisions/1.md", True),
        ("decisions/2.md", False),
        ("decisions/3.md", False),
        ("decisions/4.md", False),
    ]
    assert selection.ranking[2].reason == "cut: already 2 ranked documents"
    assert selection.ranking[3].reason.startswith("cut: score 4.00 is 40% of the best")
    # A share just under the cutoff is not shown as the cutoff itself ("50% ...; the cutoff is 50%").
    below = select(
        Task("x"), "service", KIND_MAP, FakeIndex(docs, {**scores, "decisions/3.md#D3": 4.998}), 10_000, 0, size
    )
    assert below.ranking[3].reason == "cut: score 5.00 is 49% of the best (10.00); the cutoff is 50%"


def _decisions(statuses: dict[str, Retired], scores: dict[str, float]) -> FakeIndex:
    index = FakeIndex({f"decisions/{n}.md": [(f"D{n}", 10)] for n in range(6)}, scores)
    index.statuses = statuses
    return index


def test_a_superseded_decision_gives_its_place_to_its_successor() -> None:
    index = _decisions({"decisions/0.md": Retired("superseded", ("decisions/5.md",), True)}, {"decisions/0.md#D0": 10.0,
                       "decisions/1.md#D1": 9.0, "decisions/2.md#D2": 8.0})  # fmt: skip
    selection = select(Task("anything"), "service", KIND_MAP, index, 10_000, 0, size)
    # Where the superseded one would have gone, though the task did not rank it; the cap holds.
    assert [pick.section.path for pick in selection.picks] == ["decisions/5.md", "decisions/1.md"]
    assert selection.picks[0].reason == "in place of decisions/0.md, which says it is superseded for the task text"
    ranking = {item.path: item for item in selection.ranking}
    assert not ranking["decisions/0.md"].kept
    assert ranking["decisions/0.md"].reason == "cut: it says it is superseded; decisions/5.md in its place"
    assert ranking["decisions/5.md"].kept and ranking["decisions/2.md"].reason == "cut: already 2 ranked documents"
    assert not [warning for warning in selection.warnings if "superseded" in warning]

    # A successor the task ranked too goes in where it is needed as well, with its own rank and score.
    index.scores["decisions/5.md#D5"] = 1.0
    selection = select(Task("anything"), "service", KIND_MAP, index, 10_000, 0, size)
    assert [pick.section.path for pick in selection.picks] == ["decisions/5.md", "decisions/1.md"]
    assert selection.picks[0].reason == (
        "in place of decisions/0.md, which says it is superseded; BM25 rank 4 (score 1.00, 10% of the best) for the task text"
    )
    assert [item.path for item in selection.ranking].count("decisions/5.md") == 1


def test_supersessions_are_followed_a_few_steps_and_a_cycle_or_a_dead_end_leaves_the_slot_to_the_next() -> None:
    scores = {"decisions/0.md#D0": 10.0, "decisions/1.md#D1": 9.0, "decisions/2.md#D2": 8.0}
    chain = {
        "decisions/0.md": Retired("superseded", ("decisions/3.md",), True),
        "decisions/3.md": Retired("superseded", ("decisions/4.md",), True),
    }
    selection = select(Task("anything"), "service", KIND_MAP, _decisions(chain, scores), 10_000, 0, size)
    assert [pick.section.path for pick in selection.picks] == ["decisions/4.md", "decisions/1.md"]

    cycle = {
        "decisions/0.md": Retired("superseded", ("decisions/3.md",), True),
        "decisions/3.md": Retired("superseded", ("decisions/0.md",), True),
    }
    for statuses in (cycle, {"decisions/0.md": Retired("deprecated")}):
        selection = select(Task("anything"), "service", KIND_MAP, _decisions(statuses, scores), 10_000, 0, size)
        assert [pick.section.path for pick in selection.picks] == ["decisions/1.md", "decisions/2.md"]
        reason = next(item for item in selection.ranking if item.path == "decisions/0.md").reason
        assert reason.startswith("cut: it says")

    # Retired ones without a successor free their slots for the next ones, whose words are looked up too.
    deprecated = {f"decisions/{n}.md": Retired("deprecated") for n in range(4)}
    close_scores = {f"decisions/{n}.md#D{n}": 10.0 - n / 10 for n in range(6)}
    index = _decisions(deprecated, close_scores)
    selection = select(Task("rotate the certificates"), "service", KIND_MAP, index, 10_000, 0, size)
    assert [pick.section.path for pick in selection.picks] == ["decisions/4.md", "decisions/5.md"]
    assert {"decisions/4.md", "decisions/5.md"} <= set(index.looked_up)

    # A successor kept by its own score is not added twice: the next one takes the slot.
    taken = {"decisions/0.md": Retired("superseded", ("decisions/1.md",), True)}
    selection = select(Task("anything"), "service", KIND_MAP, _decisions(taken, scores), 10_000, 0, size)
    assert [pick.section.path for pick in selection.picks] == ["decisions/1.md", "decisions/2.md"]


def test_a_retired_related_document_gives_its_place_to_its_successor_and_takes_none() -> None:
    docs = {"incidents/1.md": [("I1", 10)], "decisions/0.md": [("D0", 10)], "decisions/5.md": [("D5", 10)],
            "decisions/6.md": [("D6", 10)]}  # fmt: skip
    scores = {"incidents/1.md#I1": 10.0, "decisions/0.md#D0": 1.0, "decisions/6.md#D6": 0.9}
    index = FakeIndex(docs, scores)
    index.links = {"incidents/1.md": ["decisions/0.md", "decisions/6.md"]}
    index.statuses = {"decisions/0.md": Retired("superseded", ("decisions/5.md",), True)}
    selection = select(Task("anything"), "service", KIND_MAP, index, 10_000, 0, size)
    picked = list(dict.fromkeys(pick.section.path for pick in selection.picks))
    assert picked == ["incidents/1.md", "decisions/5.md", "decisions/6.md"]
    assert selection.picks[1].reason.startswith("in place of decisions/0.md, which says it is superseded")

    # Known retired from the ranked ones, it is no candidate for a related place either: the
    # next linked one takes it.
    index.docs["decisions/7.md"] = [Section("decisions/7.md", 0, "D7", "decisions/7.md > D7", 1, 0, 0, 10)]
    index.scores.update({"decisions/0.md#D0": 9.5, "decisions/7.md#D7": 0.8})  # 0 close to the best: ranked
    index.links["incidents/1.md"].append("decisions/7.md")
    selection = select(Task("anything"), "service", KIND_MAP, index, 10_000, 0, size)
    assert list(dict.fromkeys(pick.section.path for pick in selection.picks)) == [
        "incidents/1.md",
        "decisions/5.md",
        "decisions/6.md",
        "decisions/7.md",
    ]


def test_what_a_status_names_is_followed_within_bounds_and_said_when_it_is_nothing() -> None:
    scores = {"decisions/0.md#D0": 10.0, "decisions/1.md#D1": 9.0}
    # Only documents of the ranked folders succeed, and at most two of a document.
    index = _decisions({"decisions/0.md": Retired("superseded", ("runbooks/deploy.md", "decisions/3.md", "decisions/4.md",
                        "decisions/5.md"), True)}, scores)  # fmt: skip
    selection = select(
        Task("anything"), "service", dataclasses.replace(KIND_MAP, max_documents=5), index, 10_000, 0, size
    )
    assert list(dict.fromkeys(pick.section.path for pick in selection.picks)) == [
        "decisions/3.md",
        "decisions/4.md",
        "decisions/1.md",
    ]
    # A status naming nothing the home has (a typo: ADR 0051) is said, not passed over.
    index = _decisions({"decisions/0.md": Retired("superseded", (), True)}, scores)
    selection = select(Task("anything"), "service", KIND_MAP, index, 10_000, 0, size)
    assert [pick.section.path for pick in selection.picks] == ["decisions/1.md"]
    assert [warning for warning in selection.warnings if "superseded" in warning] == [
        "decisions/0.md says it is superseded, but what its status names is not a document of decisions/, "
        "incidents/; it is left out, with nothing in its place"
    ]
    # Named, but not placed (a cycle): the reason says why, not "in its place".
    cycle = {
        "decisions/0.md": Retired("superseded", ("decisions/3.md",), True),
        "decisions/3.md": Retired("superseded", ("decisions/0.md",), True),
    }
    selection = select(Task("anything"), "service", KIND_MAP, _decisions(cycle, scores), 10_000, 0, size)
    reason = next(item for item in selection.ranking if item.path == "decisions/0.md").reason
    assert (
        reason == "cut: it says it is superseded; what it names (decisions/3.md) is in already, or does not hold either"
    )


def test_statuses_that_all_name_each_other_are_followed_once_each() -> None:
    paths = [f"decisions/{n}.md" for n in range(6)]
    index = _decisions({path: Retired("superseded", tuple(paths), True) for path in paths}, {"decisions/0.md#D0": 9.0})
    asked: list[str] = []
    real = index.retired

    def counting(path: str) -> Retired | None:
        asked.append(path)
        return real(path)

    index.retired = counting  # type: ignore[method-assign]
    selection = select(Task("anything"), "service", KIND_MAP, index, 10_000, 0, size)
    assert not [pick for pick in selection.picks if pick.section.path in paths]  # none holds: a cycle
    assert sorted(asked) == sorted(set(asked))  # each status read once


def test_a_superseded_decision_listed_for_the_kind_gives_its_place_too_and_the_map_is_told() -> None:
    listing = parse_map(
        "version: 1\ncore: []\nranking:\n  folders: [decisions]\nkinds:\n  api:\n"
        "    documents: [decisions/0.md, decisions/2.md]\n    keywords: [endpoint]\n",
        Path("context.yml"),
    )
    index = _decisions(
        {
            "decisions/0.md": Retired("superseded", ("decisions/5.md",), True),
            "decisions/2.md": Retired("deprecated"),
        },
        {},
    )
    selection = select(Task("add an endpoint"), "api", listing, index, 10_000, 0, size)
    assert [(pick.section.path, pick.reason) for pick in selection.picks] == [
        (
            "decisions/5.md",
            "listed for kind 'api' in context.yml as decisions/0.md, which says it is superseded: in its place",
        )
    ]
    assert selection.warnings == (
        "context.yml:7: kinds.api.documents: decisions/0.md says it is superseded; list decisions/5.md instead",
        "context.yml:7: kinds.api.documents: decisions/2.md says it is deprecated; skipped",
    )


def test_nothing_of_a_superseded_best_document_is_quoted_in_the_reasons() -> None:
    index = _decisions({"decisions/0.md": Retired("superseded", ("decisions/5.md",), True)},
                       {"decisions/0.md#D0": 10.0, "decisions/1.md#D1": 4.0})  # fmt: skip
    selection = select(Task("anything"), "service", KIND_MAP, index, 10_000, 0, size)
    reasons = {pick.section.path: pick.reason for pick in selection.picks}
    assert reasons["decisions/1.md"].startswith(
        "related to the best document (decisions/0.md): it matches that document's title;"
    )
    # Not retired, the title is quoted, as before.
    index.statuses = {}
    selection = select(Task("anything"), "service", KIND_MAP, index, 10_000, 0, size)
    reasons = {pick.section.path: pick.reason for pick in selection.picks}
    assert "it matches that document's title 'decisions/0.md'" in reasons["decisions/1.md"]


def test_a_long_successor_the_task_did_not_rank_brings_its_title_and_what_it_decides() -> None:
    headings = [("Title", 600), ("Context", 600), ("Considered options", 600), ("Pros and cons", 600),
                ("Decision outcome", 600), ("Links", 600)]  # fmt: skip
    docs = {"decisions/0.md": [("D0", 10)], "decisions/5.md": headings, "decisions/1.md": [("D1", 10)]}
    index = FakeIndex(docs, {"decisions/0.md#D0": 10.0})
    index.statuses = {"decisions/0.md": Retired("superseded", ("decisions/5.md",), True)}
    selection = select(Task("anything"), "service", KIND_MAP, index, 10_000, 0, size)
    assert [pick.section.heading for pick in selection.picks] == ["Title", "Context", "Decision outcome"]


def test_a_home_without_a_map_of_its_own_skips_what_it_lacks_quietly() -> None:
    from dataclasses import replace

    fallback = replace(MAP, fallback=True)
    selection = select(
        Task("make a bucket"), "infra", fallback, FakeIndex({"style.md": [("Terraform", 5)]}), 10_000, 0, size
    )
    assert [pick.section.heading for pick in selection.picks] == ["Terraform"]
    assert selection.warnings == () and selection.omitted == ()


def test_ranked_sections_written_for_other_kinds_are_cut() -> None:
    # A rollback runbook ranked for a script task: its general sections go in, its service and Terraform steps don't.
    docs = {
        "runbooks/rollback.md": [("Roll back", 10), ("Python services", 20), ("Terraform modules", 20), ("After", 9)]
    }
    scores = {"runbooks/rollback.md#Roll back": 5.0, "runbooks/rollback.md#Terraform modules": 4.0}
    cmap = dataclasses.replace(KIND_MAP, ranked_folders=("runbooks",))
    index = FakeIndex(docs, scores)

    script = select(Task("roll back the dump rotation"), "script", cmap, index, 10_000, 0, size)
    assert [pick.section.heading for pick in script.picks] == ["Roll back", "After"]
    assert [(item.section, item.reason) for item in script.cut] == [
        ("runbooks/rollback.md > Python services", "section for kind 'service', not 'script'"),
        ("runbooks/rollback.md > Terraform modules", "section for kind 'infra', not 'script'"),
    ]
    infra = select(Task("roll back the bucket module"), "infra", cmap, index, 10_000, 0, size)
    assert "Terraform modules" in [pick.section.heading for pick in infra.picks]


def test_a_document_is_ranked_by_the_sections_the_task_could_get() -> None:
    # Seen with the bundled home: "delete merged git branches, --apply to delete" (a script) scored the
    # rollback runbook best by its Terraform steps ("revert the merge commit", "apply"), which the
    # script's prompt cuts; the runbook went in by its general sections and brought deploy and
    # incident response with it as its relatives. Scored by what the task could get, it is no match.
    docs = {
        "runbooks/rollback.md": [("Roll back", 10), ("Terraform modules", 20), ("After", 9)],
        "runbooks/branches.md": [("Branch hygiene", 10)],
        "runbooks/deploy.md": [("Deploy", 10)],
    }
    scores = {
        "runbooks/rollback.md#Terraform modules": 10.0,
        "runbooks/rollback.md#Roll back": 1.0,
        "runbooks/branches.md#Branch hygiene": 6.0,
        "runbooks/deploy.md#Deploy": 0.9,
    }
    cmap = dataclasses.replace(KIND_MAP, ranked_folders=("runbooks",), cutoff=0.7)
    index = FakeIndex(docs, scores)
    index.links = {"runbooks/rollback.md": ["runbooks/deploy.md"]}

    script = select(Task("delete merged branches"), "script", cmap, index, 10_000, 0, size)
    assert [pick.section.path for pick in script.picks] == ["runbooks/branches.md"]
    ranking = {item.path: item for item in script.ranking}
    assert ranking["runbooks/rollback.md"].score == pytest.approx(1.0)  # its general section alone
    assert not ranking["runbooks/rollback.md"].kept
    assert not ranking["runbooks/deploy.md"].kept  # not brought in as the best one's relative

    # A document matched only in sections written for other kinds is listed as cut, by its score among the
    # others, and says for which kinds they are.
    docs["runbooks/rollback.md"].append(("Python services", 10))
    index = FakeIndex(docs, scores)
    scores.pop("runbooks/rollback.md#Roll back")
    scores["runbooks/rollback.md#Python services"] = 4.0
    script = select(Task("delete merged branches"), "script", cmap, index, 10_000, 0, size)
    assert [(item.path, item.score, item.kept) for item in script.ranking] == [
        ("runbooks/rollback.md", 12.0, False),  # 10 + half of 4
        ("runbooks/branches.md", 6.0, True),
        ("runbooks/deploy.md", 0.9, False),
    ]
    assert script.ranking[0].reason == (
        "cut: it matches the task only in sections for kind 'infra' and 'service', not 'script'"
    )

    # For the kind they are written for, or a kind the task's keywords also match, they count as before.
    infra = select(Task("roll back the bucket module"), "infra", cmap, index, 10_000, 0, size)
    assert next(item.path for item in infra.ranking if item.kept) == "runbooks/rollback.md"
    assert "Terraform modules" in [pick.section.heading for pick in infra.picks]
    both = select(Task("a script for the bucket"), "script", cmap, index, 10_000, 0, size, True, ["infra"])
    assert next(item.path for item in both.ranking if item.kept) == "runbooks/rollback.md"

    # A document the kind lists is in the prompt whole: it is "already included", whatever its sections.
    listed = parse_map(
        "version: 1\nranking: {folders: [runbooks]}\n"
        "kinds:\n  infra: {core_sections: [terraform]}\n  service: {core_sections: [service*]}\n"
        "  script: {documents: [runbooks/rollback.md]}\n",
        Path("context.yml"),
    )
    script = select(Task("delete merged branches"), "script", listed, index, 10_000, 0, size)
    assert (script.ranking[0].path, script.ranking[0].reason) == ("runbooks/rollback.md", "already included")


class QueryIndex(FakeIndex):
    """Scores that depend on the query: the task's, and the best document's title (`_related`)."""

    def __init__(self, docs: dict[str, list[tuple[str, int]]], by_query: dict[str, dict[str, float]]) -> None:
        super().__init__(docs)
        self.by_query = by_query

    def rank(self, query: str, folders: Sequence[str], limit: int) -> list[tuple[Section, float]]:
        self.scores = self.by_query.get(query, {})
        return super().rank(query, folders, limit)


RELATED_DOCS = {
    "incidents/0007-list-timeouts.md": [("Shipment list timeouts", 10)],
    "decisions/0005-cursor.md": [("Cursor pagination", 10)],
    "decisions/0009-offset.md": [("Offset pagination on big tables", 10)],
    "decisions/0010-faint.md": [("Pagination of exports", 10)],
    "decisions/0011-other.md": [("Other", 10)],
}
TASK_SCORES = {
    "incidents/0007-list-timeouts.md#Shipment list timeouts": 20.0,
    "decisions/0005-cursor.md#Cursor pagination": 13.0,  # 65%: kept by the cutoff
    "decisions/0009-offset.md#Offset pagination on big tables": 7.0,  # 35%: only as a relative
    "decisions/0011-other.md#Other": 9.0,  # 45%: cut
    "decisions/0010-faint.md#Pagination of exports": 4.0,  # 20%: too little for the task, related or not
}
# The title query: `_related` looks for the documents closest to the best one. The FakeIndex's trails are
# "path > heading", so the best document's title, the query, is its path.
TITLE_SCORES = {
    "incidents/0007-list-timeouts.md#Shipment list timeouts": 30.0,
    "decisions/0009-offset.md#Offset pagination on big tables": 10.0,
    "decisions/0010-faint.md#Pagination of exports": 9.5,
    "decisions/0011-other.md#Other": 2.0,
}


def test_documents_close_to_the_best_one_join_when_the_task_gives_them_a_share() -> None:
    """A task told by its symptoms finds the incident; the incident's title finds what the task did not name."""
    index = QueryIndex(RELATED_DOCS, {"listing is slow": TASK_SCORES, "incidents/0007-list-timeouts.md": TITLE_SCORES})
    cmap = dataclasses.replace(KIND_MAP, cutoff=0.6, max_documents=3)
    selection = select(Task("listing is slow"), "service", cmap, index, 10_000, 0, size)
    assert [pick.section.path for pick in selection.picks] == [
        "incidents/0007-list-timeouts.md",
        "decisions/0005-cursor.md",
        "decisions/0009-offset.md",
    ]
    ranking = {item.path: item for item in selection.ranking}
    assert ranking["decisions/0009-offset.md"].reason.startswith(
        "related to the best document (incidents/0007-list-timeouts.md): it matches that document's title"
    )
    assert ranking["decisions/0009-offset.md"].kept
    assert not ranking["decisions/0010-faint.md"].kept  # matches the title, but 20% of the best on the task
    assert not ranking["decisions/0011-other.md"].kept  # 45% on the task, but unrelated to the best document
    # The task (ranked folders and project contexts in one query), then the best document's title.
    assert index.queries == ["listing is slow", "incidents/0007-list-timeouts.md"]

    alone = select(Task("listing is slow"), "service", dataclasses.replace(cmap, related=0), index, 10_000, 0, size)
    assert [pick.section.path for pick in alone.picks] == [
        "incidents/0007-list-timeouts.md",
        "decisions/0005-cursor.md",
    ]


def test_a_kinds_document_with_when_goes_only_to_projects_whose_answers_match() -> None:
    cmap = parse_map(
        "version: 1\ncore: []\nkinds:\n  script:\n    documents:\n"
        "      - {path: style.md#Python, when: {language: python}}\n"
        "      - {path: style.md#Shell, when: {language: [bash, sh]}}\n",
        Path("context.yml"),
    )
    index = FakeIndex({"style.md": [("Python", 5), ("Shell", 6)]})

    def chosen(task: Task) -> tuple[list[str], list[tuple[str, str]]]:
        selection = select(task, "script", cmap, index, 10_000, 0, size, rank=False)
        return [pick.section.heading for pick in selection.picks], [(cut.section, cut.reason) for cut in selection.cut]

    assert chosen(Task.from_answers({"template": "script", "language": "bash", "description": "prune"})) == (
        ["Shell"],
        [("style.md > Python", "listed for kind 'script' when language is python; this project's answers differ")],
    )
    assert chosen(Task.from_answers({"template": "script", "language": "Python"}))[0] == ["Python"]
    # Free text has no answers: both, since nothing says which.
    assert chosen(Task("write a cleanup script", kind="script")) == (["Python", "Shell"], [])


def test_when_compares_yes_no_numbers_and_multiple_choice_answers_as_written() -> None:
    cmap = parse_map(
        "version: 1\ncore: []\nkinds:\n  script:\n    documents:\n"
        "      - {path: style.md#Python, when: {dry_run: true, python: 3.12}}\n"
        "      - {path: style.md#Shell, when: {shells: bash}}\n",
        Path("context.yml"),
    )
    index = FakeIndex({"style.md": [("Python", 5), ("Shell", 6)]})

    def chosen(answers: dict[str, object]) -> list[str]:
        selection = select(Task("x", answers=answers), "script", cmap, index, 10_000, 0, size, rank=False)
        return [pick.section.heading for pick in selection.picks]

    assert chosen({"dry_run": True, "python": "3.12", "shells": ["zsh", "Bash"]}) == ["Python", "Shell"]
    assert chosen({"dry_run": False, "shells": ["zsh"]}) == []


def test_a_ranked_document_shares_two_of_the_tasks_words_with_it() -> None:
    """A home with nothing on a task still has a best match: one word in common ("keep") does not make it one."""
    docs = {f"decisions/{name}.md": [(name, 10)] for name in ("deploy", "rollback", "exports")}
    scores = {
        "decisions/deploy.md#deploy": 10.0,
        "decisions/rollback.md#rollback": 9.0,
        "decisions/exports.md#exports": 8.0,
    }
    index = FakeIndex(docs, scores)
    index.shared = {"decisions/deploy.md": ["keep"], "decisions/exports.md": ["nightly", "exports"]}
    index.links = {"decisions/deploy.md": ["decisions/rollback.md"]}
    cmap = dataclasses.replace(KIND_MAP, cutoff=0.7, max_documents=3)
    task = Task("delete nightly exports, keep the newest")
    selection = select(task, "service", cmap, index, 10_000, 0, size)
    ranking = {item.path: item for item in selection.ranking}
    assert not ranking["decisions/deploy.md"].kept
    assert ranking["decisions/deploy.md"].reason == (
        "cut: it shares 1 of the task's words ('keep'); a ranked document needs 2"
    )
    # What the weak best match refers to is no closer to the task; what shares two words stays.
    assert [(path, item.kept) for path, item in ranking.items()] == [
        ("decisions/deploy.md", False),
        ("decisions/rollback.md", True),
        ("decisions/exports.md", True),
    ]
    assert "related to" not in ranking["decisions/rollback.md"].reason
    # A task of one word asks only that one.
    alone = select(Task("deploy"), "service", cmap, index, 10_000, 0, size)
    assert next(item.path for item in alone.ranking if item.kept) == "decisions/deploy.md"


def test_shared_words_are_looked_up_only_until_enough_documents_pass() -> None:
    # A general task finds hundreds of documents close to the best: only as many as needed are looked up,
    # best first, and those after the cut ones take their places.
    docs = {f"decisions/{n:03}.md": [("Steps", 10)] for n in range(300)}
    scores = {f"decisions/{n:03}.md#Steps": 100.0 - n / 100 for n in range(300)}
    index = FakeIndex(docs, scores)
    index.shared = {f"decisions/{n:03}.md": ["deploy"] for n in range(1, 20)}
    cmap = dataclasses.replace(KIND_MAP, cutoff=0.5, max_documents=3, related=0)
    selection = select(Task("deploy the billing worker"), "service", cmap, index, 10_000, 0, size)
    kept = [item.path for item in selection.ranking if item.kept]
    assert kept == ["decisions/000.md", "decisions/020.md", "decisions/021.md"]
    assert len(index.looked_up) < 60, f"{len(index.looked_up)} documents looked up for 3 places"
    assert len(index.looked_up) == len(set(index.looked_up)), "a document looked up twice"
    ranking = {item.path: item for item in selection.ranking}
    assert ranking["decisions/019.md"].reason.startswith("cut: it shares 1 of the task's words")
    assert ranking["decisions/200.md"].reason == "cut: already 3 ranked documents"


def test_an_inferred_project_shares_two_of_the_tasks_words_with_it() -> None:
    docs = {"incidents/0001-double-texts.md": [("Double texts", 10)], "project-contexts/reminders.md": [("r", 10)]}
    scores = {"incidents/0001-double-texts.md#Double texts": 10.0, "project-contexts/reminders.md#r": 9.0}
    index = FakeIndex(docs, scores)
    task = Task("patients got two texts")
    picked = [pick.section.path for pick in select(task, "service", KIND_MAP, index, 10_000, 0, size).picks]
    assert picked == ["incidents/0001-double-texts.md", "project-contexts/reminders.md"]
    index.shared = {"project-contexts/reminders.md": ["patients"]}
    picked = [pick.section.path for pick in select(task, "service", KIND_MAP, index, 10_000, 0, size).picks]
    assert picked == ["incidents/0001-double-texts.md"]


def test_documents_that_refer_to_the_best_one_or_that_it_names_join_with_a_smaller_share() -> None:
    """An anti-pattern citing "incident 0007" is about the incident even when the task shares few words with it."""
    docs = {**RELATED_DOCS, "decisions/0012-cites.md": [("Cites", 10)], "decisions/0013-named.md": [("Named", 10)]}
    task_scores = {**TASK_SCORES, "decisions/0012-cites.md#Cites": 1.6, "decisions/0013-named.md#Named": 0.8}
    index = QueryIndex(docs, {"listing is slow": task_scores})  # the title query matches nothing here
    index.links = {"incidents/0007-list-timeouts.md": ["decisions/0013-named.md", "decisions/0012-cites.md"]}
    cmap = dataclasses.replace(KIND_MAP, cutoff=0.6, max_documents=3)
    selection = select(Task("listing is slow"), "service", cmap, index, 10_000, 0, size)
    ranking = {item.path: item for item in selection.ranking}
    # 8% of the best: enough for a document linked with the best one (the cutoff is 5%); 4% is not.
    assert ranking["decisions/0012-cites.md"].kept
    assert ranking["decisions/0012-cites.md"].reason.startswith(
        "related to the best document (incidents/0007-list-timeouts.md): one of the two refers to the other"
    )
    assert not ranking["decisions/0013-named.md"].kept
    assert not ranking["decisions/0009-offset.md"].kept  # 35%, but neither linked nor matching the title now


def test_a_folders_readme_is_no_related_document_and_pulls_in_none() -> None:
    # An index links to every document of its folder: "one of the two refers to the other" says nothing.
    docs = {**RELATED_DOCS, "decisions/README.md": [("Decisions index", 10)], "decisions/0012-x.md": [("X", 10)]}
    task_scores = {**TASK_SCORES, "decisions/README.md#Decisions index": 1.6, "decisions/0012-x.md#X": 1.6}
    index = QueryIndex(docs, {"listing is slow": task_scores})
    index.links = {"incidents/0007-list-timeouts.md": ["decisions/README.md"], "decisions/README.md": list(docs)}
    cmap = dataclasses.replace(KIND_MAP, cutoff=0.6, max_documents=3)
    selection = select(Task("listing is slow"), "service", cmap, index, 10_000, 0, size)
    ranking = {item.path: item for item in selection.ranking}
    assert not ranking["decisions/README.md"].kept
    # Best itself, a README's links bring in nothing.
    readme_best = {**task_scores, "decisions/README.md#Decisions index": 50.0}
    index = QueryIndex(docs, {"which decisions do we have": readme_best})
    index.links = {"decisions/README.md": [path for path in docs if path != "decisions/README.md"]}
    selection = select(Task("which decisions do we have"), "service", cmap, index, 10_000, 0, size)
    assert [item.path for item in selection.ranking if item.kept] == ["decisions/README.md"]


def test_a_task_naming_no_project_gets_the_context_of_the_project_it_is_about() -> None:
    docs = {
        "incidents/0001-double-texts.md": [("Double texts", 10)],
        "project-contexts/reminders.md": [("reminders", 10)],
        "project-contexts/billing.md": [("billing", 10)],
        "project-contexts/README.md": [("Projects", 10)],
    }
    scores = {
        "incidents/0001-double-texts.md#Double texts": 10.0,
        "project-contexts/README.md#Projects": 9.0,  # an index of the projects, not one of them
        "project-contexts/reminders.md#reminders": 7.0,  # 70% of the best document: the task is about it
        "project-contexts/billing.md#billing": 5.0,  # the next project, well behind
    }
    cmap = dataclasses.replace(KIND_MAP, cutoff=0.6)

    def chosen(scores: dict[str, float], task: Task | None = None) -> list[str]:
        task = task or Task("patients got two texts")
        selection = select(task, "service", cmap, FakeIndex(docs, scores), 10_000, 0, size)
        return [pick.section.path for pick in selection.picks]

    selection = select(Task("patients got two texts"), "service", cmap, FakeIndex(docs, scores), 10_000, 0, size)
    # After the best document: the answer goes first when the budget is tight.
    assert [(pick.section.path, pick.priority) for pick in selection.picks] == [
        ("incidents/0001-double-texts.md", Priority.RANKED),
        ("project-contexts/reminders.md", Priority.RANKED),
    ]
    assert selection.picks[1].reason.startswith("project context for 'reminders': the task seems to be about it")
    # Too weak next to the best document, or too close to the next project: none.
    assert chosen({**scores, "project-contexts/reminders.md#reminders": 5.5}) == ["incidents/0001-double-texts.md"]
    assert chosen({**scores, "project-contexts/billing.md#billing": 6.5}) == ["incidents/0001-double-texts.md"]
    # A task that names its project gets that one only.
    named = chosen(scores, Task("two texts", project="billing"))
    assert named[0] == "project-contexts/billing.md" and "project-contexts/reminders.md" not in named


def test_the_title_query_drops_the_part_number_of_a_split_first_section() -> None:
    docs = {
        "incidents/0001-big.md": [("Big outage (part 1)", 10), ("Big outage (part 2)", 10)],
        "decisions/0002-failover.md": [("Failover", 10)],
    }
    # 40% of the best: cut by the cutoff, but it could join as related.
    task_scores = {"incidents/0001-big.md#Big outage (part 1)": 5.0, "decisions/0002-failover.md#Failover": 2.0}
    index = QueryIndex(docs, {"outage": task_scores})
    index.docs["incidents/0001-big.md"] = [
        dataclasses.replace(section, trail=section.heading) for section in index.docs["incidents/0001-big.md"]
    ]
    select(Task("outage"), "service", KIND_MAP, index, 10_000, 0, size)
    assert index.queries == ["outage", "Big outage"]


def test_the_title_query_is_not_run_when_it_could_add_nothing() -> None:
    # It is a second ranking: a third of a warm run on a large home.
    docs = {**RELATED_DOCS}
    task_scores = {
        **TASK_SCORES,
        "decisions/0011-other.md#Other": 5.0,
        "decisions/0009-offset.md#Offset pagination on big tables": 5.0,
    }
    cmap = dataclasses.replace(KIND_MAP, cutoff=0.6, max_documents=3)

    def queries(scores: dict[str, float], links: list[str] | None = None, related: int = 2) -> list[str]:
        index = QueryIndex(docs, {"listing is slow": scores, "incidents/0007-list-timeouts.md": TITLE_SCORES})
        index.links = {"incidents/0007-list-timeouts.md": links or []}
        select(Task("listing is slow"), "service", dataclasses.replace(cmap, related=related), index, 10_000, 0, size)
        return index.queries

    # 25% of the best: a document the task gives so little cannot join by the title.
    assert queries(task_scores) == ["listing is slow"]
    # 35%: it could.
    assert queries({**task_scores, "decisions/0009-offset.md#Offset pagination on big tables": 7.0}) == [
        "listing is slow",
        "incidents/0007-list-timeouts.md",
    ]
    # The places for related documents are taken by those linked with the best one.
    linked = ["decisions/0009-offset.md", "decisions/0010-faint.md"]
    assert queries({**TASK_SCORES, "decisions/0010-faint.md#Pagination of exports": 7.0}, linked) == ["listing is slow"]
    # (No related documents asked for at all: `_related` returns before any of this.)
    assert queries(TASK_SCORES, related=0) == ["listing is slow"]


def test_an_inferred_project_already_in_the_prompt_is_not_added_again() -> None:
    cmap = parse_map(
        "version: 1\ncore: []\nranking: {folders: [incidents], cutoff: 0.5}\n"
        "kinds:\n  service:\n    documents: [project-contexts/reminders.md]\n",
        Path("context.yml"),
    )
    docs = {"incidents/0001-texts.md": [("Texts", 10)], "project-contexts/reminders.md": [("reminders", 10)]}
    scores = {"incidents/0001-texts.md#Texts": 10.0, "project-contexts/reminders.md#reminders": 9.0}
    selection = select(Task("two texts"), "service", cmap, FakeIndex(docs, scores), 10_000, 0, size)
    assert [(pick.section.path, pick.priority) for pick in selection.picks] == [
        ("project-contexts/reminders.md", Priority.KIND),
        ("incidents/0001-texts.md", Priority.RANKED),
    ]
    assert [item.path for item in selection.ranking] == ["incidents/0001-texts.md"]
