"""Fills survive template updates: they are a commit of their own, which `copier update` keeps."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from generator.cli import main
from generator.fill.record import RECORD_FILE
from tests.fakeapi import FakeAnthropic, Recorded, Reply
from tests.fillfakes import requested
from tests.helpers import GIT_IDENTITY, GREET_TEMPLATE, init_template_repo, release_template, run

FAREWELL = """\
    {% from "includes/regions.jinja" import region %}
    def farewell() -> str:
    {% call region("farewell", "Say goodbye", indent="    ") %}
        return "bye"
    {% endcall %}
    """
MODEL_BODIES = {
    "app.py#greet": '    return "hello from the model"\n',
    "farewell.py#farewell": '    return "farewell from the model"\n',
}


def _model(request: Recorded) -> Reply:
    return Reply.message(json.dumps({key: MODEL_BODIES[key] for key in requested(request)}))


def test_copier_update_keeps_the_fills_and_fill_adds_new_regions(
    tmp_path: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.responder = _model
    includes = (Path(__file__).parent.parent / "includes" / "regions.jinja").read_text()
    repo = init_template_repo(
        tmp_path / "templates", {"includes/regions.jinja": includes, "templates/mini/app.py.jinja": GREET_TEMPLATE}
    )
    monkeypatch.chdir(tmp_path)

    # Generate with fills: the render and the fills are two commits.
    assert main(["new", "mini", "demo", "--defaults", "--templates", str(repo)]) == 0
    demo = tmp_path / "demo"
    assert 'return "hello from the model"' in (demo / "app.py").read_text()
    assert len(run(["git", "log", "--oneline"], cwd=demo).stdout.splitlines()) == 2

    # Release 1.1.0: the template changes outside the region and gains a file.
    release_template(
        repo,
        {
            "templates/mini/app.py.jinja": '"""The app."""\n\n' + textwrap.dedent(GREET_TEMPLATE),
            "templates/mini/CHANGELOG.md": "1.1.0\n",
        },
        "1.1.0",
    )
    copier = Path(sys.executable).with_name("copier")
    run([copier, "update", "--defaults"], cwd=demo)
    app = (demo / "app.py").read_text()
    assert app.startswith('"""The app."""')
    assert 'return "hello from the model"' in app
    assert (demo / "CHANGELOG.md").is_file()
    assert yaml.safe_load((demo / ".copier-answers.yml").read_text())["_commit"] == "1.1.0"
    assert "app.py#greet" in yaml.safe_load((demo / RECORD_FILE).read_text())["regions"]
    run(["git", *GIT_IDENTITY, "commit", "-q", "-am", "update to 1.1.0"], cwd=demo)
    run(["git", *GIT_IDENTITY, "add", "-A"], cwd=demo)
    run(["git", *GIT_IDENTITY, "commit", "-q", "-m", "new files of 1.1.0"], cwd=demo)

    # Nothing new to fill: no call.
    calls = len(fake.requests)
    capsys.readouterr()
    assert main(["fill", str(demo)]) == 0
    assert len(fake.requests) == calls
    assert "Nothing to fill" in capsys.readouterr().out

    # Release 1.2.0 brings a new region; scaffold update, then scaffold fill fills just that one.
    release_template(repo, {"templates/mini/farewell.py.jinja": FAREWELL}, "1.2.0")
    assert main(["update", str(demo)]) == 0
    run(["git", *GIT_IDENTITY, "add", "-A"], cwd=demo)
    run(["git", *GIT_IDENTITY, "commit", "-q", "-m", "update to 1.2.0"], cwd=demo)
    assert main(["fill", str(demo)]) == 0
    assert requested(fake.requests[-1]) == ["farewell.py#farewell"]
    assert 'return "farewell from the model"' in (demo / "farewell.py").read_text()
    assert 'return "hello from the model"' in (demo / "app.py").read_text()
    assert run(["git", "status", "--porcelain"], cwd=demo).stdout == ""
