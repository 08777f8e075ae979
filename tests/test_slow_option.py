"""Slow tests are skipped locally unless asked for: `--slow`, `-m` naming them, or SCAFFOLD_TEST_SLOW=1 (CI)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

SUITE = """
import pytest

@pytest.mark.slow
def test_slow():
    pass

def test_quick():
    pass
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A two-test suite run with this repository's conftest hooks."""
    pytester.makeconftest(
        "from tests.conftest import pytest_addoption, pytest_collection_modifyitems, pytest_configure, "
        "pytest_unconfigure\n"
    )
    pytester.makeini("[pytest]\nmarkers =\n    slow: slow\n")
    pytester.makepyfile(SUITE)
    return pytester


def test_slow_tests_are_skipped_by_default_saying_how_to_run_them(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*--slow*-m slow*SCAFFOLD_TEST_SLOW=1*"])


@pytest.mark.parametrize("args", [["--slow"], ["-m", "slow"], ["-m", "slow or not slow"]], ids=" ".join)
def test_slow_tests_run_when_asked_for(suite: pytest.Pytester, args: list[str]) -> None:
    result = suite.runpytest(*args)
    outcomes = result.parseoutcomes()
    assert outcomes.get("skipped", 0) == 0 and outcomes["passed"] >= 1, outcomes


def test_slow_tests_run_with_the_environment_variable(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAFFOLD_TEST_SLOW", "1")
    suite.runpytest().assert_outcomes(passed=2)


def test_deselecting_slow_tests_still_works(suite: pytest.Pytester) -> None:
    suite.runpytest("-m", "not slow").assert_outcomes(passed=1, deselected=1)


def test_the_text_answers_property_test_is_slow() -> None:
    # About 30 Copier renders, ~40 s on 2 cores: in the quick set it would be most of the wait for one file.
    from tests import test_text_answers

    test = test_text_answers.test_any_text_answer_renders_a_project_that_passes_the_fast_checks
    assert any(mark.name == "slow" for mark in getattr(test, "pytestmark", []))
