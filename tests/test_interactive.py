"""The interactive questionnaire, driven in a real pseudo-terminal."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
import yaml

from tests.helpers import SERVICE_REGIONS

PROMPT = r"🎤[^\n]*?([A-Z][^\x1b\r\n]*)"
CLEAR_LINE = "\x15"  # Ctrl-U: Copier pre-fills the default into the input line


def _spawn(args: list[str], cwd: Path, home: Path, extra: dict[str, str] | None = None) -> pexpect.spawn:
    env = {**os.environ, "HOME": str(home), "TERM": "xterm", "GIT_CONFIG_GLOBAL": str(home / ".gitconfig")}
    env.update(extra or {})
    env["PROMPT_TOOLKIT_NO_CPR"] = "1"  # nobody answers cursor-position requests in a test pty
    return pexpect.spawn(
        sys.executable,
        ["-m", "generator", *args],
        cwd=str(cwd),
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 200),
    )


def test_questions_are_asked_and_answers_recorded(tmp_path: Path) -> None:
    child = _spawn(["new-service", "payouts"], tmp_path, tmp_path)
    answers = {"what does this project do": "Reconciles payouts nightly.", "TCP port": "9000"}
    asked: list[str] = []
    while child.expect([PROMPT, pexpect.EOF]) == 0:
        text = child.match.group(1).strip()
        if text in asked:  # prompt_toolkit redraws the prompt it is on
            continue
        asked.append(text)
        reply = next((value for key, value in answers.items() if key in text), None)
        child.send(CLEAR_LINE + reply + "\r" if reply is not None else "\r")
    child.close()
    assert child.exitstatus == 0, child.before
    assert any("Owning team" in text for text in asked)
    assert any("Include a Dockerfile" in text for text in asked)
    recorded = yaml.safe_load((tmp_path / "payouts" / ".copier-answers.yml").read_text())
    assert recorded["description"] == "Reconciles payouts nightly."
    assert recorded["port"] == 9000
    assert recorded["project_name"] == "payouts"
    assert (tmp_path / "payouts" / ".git").is_dir()


def test_invalid_interactive_answer_is_asked_again(tmp_path: Path) -> None:
    child = _spawn(["new-service", "svc", "-d", "description=Serves things.", "--no-git"], tmp_path, tmp_path)
    asked: list[str] = []
    while child.expect([PROMPT, pexpect.EOF]) == 0:
        text = child.match.group(1).strip()
        if text in asked:
            continue
        asked.append(text)
        if "TCP port" in text:
            child.send(CLEAR_LINE + "80\r")
            child.expect("must be between 1024 and 65535")
            child.send(CLEAR_LINE + "8081\r")
        else:
            child.send("\r")
    child.close()
    assert child.exitstatus == 0, child.before
    assert yaml.safe_load((tmp_path / "svc" / ".copier-answers.yml").read_text())["port"] == 8081


def test_ctrl_c_at_a_prompt_exits_130_and_leaves_nothing(tmp_path: Path) -> None:
    child = _spawn(["new-service", "svc"], tmp_path, tmp_path)
    child.expect(PROMPT)
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130, child.before
    assert "interrupted" in child.before
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".git")] == []


def test_fill_asks_before_spending_and_shows_progress(tmp_path: Path) -> None:
    from generator.cli import main
    from tests.fakeapi import FakeAnthropic
    from tests.fillfakes import KEY, valid_reply

    project = tmp_path / "payouts"
    assert main(["new-service", "payouts", "--defaults", "--no-ai", "--dest", str(project)]) == 0
    with FakeAnthropic(responder=valid_reply(project)) as fake:
        # A user who never set SCAFFOLD_RERANK (empty is unset): the quote includes the context's re-rank.
        child = _spawn(["fill", str(project)], tmp_path, tmp_path, {**fake.env(KEY), "SCAFFOLD_RERANK": ""})
        child.expect(
            rf"Fill {SERVICE_REGIONS} regions with claude-sonnet-5-5 "
            r"\(about \$[0-9.]+, including one call to re-rank the context\)\?"
        )
        child.send("n")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0 and "Not filled" in str(child.before)
        assert fake.requests == []

        child = _spawn(["fill", str(project)], tmp_path, tmp_path, fake.env(KEY))
        child.expect(rf"Fill {SERVICE_REGIONS} regions with claude-sonnet-5-5 \(about \$[0-9.]+\)\?")
        child.send("n")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0 and "Not filled" in str(child.before)
        assert fake.requests == []

        # The gate's real `make check` (a pip install) has its own tests; here it would outlast pexpect's timeout.
        child = _spawn(["fill", str(project)], tmp_path, tmp_path, {**fake.env(KEY), "SCAFFOLD_VERIFY_COMMAND": "true"})
        child.expect(f"Fill {SERVICE_REGIONS} regions")
        child.send("y")
        child.expect(f"{SERVICE_REGIONS} of {SERVICE_REGIONS} regions filled")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
        assert len(fake.requests) == 1


def test_defaults_are_shown_not_pretyped(tmp_path: Path) -> None:
    """Typing replaces the default (no Ctrl-U needed); Enter takes it; the prompt shows it."""
    child = _spawn(["new-service", "payouts", "--no-git"], tmp_path, tmp_path)
    shown: list[str] = []
    while child.expect([PROMPT, pexpect.EOF]) == 0:
        text = child.match.group(1).strip()
        if text in shown:
            continue
        shown.append(text)
        child.send("Settles payouts nightly.\r" if "what does this project do" in text else "\r")
    child.close()
    assert child.exitstatus == 0, child.before
    recorded = yaml.safe_load((tmp_path / "payouts" / ".copier-answers.yml").read_text())
    assert recorded["description"] == "Settles payouts nightly."
    assert recorded["port"] == 8000 and recorded["owner"] == "platform-team"
    assert any("Enter for: 8000" in text for text in shown), shown


def test_no_status_line_is_drawn_over_the_questions(tmp_path: Path) -> None:
    child = _spawn(["new-service", "payouts", "--no-ai", "--no-git"], tmp_path, tmp_path)
    child.expect(PROMPT)
    before_first_prompt = child.before
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert "…" not in before_first_prompt and "starting" not in before_first_prompt, before_first_prompt
