"""`scaffold doctor`: required parts fail it with the documented codes, optional ones only warn, the key
never shows, `--online` asks the (fake) API, and nothing on disk changes."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import __version__, settings
from generator.cli import main
from generator.doctor import diagnose
from generator.errors import ExitCode
from generator.template import source
from tests.fakeapi import COUNT_TOKENS_PATH, FakeAnthropic
from tests.fillfakes import KEY
from tests.helpers import GIT_IDENTITY, REPO_ROOT, run, tree_snapshot
from tests.test_context_fixtures import read_limits

Cli = Callable[..., tuple[int, str, str]]

EVERY_CHECK = [
    "git",
    "git identity",
    "user config",
    "config folder",
    "data folder",
    "cache folder",
    "bundled templates",
    "template source",
    "knowledge home",
    "ruff",
    "shellcheck",
    "bash",
    "terraform",
    "python-hcl2",
    "checkov",
    "mypy",
    "'ai' part",
    "'mcp' part",
    "AI settings",
    "API key",
]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(["doctor", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def checks_of(out: str) -> dict[str, dict[str, Any]]:
    report = json.loads(out)
    return {check["name"]: check for check in report["checks"]}


def test_a_healthy_machine_passes_and_says_so(cli: Cli) -> None:
    code, out, err = cli()
    assert code == ExitCode.OK, out
    assert "Ready: every required part is fine" in out
    assert out.startswith(f"Checking scaffold {__version__} (Python ")
    assert err == ""


def test_json_is_one_object_with_every_check(cli: Cli) -> None:
    code, out, _ = cli("--json")
    report = json.loads(out)
    assert code == report["exit_code"] == ExitCode.OK
    assert report["ok"] is True and report["scaffold"] == __version__
    assert [check["name"] for check in report["checks"]] == EVERY_CHECK
    for check in report["checks"]:
        assert set(check) == {"name", "status", "detail", "fix", "required", "fault"}
        assert check["status"] in {"ok", "warn", "fail"} and check["detail"]
    required = [check["name"] for check in report["checks"] if check["required"]]
    assert required == ["git", "user config", "template source", "knowledge home"]


def test_every_checker_of_the_fill_step_is_listed() -> None:
    from generator.fill.validate import available_tools

    names = {check.name for check in diagnose().checks}
    assert set(available_tools()) <= names


def test_without_git_it_names_git_and_exits_5(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, out, _ = cli()
    assert code == ExitCode.EXTERNAL
    assert "FAIL  git " in out
    assert "scaffold needs git 2.27 or newer on PATH, and there is none" in out
    assert "Not ready: git failed" in out
    code, out, _ = cli("--json")
    git = checks_of(out)["git"]
    assert (code, git["status"], git["fault"]) == (ExitCode.EXTERNAL, "fail", "environment")
    assert "install git" in git["fix"]


def test_an_old_git_is_named_with_its_version(tmp_path: Path) -> None:
    # A subprocess: git's version is read once per process.
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    git = fake_bin / "git"
    git.write_text("#!/bin/sh\necho 'git version 2.20.1'\n")
    git.chmod(0o755)
    env = {**os.environ, "PATH": str(fake_bin)}
    result = run([sys.executable, "-m", "generator", "doctor", "--json"], env=env, cwd=tmp_path, check=False)
    assert result.returncode == ExitCode.EXTERNAL, result.stderr
    assert checks_of(result.stdout)["git"]["detail"] == "scaffold needs git 2.27 or newer on PATH, and found git 2.20"


def test_a_broken_user_config_fails_naming_the_file(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "broken.yml"
    config.write_text("templates: [unclosed\n")
    monkeypatch.setenv("SCAFFOLD_CONFIG", str(config))
    code, out, _ = cli()
    assert code == ExitCode.USAGE
    assert "FAIL  user config" in out and str(config) in out
    assert "not checked: the user config must be fixed first" in out
    code, out, _ = cli("--json")
    checks = checks_of(out)
    assert code == ExitCode.USAGE
    assert str(config) in checks["user config"]["detail"] and str(config) in checks["user config"]["fix"]
    assert checks["template source"]["status"] == "fail"
    assert [check["name"] for check in json.loads(out)["checks"]] == EVERY_CHECK


def test_an_unknown_config_key_warns_with_the_likely_one(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.yml"
    config.write_text("templats: gh:acme/templates\nmodel: claude-sonnet-5-5\n")
    monkeypatch.setenv("SCAFFOLD_CONFIG", str(config))
    code, out, _ = cli("--json")
    user_config = checks_of(out)["user config"]
    assert code == ExitCode.OK
    assert user_config["status"] == "warn"
    assert "templats" in user_config["detail"] and "did you mean 'templates'?" in user_config["detail"]


def test_a_missing_template_source_fails_with_the_setting_to_fix(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCAFFOLD_TEMPLATES", str(tmp_path / "nowhere"))
    code, out, _ = cli("--json")
    check = checks_of(out)["template source"]
    assert code == ExitCode.USAGE
    assert check["status"] == "fail" and "does not exist" in check["detail"]
    assert "SCAFFOLD_TEMPLATES" in check["fix"]


def test_a_template_source_with_credentials_in_its_url_is_shown_without_them(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "ghp_" + "Zq7" * 12
    monkeypatch.setenv("SCAFFOLD_TEMPLATES", f"https://ci:{token}@127.0.0.1:9/team-home.git")  # refused at once
    code, out, err = cli()
    assert code == ExitCode.USAGE
    assert "https://ci@127.0.0.1:9/team-home.git" in out and token not in out + err


def test_a_home_without_context_fails(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAFFOLD_HOME", str(tmp_path))
    code, out, _ = cli("--json")
    check = checks_of(out)["knowledge home"]
    assert code == ExitCode.USAGE
    assert check["status"] == "fail" and "no context/ folder" in check["detail"]
    assert "SCAFFOLD_HOME" in check["fix"]


def test_where_a_setting_was_set_is_worded_once_for_every_origin() -> None:
    config = settings.user_config_path()
    assert [settings.HOME.where(origin) for origin in ("flag", "env", "config", "default")] == [
        "--home",
        "$SCAFFOLD_HOME",
        "'home' in the user config",
        "the default",
    ]
    assert [settings.HOME.fix(origin) for origin in ("flag", "env", "config")] == [
        "pass another value to --home",
        "fix or unset $SCAFFOLD_HOME",
        f"fix or remove 'home' in the user config ({config})",
    ]
    assert settings.API_KEY.where_to_set() == "$ANTHROPIC_API_KEY or 'anthropic_api_key' in the user config"


@pytest.mark.parametrize("origin", ["env", "config"])
def test_a_setting_is_named_and_fixed_in_the_same_words_wherever_it_was_set(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, origin: str
) -> None:
    # One wording for where a setting came from (`Setting.where`), in the detail and in the fix.
    nowhere = str(tmp_path / "nowhere")
    config = tmp_path / "config.yml"
    if origin == "env":
        monkeypatch.setenv("SCAFFOLD_HOME", nowhere)
        named, fix = "$SCAFFOLD_HOME", "fix or unset $SCAFFOLD_HOME"
    else:
        config.write_text(yaml.safe_dump({"home": nowhere}), encoding="utf-8")
        monkeypatch.setenv("SCAFFOLD_CONFIG", str(config))
        named, fix = "'home' in the user config", f"fix or remove 'home' in the user config ({config})"
    code, out, _ = cli("--json")
    checks = checks_of(out)
    assert code == ExitCode.USAGE
    assert checks["knowledge home"]["detail"].startswith(f"{nowhere} (from {named}) does not exist")
    # A home moved from where the config records it: `init` records it where it is now.
    moved = "`scaffold init NEW-PLACE` records a home that is there, or "
    assert checks["knowledge home"]["fix"] == (moved if origin == "config" else "") + fix
    if origin == "config":  # a file, not a home moved: no home there for init to record
        config.write_text(yaml.safe_dump({"home": str(config)}), encoding="utf-8")
        assert checks_of(cli("--json")[1])["knowledge home"]["fix"] == fix
    # The templates come from that home too: named the same way, and fixed there.
    assert f"(from the knowledge home set by {named}) does not exist" in checks["template source"]["detail"]
    assert checks["template source"]["fix"].startswith(fix)


def init_home(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """`scaffold init` of a home at tmp_path/home, its output taken."""
    home = tmp_path / "home"
    assert main(["init", str(home)]) == 0
    capsys.readouterr()
    return home


def test_a_home_with_a_broken_context_map_fails_and_missing_documents_warn(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = init_home(tmp_path, capsys)
    context_map = home / "context" / "context.yml"
    code, out, _ = cli("--json")
    check = checks_of(out)["knowledge home"]
    assert (code, check["status"]) == (ExitCode.OK, "ok")
    assert str(home) in check["detail"] and "documents" in check["detail"]

    (home / "context" / "architecture.md").unlink()
    code, out, _ = cli("--json")
    check = checks_of(out)["knowledge home"]
    assert (code, check["status"]) == (ExitCode.OK, "warn")
    assert "architecture.md" in check["detail"]

    context_map.write_text("version: 1\ncore: [patterns.md\n")
    code, out, _ = cli("--json")
    check = checks_of(out)["knowledge home"]
    assert (code, check["status"]) == (ExitCode.USAGE, "fail")
    assert str(context_map) in check["detail"]

    # No context.yml at all is how `scaffold context` works with another team's home: the bundled
    # kinds apply, and the documents they list that the home lacks (architecture.md) are skipped.
    context_map.unlink()
    code, out, _ = cli("--json")
    check = checks_of(out)["knowledge home"]
    assert (code, check["status"]) == (ExitCode.OK, "ok"), check
    assert "no context.yml, so the bundled kinds and keywords apply" in check["detail"]


def test_a_context_map_that_reads_as_meant_but_does_nothing_warns(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Each passed validation and `scaffold context` said nothing of it on a run of another kind.
    home = init_home(tmp_path, capsys)
    context_map = home / "context" / "context.yml"
    text = context_map.read_text(encoding="utf-8")
    changed = (
        text.replace("folders: [decisions, incidents, runbooks,", "folders: [decisions, incidents, runbook,")
        .replace("      - style.md#Python\n", "      - style.md#Pyhton\n", 1)
        .replace("  - patterns.md\n", "  - patterns.md#Monee and amounts\n  - patterns.md\n", 1)
    )
    changed += "  migration:\n    documents: [runbooks/]\n    core_sections: [migratoin*]\n"
    assert changed.count("runbook,") == 1 and "Pyhton" in changed and "Monee" in changed
    context_map.write_text(changed, encoding="utf-8")
    code, out, _ = cli("--json")
    check = checks_of(out)["knowledge home"]
    assert (code, check["status"]) == (ExitCode.OK, "warn")
    detail = check["detail"]
    assert (
        "sections named that their documents do not have: context.yml:19: core: patterns.md#Monee and amounts; "
        in detail
    )
    assert "kinds.service.documents: style.md#Pyhton" in detail
    assert "ranking.folders names folders context/ does not have: runbook (did you mean 'runbooks'?);" in detail
    assert (
        "core_sections that match no heading of the core documents: kinds.migration.core_sections (migratoin*)"
        in detail
    )
    assert detail.endswith("kinds without keywords, so only --kind reaches them: migration")
    # A kind a template of the source is named after is reached by it; the bundled map's wide net of
    # patterns (`microservice*`, `hcl`) is no mistake while each kind matches some heading; a ranking
    # folder not there yet (git keeps no empty folder) is none either.
    context_map.write_text(
        text.replace("runbooks, anti-patterns]", "runbooks, anti-patterns, postmortems]")
        + "  service-two:\n    core_sections: [migration*]\n",
        encoding="utf-8",
    )
    shutil.copytree(home / "templates" / "service", home / "templates" / "service-two")
    with (home / "context" / "patterns.md").open("a", encoding="utf-8") as handle:
        handle.write("\n## Migrations\n\nOne per release.\n")
    run(["git", "add", "-A"], cwd=home)
    run(["git", *GIT_IDENTITY, "commit", "-qm", "a template of our own"], cwd=home)
    code, out, _ = cli("--json")
    assert checks_of(out)["knowledge home"]["status"] == "ok", checks_of(out)["knowledge home"]


def test_decisions_sharing_a_number_after_a_merge_warn(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = init_home(tmp_path, capsys)
    decisions = home / "context" / "decisions"
    # Two branches each wrote the next decision; a dated incident and an unnumbered file are no numbers.
    (decisions / "0012-adopt-kafka.md").write_text("# 0012. Adopt Kafka\n")
    (decisions / "0012-drop-redis.md").write_text("# 0012. Drop Redis\n")
    (home / "context" / "incidents" / "2024-05-02-outage.md").write_text("# Outage\n")
    (home / "context" / "incidents" / "2024-06-09-outage.md").write_text("# Outage\n")
    (home / "context" / "incidents" / "2024-05-checkout.md").write_text("# Checkout\n")
    (home / "context" / "incidents" / "2024-06-dns.md").write_text("# DNS\n")
    (home / "context" / "incidents" / "20240502-a.md").write_text("# A\n")
    (home / "context" / "incidents" / "20240502-b.md").write_text("# B\n")
    code, out, _ = cli("--json")
    check = checks_of(out)["knowledge home"]
    assert (code, check["status"]) == (ExitCode.OK, "warn"), check
    assert (
        'decisions/0012-adopt-kafka.md and decisions/0012-drop-redis.md share a number, so "ADR 12" refers to neither'
    ) in check["detail"]
    assert "incidents/2024" not in check["detail"] and "more number" not in check["detail"], "dates are no numbers"
    assert "git mv" in check["fix"]

    # An incident's number is named as references name it; a file skipped does not hide either.
    (home / "context" / "incidents" / "0003-cache-stampede.md").write_text("# Cache stampede\n")
    (home / "context" / "incidents" / "3-cdn-outage.md").write_text("# CDN outage\n")
    (home / "context" / "runbooks" / "gone.md").symlink_to(tmp_path / "nowhere.md")
    code, out, _ = cli("--json")
    check = checks_of(out)["knowledge home"]
    assert "1 skipped, first: skipped runbooks/gone.md: a broken symlink" in check["detail"]
    assert '"ADR 12" refers to neither (1 more number shared)' in check["detail"]
    assert check["fix"].startswith("fix or remove those files; renumber all but one")
    (home / "context" / "runbooks" / "gone.md").unlink()
    (decisions / "0012-drop-redis.md").rename(decisions / "0013-drop-redis.md")
    code, out, _ = cli("--json")
    check = checks_of(out)["knowledge home"]
    assert (
        'incidents/0003-cache-stampede.md and incidents/3-cdn-outage.md share a number, so "incident 3"'
        in (check["detail"])
    )

    (home / "context" / "incidents" / "3-cdn-outage.md").rename(home / "context" / "incidents" / "0004-cdn.md")
    code, out, _ = cli("--json")
    assert checks_of(out)["knowledge home"]["status"] == "ok"


def test_a_key_pasted_as_the_model_is_a_warning_that_does_not_show_it(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-ant-api03-" + "Qx7Lm2Vb9Rt4Yk8Np3Hd6Wc1Zf5Gj0Sa"
    monkeypatch.setenv("SCAFFOLD_MODEL", key)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    code, out, err = cli("--json", "--online")
    checks = checks_of(out)
    assert code == ExitCode.OK and checks["AI settings"]["status"] == "warn"
    assert "$SCAFFOLD_MODEL looks like an API key" in checks["AI settings"]["detail"]
    assert checks["API"]["detail"].startswith("not checked: the model setting")
    assert key not in out + err
    code, out, err = cli()
    assert code == ExitCode.OK and key not in out + err


def test_a_broken_context_map_quoting_a_secret_is_reported_redacted(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The error quotes the home's own words (here a name pasted from a token); it is printed by
    # doctor and by every `scaffold context`, and pasted into issues and CI logs.
    token = "ghp_" + "x7Kq2Lm9Vb00mQ7tRzx9Pw4Yc8Nd3Ha5Jf6S"
    home = tmp_path / "home"
    shutil.copytree(REPO_ROOT / "context", home / "context")
    with (home / "context" / "context.yml").open("a", encoding="utf-8") as stream:
        stream.write(f"  rotate:\n    documents: ['runbooks/{token}.txt']\n")
    monkeypatch.setenv("SCAFFOLD_HOME", str(home))
    code, out, err = cli("--json")
    check = checks_of(out)["knowledge home"]
    assert (code, check["status"]) == (ExitCode.USAGE, "fail")
    assert "kinds.rotate.documents[0]: '[REDACTED: " in check["detail"] and token not in out + err
    assert "must be a markdown file" in check["detail"]
    assert main(["context", "rotate the deploy key"]) == ExitCode.USAGE
    out, err = capsys.readouterr()
    assert "kinds.rotate.documents[0]: '[REDACTED: " in err and token not in out + err

    # PyYAML's own loader (no libyaml here) quotes the text in its errors.
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    with (home / "context" / "context.yml").open("a", encoding="utf-8") as stream:
        stream.write(f"extra: *{token}\n")
    assert main(["context", "rotate the deploy key"]) == ExitCode.USAGE
    out, err = capsys.readouterr()
    assert "invalid YAML: found undefined alias '[REDACTED: " in err and token not in out + err


def test_many_documents_sharing_a_number_are_named_five_at_a_time(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A migration that numbered every decision 0001 gives thousands: one line names the first five.
    home = init_home(tmp_path, capsys)
    for letter in "abcdefg":
        (home / "context" / "decisions" / f"0040-{letter}.md").write_text(f"# 0040. {letter}\n")
    code, out, _ = cli("--json")
    detail = checks_of(out)["knowledge home"]["detail"]
    first = " and ".join(f"decisions/0040-{letter}.md" for letter in "abcde")
    assert f'{first} and 2 more share a number, so "ADR 40" refers to neither' in detail
    assert "0040-f.md" not in detail


def test_a_document_scaffold_context_cannot_read_is_reported(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Listed, but skipped once read: doctor reads each document as `scaffold context` does, and says so.
    home = init_home(tmp_path, capsys)
    (home / "context" / "runbooks" / "legacy.md").write_bytes("# Caf\u00e9 runbook\n".encode("latin-1"))
    code, out, _ = cli("--json")
    check = checks_of(out)["knowledge home"]
    assert (code, check["status"]) == (ExitCode.OK, "warn"), check
    reason = (
        "skipped runbooks/legacy.md: not UTF-8 text (byte 0xe9 at offset 5); "
        "convert it from the encoding it was saved in, e.g. `iconv -f WINDOWS-1252 -t UTF-8 FILE > FILE.utf8`"
    )
    assert f"1 skipped, first: {reason}" in check["detail"]
    assert check["fix"] == "fix or remove those files"
    assert main(["context", "roll back a release"]) == 0
    assert reason in capsys.readouterr().err  # the same words as the run that skips it


def test_a_file_too_large_to_be_a_document_is_reported_as_cut_without_reading_it_whole(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.context import sections

    home = init_home(tmp_path, capsys)
    largest = max(path.stat().st_size for path in (home / "context").rglob("*.md"))
    (home / "context" / "runbooks" / "export.md").write_text("# Export\n\n" + "x" * (largest - 10) + "\n")
    monkeypatch.setattr(sections, "MAX_DOCUMENT_BYTES", largest)
    limits = read_limits(monkeypatch, "runbooks/export.md")
    code, out, _ = cli("--json")
    check = checks_of(out)["knowledge home"]
    assert (code, check["status"]) == (ExitCode.OK, "warn"), check
    over = f"1 cut short, first: runbooks/export.md is {largest + 1:,} bytes, over the {largest:,} bytes"
    assert over in check["detail"] and "skipped" not in check["detail"]
    assert check["fix"] == "split those files, or move them out"
    # Read up to one byte past the limit (the one that tells it is over), not whole.
    assert limits == [largest + 1]


def test_a_key_in_the_environment_is_reported_and_never_shown(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    code, out, err = cli()
    assert code == ExitCode.OK
    assert "set, from $ANTHROPIC_API_KEY" in out
    json_code, json_out, json_err = cli("--json")
    assert checks_of(json_out)["API key"]["status"] == "ok"
    for text in (out, err, json_out, json_err):
        assert KEY not in text and KEY[:12] not in text and KEY[-12:] not in text


def test_a_key_in_a_config_others_can_read_warns(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.yml"
    config.write_text(f"anthropic_api_key: {KEY}\n")
    config.chmod(0o644)
    monkeypatch.setenv("SCAFFOLD_CONFIG", str(config))
    code, out, err = cli("--json")
    check = checks_of(out)["API key"]
    assert (code, check["status"]) == (ExitCode.OK, "warn")
    assert f"chmod 600 {config}" == check["fix"]
    config.chmod(0o600)
    code, out2, err2 = cli("--json")
    assert checks_of(out2)["API key"]["status"] == "ok"
    for text in (out, err, out2, err2):
        assert KEY not in text


def test_online_against_the_fake_api_says_it_answers(cli: Cli, fake: FakeAnthropic) -> None:
    code, out, err = cli("--online", "--json")
    api = checks_of(out)["API"]
    assert code == ExitCode.OK
    assert api["status"] == "ok" and api["detail"].startswith(f"{fake.base_url} answered")
    assert [(request.method, request.path) for request in fake.requests] == [("POST", COUNT_TOKENS_PATH)]
    sent = fake.requests[0].headers
    assert KEY in sent.get("x-api-key", "") + sent.get("authorization", "")
    assert KEY not in out + err


def test_online_against_a_closed_port_says_it_does_not_answer(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port now: the connection is refused at once, and the probe does not retry.
    monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    code, out, err = cli("--online")
    assert code == ExitCode.OK  # the API is optional: a warning
    assert "warn  API " in out and f"http://127.0.0.1:{port} did not answer" in out
    assert KEY not in out + err


def test_online_without_a_key_is_not_checked(cli: Cli) -> None:
    code, out, _ = cli("--online", "--json")
    assert code == ExitCode.OK
    assert checks_of(out)["API"]["detail"] == "not checked: no API key"


def test_an_unwritable_folder_warns(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    code, out, _ = cli("--json")
    check = checks_of(out)["cache folder"]
    assert code == ExitCode.OK
    assert check["status"] == "warn" and f"cannot write in {blocker}" in check["detail"]


def test_a_cache_other_users_can_write_warns_and_doctor_mends_nothing(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    (shared / "scaffold").mkdir(parents=True)
    (shared / "scaffold").chmod(0o775)  # the user's own: the next run makes it private, doctor leaves it
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared))
    assert checks_of(cli("--json")[1])["cache folder"]["status"] == "ok"
    assert (shared / "scaffold").stat().st_mode & 0o777 == 0o775
    shared.chmod(0o777)  # all can write above it, without the sticky bit: another user could replace it
    check = checks_of(cli("--json")[1])["cache folder"]
    assert check["status"] == "warn" and f"{shared} can be written by other users" in check["detail"]
    assert check["fix"] == "keep the cache in a folder only you can write"
    shared.chmod(0o755)
    if os.geteuid() == 0:  # the index's folder left by a run under sudo, in the user's own cache
        (shared / "scaffold" / "context-index").mkdir()
        os.chown(shared / "scaffold" / "context-index", 65534, 65534)
        check = checks_of(cli("--json")[1])["cache folder"]
        assert check["status"] == "warn" and "context-index belongs to another user" in check["detail"]


def test_doctor_changes_nothing_on_disk(
    cli: Cli, isolated_user_state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tree_snapshot(isolated_user_state)
    cli()
    cli("--json")
    assert tree_snapshot(isolated_user_state) == before

    # A home with warnings to redact: their names are scanned for secrets, and the redaction
    # cache read, never written (nor its folders made).
    home = tmp_path / "home"
    shutil.copytree(REPO_ROOT / "context", home / "context")
    with (home / "context" / "context.yml").open("a", encoding="utf-8") as stream:
        stream.write("  rotate:\n    documents: [runbooks/rotate-the-db-password-Xk29fQ7pLm.md]\n")
    monkeypatch.setenv("SCAFFOLD_HOME", str(home))
    state, knowledge = tree_snapshot(isolated_user_state), tree_snapshot(home)
    code, out, _ = cli("--json")
    assert checks_of(out)["knowledge home"]["status"] == "warn"
    cli()
    assert tree_snapshot(isolated_user_state) == state and tree_snapshot(home) == knowledge


@pytest.fixture
def wheel_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """scaffold as a wheel installs it: no checkout, the repository and its git bundle under the package's data."""
    data = tmp_path / "_data"
    data.mkdir()
    (data / "repo").symlink_to(REPO_ROOT, target_is_directory=True)
    (data / source.BUNDLE_NAME).write_bytes(b"a git bundle\n")
    monkeypatch.setattr(settings, "DATA_DIR", data)
    monkeypatch.setattr(settings, "checkout_root", lambda: None)
    return data


