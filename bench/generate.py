"""Generation time: scaffold against `copier copy` and `cookiecutter` on the service template.

    python bench/generate.py [--runs 8]

All sides render the same committed state: a fresh clone of this repository (HEAD, no
tags) for scaffold and Copier, and the equivalent cookiecutter template in
bench/cookiecutter-template/ (the same 27 files and answers; only the answers file differs)
for cookiecutter. Each side gets an empty destination every run and its output is checked;
after the last round the renders are compared file by file, so a port that drifted from
templates/service shows up in the results.

- `scaffold new-service --no-git` is the like-for-like comparison: Copier and cookiecutter
  do not create a git repository. Target (issue 6): at most 1.15x `copier copy`.
- `scaffold new-service` (default) adds `git init` and the first commit; it is shown
  separately so the cost of that step is visible.

scaffold runs with `--no-ai` (and without any API key in its environment): the AI fill
step has a benchmark of its own, `bench/ai_bench.py`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from _timing import Case, clean_clone, interleave, isolated_env, load_average, machine, table, tool, verdict

NAME = "bench-svc"
PACKAGE = NAME.replace("-", "_")
COOKIECUTTER_TEMPLATE = Path(__file__).resolve().parent / "cookiecutter-template"


def empty(folder: Path) -> Callable[[], None]:
    def prepare() -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    return prepare


def files(project: Path) -> dict[str, bytes]:
    return {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(project).parts
    }


def differences(left: Path, right: Path) -> list[str]:
    """Files that differ between two renders, answers files aside (each tool writes its own)."""
    answers = {".copier-answers.yml", ".cookiecutter.json"}
    one, other = files(left), files(right)
    return sorted(name for name in (one.keys() | other.keys()) - answers if one.get(name) != other.get(name))


def rendered(project: Path, answers: str, git: bool, expected: int) -> Callable[[], None]:
    """Fail the benchmark if a side did less than the full render."""

    def check() -> None:
        count = len(files(project))
        problems = []
        if count != expected:
            problems.append(f"{count} files instead of {expected}")
        if not (project / "src" / PACKAGE / "domain.py").is_file() or not (project / answers).is_file():
            problems.append("domain.py or the answers file is missing")
        if (project / ".git").is_dir() != git:
            problems.append("a git repository where none belongs" if not git else "no git repository")
        if problems:
            raise SystemExit(f"bad render in {project}: {'; '.join(problems)}")

    return check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=8, help="timed rounds (default 8)")
    args = parser.parse_args(argv)

    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="scaffold-bench-") as tmp:
        scratch = Path(tmp)
        env = isolated_env(scratch / "home")
        source = clean_clone(scratch / "templates")
        cookiecutter_source = scratch / "cookiecutter-template"
        # Follows the symlink to includes/regions.jinja, so the macro is the repository's own.
        shutil.copytree(COOKIECUTTER_TEMPLATE, cookiecutter_source)
        # Every file of the template is rendered with the default answers; questions.yml is not.
        expected = sum(1 for path in (source / "templates" / "service").rglob("*") if path.is_file()) - 1
        out = {side: scratch / side for side in ("scaffold", "scaffold-git", "copier", "cookiecutter")}
        scaffold = [tool("scaffold"), "new-service", NAME, "--defaults", "--no-ai", "--templates", str(source)]
        cases = [
            Case(
                f"scaffold new-service {NAME} --defaults --no-ai --no-git",
                [*scaffold, "--no-git"],
                cwd=out["scaffold"],
                prepare=empty(out["scaffold"]),
                check=rendered(out["scaffold"] / NAME, ".copier-answers.yml", git=False, expected=expected),
            ),
            Case(
                f"copier copy --defaults --vcs-ref HEAD -d template=service -d project_name={NAME}",
                [
                    tool("copier"),
                    "copy",
                    "--quiet",
                    "--defaults",
                    "--vcs-ref",
                    "HEAD",
                    "-d",
                    "template=service",
                    "-d",
                    f"project_name={NAME}",
                    str(source),
                    NAME,
                ],
                cwd=out["copier"],
                prepare=empty(out["copier"]),
                check=rendered(out["copier"] / NAME, ".copier-answers.yml", git=False, expected=expected),
            ),
            Case(
                f"cookiecutter --no-input project_name={NAME}",
                [tool("cookiecutter"), "--no-input", str(cookiecutter_source), f"project_name={NAME}"],
                cwd=out["cookiecutter"],
                prepare=empty(out["cookiecutter"]),
                check=rendered(out["cookiecutter"] / NAME, ".cookiecutter.json", git=False, expected=expected),
            ),
            Case(
                f"scaffold new-service {NAME} --defaults --no-ai (git init + commit)",
                scaffold,
                cwd=out["scaffold-git"],
                prepare=empty(out["scaffold-git"]),
                check=rendered(out["scaffold-git"] / NAME, ".copier-answers.yml", git=True, expected=expected),
            ),
        ]
        summaries = interleave(cases, args.runs, env)
        drift = {
            "scaffold vs copier": differences(out["scaffold"] / NAME, out["copier"] / NAME),
            "cookiecutter port vs copier": differences(out["cookiecutter"] / NAME, out["copier"] / NAME),
        }
    print(f"### Generate the service template ({args.runs} interleaved rounds after 1 warm-up)\n")
    print(table(summaries, baseline=cases[1].label, versus="copier copy"))
    print()
    ratio = summaries[0].wall.median / summaries[1].wall.median
    print(f"- {verdict('scaffold --no-git / copier copy (median wall)', ratio, 1.15)}")
    for pair, names in drift.items():
        same = "identical apart from the answers file" if not names else f"DIFFERENT in {', '.join(names)}"
        print(f"- renders, {pair}: {same} ({expected} files)")
    print(f"- machine: {machine(load_before)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
