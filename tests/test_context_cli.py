"""`scaffold context`, `init` and `new-*`: the commands, their output and every bad input."""

from __future__ import annotations

import errno
import io
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from generator import settings
from generator.cli import main
from generator.context import api
from tests.helpers import GIT_IDENTITY, REPO_ROOT, run, sigterm_at, terminate_self
from tests.test_context_fixtures import make_home
from tests.test_context_redact import AWS_KEY, PRIVATE_KEY


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_home(tmp_path / "home")
    monkeypatch.setenv("SCAFFOLD_HOME", str(root))
    return root


def context(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["context", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_context_prints_a_paste_ready_prompt(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = context(capsys, "add a problem details endpoint to billing", "--project", "billing-api")
    assert code == 0
    assert out.startswith("You are helping a software team")
    assert '<document path="patterns.md" section="Patterns > Services">' in out
    assert '<document path="decisions/0002-problem-details.md"' in out
    assert '<document path="project-contexts/billing-api.md" section="billing-api">' in out
    assert out.rstrip().endswith(
        '<task kind="api" project="billing-api">\nadd a problem details endpoint to billing\n</task>'
    )
    assert "kind 'api' (keywords: endpoint*, problem details)" in err
    assert "note:" not in err


def test_json_shape(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = context(capsys, "--json", "--budget", "20000", "release the new deploy workflow")
    assert code == 0
    data = json.loads(out)
    assert {"kind", "documents", "omitted", "redactions", "tokens", "prompt"} <= set(data)
    assert data["kind"] == "deploy"
    assert data["budget"] == 20000
    assert data["documents"][0] == {
        "path": "patterns.md",
        "section": "Patterns",
        "tokens": data["documents"][0]["tokens"],
        "reason": "core document, always included",
        "source": "core",
    }
    for document in data["documents"]:
        assert set(document) == {"path", "section", "tokens", "reason", "source"}
        assert f'path="{document["path"]}"' in data["prompt"]
    deploy = [d for d in data["documents"] if d["path"] == "runbooks/deploy.md"]
    assert deploy and all("kind 'deploy'" in d["reason"] and d["source"] == "kind" for d in deploy)
    # The best-ranked document is the kind's own; the others score too far below it.
    assert data["ranking"][0] == {
        "path": "runbooks/deploy.md",
        "score": data["ranking"][0]["score"],
        "kept": True,
        "reason": "already included",
    }
    assert all(not r["kept"] and r["reason"].startswith("cut: score") for r in data["ranking"][1:])
    assert data["cut"] == [] and data["notes"] == []
    assert data["omitted"] == [] and data["redactions"] == []
    assert sum(d["tokens"] for d in data["documents"]) < data["tokens"] <= 20000


def test_the_cli_prints_exactly_what_the_api_returns(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = context(capsys, "--kind", "infra", "--budget", "3000", "a bucket for logs")
    assert code == 0
    assert out == api.prompt("a bucket for logs", kind="infra", budget=3000)
    assert api.classify("a terraform module for a bucket") == "infra"
    documents = api.get_context("infra")
    assert documents.startswith('<documents>\n<document path="patterns.md"')
    assert 'section="Style > Terraform"' in documents and "<task" not in documents
    assert "decisions/" not in documents  # no task text: nothing is ranked


def test_task_from_stdin(home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("rotate the gateway TLS certificate\n"))
    code, out, _ = context(capsys, "-")
    assert code == 0
    assert "runbooks/rotate-certificates.md" in out


def test_a_task_on_stdin_that_is_not_utf8_is_read_with_a_warning(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `git diff | scaffold context --kind review -` over a Latin-1 file: one bad byte, not an internal error.
    data = b"rotate the gateway TLS certificate for the caf" + b"\xe9 service\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="surrogateescape"))
    code, out, err = context(capsys, "-")
    assert code == 0
    assert "caf\ufffd service" in out
    assert "the task on stdin is not all UTF-8" in err


def test_a_task_on_stdin_loses_its_bom_and_crlf_and_a_closed_stdin_is_one_line(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = "\ufeffrotate the gateway TLS certificate\r\nsecond line\r\n".encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="surrogateescape"))
    code, out, err = context(capsys, "-")
    assert code == 0 and err.count("warning: the task on stdin") == 0
    assert "<task " in out and "\nrotate the gateway TLS certificate\nsecond line\n</task>" in out
    monkeypatch.setattr(sys, "stdin", None)
    code, out, err = context(capsys, "-")
    assert code == 2 and out == "" and 'stdin is closed; give the task as an argument instead of "-"' in err
    # UTF-16 (PowerShell 5.1's redirection): read by its BOM, so that redaction sees the words.
    utf16 = "password: Vb00mQ7tRzx9\r\nfix the deploy\r\n".encode("utf-16")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(utf16), encoding="utf-8", errors="surrogateescape"))
    code, out, err = context(capsys, "-")
    assert code == 0 and "Vb00mQ7tRzx9" not in out and "password: [REDACTED: Secret Keyword]\nfix the deploy" in out
    bare = "fix the deploy".encode("utf-16-le")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(bare), encoding="utf-8", errors="surrogateescape"))
    code, out, err = context(capsys, "-")
    assert code == 2 and "holds NUL bytes (UTF-16 without a BOM?)" in err


def test_budget_fitting_reports_what_was_left_out(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = context(capsys, "--json", "--budget", "450", "deploy the gateway certificate rotation")
    assert code == 0
    data = json.loads(out)
    assert data["tokens"] <= 450
    assert data["omitted"]
    assert all(item["reason"] == "over budget" and item["tokens"] > 0 for item in data["omitted"])
    chosen = {(d["path"], d["section"]) for d in data["documents"]}
    assert not chosen & {(o["path"], o["section"]) for o in data["omitted"]}
    code, _, err = context(capsys, "--budget", "450", "deploy the gateway certificate rotation")
    assert "left out (see --json)" in err


def test_secrets_are_redacted_and_reported(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (home / "context" / "runbooks" / "deploy.md").write_text(
        f"# Deploy\n\n## Steps\n\nRun the deploy workflow.\nkey: {AWS_KEY}\n\n{PRIVATE_KEY}\n"
    )
    code, out, err = context(capsys, "--json", f"deploy with {AWS_KEY}")
    assert code == 0
    data = json.loads(out)
    assert AWS_KEY not in data["prompt"] and "PRIVATE KEY-----" not in data["prompt"]
    assert {"path": "runbooks/deploy.md", "line": 6, "kind": "AWS Access Key"} in data["redactions"]
    assert {"path": "runbooks/deploy.md", "line": 8, "kind": "Private Key"} in data["redactions"]
    assert {"path": "<task>", "line": 1, "kind": "AWS Access Key"} in data["redactions"]
    assert f"AWS Access Key) at {home / 'context' / 'runbooks' / 'deploy.md'}:6" in err


def test_no_home_configured_falls_back_to_the_bundled_context_with_one_note(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = context(capsys, "--budget", "9000", "--kind", "general", "name things well")
    assert code == 0
    assert err.count("note:") == 1
    assert f"using the bundled context in {REPO_ROOT / 'context'}" in err
    assert '<document path="patterns.md" section="Coding patterns">' in out


@pytest.mark.parametrize("task", ["", "   \n\t"])
def test_empty_task_text_is_a_usage_error(home: Path, capsys: pytest.CaptureFixture[str], task: str) -> None:
    code, out, err = context(capsys, task)
    assert code == 2
    assert out == ""
    assert "the task text is empty" in err


def test_a_budget_too_small_for_the_core_documents_is_a_clear_error(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = context(capsys, "--budget", "50", "anything")
    assert code == 2 and out == ""
    assert "a budget of 50 tokens is too small" in err
    assert "core documents (patterns.md, architecture.md)" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--budget", "0", "x"], "must be positive"),
        (["--budget", "lots", "x"], "not a whole number"),
        (["--kind", "poetry", "x"], "unknown kind 'poetry'"),
        (["--kind", "infar", "x"], "unknown kind 'infar'; did you mean 'infra'?"),
        (["--kind", "", "x"], "the kind is empty; "),
        (["--home", "/nonexistent/home", "x"], "/nonexistent/home (from --home) does not exist (moved or deleted?)"),
    ],
)
def test_bad_arguments_exit_2(home: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = context(capsys, *args)
    assert code == 2 and out == ""
    assert message in err


def test_a_kind_in_other_capitals_is_the_kind_it_can_only_mean(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = context(capsys, "--json", "--kind", "Infra", "a bucket")
    assert code == 0 and json.loads(out)["kind"] == "infra"
    assert "note: kind 'Infra' taken for 'infra'" in err
    code, out, err = context(capsys, "--json", "--kind", " infra\n", "a bucket")  # pasted
    assert code == 0 and json.loads(out)["kind"] == "infra" and 'kind="infra"' in json.loads(out)["prompt"]


def test_a_home_given_by_its_context_folder_or_without_one_says_which_fix(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = context(capsys, "--home", str(home / "context"), "x")
    assert code == 2
    assert f"is the context/ folder of a knowledge home; give the folder above it: {home}" in err
    (tmp_path / "empty").mkdir()
    code, _, err = context(capsys, "--home", str(tmp_path / "empty"), "x")
    assert code == 2 and f"it has no context/ folder; create one with `scaffold init {tmp_path / 'empty'}`" in err
    # A folder holding other things: `scaffold init` would refuse it, so another folder is named.
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "notes.md").write_text("notes\n", encoding="utf-8")
    code, _, err = context(capsys, "--home", str(tmp_path / "project"), "x")
    assert code == 2 and "create one in a new or empty folder with `scaffold init FOLDER`" in err
    assert main(["init", str(tmp_path / "empty")]) == 0  # what the first message says works


def test_a_recorded_home_moved_from_a_path_with_a_space_names_a_command_that_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The message's `scaffold init /x/team home`, pasted, was two arguments: "unrecognized arguments: home".
    first = tmp_path / "team home"
    assert main(["init", str(first)]) == 0
    first.rename(tmp_path / "moved home")
    capsys.readouterr()
    code, _, err = context(capsys, "x y")
    assert code == 2 and "does not exist (moved or deleted?); point it at the home's new place (`scaffold init" in err
    # Given by --home (or $SCAFFOLD_HOME), which outranks what init records: init is no fix there.
    code, _, flag_err = context(capsys, "--home", str(first), "x y")
    assert code == 2 and "records a home" not in flag_err and "point it at the home's new place, or" in flag_err
    command = err.split("create a new one with `")[1].split("`")[0]
    assert shlex.split(command) == ["scaffold", "init", str(first)]
    assert main(shlex.split(command)[1:]) == 0
    assert main(["init", str(tmp_path / "moved home")]) == 0  # or, as it says, the home's new place
    assert f"{tmp_path / 'moved home'} already is a knowledge home; recorded it" in capsys.readouterr().out
    monkeypatch.chdir(tmp_path)
    code, _, err = context(capsys, "--home=-gone", "x y")  # an option, pasted as it was
    assert code == 2 and "create a new one with `scaffold init ./-gone`" in err


def test_a_malformed_map_names_file_and_line(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (home / "context" / "context.yml").write_text("version: 1\nkinds:\n  api:\n    documents: [x.md\n")
    code, _, err = context(capsys, "anything")
    assert code == 2
    assert f"{home / 'context' / 'context.yml'}:5: invalid YAML" in err


def test_missing_unreadable_and_looping_files_are_warnings_not_failures(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context_dir = home / "context"
    (context_dir / "architecture.md").unlink()
    (context_dir / "runbooks" / "deploy.md").unlink()
    (context_dir / "incidents" / "cp1252.md").write_bytes("# Caf\xe9 outage\n".encode("cp1252"))
    (context_dir / "runbooks" / "again").symlink_to(context_dir / "runbooks")
    code, out, err = context(capsys, "--json", "release the gateway")
    assert code == 0
    data = json.loads(out)
    warnings = "\n".join(data["warnings"])
    assert "core document architecture.md is missing" in warnings
    assert "kinds.deploy.documents: runbooks/deploy.md matches no document" in warnings
    assert "skipped incidents/cp1252.md: not UTF-8 text" in warnings
    assert "skipped runbooks/again/: a symlink loop" in warnings
    assert err.count("warning:") == len(data["warnings"])
    assert {
        "path": "runbooks/deploy.md",
        "section": "",
        "tokens": 0,
        "reason": "listed for kind 'deploy' but missing",
        "source": "kind",
    } in data["omitted"]


def test_an_empty_or_unreadable_listed_document_is_not_called_missing(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context_dir = home / "context"
    (context_dir / "architecture.md").write_text("  \n\n")
    (context_dir / "runbooks" / "deploy.md").write_bytes("# D\xe9ploiement\n".encode("cp1252"))
    code, out, err = context(capsys, "--json", "--kind", "deploy", "release the gateway")
    assert code == 0
    data = json.loads(out)
    warnings = "\n".join(data["warnings"])
    assert "core document architecture.md is empty" in warnings
    assert (
        "kinds.deploy.documents: runbooks/deploy.md could not be read (see the warning about it); skipped" in warnings
    )
    assert "skipped runbooks/deploy.md: not UTF-8 text" in warnings
    assert "missing" not in warnings
    omitted = {item["path"]: item["reason"] for item in data["omitted"]}
    assert omitted["architecture.md"] == "core document is empty"
    assert omitted["runbooks/deploy.md"] == "listed for kind 'deploy' but could not be read (see the warning about it)"


def test_a_20_megabyte_file_is_cut_to_a_megabyte_and_truncated_at_the_budget(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = "Ledger entries are immutable; corrections are new entries that reverse old ones.\n"
    big = "# Ledger notes\n\n" + (line * 40 + "\n") * (20_000_000 // (len(line) * 40))
    (home / "context" / "project-contexts" / "ledger.md").write_text(big)
    code, out, _ = context(capsys, "--json", "--budget", "6000", "--project", "ledger", "--kind", "general", "x")
    assert code == 0
    data = json.loads(out)
    parts = [d for d in data["documents"] if d["path"] == "project-contexts/ledger.md"]
    assert parts and parts[0]["section"] == "Ledger notes (part 1)"
    assert data["tokens"] <= 6000
    [left] = [o for o in data["omitted"] if o["path"] == "project-contexts/ledger.md"]
    assert left["reason"] == "over budget"
    # Only the first megabyte of it is a document: the rest is never read.
    assert "sections)" in left["section"] and 250_000 < left["tokens"] < 400_000
    assert any("ledger.md is " in warning and "only its first" in warning for warning in data["warnings"])


def test_a_home_template_keeps_its_dollar_signs_and_its_stub_is_still_known_unedited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `$$` became `$` (string.Template's escape), breaking PostgreSQL's dollar quoting in every runbook,
    # and then the stub no longer matched its template: an unedited runbook was ranked.
    target = tmp_path / "team-home"
    assert main(["init", str(target)]) == 0
    template = target / "context" / "_templates" / "runbook.md"
    sql = "DO $$ BEGIN PERFORM pg_terminate_backend(pid) FROM pg_stat_activity; END $$;"
    odd = "Next: $date_reviewed, $numbers, $$title."  # longer names, and `$$` before one, stay as written
    template.write_text(f"# ${{title}}\n\nReviewed: $date. Cost: $5, as $HOME says. {odd}\n\n```sql\n{sql}\n```\n")
    capsys.readouterr()
    assert main(["new-runbook", "Kill idle sessions ($date)", "--date", "2025-06-30"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path.read_text() == (
        f"# Kill idle sessions ($date)\n\nReviewed: 2025-06-30. Cost: $5, as $HOME says. {odd}\n\n```sql\n{sql}\n```\n"
    )
    code, out, _ = context(capsys, "--json", "kill idle sessions with pg_terminate_backend")
    data = json.loads(out)
    assert all(document["path"] != f"runbooks/{path.name}" for document in data["documents"])
    assert any("not ranked until edited" in note and path.name in note for note in data["notes"])


@pytest.mark.parametrize("trouble", ["link out", "not utf-8", "a folder", "dangling"])
def test_a_home_template_that_cannot_be_read_is_an_error_not_the_bundled_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], trouble: str
) -> None:
    target = tmp_path / "team-home"
    assert main(["init", str(target)]) == 0
    capsys.readouterr()
    template = target / "context" / "_templates" / "decision.md"
    template.unlink()
    outside = tmp_path / "shared-decision.md"
    outside.write_text("# $number. $title (team format)\n")
    if trouble == "link out":
        template.symlink_to(outside)
        reason = "a symlink that leads out of the context folder; copy the file in instead"
    elif trouble == "not utf-8":
        template.write_bytes("# $number. $title, r\u00e9sum\u00e9\n".encode("latin-1"))
        reason = "it is not UTF-8 text"
    elif trouble == "dangling":
        template.symlink_to(tmp_path / "gone.md")
        reason = "a symlink to a file that does not exist"
    else:
        template.mkdir()
        reason = "Is a directory"
    assert main(["new-decision", "Adopt CockroachDB"]) == 2
    err = capsys.readouterr().err
    expected = f"{template}: cannot read it: {reason} (fix it, or remove it to use the bundled template)"
    assert (f"{template}: {reason}" if trouble == "dangling" else expected) in err
    assert not list((target / "context" / "decisions").glob("*adopt-cockroachdb*"))
    # Gone, the bundled template is used.
    if template.is_dir() and not template.is_symlink():
        template.rmdir()
    else:
        template.unlink()
    assert main(["new-decision", "Adopt CockroachDB"]) == 0
    assert "Status: Proposed" in Path(capsys.readouterr().out.strip()).read_text()


def test_init_then_new_decision_is_selected_for_a_matching_task(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "team-home"
    assert main(["init", str(target)]) == 0
    out = capsys.readouterr().out
    assert f"Created the knowledge home {target}" in out
    # A branch pushed without its tags leaves projects recording a tag their teammates cannot fetch.
    assert "with its tags (git push -u origin main --tags)" in " ".join(out.split())

    for item in ("context/context.yml", "context/patterns.md", "copier.yml", "README.md"):
        assert (target / item).is_file(), item
    assert (target / "templates").is_dir() and (target / "includes").is_dir()
    assert run(["git", "tag"], cwd=target).stdout.split() == ["v0.1.0"]
    assert run(["git", "status", "--porcelain"], cwd=target).stdout == ""
    assert run(["git", "log", "--format=%an <%ae>"], cwd=target).stdout.strip() == "scaffold <scaffold@localhost>"
    assert api.classify("deploy it") == "deploy"  # the recorded home answers

    assert main(["new-decision", "Adopt CockroachDB for the ledger", "--date", "2025-06-30"]) == 0
    created = capsys.readouterr().out.strip()
    assert created == str(target / "context" / "decisions" / "0007-adopt-cockroachdb-for-the-ledger.md")
    text = (target / "context" / "decisions" / "0007-adopt-cockroachdb-for-the-ledger.md").read_text()
    assert text.startswith("# 0007. Adopt CockroachDB for the ledger\n\nDate: 2025-06-30\nStatus: Proposed\n")

    # Unedited, the stub says nothing yet: it is not ranked, and a note says so.
    code, out, _ = context(capsys, "--json", "should the ledger move to cockroachdb")
    data = json.loads(out)
    assert all(d["path"] != "decisions/0007-adopt-cockroachdb-for-the-ledger.md" for d in data["documents"])
    assert any("not ranked until edited" in note and "0007-adopt" in note for note in data["notes"])

    decision = target / "context" / "decisions" / "0007-adopt-cockroachdb-for-the-ledger.md"
    decision.write_text(text.replace("Status: Proposed", "Status: Accepted") + "\nThe ledger moves to CockroachDB.\n")
    code, out, _ = context(capsys, "--json", "should the ledger move to cockroachdb")
    data = json.loads(out)
    ranked = [d for d in data["documents"] if d["source"] == "ranked"]
    assert ranked[0]["path"] == "decisions/0007-adopt-cockroachdb-for-the-ledger.md"

    assert main(["new-decision", "Adopt CockroachDB for the ledger"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip().endswith("0008-adopt-cockroachdb-for-the-ledger.md")
    assert "warning: 0007-adopt-cockroachdb-for-the-ledger.md already has this title" in captured.err

    assert main(["new-incident", "Ledger lag"]) == 0
    assert capsys.readouterr().out.strip().endswith("incidents/0003-ledger-lag.md")
    assert main(["new-runbook", "Restore the ledger"]) == 0
    assert capsys.readouterr().out.strip().endswith("runbooks/0001-restore-the-ledger.md")


def test_a_number_taken_between_listing_and_writing_moves_on_to_the_next(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process (unlocked, on NFS) wrote the same name first: its document stays, this one is next.
    from generator.context import home as home_module
    from generator.plumbing.atomic import write_new as real

    calls: list[Path] = []

    def raced(path: Path, text: str) -> None:
        calls.append(path)
        if len(calls) == 1:
            path.write_text("# theirs\n", encoding="utf-8")
        real(path, text)

    monkeypatch.setattr(home_module, "write_new", raced)
    assert main(["new-decision", "Use Kafka"]) == 0
    made = Path(capsys.readouterr().out.strip())
    assert [path.name for path in calls] == ["0004-use-kafka.md", "0005-use-kafka.md"] and made == calls[1]
    assert calls[0].read_text() == "# theirs\n" and made.read_text().startswith("# 0005. Use Kafka\n")


def test_a_documents_folder_that_cannot_be_listed_is_an_error_not_number_0001(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Mode 0311 (writable, not readable; as root a test cannot make one): the folder read as empty,
    # and a second 0001 was written beside the first.
    decisions = home / "context" / "decisions"
    listed = Path.iterdir

    def unreadable(folder: Path) -> Any:
        if folder == decisions:
            raise PermissionError(errno.EACCES, "Permission denied", str(folder))
        return listed(folder)

    monkeypatch.setattr(Path, "iterdir", unreadable)
    assert main(["new-decision", "No list"]) == 5
    assert capsys.readouterr().err.startswith(f"scaffold: error: cannot write to {decisions}: Permission denied")
    monkeypatch.undo()
    assert not list(decisions.glob("*-no-list.md"))


def test_a_copy_a_killed_new_decision_left_is_ignored_by_git_and_removed_by_the_next(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # SIGKILL between writing the document beside its name and linking it leaves that copy, hidden.
    target = tmp_path / "team-home"
    assert main(["init", str(target)]) == 0
    decisions = target / "context" / "decisions"
    left = decisions / ".0007-use-kafka.md.k3j2h1q_.scaffold-tmp"
    left.write_text("# 0007. Use Kafka\n")
    assert run(["git", "status", "--porcelain"], cwd=target).stdout == ""  # `git add -A` would not take it
    assert main(["new-decision", "Use NATS"]) == 0
    assert left.exists()  # it may be a run beside this one, on a folder that cannot be locked
    os.utime(left, (time.time() - 120, time.time() - 120))
    # One for a number no document has yet: a run beside this one writing it (on NFS, its server's clock).
    ahead = decisions / ".0009-use-nats.md.h7g6f5x0.scaffold-tmp"
    ahead.write_text("# 0009. Use NATS\n")
    os.utime(ahead, (time.time() - 120, time.time() - 120))
    assert main(["new-decision", "Use Redis"]) == 0
    assert not left.exists() and ahead.exists()
    ahead.unlink()
    assert sorted(path.name for path in decisions.iterdir())[-2:] == ["0007-use-nats.md", "0008-use-redis.md"]
    capsys.readouterr()


def test_init_refuses_a_non_empty_folder_and_adopts_an_existing_home(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    assert main(["init", str(busy)]) == 2
    assert "is not empty and is not a scaffold home" in capsys.readouterr().err
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]

    existing = make_home(tmp_path / "clone")
    (existing / "copier.yml").write_text("template: {type: str}\n")
    assert main(["init", str(existing)]) == 0
    out = capsys.readouterr().out
    assert "already is a knowledge home; recorded it" in out and "in place of" not in out
    assert api.get_context("general").count("<document ") >= 3

    # Recording another home says which one it replaces, and how to go back.
    second = make_home(tmp_path / "second")
    (second / "copier.yml").write_text("template: {type: str}\n")
    assert main(["init", str(second)]) == 0
    out = capsys.readouterr().out
    assert f"in place of {existing} (`scaffold init {existing}` goes back)" in out
    assert main(["init", str(second)]) == 0
    assert "in place of" not in capsys.readouterr().out  # the same home again replaces nothing
    fresh = tmp_path / "fresh"
    assert main(["init", str(fresh)]) == 0
    assert f"and recorded it in {settings.user_config_path()} in place of {second}" in capsys.readouterr().out
    shutil.rmtree(fresh)
    assert main(["init", str(second)]) == 0
    assert f"in place of {fresh} (no longer there)" in capsys.readouterr().out
    # A home recorded as `~/...` is the folder under HOME.
    monkeypatch.setenv("HOME", str(tmp_path))
    settings.save_user_config({"home": "~/clone"})
    assert main(["init", str(second)]) == 0
    assert f"in place of {existing} (`scaffold init {existing}` goes back)" in capsys.readouterr().out
    # Nor a home whose name is too long for the system.
    settings.save_user_config({"home": "/" + "h" * 300})
    assert main(["init", str(second)]) == 0
    assert f"in place of /{'h' * 300} (no longer there)" in capsys.readouterr().out
    # A config whose home is no path is mended by init, quietly.
    settings.save_user_config({"home": "\0bad"})
    assert main(["init", str(existing)]) == 0
    out = capsys.readouterr().out
    assert "recorded it" in out and "in place of" not in out


def test_new_documents_need_a_home_and_a_title(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["new-decision", "Use Postgres"]) == 2
    assert "no knowledge home configured" in capsys.readouterr().err
    monkeypatch.setenv("SCAFFOLD_HOME", str(make_home(tmp_path / "home")))
    assert main(["new-decision", "   "]) == 2
    assert "title is empty" in capsys.readouterr().err
    assert main(["new-incident", "x", "--date", "yesterday"]) == 2
    assert "not a date" in capsys.readouterr().err


def test_a_new_documents_name_leaves_out_a_secret_its_title_seems_to_hold(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file name is committed and pushed, and lowercased (`ghp-r7mk...`) it is past what redaction knows.
    home = make_home(tmp_path / "home")
    monkeypatch.setenv("SCAFFOLD_HOME", str(home))
    token = "ghp_R7mK2xQ9vL4tN8pW3sZ6yB1cF5hJ0dG2aE4u"
    assert main(["new-decision", f"Revoke {token} from the billing CI"]) == 0
    out, err = capsys.readouterr()
    path = Path(out.strip())
    assert path.name == "0004-revoke-from-the-billing-ci.md"
    assert path.read_text(encoding="utf-8").startswith(f"# 0004. Revoke {token} from the billing CI\n")
    assert "warning: the title seems to hold a secret (" in err
    assert f"edit it out of {path.name} before you commit it" in err and token not in err
    assert main(["new-runbook", "Restart the billing worker"]) == 0
    assert "warning" not in capsys.readouterr().err
    # A heading about passwords is no password (scanned as the document is, not as a name alone).
    assert main(["new-decision", "Password: use 12 characters minimum"]) == 0
    out, err = capsys.readouterr()
    assert out.strip().endswith("0005-password-use-12-characters-minimum.md") and "warning" not in err


def test_titles_the_file_name_cannot_spell_are_not_taken_for_the_same_title(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Titles in other scripts are all named "untitled": the warning compares the headings.
    home = make_home(tmp_path / "home")
    monkeypatch.setenv("SCAFFOLD_HOME", str(home))
    for title in ("日本語のタイトル", "Ελληνικά", "ελληνικά"):
        assert main(["new-decision", title]) == 0
    err = capsys.readouterr().err.split("\n")
    assert [line for line in err if "warning" in line] == [
        "scaffold: warning: 0005-untitled.md already has this title; if it is the same decision, delete "
        "0006-untitled.md and edit that one"
    ]
    # A title inside another one is not it; one retitled since is another decision now.
    assert main(["new-decision", "日本"]) == 0
    assert "warning" not in capsys.readouterr().err
    first = home / "context" / "decisions" / "0004-untitled.md"
    first.write_text(first.read_text(encoding="utf-8").replace("日本語のタイトル", "別の決定"), encoding="utf-8")
    assert main(["new-decision", "日本語のタイトル"]) == 0
    assert "warning" not in capsys.readouterr().err
    # The same words are the same title, whatever ends it; punctuation alone is no word to compare.
    assert main(["new-decision", "Use PostgreSQL for relational data"]) == 0
    assert main(["new-decision", "Use PostgreSQL for relational data!"]) == 0
    assert (
        "0001-postgres.md, 0009-use-postgresql-for-relational-data.md already have this title"
        in capsys.readouterr().err
    )
    assert main(["new-decision", "!!!"]) == 0
    assert main(["new-decision", "???"]) == 0
    assert main(["new-decision", "Use C for the parser"]) == 0
    assert main(["new-decision", "Use C++ for the parser"]) == 0  # the same name, another title
    assert main(["new-decision", "Use C# for the parser"]) == 0
    assert "warning" not in capsys.readouterr().err
    # One written by hand (or an older template) without its number in the heading: the same title.
    decisions = home / "context" / "decisions"
    (decisions / "0030-use-kafka-streams.md").write_text("# Use Kafka Streams\n\nWe will.\n", encoding="utf-8")
    assert main(["new-decision", "Use Kafka streams."]) == 0
    assert "0030-use-kafka-streams.md already has this title" in capsys.readouterr().err
    # Whatever their file names: an ADR's name shorter than its title, a runbook with no number.
    (decisions / "0031-fastapi.md").write_text("# 0031. FastAPI for Python HTTP services\n\nYes.\n", encoding="utf-8")
    assert main(["new-decision", "FastAPI for Python HTTP services"]) == 0
    assert "0031-fastapi.md already has this title" in capsys.readouterr().err
    runbooks = home / "context" / "runbooks"
    (runbooks / "rollback.md").write_text("# Roll back a release\n\n1. Revert.\n", encoding="utf-8")
    (runbooks / "notes.txt").write_text("# Roll back a release\n", encoding="utf-8")  # no document
    assert main(["new-runbook", "Roll back a release"]) == 0
    said = capsys.readouterr().err
    assert "warning: rollback.md already has this title" in said and "notes.txt" not in said
    # However many there are, one line.
    for number in range(5):
        (runbooks / f"deploy-{number}.md").write_text("# Deploy\n\nSteps.\n", encoding="utf-8")
    assert main(["new-runbook", "Deploy"]) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warned == [
        "scaffold: warning: deploy-0.md, deploy-1.md, deploy-2.md and 3 more already have this title; if it is the "
        "same runbook, delete 0002-deploy.md and edit one of them"
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_named_like_the_new_document_is_not_waited_on(tmp_path: Path) -> None:
    # Its title is read to tell a same title: as the index reads a document, never waiting on a FIFO.
    home = make_home(tmp_path / "home")
    os.mkfifo(home / "context" / "decisions" / "0009-use-kafka.md")
    env = {**os.environ, "SCAFFOLD_HOME": str(home), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    made = subprocess.run(
        [sys.executable, "-m", "generator", "new-decision", "Use Kafka"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().endswith("0010-use-kafka.md")


def test_a_home_the_machine_will_not_let_us_write_is_exit_5(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A read-only checkout or mount (faked: root writes anywhere): the machine's trouble, as README's exit codes say.
    home = make_home(tmp_path / "home")
    monkeypatch.setenv("SCAFFOLD_HOME", str(home))
    decisions = home / "context" / "decisions"

    real_open = os.open

    def refuse(path: str, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT and str(path).startswith(str(decisions)):
            raise PermissionError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    assert main(["new-decision", "Use Postgres"]) == 5
    err = capsys.readouterr().err
    assert f"cannot write to {decisions}: Read-only file system" in err and err.count("\n") == 1


def test_a_home_folder_init_cannot_make_is_refused_as_a_dest_is(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `scaffold init /proc/nope`: the kernel says ENOENT, which elsewhere is more likely scaffold's bug.
    # A folder the user gave is a bad choice (exit 2, as `new-* --dest /proc/x`), not the machine's trouble.
    wanted = tmp_path / "pseudo" / "home"

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    assert main(["init", str(wanted)]) == 2
    err = capsys.readouterr().err
    assert (
        err == f"scaffold: error: cannot create {wanted}: No such file or directory; choose a folder you can write to\n"
    )


def _environment(buffered: bool = True) -> dict[str, str]:
    """This test's environment (isolated by now), its output buffered as in a user's terminal or not."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    return env if buffered else {**env, "PYTHONUNBUFFERED": "1"}


def _run_scaffold(
    argv: list[str],
    stdout: Any,
    tmp_path: Path | None = None,
    *,
    buffered: bool = True,
    code: str | None = None,
    closed_stdout: bool = False,
) -> subprocess.CompletedProcess[str]:
    """scaffold (or the script `code`) run as the program, its output to `stdout`: buffered as in a user's
    terminal, or unbuffered (PYTHONUNBUFFERED, which CI may set: each print writes at once). A command of
    the knowledge home gets one under `tmp_path` (`list` shows the bundled templates: that home has none)."""
    env = _environment(buffered)
    if tmp_path is not None:
        env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
        if argv[:1] in (["context"], ["new-decision"]):
            env["SCAFFOLD_HOME"] = str(make_home(tmp_path / "home"))
    program = [sys.executable, *(["-c", code] if code is not None else ["-m", "generator"]), *argv]
    if closed_stdout:  # `>&-`, as a shell does it
        program = ["sh", "-c", 'exec "$0" "$@" >&-', *program]
    return subprocess.run(
        program, stdout=stdout, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT, env=env, check=False
    )


_FULL_DISK = "free some space on the disk being written"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("argv", [["context", "deploy"], ["--help"], ["new-decision", "Use Kafka"]])
def test_output_to_a_full_disk_is_one_line_with_exit_5(argv: list[str], tmp_path: Path) -> None:
    # Unbuffered, the write fails inside the command (argparse ignored it for --help: exit 0). A command that
    # had done its work (`work_done`: the decision written) says so, lest it be run again for a second
    # decision; one that did not say cannot tell, and the line says neither.
    with Path("/dev/full").open("w") as full:
        result = _run_scaffold(argv, full, tmp_path, buffered=False)
    assert result.returncode == 5, result.stderr
    finished = "; the command itself finished" if argv[0] == "new-decision" else ""
    assert result.stderr.endswith(
        f"scaffold: error: cannot write the output: No space left on device{finished} ({_FULL_DISK})\n"
    )
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    if argv[0] == "new-decision":
        assert len(list((tmp_path / "home" / "context" / "decisions").glob("*-use-kafka.md"))) == 1


def test_a_command_wording_its_result_has_done_its_work() -> None:
    # new-service, update and fill report through `reporting`: output that fails then says they finished.
    from generator.cli import messages, report

    messages.new_run()
    assert not messages.is_work_done()
    assert report.reporting("made", lambda result: 0) == 0
    assert messages.is_work_done()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_init_with_its_output_on_a_full_disk_says_it_finished(tmp_path: Path) -> None:
    # Unbuffered: the home is made and recorded, then its report cannot be written; run again, init would
    # only adopt it, but the user must know it is there.
    with Path("/dev/full").open("w") as full:
        result = _run_scaffold(["init", str(tmp_path / "kb")], full, tmp_path, buffered=False)
    assert result.returncode == 5, result.stderr
    assert result.stderr.endswith(
        f"scaffold: error: cannot write the output: No space left on device; the command itself finished ({_FULL_DISK})\n"
    )
    assert (tmp_path / "kb" / "context" / "context.yml").is_file()


@pytest.mark.parametrize("point", ["document.write", "cli.report"])
def test_an_interrupt_once_a_document_is_written_names_it(
    home: Path, capsys: pytest.CaptureFixture[str], point: str
) -> None:
    # "nothing partial was left behind" was said of a written decision: a second run made a second one.
    with sigterm_at(point):
        assert main(["new-decision", "Use Kafka"]) == 130
    [made] = (home / "context" / "decisions").glob("*-use-kafka.md")
    assert capsys.readouterr().err == f"scaffold: interrupted; {made} was written; edit it, then commit it in {home}\n"
    assert made.read_text().startswith(f"# {made.name[:4]}. Use Kafka\n") and "## Consequences" in made.read_text()
    # What its report would have warned of is said too: a secret in its heading must not be committed.
    with sigterm_at(point):
        assert main(["new-decision", f"Revoke {AWS_KEY} from CI"]) == 130
    [made] = (home / "context" / "decisions").glob("*-revoke-from-ci.md")
    assert capsys.readouterr().err == (
        f"scaffold: interrupted; {made} was written; the title seems to hold a secret (AWS Access Key): the file "
        f"name leaves it out, its heading does not; edit it out of {made.name} before you commit it; edit it, then "
        f"commit it in {home}\n"
    )


def test_a_document_that_cannot_be_written_whole_is_not_left_half_written(tmp_path: Path) -> None:
    # `ulimit -f` (Python ignores SIGXFSZ): the write fails with EFBIG half-way. Left there, a stub of its
    # first bytes would hold the number and pass for a document.
    home = make_home(tmp_path / "home")
    script = (
        "import resource, sys\n"
        "from generator.cli import main\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))\n"
        "sys.exit(main(['new-decision', 'Use Kafka', '--home', sys.argv[1]]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(home)], capture_output=True, text=True, cwd=REPO_ROOT, check=False
    )
    assert result.returncode == 5, result.stderr
    assert result.stderr == f"scaffold: error: cannot write to {home / 'context' / 'decisions'}: File too large\n"
    assert list((home / "context" / "decisions").glob("*-use-kafka.md")) == []
    assert list((home / "context" / "decisions").glob(".*")) == []  # nor the copy written beside its name


@pytest.mark.parametrize("adopt", [False, True])
def test_an_interrupt_once_init_recorded_its_home_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], adopt: bool
) -> None:
    target = make_home(tmp_path / "kb") if adopt else tmp_path / "kb"
    if adopt:
        (target / "copier.yml").write_text("template: {type: str}\n")
    before = make_home(tmp_path / "before")
    settings.save_user_config({"home": str(before)})
    with sigterm_at("init.record"):
        assert main(["init", str(target)]) == 130
    made = "was recorded as" if adopt else "was created and recorded as"
    config = settings.user_config_path()
    # The home recorded before is named with the way back, as the report would have.
    assert capsys.readouterr().err == (
        f"scaffold: interrupted; {target} {made} your knowledge home in {config} in place of {before} "
        f"(`scaffold init {before}` goes back)\n"
    )
    assert settings.load_user_config()["home"] == str(target)
    assert (target / "context" / "context.yml").is_file()


def test_init_that_cannot_record_its_home_takes_it_away_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Made but not recorded, the home was left for the user to find; `init` again now starts clean.
    from generator.plumbing.transaction import fault_hook

    def full(point: str, details: object) -> None:
        if point == "init.record":
            raise OSError(errno.ENOSPC, "No space left on device")

    config = settings.user_config_path()
    empty = tmp_path / "empty"
    empty.mkdir()
    for target, kept in [(tmp_path / "kb", False), (empty, True)]:
        with fault_hook(full):
            assert main(["init", str(target)]) == 5
        assert capsys.readouterr().err == (
            f"scaffold: error: cannot record {target} as your knowledge home in {config}: No space left on device; "
            "the home made for it was not kept; free some space on that disk (or raise your quota or file size "
            "limit), then run scaffold init again\n"
        )
        # The folder init created goes; one that was there stays, as empty as it was.
        assert target.exists() == kept and (not kept or list(target.iterdir()) == [])
        assert "home" not in settings.load_user_config()

    def read_only(point: str, details: object) -> None:
        if point == "init.record":
            raise OSError(errno.EROFS, "Read-only file system")

    with fault_hook(read_only):
        assert main(["init", str(tmp_path / "kb")]) == 5
    assert "Read-only file system; the home made for it was not kept; set SCAFFOLD_CONFIG (in your shell's " in (
        capsys.readouterr().err
    )
    assert main(["init", str(tmp_path / "kb")]) == 0


def test_init_makes_the_home_in_an_empty_clone_and_gives_it_back_untouched_if_it_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # "Create the repository on the server, clone it, init it" was refused: the clone held `.git`.
    from generator.plumbing.transaction import fault_hook

    server = tmp_path / "server.git"
    run(["git", "init", "-q", "--bare", "-b", "trunk", str(server)])
    clone = tmp_path / "Ann's clone"
    run(["git", "clone", "-q", str(server), str(clone)])

    def full(point: str, details: object) -> None:
        if point == "init.record":
            raise OSError(errno.ENOSPC, "No space left on device")

    with fault_hook(full):
        assert main(["init", str(clone)]) == 5
    capsys.readouterr()
    # The clone as it was: its .git with its remote, no commit, tag or staged file of init's.
    assert [path.name for path in clone.iterdir()] == [".git"]
    assert run(["git", "remote", "get-url", "origin"], cwd=clone).stdout.strip() == str(server)
    assert run(["git", "rev-parse", "-q", "--verify", "HEAD"], cwd=clone, check=False).returncode != 0
    assert run(["git", "tag"], cwd=clone).stdout == "" and run(["git", "ls-files"], cwd=clone).stdout == ""

    assert main(["init", str(clone)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"Created the knowledge home in the clone {clone} (a commit tagged v0.1.0)" in out
    push = f"git -C {shlex.quote(str(clone))} push -u origin HEAD --tags"
    assert push in out
    assert run(["git", "branch", "--show-current"], cwd=clone).stdout.strip() == "trunk"  # the server's
    assert run(["git", "status", "--porcelain"], cwd=clone).stdout == ""
    run(shlex.split(push))
    assert run(["git", "tag"], cwd=server).stdout.split() == ["v0.1.0"]

    # A clone with history is another project: refused, as any folder in use.
    other = tmp_path / "other"
    run(["git", "clone", "-q", str(clone), str(other)])
    for path in other.iterdir():
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    assert main(["init", str(other)]) == 2
    assert capsys.readouterr().err == (
        f"scaffold: error: {other} is not empty and is not a scaffold home; it is a git repository with commits; "
        "create the team's repository empty (no README) and clone that, or run scaffold init in a new folder and "
        "push it there\n"
    )
    # A repository made with `git init` (no remote): the home is committed there, with no word of a push.
    local = tmp_path / "local"
    run(["git", "init", "-q", str(local)])
    assert main(["init", str(local)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"Created the knowledge home {local} (a git repository tagged v0.1.0)" in out and "git -C" not in out
    assert run(["git", "tag"], cwd=local).stdout.split() == ["v0.1.0"]
    # A `.git` that is no repository, or a bare one, is refused as a folder in use, not failed on as git's trouble.
    broken = tmp_path / "broken"
    (broken / ".git").mkdir(parents=True)
    bare = tmp_path / "bare"
    run(["git", "init", "-q", "--bare", str(bare / ".git")])
    for folder in (broken, bare):
        assert main(["init", str(folder)]) == 2
        assert [path.name for path in folder.iterdir()] == [".git"]
    # A clone with no commit on HEAD but branches and tags of its own (the remote's default branch is
    # unborn) is no empty repository: init's undo would delete its v0.1.0.
    source = tmp_path / "tagged"
    run(["git", "init", "-q", "-b", "other", str(source)])
    run(["git", *GIT_IDENTITY, "commit", "-q", "--allow-empty", "-m", "one"], cwd=source)
    run(["git", "tag", "v0.1.0"], cwd=source)
    remote = tmp_path / "tagged.git"
    run(["git", "clone", "-q", "--bare", str(source), str(remote)])
    run(["git", "symbolic-ref", "HEAD", "refs/heads/main"], cwd=remote)
    tagged = tmp_path / "tagged-clone"
    run(["git", "clone", "-q", str(remote), str(tagged)])
    assert main(["init", str(tagged)]) == 2
    assert run(["git", "tag"], cwd=tagged).stdout.split() == ["v0.1.0"]


def test_init_taken_back_removes_what_it_made_and_only_that(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The folders init created above the home went too; a file someone wrote into a folder that was
    # there stays; a second Ctrl-C while the home is taken away does not stop that half-way (a home
    # with no commit was left, which `init` then adopted).
    from generator.plumbing.transaction import fault_hook

    empty = tmp_path / "empty"
    empty.mkdir()

    def refused(point: str, details: Mapping[str, Any]) -> None:
        if point == "init.record":
            (details["root"] / "my-notes.txt").write_text("mine\n")
            raise KeyboardInterrupt

    real_rmtree = shutil.rmtree

    def interrupted_again(path: Any, *args: Any, **kwargs: Any) -> None:
        terminate_self()  # held until the home is gone
        real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", interrupted_again)
    with fault_hook(refused):
        assert main(["init", str(tmp_path / "a" / "b" / "kb")]) == 130
        assert main(["init", str(empty)]) == 130
    assert capsys.readouterr().err == "scaffold: interrupted; nothing partial was left behind\n" * 2
    assert sorted(path.name for path in tmp_path.iterdir()) == ["empty"]
    assert sorted(path.name for path in empty.iterdir()) == ["my-notes.txt"]


def test_init_on_a_disk_that_fills_up_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    # `ulimit -f` (or a full disk) while the bundled home is copied: copytree's gathered errors were an
    # internal error of 12 KB, and a single file's blamed the bundled source.
    script = (
        "import resource, sys\n"
        "from generator.cli import main\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))\n"
        "sys.exit(main(['init', sys.argv[1]]))\n"
    )
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    target = tmp_path / "kb"
    result = subprocess.run(
        [sys.executable, "-c", script, str(target)], capture_output=True, text=True, cwd=REPO_ROOT, env=env, check=False
    )
    assert result.returncode == 5, result.stderr
    assert result.stderr.startswith(f"scaffold: error: cannot write the knowledge home in {target}: ")
    assert "File too large" in result.stderr and result.stderr.count("\n") == 1 and len(result.stderr) < 400
    # Told by the copy's errno, not by words of its reason, which are in the user's language.
    assert "check that the disk has room and that no file-size limit (ulimit -f) stops it" in result.stderr
    assert not target.exists() and not (tmp_path / "config").exists()


def test_init_on_a_full_disk_is_told_by_errno_in_any_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file of a folder copytree copies: its error reached init as text only, whose words were matched
    # ("No space"), and in German the advice was to check the folder could be written.
    real = shutil.copy2

    def full(source: Any, target: Any, **kwargs: Any) -> Any:
        if "/context/" in str(target):
            raise OSError(errno.ENOSPC, "Auf dem Gerät ist kein Speicherplatz mehr verfügbar", str(target))
        return real(source, target, **kwargs)

    monkeypatch.setattr(shutil, "copy2", full)
    target = tmp_path / "kb"
    assert main(["init", str(target)]) == 5
    assert capsys.readouterr().err == (
        f"scaffold: error: cannot write the knowledge home in {target}: Auf dem Gerät ist kein Speicherplatz mehr "
        "verfügbar; check that the disk has room and that no file-size limit (ulimit -f) stops it, then run "
        "scaffold init again\n"
    )
    assert not target.exists()


def test_an_interrupt_between_the_work_and_its_report_still_names_what_exists(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Landing once the transaction was over, before the report began, it said "nothing partial was left
    # behind" of a written decision.
    from generator.cli import report

    def interrupted(*args: Any, **kwargs: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "reporting", interrupted)
    assert main(["new-decision", "Use Kafka"]) == 130
    [made] = (home / "context" / "decisions").glob("*-use-kafka.md")
    assert capsys.readouterr().err == f"scaffold: interrupted; {made} was written; edit it, then commit it in {home}\n"


def test_decisions_made_at_once_get_numbers_of_their_own(home: Path) -> None:
    # Made at once (an assistant writing decisions in parallel), they shared numbers: only the same name was
    # refused. Each run here takes a second between choosing its number and writing it.
    script = (
        "import sys, time\n"
        "from generator.cli import main\n"
        "from generator.plumbing.transaction import fault_hook\n"
        "def slow(point, details):\n"
        "    if point == 'document.write':\n"
        "        time.sleep(1)\n"
        "with fault_hook(slow):\n"
        "    sys.exit(main(['new-decision', sys.argv[1], '--home', sys.argv[2]]))\n"
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, f"Parallel choice {number}", str(home)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for number in range(3)
    ]
    assert [run.wait(timeout=120) for run in runs] == [0] * 3
    numbers = [path.name[:4] for path in (home / "context" / "decisions").glob("*-parallel-choice-*.md")]
    assert len(numbers) == 3 and len(set(numbers)) == 3, numbers


@pytest.mark.parametrize("linked", ["context/decisions", "context"])
def test_a_documents_folder_that_is_a_link_is_not_written_through(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], linked: str
) -> None:
    # The decision landed where the link led, out of the home's repository, and `context` never read it.
    elsewhere = tmp_path / "elsewhere"
    (home / linked).rename(elsewhere)
    (home / linked).symlink_to(elsewhere)
    before = sorted(path.name for path in elsewhere.rglob("*"))
    assert main(["new-decision", "Use Kafka"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"scaffold: error: {home / linked} is a symbolic link; scaffold never writes through links: "
        "replace it with the folder it points to (or a copy of it)\n"
    )
    assert sorted(path.name for path in elsewhere.rglob("*")) == before


def test_a_decisions_folder_that_cannot_be_locked_is_written_unlocked(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # On NFS, `flock` needs a file open for writing, which a folder cannot be: every new decision failed.
    import fcntl

    def refused(fd: int, operation: int) -> None:
        raise OSError(errno.EBADF, "Bad file descriptor")

    monkeypatch.setattr(fcntl, "flock", refused)
    assert main(["new-decision", "Use Kafka"]) == 0
    assert capsys.readouterr().out.strip().endswith("-use-kafka.md")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize(
    "argv", [["list"], ["--help"], ["--version"], ["context", "deploy"], ["new-decision", "Use Kafka"]]
)
def test_short_output_to_a_full_disk_is_one_line_with_exit_5(argv: list[str], tmp_path: Path) -> None:
    # Short enough to stay in the buffer until the run's last flush; left to the interpreter, exit 120.
    with Path("/dev/full").open("w") as full:
        result = _run_scaffold(argv, full, tmp_path)
    assert result.returncode == 5, result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"scaffold: error: cannot write the output: No space left on device; the command itself finished ({_FULL_DISK})"
    )
    assert "Exception ignored" not in result.stderr and "Traceback" not in result.stderr
    if argv[0] == "new-decision":  # it did finish: the decision is written, once
        assert len(list((tmp_path / "home" / "context" / "decisions").glob("*-use-kafka.md"))) == 1


# A command that printed, then failed: its error is the one said, and what it printed is not retried at exit.
_PRINTS_THEN_FAILS = """
import sys
from generator.cli import knowledge
from generator.errors import ScaffoldError
def failing(args):
    print("partial output")
    raise ScaffoldError("the home is broken")
knowledge._context = failing
from generator.cli import main
sys.exit(main())
"""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_an_error_after_output_to_a_full_disk_is_that_error_alone() -> None:
    with Path("/dev/full").open("w") as full:
        result = _run_scaffold(["context", "a task"], full, code=_PRINTS_THEN_FAILS)
    assert (result.returncode, result.stderr) == (2, "scaffold: error: the home is broken\n")


@pytest.mark.parametrize(
    "argv", [["list"], ["--version"], [], ["context", "deploy"], ["context", "deploy", "--explain"]]
)
def test_a_closed_stdout_is_output_not_written(argv: list[str], tmp_path: Path) -> None:
    # `scaffold context deploy >&-` printed its prompt nowhere (Python's stdout is None, and print says
    # nothing) and exited 0: as for a full disk, the line says so, exit 5. A usage error keeps its code.
    result = _run_scaffold(argv, None, tmp_path, closed_stdout=True)
    assert result.returncode == (2 if not argv else 5), result.stderr
    if argv:
        assert result.stderr.endswith(
            "scaffold: error: cannot write the output: standard output is closed; the command itself finished "
            "(check where the output is redirected)\n"
        )
    else:  # the usage, where errors go: exit 2 with nothing said is no answer
        assert result.stderr.startswith("usage: scaffold")
    assert "internal error:" not in result.stderr
    assert "Exception" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("argv", [["context", "deploy"], ["context", "--json", "deploy"], ["new-decision", "X"]])
def test_a_closed_stderr_keeps_its_lines_out_of_the_output(argv: list[str], tmp_path: Path) -> None:
    # `2>&-`: Python has no sys.stderr, and print(..., file=None) wrote the notes into the prompt and the JSON.
    env = {**_environment(), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env["SCAFFOLD_HOME"] = str(make_home(tmp_path / "home"))
    program = ["sh", "-c", 'exec "$0" "$@" 2>&-', sys.executable, "-m", "generator", *argv]
    result = subprocess.run(program, capture_output=True, text=True, cwd=REPO_ROOT, env=env, check=False)
    assert result.returncode == 0
    assert "scaffold:" not in result.stdout
    if "--json" in argv:
        assert json.loads(result.stdout)["documents"]
    elif argv[0] == "new-decision":
        assert result.stdout.strip().endswith("-x.md") and result.stdout.count("\n") == 1


def test_a_closed_stdout_is_not_a_file_scaffold_opens(tmp_path: Path) -> None:
    # The next file opened took number 1, and what a child printed (git, run without capturing) went into it.
    seen = tmp_path / "seen"
    code = (
        "import atexit, os, subprocess, sys\n"
        "def look():\n"
        f"    with open({str(tmp_path / 'data')!r}, 'w') as handle:\n"
        "        number = handle.fileno()\n"
        "        subprocess.run(['echo', 'from a child'], check=True)\n"
        f"    with open({str(seen)!r}, 'w') as out:\n"
        f"        out.write(repr((number, open({str(tmp_path / 'data')!r}).read())))\n"
        "atexit.register(look)\n"
        "sys.argv = ['scaffold', '--version']\n"
        "from generator.__main__ import run\n"
        "run()\n"
    )
    result = _run_scaffold([], None, closed_stdout=True, code=code)
    assert result.returncode == 5, result.stderr  # the version could not be printed: said, as on a full disk
    assert seen.read_text() == "(3, '')"


def test_output_to_a_stdout_that_cannot_be_written_says_where_to_look(tmp_path: Path) -> None:
    # `scaffold list 1</dev/null`: stdout open for reading only.
    with Path(os.devnull).open() as read_only:
        result = _run_scaffold(["list"], read_only)
    assert (result.returncode, result.stderr) == (
        5,
        "scaffold: error: cannot write the output: Bad file descriptor; the command itself finished "
        "(check where the output is redirected)\n",
    )
    # A prompt too long for the buffer is written mid-command: that was an internal error.
    with Path(os.devnull).open() as read_only:
        result = _run_scaffold(["context", "deploy the service " * 1000], read_only, tmp_path)
    assert result.returncode == 5, result.stderr
    assert result.stderr.endswith(
        "scaffold: error: cannot write the output: Bad file descriptor (check where the output is redirected)\n"
    )


@pytest.mark.skipif(not Path("/proc/self/wchan").exists(), reason="needs Linux's /proc/PID/wchan")
def test_an_interrupt_while_the_output_waits_on_a_full_pipe_says_the_command_finished() -> None:
    # `scaffold list | slow-reader`, and Ctrl-C while the last flush waits for the reader: exit 130, said.
    import fcntl

    read, write = os.pipe()
    fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, 4096)
    os.write(write, b"x" * 3500)  # room for less than --help's 2 KB
    command = [sys.executable, "-m", "generator", "--help"]
    process = subprocess.Popen(
        command, stdout=write, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT, env=_environment()
    )
    os.close(write)
    try:
        wchan = Path(f"/proc/{process.pid}/wchan")
        deadline = time.monotonic() + 60
        while "pipe_write" not in wchan.read_text() and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        os.close(read)
    assert (process.returncode, err) == (
        130,
        "scaffold: interrupted while writing the output; the command itself finished\n",
    )


@pytest.mark.parametrize("argv", [["list"], ["--help"]])
def test_short_output_to_a_closed_pipe_ends_quietly(argv: list[str]) -> None:
    # `scaffold list | head -0`: the reader wanted nothing more, which is no error.
    read, write = os.pipe()
    os.close(read)
    try:
        result = _run_scaffold(argv, write)
    finally:
        os.close(write)
    assert (result.returncode, result.stderr) == (0, "")


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from generator.cli import main\n"
        "for argv in (['--help'], ['context', '--help'], ['init', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "import generator.context.api, generator.context.home\n"
        "heavy = ('bm25s', 'numpy', 'Stemmer', 'detect_secrets', 'copier', 'anthropic')\n"
        "print([name for name in heavy if name in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert "--exact-tokens" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_explain_says_why_each_document_was_kept_and_what_was_cut(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = context(capsys, "--explain", "rotate the gateway TLS certificate")
    assert code == 0
    assert out.startswith("kind: general (no keyword matched; default kind 'general')\n")
    assert "runbooks/rotate-certificates.md :: Rotate TLS certificates > Steps  (BM25 rank 1 (score" in out
    assert "ranked documents (best section + half the second best):" in out
    assert "cut: score" in out
    assert "You are helping" not in out
    # What was asked for and is not there: no size, and its section said once.
    (home / "context" / "runbooks" / "deploy.md").unlink()
    code, out, _ = context(capsys, "--explain", "--kind", "deploy", "release the gateway")
    assert "\nleft out:\n       -  runbooks/deploy.md  (listed for kind 'deploy' but missing)\n" in out


def test_an_unknown_project_is_a_warning_listing_the_known_ones(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = context(capsys, "--json", "--project", "nope", "add an endpoint")
    assert code == 0
    assert "warning: unknown project 'nope': no project-contexts/nope.md (known projects: billing-api)" in err
    # Another case: the one project it can mean, with a note, not a warning and no project context.
    code, out, err = context(capsys, "--json", "--project", "BILLING-API", "add an endpoint")
    data = json.loads(out)
    assert code == 0 and "warning" not in err and 'project="billing-api"' in data["prompt"]
    assert "project 'BILLING-API' taken for 'billing-api' (project-contexts/billing-api.md)" in data["notes"]
    assert [d["reason"] for d in data["documents"] if d["path"] == "project-contexts/billing-api.md"] == [
        "project context for 'billing-api'"
    ]
    # So for a task that carries its project (the fill step's, a library caller's).
    from generator.context.select import Task

    result = api.build_context(Task("add an endpoint", project="Billing-Api"), home=home)
    assert "project-contexts/billing-api.md" in {document.path for document in result.documents}
    assert "project 'Billing-Api' taken for 'billing-api' (project-contexts/billing-api.md)" in result.notes


def test_a_project_named_in_the_task_brings_its_context(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = context(capsys, "--explain", "why is billing-api slow")
    assert "project: billing-api (named in the task)" in out
    assert "project-contexts/billing-api.md :: billing-api  (project context for 'billing-api')" in out
    assert "kind: general" in out or "kind: debug" in out  # "api" in the name is not the api kind


def test_a_home_without_context_yml_uses_the_bundled_kinds_with_one_note(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (home / "context" / "context.yml").unlink()
    code, out, err = context(capsys, "--json", "Terraform module for an S3 bucket")
    assert code == 0
    data = json.loads(out)
    assert data["kind"] == "infra"
    assert err.count("note:") == 1 and "context.yml does not exist; using the bundled kinds and keywords" in err
    assert data["warnings"] == []  # the bundled map's documents this home lacks are skipped quietly
    assert any(d["path"] == "style.md" for d in data["documents"]) is False  # "Terraform and HCL" is not here


def test_explain_shows_a_heading_holding_a_terminal_escape_escaped(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (home / "context" / "runbooks" / "zeta.md").write_text(
        "# Zeta \x1b[2J\x1b[31mrunbook\n\nZeta failover steps for the zeta cluster.\n", encoding="utf-8"
    )
    code, out, _ = context(capsys, "--explain", "zeta failover")
    assert code == 0 and "zeta.md" in out
    assert "\x1b" not in out and "Zeta \\x1b[2J\\x1b[31mrunbook" in out


@pytest.mark.parametrize("closed", ["stdin", "stdout"])
def test_a_closed_stream_is_no_terminal(closed: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # `scaffold new-service demo <&-`: no one to ask (it asked stdin whether it was a terminal: internal error).
    from generator.cli.prompts import has_terminal

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr(sys, "stdout", Terminal())
    assert has_terminal()
    monkeypatch.setattr(sys, closed, None)
    assert not has_terminal()
