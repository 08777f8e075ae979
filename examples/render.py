"""Render the golden examples: every template's main variants with fixed answers, no AI.

    python examples/render.py          # rewrite examples/<template>-<variant>/
    python examples/render.py --check  # exit 1 listing differences (tests/test_examples.py runs this)

Review a template change by reading the diff it makes here.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from generator.cli import main as scaffold  # noqa: E402

# name -> (template, project name, answers)
VARIANTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "service-default": ("service", "payments", {"description": "Takes card payments and reports their status."}),
    "service-minimal": (
        "service",
        "ledger",
        {"description": "Keeps the ledger of account movements.", "include_docker": "false", "python_version": "3.11"},
    ),
    "api-default": (
        "api",
        "shop",
        {"resources": "orders,customers", "description": "Orders and customers of the shop."},
    ),
    "api-jwt-sqlite": (
        "api",
        "catalog",
        {"resources": "products", "auth": "jwt", "storage": "sqlite", "pagination": "cursor"},
    ),
    "infra-aws": ("infra", "net", {"cloud": "aws", "description": "Network for the payments platform."}),
    "infra-gcp": ("infra", "assets", {"cloud": "gcp"}),
    "infra-azure": ("infra", "files", {"cloud": "azure"}),
    "script-python": ("script", "rotate-logs", {"description": "Rotates and prunes application logs."}),
    "script-bash": (
        "script",
        "rotate-logs",
        {"language": "bash", "description": "Rotates and prunes application logs."},
    ),
}
_PLACEHOLDERS = {"_src_path": "<scaffold templates>", "_commit": "<template version>"}


def template_copy(into: Path) -> Path:
    """A plain (non-git) copy, so answers files name no machine path or commit."""
    for item in ("copier.yml", "includes", "templates"):
        source = ROOT / item
        if source.is_dir():
            shutil.copytree(source, into / item, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, into / item)
    return into


def _normalize(project: Path) -> None:
    answers = project / ".copier-answers.yml"
    lines = []
    for line in answers.read_text(encoding="utf-8").splitlines():
        key = line.split(":", 1)[0]
        lines.append(f"{key}: {_PLACEHOLDERS[key]}" if key in _PLACEHOLDERS else line)
    answers.write_text("\n".join(lines) + "\n", encoding="utf-8")


def render_all(into: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="scaffold-examples-") as tmp:
        templates = template_copy(Path(tmp))
        for name, (template, project, answers) in VARIANTS.items():
            data = [arg for key, value in answers.items() for arg in ("-d", f"{key}={value}")]
            argv = ["new", template, project, "--dest", str(into / name), "--templates", str(templates)]
            with contextlib.redirect_stdout(io.StringIO()):
                code = scaffold([*argv, "--defaults", "--no-git", *data])
            if code != 0:
                raise SystemExit(f"rendering {name} failed with exit code {code}")
            _normalize(into / name)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def differences(expected_root: Path, actual_root: Path) -> list[str]:
    problems: list[str] = []
    for name in VARIANTS:
        expected, actual = _files(expected_root / name), _files(actual_root / name)
        for path in sorted(expected.keys() | actual.keys()):
            if path not in actual:
                problems.append(f"{name}/{path}: no longer rendered")
            elif path not in expected:
                problems.append(f"{name}/{path}: newly rendered, not in examples/")
            elif expected[path] != actual[path]:
                diff = difflib.unified_diff(
                    expected[path].decode(errors="replace").splitlines(),
                    actual[path].decode(errors="replace").splitlines(),
                    f"examples/{name}/{path}",
                    "rendered now",
                    lineterm="",
                    n=1,
                )
                problems.append("\n".join(list(diff)[:40]))
    # `__pycache__`: Python's, when the tests import this script (tests/conftest.py), not a variant.
    stale = sorted(p.name for p in expected_root.iterdir() if p.is_dir() and p.name not in (*VARIANTS, "__pycache__"))
    problems.extend(f"{name}/: not a variant any more; delete it" for name in stale)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare instead of rewriting")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="scaffold-examples-out-") as out:
        render_all(Path(out))
        if args.check:
            problems = differences(HERE, Path(out))
            for problem in problems:
                print(problem)
            if problems:
                print("\nexamples/ is out of date: run 'python examples/render.py' and review the diff.")
            return 1 if problems else 0
        for name in VARIANTS:
            shutil.rmtree(HERE / name, ignore_errors=True)
            shutil.copytree(Path(out) / name, HERE / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
