"""Golden examples: a template change must show up as a reviewed diff under examples/."""

from __future__ import annotations

from tests.helpers import REPO_ROOT, run


def test_examples_match_a_fresh_render() -> None:
    import sys

    result = run([sys.executable, REPO_ROOT / "examples" / "render.py", "--check"], check=False)
    assert result.returncode == 0, result.stdout + result.stderr