def _bundle_check() -> tuple[str, str, str]:
    check = next(check for check in diagnose().checks if check.name == "bundled templates")
    return check.status, check.detail, check.fix


def test_in_a_wheel_install_the_placed_bundle_is_checked_and_not_placed(wheel_install: Path) -> None:
    status, detail, fix = _bundle_check()
    assert (status, fix) == ("warn", "run 'scaffold list' once: it places the bundle")
    assert not source.installed_bundle().exists()
    template_source = next(check for check in diagnose().checks if check.name == "template source")
    assert template_source.status == "ok" and "the templates shipped with scaffold" in template_source.detail

    placed = source.ensure_bundle()
    assert _bundle_check() == ("ok", f"{placed}, placed by scaffold {__version__}", "")

    stamp = placed.with_name(source.BUNDLE_NAME + ".version")
    stamp.write_text("0.0.1\n")
    status, detail, fix = _bundle_check()
    assert status == "warn" and "placed by scaffold 0.0.1" in detail and "replaces" in fix
    stamp.write_text("99.0.0\n")
    status, detail, _ = _bundle_check()
    assert status == "ok" and "newer than this" in detail


def test_help_names_the_exit_codes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "generator", "doctor", "--help"], capture_output=True, text=True, check=True
    )
    assert "exit codes of doctor" in result.stdout and "--online" in result.stdout


