"""The labelled evaluation of context selection (bench/context_eval.py) as a regression test.

The issue's targets are recall >= 0.95 and precision >= 0.75, and they must generalise to homes
we did not write. The selection meets them on the first home (60 of 63 gold documents), which
it was tuned on, but not on the others: the second (42 of 50 gold documents), where hard tasks
share no words with their documents, which lexical ranking cannot bridge (see docs/context.md);
the third, written blind once every rule was set (recall 0.92, precision 0.63 at its first
reading); two more written blind later (0.81 / 0.66 and 0.88 / 0.63 at theirs); a sixth, written blind
last and held out like the third (0.85 / 0.63 at its first reading). The floors are
those readings, so a regression fails; the strict xfails turn into failures the day a home meets
the targets too, so that its floors are raised with it.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any

import pytest

from tests.helpers import REPO_ROOT

# The first home meets the issue's targets (bench/context_eval.py's RECALL_TARGET and PRECISION_TARGET):
# its floors are the targets, with no slack (60 of 63 gold documents; one fewer fails).
RECALL_FLOOR = 0.95
PRECISION_FLOOR = 0.75
# The held-out home (bench/holdout), written by someone who saw neither the selection code nor the first home.
HOLDOUT_RECALL_FLOOR = 0.82
HOLDOUT_PRECISION_FLOOR = 0.73
# Documents ranking adds for the ten tasks each home has nothing on (`off_topic` in the tasks
# files); none would be right. Before ranked documents had to share two of the task's words:
# 25 and 36.
OFF_TOPIC_CEILING = 11
HOLDOUT_OFF_TOPIC_CEILING = 26
# The homes written blind and never tuned on (unlike bench/holdout, which had one cutoff chosen with it in
# view, and has its floors above): their first readings as floors (recall, precision) and off-topic ceilings.
UNTUNED_BLIND_READINGS = {
    # The third (bench/holdout2), written once the rules were set: 44 of 48 gold documents (one fewer
    # fails), 64 of 101 selected.
    "HOLDOUT2_": (0.91, 0.63, 28),
    # The sixth (bench/grocer), written last, at 48b53a8: 39 of 46 gold documents, 62 relevant of 99
    # selected (one fewer of either fails).
    "GROCER_": (0.84, 0.62, 38),
}
# Two more homes written blind later (bench/claims, bench/council), read task by task since: their
# first readings at bc4342b, as floors (recall, precision) and off-topic ceilings.
DEVELOPMENT_READINGS = {
    # 48 of 59 gold documents (one fewer fails); 95 relevant of 144 selected (one fewer relevant fails).
    "CLAIMS_": (0.81, 0.655, 13),
    # 53 of 60 gold documents; 104 of 164 selected then, 103 of 162 since superseded decisions give way.
    "COUNCIL_": (0.88, 0.63, 22),
}


# With the model re-rank (`--rerank`), from the answers recorded in bench/rerank/answers.json, written
# by helpers standing in for the model (bench/rerank_answers.py): (gold found, relevant, selected) on
# each home at their first reading, a floor for the first two and a ceiling for the third.
RERANK_READINGS = {
    "": (63, 132, 180),
    "HOLDOUT_": (49, 102, 124),
    "HOLDOUT2_": (47, 74, 97),
    "CLAIMS_": (56, 115, 144),
    "COUNCIL_": (57, 123, 164),
    # The sixth home's, answered later by three more stand-ins, given only its 32 requests.
    "GROCER_": (43, 69, 98),
}


def _load(name: str = "context_eval") -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scores() -> dict[str, Any]:
    evaluation = _load()
    _, result = evaluation.evaluate(evaluation.HOME, evaluation.TASKS)
    return dict(result)


@pytest.fixture(scope="module")
def holdout_scores() -> dict[str, Any]:
    evaluation = _load()
    _, result = evaluation.evaluate(evaluation.HOLDOUT_HOME, evaluation.HOLDOUT_TASKS)
    return dict(result)


def _check_home(prefix: str, tasks_at_least: int) -> None:
    """A home as the issue asks (`prefix` names it in context_eval: "", "HOLDOUT2_"): enough tasks of
    every difficulty, labels that exist, a third of its documents distractors, no context.yml."""
    evaluation = _load()
    tasks = evaluation.load_tasks(getattr(evaluation, f"{prefix}TASKS"))
    context = getattr(evaluation, f"{prefix}HOME") / "context"
    assert len(tasks) >= tasks_at_least
    assert {task.difficulty for task in tasks} == {"easy", "medium", "hard"}
    assert evaluation.check_labels(tasks, context) == []
    every = evaluation.documents(context)
    gold = set().union(*(task.gold for task in tasks))
    assert len([path for path in every if path not in gold and "/" in path]) * 3 >= len(every)
    assert not (context / "context.yml").exists()  # the bundled kinds apply


def test_the_evaluation_home_is_as_the_issue_asks() -> None:
    _check_home("", 40)


def test_selection_keeps_its_recall_and_precision(scores: dict[str, Any]) -> None:
    overall = scores["all"]
    assert overall.recall >= RECALL_FLOOR, overall
    assert overall.precision >= PRECISION_FLOOR, overall
    assert scores["easy"].recall == 1.0


def test_selection_generalises_to_the_held_out_home(holdout_scores: dict[str, Any]) -> None:
    evaluation = _load()
    tasks = evaluation.load_tasks(evaluation.HOLDOUT_TASKS)
    assert len(tasks) >= 30 and evaluation.check_labels(tasks, evaluation.HOLDOUT_HOME / "context") == []
    assert holdout_scores["all"].recall >= HOLDOUT_RECALL_FLOOR, holdout_scores["all"]
    assert holdout_scores["all"].precision >= HOLDOUT_PRECISION_FLOOR, holdout_scores["all"]


def _scores_of(home: str) -> tuple[str, dict[str, Any]]:
    """A home's prefix in context_eval (`CLAIMS_`) and its scores."""
    evaluation = _load()
    _, result = evaluation.evaluate(getattr(evaluation, f"{home}HOME"), getattr(evaluation, f"{home}TASKS"))
    return home, dict(result)


