"""The fill-region contract: finding regions and rejecting malformed markers with file:line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from generator.errors import RegionError
from generator.fill.regions import find_regions, language_of, parse_regions, splice
from tests.helpers import build_file_tree

PYTHON = textwrap.dedent(
    """\
    import os


    def main() -> None:
        # scaffold:fill main Write the main body
        # | using the settings object.
        print("fallback")
        # scaffold:end main


    # scaffold:fill extra Add helpers
    # scaffold:end extra
    """
)


def test_parse_python_regions_with_instruction_continuation_and_indent() -> None:
    main, extra = parse_regions(PYTHON, "src/app.py")
    assert main.key == "src/app.py#main"
    assert main.language == "python"
    assert main.instruction == "Write the main body using the settings object."
    assert main.body == '    print("fallback")\n'
    assert (main.start_line, main.body_line, main.end_line) == (5, 7, 8)
    assert main.indent == "    "
    assert main.comment == "#"
    assert extra.body == ""
    assert extra.instruction == "Add helpers"


@pytest.mark.parametrize(
    ("path", "start", "end", "language"),
    [
        ("main.tf", "# scaffold:fill res Resources", "# scaffold:end res", "hcl"),
        ("tests/x.tftest.hcl", "// scaffold:fill res Resources", "// scaffold:end res", "hcl"),
        ("schema.sql", "-- scaffold:fill res Resources", "-- scaffold:end res", "sql"),
        ("README.md", "<!-- scaffold:fill res Resources -->", "<!-- scaffold:end res -->", "markdown"),
        ("run.sh", "  # scaffold:fill res Resources", "  # scaffold:end res", "bash"),
    ],
)
def test_comment_syntaxes(path: str, start: str, end: str, language: str) -> None:
    (region,) = parse_regions(f"before\n{start}\nbody line\n{end}\nafter\n", path)
    assert region.id == "res"
    assert region.instruction == "Resources"
    assert region.body == "body line\n"
    assert region.language == language


def test_markdown_continuation_lines_drop_the_closing_token() -> None:
    text = "<!-- scaffold:fill doc First -->\n<!-- | second -->\nbody\n<!-- scaffold:end doc -->\n"
    (region,) = parse_regions(text, "README.md")
    assert region.instruction == "First second"


def test_mentions_that_are_not_marker_lines_are_ignored() -> None:
    text = (
        'print("# scaffold:fill x")\nx = 1  # scaffold:fill y\nSee `scaffold:fill` in the docs.\n# scaffold:filler z\n'
    )
    assert parse_regions(text, "a.py") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# scaffold:fill a\nbody\n", "a.py:1: region 'a' is never closed: add a line '# scaffold:end a'"),
        (
            "# scaffold:fill a\n# scaffold:fill b\n# scaffold:end b\n# scaffold:end a\n",
            "a.py:2: region 'b' starts inside",
        ),
        (
            "# scaffold:fill a\n# scaffold:end a\n# scaffold:fill a\n# scaffold:end a\n",
            "a.py:3: duplicate region id 'a'",
        ),
        ("x\n# scaffold:end a\n", "a.py:2: 'scaffold:end a' has no matching"),
        ("# scaffold:fill a\n# scaffold:end b\n", "a.py:2: 'scaffold:end b' does not close region 'a'"),
        ("# scaffold:fill Bad\n# scaffold:end Bad\n", "a.py:1: invalid region id 'Bad'"),
        ("# scaffold:fill\n# scaffold:end\n", "a.py:1: invalid region id ''"),
        ("# scaffold:fill 9a\n# scaffold:end 9a\n", "a.py:1: invalid region id '9a'"),
    ],
)
def test_malformed_markers_name_file_and_line(text: str, message: str) -> None:
    with pytest.raises(RegionError) as caught:
        parse_regions(text, "a.py")
    assert str(caught.value).startswith(message)


def test_html_comment_unclosed_message_suggests_the_right_syntax() -> None:
    with pytest.raises(RegionError, match=r"add a line '<!-- scaffold:end doc -->'"):
        parse_regions("<!-- scaffold:fill doc Docs -->\n", "README.md")


def test_find_regions_walks_a_tree_and_skips_vcs_binary_and_symlinks(tmp_path: Path) -> None:
    build_file_tree(
        tmp_path,
        {
            "src/app.py": PYTHON,
            "main.tf": "# scaffold:fill res R\nresource {}\n# scaffold:end res\n",
            ".git/hooks/x.py": "# scaffold:fill hidden H\n# scaffold:end hidden\n",
            "blob.bin": b"\xff\xfe# scaffold:fill bin B\n",
            "plain.txt": "no regions here\n",
        },
    )
    (tmp_path / "link.py").symlink_to(tmp_path / "src" / "app.py")
    keys = [region.key for region in find_regions(tmp_path)]
    assert keys == ["main.tf#res", "src/app.py#main", "src/app.py#extra"]


def test_find_regions_reports_malformed_file_relative_path(tmp_path: Path) -> None:
    build_file_tree(tmp_path, {"pkg/mod.py": "x = 1\n# scaffold:fill a A\n"})
    with pytest.raises(RegionError, match=r"^pkg/mod.py:2: region 'a' is never closed"):
        find_regions(tmp_path)


def test_splice_replaces_only_region_bodies() -> None:
    new = splice(PYTHON, "src/app.py", {"main": '    print("filled")\n    return None', "extra": "HELPER = 1\n"})
    expected = PYTHON.replace('    print("fallback")\n', '    print("filled")\n    return None\n').replace(
        "# scaffold:fill extra Add helpers\n", "# scaffold:fill extra Add helpers\nHELPER = 1\n"
    )
    assert new == expected
    assert [r.body for r in parse_regions(new, "src/app.py")] == [
        '    print("filled")\n    return None\n',
        "HELPER = 1\n",
    ]


def test_splice_unknown_region_is_an_error() -> None:
    with pytest.raises(RegionError, match="no region named nope"):
        splice(PYTHON, "src/app.py", {"nope": "x"})


def test_language_of_special_names() -> None:
    assert language_of("Dockerfile") == "dockerfile"
    assert language_of("x/Makefile") == "make"
    assert language_of("tests/basic.tftest.hcl") == "hcl"
    assert language_of("notes.unknown") == "text"
    assert language_of("bin/rotate-logs", "#!/usr/bin/env bash\nset -eu\n") == "bash"
    assert language_of("bin/tool", "#!/usr/bin/env python3\n") == "python"
