"""How much `pip install .` brings, against Copier's own install.

    python bench/install_size.py [--baseline REV]

Creates fresh venvs (in a temporary folder) and installs into each: Copier alone, this
checkout, this checkout with every optional part (`[all]`), and optionally a git revision of
this repository (`git archive`). It prints the size
of each venv's site-packages without the pip that every venv starts with, and how many
distributions were installed. Needs the package index (pip's usual configuration). The
target (issue 12): scaffold's install (without extras) at most 1.5 times Copier's.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from _timing import REPO, unpack_revision


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python*/site-packages"))


def size_mb(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink()) / 1e6


def measure(label: str, spec: str, scratch: Path) -> tuple[str, float, int]:
    venv = scratch / label.replace(" ", "-")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    python = venv / "bin" / "python"
    before = size_mb(site_packages(venv))
    subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", spec], check=True)
    listing = subprocess.run(
        [python, "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    )
    distributions = [
        line for line in listing.stdout.splitlines() if line and not line.startswith(("pip=", "setuptools="))
    ]
    return label, size_mb(site_packages(venv)) - before, len(distributions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", help="also install this git revision of the repository")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="scaffold-install-") as folder:
        scratch = Path(folder)
        specs = [
            ("copier", "copier"),
            ("scaffold (this checkout)", str(REPO)),
            # With every optional part (the `all` extra): what a user of the fill step and `scaffold mcp` installs.
            ("scaffold[all] (this checkout)", f"{REPO}[all]"),
        ]
        if args.baseline:
            source = unpack_revision(args.baseline, scratch / "baseline-src")
            specs.append((f"scaffold ({args.baseline})", str(source)))
        results = [measure(label, spec, scratch) for label, spec in specs]
    copier = results[0][1]
    print("| install | site-packages MB | distributions | vs Copier |")
    print("|---|---:|---:|---:|")
    for label, megabytes, count in results:
        print(f"| `pip install {label}` | {megabytes:.0f} | {count} | {megabytes / copier:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