def test_names_of_documents_are_redacted_as_scaffold_context_redacts_them(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A file named after a token (pasted as a name, or a runbook about that key) is shown redacted in
    # `scaffold context`; doctor shows the same names: a listed one missing, one skipped, one shared number.
    token = "ghp_" + "x7Kq2Lm9Vb00mQ7tRzx9Pw4Yc8Nd3Ha5Jf6S"
    aws = "AKIA" + "Z3QWERTY7UIOPLKJH"
    home = init_home(tmp_path, capsys)
    context = home / "context"
    with (context / "context.yml").open("a", encoding="utf-8") as stream:
        stream.write(f"  rotate:\n    documents: [runbooks/{token}.md]\n")
    (context / "runbooks" / f"old-{aws}.md").symlink_to(tmp_path / "nowhere.md")
    (context / "decisions" / f"0012-{aws}.md").write_text("# 0012. Keys\n")
    (context / "decisions" / "0012-drop-redis.md").write_text("# 0012. Drop Redis\n")
    stripe = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
    (context / "runbooks" / f"refunds-{stripe}.md").write_text("# Refunds\n\n" + "word " * 250_000)  # over 1 MB
    code, out, err = cli("--json")
    check = checks_of(out)["knowledge home"]
    assert (code, check["status"]) == (ExitCode.OK, "warn"), check
    assert token not in out + err and aws not in out + err and stripe not in out + err
    assert "1 cut short, first: [REDACTED: " in check["detail"]
    # Each problem is still said, with the name redacted as a whole (as a file name in `scaffold context`).
    detail = check["detail"]
    assert "names documents that are not there: [REDACTED: " in detail
    assert "1 skipped, first: skipped [REDACTED: " in detail and "]: a broken symlink" in detail
    assert "[REDACTED: " in detail.split("; ")[-1] and "decisions/0012-drop-redis.md share a number" in detail
    code, out, err = cli()
    assert "names documents that are not there: [REDACTED" in out
    assert token not in out + err and aws not in out + err and stripe not in out + err


def test_the_ai_settings_say_where_the_context_is_re_ranked(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCAFFOLD_RERANK")
    detail = checks_of(cli("--json")[1])["AI settings"]["detail"]
    assert detail.endswith("the context re-ranked by the model in the fill step, elsewhere with --rerank (the default)")
    monkeypatch.setenv("SCAFFOLD_RERANK", "0")
    detail = checks_of(cli("--json")[1])["AI settings"]["detail"]
    assert detail.endswith("the context re-ranked by the model only with --rerank ($SCAFFOLD_RERANK)")
    monkeypatch.setenv("SCAFFOLD_RERANK", "1")
    detail = checks_of(cli("--json")[1])["AI settings"]["detail"]
    assert detail.endswith("the context re-ranked by the model everywhere ($SCAFFOLD_RERANK)")