# Every home written blind: the untuned ones and the development ones, each with its first reading.
BLIND_READINGS = {**UNTUNED_BLIND_READINGS, **DEVELOPMENT_READINGS}


@pytest.fixture(scope="module", params=sorted(BLIND_READINGS))
def written_blind(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    return _scores_of(str(request.param))


def test_selection_keeps_its_first_reading_on_the_homes_written_blind(
    written_blind: tuple[str, dict[str, Any]],
) -> None:
    home, scores = written_blind
    _check_home(home, 40 if home in DEVELOPMENT_READINGS else 30)
    recall, precision, _ = BLIND_READINGS[home]
    assert scores["all"].recall >= recall, scores["all"]
    assert scores["all"].precision >= precision, scores["all"]


@pytest.mark.xfail(
    strict=True, reason="first readings: third 0.92 / 0.63, claims 0.81 / 0.66, council 0.88 / 0.63, sixth 0.85 / 0.63"
)
def test_selection_meets_the_issue_targets_on_the_homes_written_blind(
    written_blind: tuple[str, dict[str, Any]],
) -> None:
    evaluation = _load()
    _, scores = written_blind
    assert scores["all"].recall >= evaluation.RECALL_TARGET, scores["all"]
    assert scores["all"].precision >= evaluation.PRECISION_TARGET, scores["all"]


@pytest.mark.parametrize(
    ("home", "ceiling"),
    [
        ("", OFF_TOPIC_CEILING),
        ("HOLDOUT_", HOLDOUT_OFF_TOPIC_CEILING),
        *((home, floors[2]) for home, floors in BLIND_READINGS.items()),
    ],
)
def test_tasks_a_home_has_nothing_on_get_few_ranked_documents(home: str, ceiling: int) -> None:
    evaluation = _load()
    found = evaluation.off_topic(getattr(evaluation, f"{home}HOME"), getattr(evaluation, f"{home}TASKS"))
    assert len(found) >= 10
    assert sum(len(ranked) for _, ranked in found) <= ceiling, found


@pytest.mark.xfail(strict=True, reason="held-out recall 0.84: hard tasks that share no words with their documents")
def test_selection_meets_the_issue_targets_on_the_held_out_home(holdout_scores: dict[str, Any]) -> None:
    evaluation = _load()
    assert holdout_scores["all"].recall >= evaluation.RECALL_TARGET, holdout_scores["all"]
    assert holdout_scores["all"].precision >= evaluation.PRECISION_TARGET, holdout_scores["all"]


def test_the_script_runs_and_prints_each_difficulty(capsys: pytest.CaptureFixture[str]) -> None:
    evaluation = _load()
    assert evaluation.main([]) == 0
    out = capsys.readouterr().out
    for name in ("easy", "medium", "hard", "all"):
        assert f"\n{name} " in out


@pytest.fixture(scope="module")
def reranked() -> dict[str, Any]:
    """Every home's scores as the model re-ranks, from the recorded answers, by its prefix in context_eval."""
    evaluation = _load()
    answers = _load("rerank_answers")
    found = {}
    for home in RERANK_READINGS:
        replay = answers.Replay()
        _, result = evaluation.evaluate(
            getattr(evaluation, f"{home}HOME"), getattr(evaluation, f"{home}TASKS"), False, replay
        )
        # A request with no recorded answer keeps BM25's documents: the prompt, the cards or the pool changed.
        assert not replay.missed, (
            f"{len(replay.missed)} re-rank requests have no recorded answer (bench/rerank_answers.py)"
        )
        found[home] = result["all"]
    return found


@pytest.mark.parametrize("home", sorted(RERANK_READINGS))
def test_the_model_rerank_keeps_its_first_reading(reranked: dict[str, Any], home: str) -> None:
    gold_found, relevant, selected = RERANK_READINGS[home]
    score = reranked[home]
    assert score.found >= gold_found, score
    assert score.relevant >= relevant and score.selected <= selected, score


def test_with_the_model_rerank_the_targets_hold_over_every_home(reranked: dict[str, Any]) -> None:
    """Pooled over the six homes, five of them written blind: recall 315 of 326, precision 615 of 807."""
    evaluation = _load()
    gold = sum(score.gold for score in reranked.values())
    found = sum(score.found for score in reranked.values())
    relevant = sum(score.relevant for score in reranked.values())
    selected = sum(score.selected for score in reranked.values())
    assert found / gold >= evaluation.RECALL_TARGET
    assert relevant / selected >= evaluation.PRECISION_TARGET
