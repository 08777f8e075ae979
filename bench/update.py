"""Update time: `scaffold update` against `copier update` on the same project.

    python bench/update.py [--runs 4]

Set-up, untimed: a clone of this repository tagged 1.0.0; a service project generated from
it with scaffold (git init + first commit), then edited and committed as a team would; then
a template release 1.1.0 that changes a rendered file and adds one. Before every run the
project is restored from that saved copy (history included), so both sides merge the same
1.0.0 -> 1.1.0 change into the same edited project, and each result is checked: new
version recorded, the team's edit kept, the template's change merged, no conflict.

scaffold runs Copier's update and adds its checks around it (clean work tree before,
conflict listing after), so the target is parity with `copier update`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from _timing import Case, clean_clone, interleave, isolated_env, load_average, machine, table, tool

NAME = "bench-svc"
TEAM_EDIT = "Prices quotes for the checkout team (edited after generation)."
TEMPLATE_EDIT = "## Support\n\nAsk **{{ owner }}** in their team channel.\n"
NEW_FILE = "CONTRIBUTING.md"


def git(*args: str, cwd: Path, env: Mapping[str, str]) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=dict(env), check=True, capture_output=True)


def release_1_1(templates: Path, env: Mapping[str, str]) -> None:
    service = templates / "templates" / "service"
    readme = service / "README.md.jinja"
    readme.write_text(readme.read_text(encoding="utf-8") + "\n" + TEMPLATE_EDIT, encoding="utf-8")
    (service / f"{NEW_FILE}.jinja").write_text(
        "# Contributing to {{ project_name }}\n\nRun `make check` before you push.\n", encoding="utf-8"
    )
    git("add", "-A", cwd=templates, env=env)
    git("commit", "-q", "-m", "Release 1.1.0: support section, CONTRIBUTING", cwd=templates, env=env)
    git("tag", "1.1.0", cwd=templates, env=env)


def edit_project(project: Path, env: Mapping[str, str]) -> None:
    readme = project / "README.md"
    lines = readme.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = TEAM_EDIT + "\n"
    readme.write_text("".join(lines), encoding="utf-8")
    git("commit", "-q", "-am", "Describe the service", cwd=project, env=env)


def restore(saved: Path, work: Path) -> Callable[[], None]:
    def prepare() -> None:
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(saved, work, symlinks=True)

    return prepare


def updated(project: Path) -> Callable[[], None]:
    def check() -> None:
        readme = (project / "README.md").read_text(encoding="utf-8")
        answers = (project / ".copier-answers.yml").read_text(encoding="utf-8")
        problems = [
            message
            for message, ok in [
                ("1.1.0 not recorded", "_commit: 1.1.0" in answers),
                ("team edit lost", TEAM_EDIT in readme),
                ("template change missing", "## Support" in readme and (project / NEW_FILE).is_file()),
                ("conflict markers", "<<<<<<<" not in readme),
            ]
            if not ok
        ]
        if problems:
            raise SystemExit(f"bad update in {project}: {'; '.join(problems)}")

    return check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=4, help="timed rounds (default 4)")
    args = parser.parse_args(argv)

    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="scaffold-bench-") as tmp:
        scratch = Path(tmp)
        env = isolated_env(scratch / "home")
        templates = clean_clone(scratch / "templates")
        git("tag", "1.0.0", cwd=templates, env=env)
        saved = scratch / "saved" / NAME
        subprocess.run(
            [tool("scaffold"), "new-service", NAME, "--defaults", "--templates", str(templates), "--dest", str(saved)],
            env=env,
            check=True,
            capture_output=True,
        )
        edit_project(saved, env)
        release_1_1(templates, env)

        scaffold_work, copier_work = scratch / "scaffold" / NAME, scratch / "copier" / NAME
        cases = [
            Case(
                "scaffold update --defaults",
                [tool("scaffold"), "update", "--defaults"],
                cwd=scaffold_work,
                prepare=restore(saved, scaffold_work),
                check=updated(scaffold_work),
            ),
            Case(
                "copier update --defaults",
                [tool("copier"), "update", "--quiet", "--defaults"],
                cwd=copier_work,
                prepare=restore(saved, copier_work),
                check=updated(copier_work),
            ),
        ]
        scaffold, copier = interleave(cases, args.runs, env)
    print(f"### Update 1.0.0 -> 1.1.0 ({args.runs} interleaved rounds after 1 warm-up)\n")
    print(table([scaffold, copier], baseline=copier.label, versus="copier update"))
    print()
    print(f"- scaffold update / copier update (median wall): {scaffold.wall.median / copier.wall.median:.2f}")
    print(f"- machine: {machine(load_before)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
