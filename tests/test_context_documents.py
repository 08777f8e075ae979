"""Finding documents, splitting them into sections, and the cached index."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest

from generator.context import documents
from generator.context import index as index_module
from generator.context import sections as files_module
from generator.context.documents import index_path, load_library
from generator.context.index import INDEX_VERSION, SectionIndex
from generator.context.sections import MAX_SECTION_BYTES, FileEntry, folder_of, scan_files, split_sections
from generator.errors import DocumentChangedError
from tests.helpers import REPO_ROOT, build_file_tree
from tests.test_context_fixtures import make_home, save_within_one_tick, touch_later


def sections(text: str, path: str = "doc.md") -> list[tuple[str, str, int]]:
    data = text.encode()
    return [(raw.heading, raw.trail, raw.line) for raw in split_sections(path, data)]


def test_sections_start_at_headings_up_to_level_three() -> None:
    text = "intro\n# Title\nbody\n## Part A\na\n### Detail\nd\n#### Deep\nstays in Detail\n## Part B\nb\n"
    assert sections(text) == [
        ("(preamble)", "Title", 1),
        ("Title", "Title", 2),
        ("Part A", "Title > Part A", 4),
        ("Detail", "Title > Part A > Detail", 6),
        ("Part B", "Title > Part B", 10),
    ]


def test_headings_inside_fenced_code_do_not_split() -> None:
    text = "# Runbook\n```bash\n# not a heading\n```\n~~~~\n## nor this\n~~~~\n## Real\n"
    assert [heading for heading, _, _ in sections(text)] == ["Runbook", "Real"]


def test_front_matter_goes_with_the_first_section() -> None:
    # Not a section of its own named after the title, holding only `---` and YAML.
    data = b"---\ntitle: Refund policy\nstatus: superseded\n---\n\n# Refund policy\n\nIn 14 days.\n\n## Exceptions\n\nNone.\n"
    sections = split_sections("decisions/0009-refunds.md", data)
    assert [(s.heading, s.line, s.start) for s in sections] == [("Refund policy", 1, 0), ("Exceptions", 10, 79)]
    assert data[sections[0].start : sections[0].end].startswith(b"---\ntitle: Refund policy\nstatus: superseded")
    # A YAML comment in it is no heading.
    commented = b"---\n# yaml-language-server: $schema=x\ntitle: A\n---\n# Real title\n\nText.\n"
    assert [(s.heading, s.trail, s.start) for s in split_sections("a.md", commented)] == [
        ("Real title", "Real title", 0)
    ]
    # Other text before the first heading is still a section of its own.
    assert [s.heading for s in split_sections("x.md", b"Intro.\n\n# Title\n\nBody.\n")] == ["(preamble)", "Title"]


def test_setext_headings_split_as_markdown_renders_them() -> None:
    text = (
        "Deploy guide\n============\n\nIntro.\n\n"  # a title underlined with =
        "Rolling back\n------------\n\nRun it.\n\n"  # a section underlined with -
        "---\n\nAfter a thematic break.\n\n"  # a rule after a blank line: no heading
        "- an item\n---\n\n"  # nor under a list item
        "```\ncode\n---\n```\n\n"  # nor in fenced code
        "## Checks\n---\n\n"  # nor under a heading
        "Two lines\nof a paragraph\n---\nend\n"  # a paragraph's lines are its text
    )
    assert sections(text) == [
        ("Deploy guide", "Deploy guide", 1),
        ("Rolling back", "Deploy guide > Rolling back", 6),
        ("Checks", "Deploy guide > Checks", 23),
        ("Two lines of a paragraph", "Deploy guide > Two lines of a paragraph", 26),
    ]
    raw = split_sections("doc.md", text.encode())
    assert b"".join(text.encode()[s.start : s.end] for s in raw) == text.encode()
    # The text of a list item or a quote continued, or a paragraph longer than a heading's, over a
    # `---` is no heading; after a rule or a fence it is.
    assert sections("# T\n\n- item\n  continued\n---\n\n> quoted\ntext\n---\n")[1:] == []
    assert sections("# T\n\n[docs]: https://example.com\n---\n\nName | Value\n--- | ---\na | 1\n---\n")[1:] == []
    assert sections("# T\n\none\ntwo\nthree\nfour\n---\n\n" + "x" * 400 + "\n---\n")[1:] == []
    assert sections("# T\n\n***\nAfter a rule\n---\n```\ncode\n```\nAfter code\n---\n")[1:] == [
        ("After a rule", "T > After a rule", 4),
        ("After code", "T > After code", 9),
    ]
    log = ("a log line pasted above a rule\n" * 50_000 + "---\n").encode()
    parts = split_sections("log.md", log)
    assert {s.heading.partition(" (part")[0] for s in parts} == {"(preamble)"} and len(parts) > 100
    # Text of only characters `strip` drops is untitled, as an ATX heading's is.
    assert sections("# T\n\n\f\v\n---\nBody.\n")[1:] == [("(untitled)", "T > (untitled)", 3)]
    crlf = "\ufeffRunbook\r\n=======\r\n\r\nBody.\r\n".encode()
    assert [(s.heading, s.start) for s in split_sections("r.md", crlf)] == [("Runbook", 3)]


def test_sections_cover_the_file_byte_for_byte() -> None:
    text = "\ufeff# Tïtle\n\nbödy\n## Zweite\nmehr\n"
    data = text.encode()
    raw = split_sections("doc.md", data)
    assert raw[0].start == 3  # the byte order mark is not content
    assert b"".join(data[s.start : s.end] for s in raw) == data[3:]
    # Cut into parts at CRLF blank lines too, still byte for byte, never inside a line end.
    data = b"# Long\r\n\r\n" + b"one line\r\nanother line\r\n\r\n" * 2000
    raw = split_sections("crlf.md", data)
    assert len(raw) > 3 and b"".join(data[s.start : s.end] for s in raw) == data
    assert all(data[: s.end].endswith(b"\r\n\r\n") for s in raw)


def test_a_document_without_h1_is_titled_by_its_file_name() -> None:
    assert sections("## Steps\n1. do it\n", "runbooks/restart-workers.md") == [("Steps", "restart-workers > Steps", 1)]


def test_oversized_sections_are_cut_into_parts_at_boundaries() -> None:
    paragraph = "word " * 200 + "\n\n"
    text = "# Big\n" + paragraph * 40
    data = text.encode()
    raw = split_sections("big.md", data)
    assert len(raw) > 3
    assert all(s.end - s.start <= MAX_SECTION_BYTES for s in raw)
    assert raw[1].heading == "Big (part 2)"
    assert all(data[s.start - 2 : s.start] == b"\n\n" for s in raw[1:])  # cut after blank lines
    assert raw[2].line == 1 + data.count(b"\n", 0, raw[2].start)


def test_a_part_is_cut_at_a_blank_line_only_in_its_second_half() -> None:
    # A blank line early in a part would make it short: cut at the last line end instead.
    text = "# Big\n\n" + "a" * 100 + "\n\n" + ("word " * 30 + "\n") * (MAX_SECTION_BYTES // 150 + 10)
    raw = split_sections("big.md", text.encode())
    assert raw[0].end - raw[0].start > MAX_SECTION_BYTES * 0.9


def test_one_enormous_line_is_cut_between_characters() -> None:
    text = "# Blob\n" + "é" * (MAX_SECTION_BYTES * 2)
    data = text.encode()
    raw = split_sections("blob.md", data)
    assert len(raw) >= 3
    for part in raw:
        data[part.start : part.end].decode("utf-8")  # never splits a character


def test_scan_skips_private_folders_and_reports_symlink_problems(tmp_path: Path) -> None:
    root = tmp_path / "context"
    (root / "runbooks").mkdir(parents=True)
    (root / "runbooks" / "deploy.md").write_text("# Deploy\n")
    (root / "_templates").mkdir()
    (root / "_templates" / "decision.md").write_text("# $title\n")
    (root / ".git").mkdir()
    (root / "notes.txt").write_text("not markdown")
    (root / "runbooks" / "loop").symlink_to(root)  # a folder symlink back up: a loop
    (root / "self.md").symlink_to(root / "self.md")  # a symlink to itself
    (root / "gone.md").symlink_to(root / "missing.md")

    entries, warnings = scan_files(root)

    assert [entry.path for entry in entries] == ["runbooks/deploy.md"]
    assert any("runbooks/loop/" in w and "symlink loop" in w for w in warnings)
    assert any("self.md" in w and "symlink loop" in w for w in warnings)
    assert any("gone.md" in w and "broken symlink" in w for w in warnings)


def test_a_folder_keeps_its_files_when_a_symlink_to_it_sorts_first(tmp_path: Path) -> None:
    # `aaa/rb -> ../runbooks` is walked first in name order: it took the real folder's files, under
    # its own name, and `runbooks/` was the one skipped, with what context.yml lists from it.
    root = tmp_path / "context"
    (root / "runbooks" / "nested").mkdir(parents=True)
    (root / "runbooks" / "deploy.md").write_text("# Deploy\n")
    (root / "runbooks" / "nested" / "rollback.md").write_text("# Rollback\n")
    (root / "aaa").mkdir()
    (root / "aaa" / "rb").symlink_to("../runbooks", target_is_directory=True)
    (root / "aaa" / "deep").symlink_to("../runbooks/nested", target_is_directory=True)
    (root / "shared").mkdir()
    (root / "shared" / "faq.md").write_text("# FAQ\n")
    (root / "runbooks" / "see-also").symlink_to("../zzz", target_is_directory=True)  # only reached by a link
    (root / "zzz").symlink_to("shared", target_is_directory=True)
    # A private folder is walked only through links: under the first one's name, which the second names.
    (root / "_lib").mkdir()
    (root / "_lib" / "howto.md").write_text("# How to\n")
    (root / "lib-a").symlink_to("_lib", target_is_directory=True)
    (root / "lib-b").symlink_to("_lib", target_is_directory=True)
    (root / "_lib" / "up").symlink_to("..", target_is_directory=True)  # the home, from inside a linked folder
    (root / "_lib" / "itself").symlink_to(".", target_is_directory=True)

    entries, warnings = scan_files(root)

    assert [entry.path for entry in entries] == [
        "lib-a/howto.md",
        "runbooks/deploy.md",
        "runbooks/nested/rollback.md",
        "shared/faq.md",
    ]
    assert sorted(w for w in warnings if "second link" in w or "loop" in w) == [
        "skipped aaa/deep/: a second link to runbooks/nested/, which is indexed under that name",
        "skipped aaa/rb/: a second link to runbooks/, which is indexed under that name",
        "skipped lib-a/itself/: a symlink loop (that folder is already indexed)",
        "skipped lib-a/up/: a symlink loop (that folder is already indexed)",
        "skipped lib-b/: a second link to lib-a/, which is indexed under that name",
        "skipped runbooks/see-also/: a second link to shared/, which is indexed under that name",
        "skipped zzz/: a second link to shared/, which is indexed under that name",
    ]


@pytest.mark.parametrize(
    ("to", "moved"),
    [
        ("outside", False),
        ("context/.secret", False),
        ("context/runbooks", False),
        ("moved", True),
        ("context/.moved", True),
    ],
)
def test_a_folder_link_repointed_before_its_folder_is_walked_is_not_walked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, to: str, moved: bool
) -> None:
    # Folders behind links are walked last: a link checked when met and re-pointed by then (at a
    # folder outside the home, a hidden one, or one indexed already), or whose folder was moved out
    # or to a hidden name, must not be walked as it is then.
    root = tmp_path / "context"
    (root / "runbooks").mkdir(parents=True)
    (root / "runbooks" / "deploy.md").write_text("# Deploy\n")
    (root / "_shared").mkdir()
    (root / "_shared" / "faq.md").write_text("# FAQ\n")
    for folder in (tmp_path / "outside", root / ".secret"):
        folder.mkdir()
        (folder / "secret.md").write_text("# hunter2\n")
    link = root / "aaa"
    link.symlink_to("_shared", target_is_directory=True)
    real_walk = files_module._walk

    def walk(folder: str, prefix: str, *args: Any) -> None:
        real_walk(folder, prefix, *args)
        if prefix == "":  # every real folder walked: the links are next
            if moved:
                (root / "_shared").rename(tmp_path / to)
            link.unlink()
            link.symlink_to(tmp_path / to, target_is_directory=True)

    monkeypatch.setattr(files_module, "_walk", walk)
    entries, warnings = scan_files(root)
    assert [entry.path for entry in entries] == ["runbooks/deploy.md"]
    assert "skipped aaa/: the symlink changed while the folder was read; run again" in warnings


def test_a_folder_only_a_symlink_reaches_is_indexed_under_it(tmp_path: Path) -> None:
    root = tmp_path / "context"
    (root / "runbooks").mkdir(parents=True)
    (root / "_library").mkdir()  # a private folder: not walked itself, only through the link
    (root / "_library" / "guide.md").write_text("# Guide\n")
    (root / "runbooks" / "guide").symlink_to("../_library", target_is_directory=True)

    entries, warnings = scan_files(root)

    assert [entry.path for entry in entries] == ["runbooks/guide/guide.md"], warnings


def test_symlinks_are_followed_inside_the_context_folder_and_not_out_of_it(tmp_path: Path) -> None:
    root = tmp_path / "context"
    (root / "runbooks").mkdir(parents=True)
    (root / "runbooks" / "deploy.md").write_text("# Deploy\n")
    (root / "deploy-again.md").symlink_to(root / "runbooks" / "deploy.md")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "history.md").write_text("# Shell history\n")
    (root / "notes.md").symlink_to(outside / "history.md")  # a committed link to a file of the user's
    (root / "more").symlink_to(outside, target_is_directory=True)

    entries, warnings = scan_files(root)

    assert [entry.path for entry in entries] == ["deploy-again.md", "runbooks/deploy.md"]
    assert sorted(w for w in warnings if "leads out of the context folder" in w) == [
        "skipped more: a symlink that leads out of the context folder",
        "skipped notes.md: a symlink that leads out of the context folder",
    ]


def test_a_symlink_to_a_hidden_file_inside_the_context_folder_is_not_knowledge(tmp_path: Path) -> None:
    # The scan skips `.env` and `.git/` by their names; a link named like a document reached them.
    root = tmp_path / "context"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text('[remote "origin"]\n\turl = https://ci:Zq8vT3mWx2@git.example.com/kh\n')
    (root / ".env").write_text("DB_PASSWORD=Zq8vT3mWx2\n")
    (root / "guide.md").write_text("# Guide\n")
    (root / "env.md").symlink_to(".env")
    (root / "git").symlink_to(".git", target_is_directory=True)
    (root / "guide-again.md").symlink_to("guide.md")

    entries, warnings = scan_files(root)

    assert [entry.path for entry in entries] == ["guide-again.md", "guide.md"]
    reason = "a symlink to a hidden file or folder, whose name starts with '.'"
    assert sorted(w for w in warnings if reason in w) == [f"skipped env.md: {reason}", f"skipped git: {reason}"]
    with pytest.raises(OSError, match=r"a symlink to a hidden file or folder"):
        files_module.read_bytes(root, "env.md")
    # Swapped in after the scan (a `git pull` while `scaffold mcp` runs): refused when opened.
    entry = entries[1]
    (root / "guide.md").unlink()
    (root / "guide.md").symlink_to(".env")
    warning, data = files_module.read_document(root, entry.path, entry)
    assert data is None and warning == f"skipped guide.md: cannot read it ({reason})"


def test_without_the_kernels_path_of_an_open_file_a_link_to_a_hidden_name_is_refused_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where there is no /proc (macOS, Windows), the path is resolved instead.
    root = tmp_path / "context"
    root.mkdir()
    (root / ".env").write_text("DB_PASSWORD=Zq8vT3mWx2\n")
    (root / "guide.md").write_text("# Guide\n")
    (root / "env.md").symlink_to(".env")
    real_readlink = os.readlink

    def no_proc(path: Any, *args: Any, **kwargs: Any) -> Any:
        if str(path).startswith("/proc/"):
            raise OSError(errno.ENOENT, "no /proc here")
        return real_readlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "readlink", no_proc)
    with pytest.raises(OSError, match="a symlink to a hidden file or folder"):
        files_module.read_bytes(root, "env.md")
    assert files_module.read_bytes(root, "guide.md") == b"# Guide\n"


def test_a_file_swapped_for_a_symlink_out_after_the_scan_is_not_read(tmp_path: Path) -> None:
    # A `git pull` while `scaffold mcp` runs: the scan checked a file, and a link out of context/ is read.
    make_home(tmp_path)
    context = tmp_path / "context"
    secret = tmp_path / "credentials"
    secret.write_text("# Keys\n\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY\n")
    library, unread = load_library(context), load_library(context)
    section = (library.sections_of("runbooks/deploy.md") or [])[-1]
    assert "Run the deploy workflow" in library.read(section)
    entries, _ = scan_files(context)
    [entry] = [entry for entry in entries if entry.path == "runbooks/deploy.md"]

    deploy = context / "runbooks" / "deploy.md"
    deploy.unlink()
    deploy.symlink_to(secret)
    with pytest.raises(DocumentChangedError, match="a symlink that leads out of the context folder; run again"):
        unread.read(section)
    assert "Run the deploy workflow" in library.read(section)  # the document it read, kept: not the link
    assert library._text("runbooks/deploy.md") == ""  # its references: none
    warning, data = files_module.read_document(context, entry.path, entry)  # an index build
    assert data is None and warning == (
        "skipped runbooks/deploy.md: cannot read it (a symlink that leads out of the context folder)"
    )

    # A file edited since the scan, or a link within context/, is read as before.
    deploy.unlink()
    deploy.write_text("# Deploy\n\n## Steps\n\nEdited meanwhile.\n")
    read = files_module.read_document(context, entry.path, entry)[1]
    assert read is not None and read.data == deploy.read_bytes()
    assert read.digest == hashlib.sha256(deploy.read_bytes()).hexdigest()
    (context / "again.md").symlink_to(deploy)
    assert files_module.read_bytes(context, "again.md").startswith(b"# Deploy")


def _home_with_links(tmp_path: Path, links: dict[str, Path]) -> Path:
    """A home whose context/ holds `links`, and a file outside it, tmp_path/credentials.md."""
    make_home(tmp_path)
    context = tmp_path / "context"
    (tmp_path / "credentials.md").write_text("# Keys\n")
    for name, target in links.items():
        (context / name).symlink_to(target)
    return context


def _resolving(monkeypatch: pytest.MonkeyPatch, answers: dict[str, str | OSError]) -> None:
    """`os.path.realpath` answering for paths ending in a key of `answers` (a path, or an error raised)."""
    real_resolve = os.path.realpath

    def resolve(path: Any, *, strict: bool = False) -> str:
        answer = next((answer for end, answer in answers.items() if str(path).endswith(end)), None)
        if isinstance(answer, OSError):
            raise answer
        return answer if answer is not None else str(real_resolve(path, strict=strict))

    monkeypatch.setattr(os.path, "realpath", resolve)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="the kernel's path of an open file: Linux")
def test_what_is_checked_is_the_file_opened_not_its_path_resolved_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A link swapped back inside between the open and a second resolution of its path passed that check.
    context = _home_with_links(tmp_path, {"notes.md": tmp_path / "credentials.md"})
    _resolving(monkeypatch, {"notes.md": str(context / "runbooks" / "deploy.md")})
    with pytest.raises(OSError, match="a symlink that leads out of the context folder"):
        files_module.open_inside(context, "notes.md")
    assert files_module.read_bytes(context, "runbooks/deploy.md").startswith(b"# Deploy")


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="the kernel's path of an open file: Linux")
def test_stamps_do_not_vouch_for_a_file_listed_through_a_folder_swapped_out(tmp_path: Path) -> None:
    # The scan listed a folder that was swapped for a link out meanwhile: its files have no link
    # of their own to check, and the stamps it took are those of the files outside.
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "keys.md").write_text("# Keys\n")
    context = _home_with_links(tmp_path, {"sub": outside})
    info = (outside / "keys.md").stat()
    seen = FileEntry("sub/keys.md", info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    warning, data = files_module.read_document(context, "sub/keys.md", seen)
    assert (
        data is None
        and warning == "skipped sub/keys.md: cannot read it (a symlink that leads out of the context folder)"
    )


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="the kernel's path of an open file: Linux")
def test_a_home_renamed_or_retargeted_while_a_server_runs_is_read_where_it_is_now(tmp_path: Path) -> None:
    make_home(tmp_path / "v1")
    (tmp_path / "v1" / "context" / "runbooks" / "deploy.md").write_text("# Deploy\n\nOne.\n")
    home = tmp_path / "home"
    home.symlink_to(tmp_path / "v1" / "context")
    assert files_module.read_bytes(home, "runbooks/deploy.md") == b"# Deploy\n\nOne.\n"
    # Renamed, with a link at its old name: the same folder (inode) at another path.
    (tmp_path / "v1").rename(tmp_path / "v2")
    (tmp_path / "v1").symlink_to(tmp_path / "v2")
    assert files_module.read_bytes(home, "runbooks/deploy.md") == b"# Deploy\n\nOne.\n"
    # Retargeted to another folder, which links back to a file of the one before: outside now.
    make_home(tmp_path / "v3")
    (tmp_path / "v3" / "context" / "old.md").symlink_to(tmp_path / "v2" / "context" / "runbooks" / "deploy.md")
    home.unlink()
    home.symlink_to(tmp_path / "v3" / "context")
    with pytest.raises(OSError, match="a symlink that leads out of the context folder"):
        files_module.read_bytes(home, "old.md")
    assert files_module.read_bytes(home, "runbooks/deploy.md").startswith(b"# Deploy")


def test_a_link_swapped_during_the_scan_is_skipped_and_unresolvable_ones_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = tmp_path / "context"
    links = {"again.md": tmp_path / "credentials.md", "odd.md": context / "style.md"}
    context = _home_with_links(tmp_path, links)
    # The scan took the stamps of the file outside through the link, which was then swapped back
    # inside before its path was resolved: the stat and the resolution must name the same file.
    _resolving(
        monkeypatch,
        {"again.md": str(context / "runbooks" / "deploy.md"), "odd.md": OSError(22, "Invalid argument")},
    )
    entries, warnings = scan_files(context)
    assert not {"again.md", "odd.md"} & {entry.path for entry in entries}
    assert "skipped again.md: a symlink that leads out of the context folder" in warnings
    assert "skipped odd.md: cannot resolve the symlink (Invalid argument)" in warnings


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_file_swapped_for_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    make_home(tmp_path)
    context = tmp_path / "context"
    deploy = context / "runbooks" / "deploy.md"
    [entry] = [entry for entry in scan_files(context)[0] if entry.path == "runbooks/deploy.md"]
    deploy.unlink()
    os.mkfifo(deploy)
    warning, data = files_module.read_document(context, entry.path, entry)
    assert data is None and warning == "skipped runbooks/deploy.md: cannot read it (not a regular file)"


def test_a_file_name_that_is_not_utf8_is_skipped_not_fatal(tmp_path: Path) -> None:
    make_home(tmp_path)
    context = tmp_path / "context"
    (Path(os.fsencode(context).decode()) / "runbooks" / os.fsdecode(b"caf\xe9.md")).write_bytes(b"# Cafe\n")
    library = load_library(context)
    assert library.sections_of("runbooks/deploy.md")
    assert "skipped 'runbooks/caf\\udce9.md': its name is not UTF-8; rename it" in library.warnings


def test_a_file_name_holding_a_newline_is_skipped_and_shown_quoted(tmp_path: Path) -> None:
    make_home(tmp_path)
    context = tmp_path / "context"
    name = "evil\nscaffold: kind 'api' (fake).md"
    (context / "runbooks" / name).write_text("# Evil\n", encoding="utf-8")
    library = load_library(context)
    assert library.sections_of("runbooks/deploy.md")
    [warning] = [line for line in library.warnings if "evil" in line]
    quoted = repr(f"runbooks/{name}")
    assert warning == (
        f"skipped {quoted}: its name holds a control character or a mark that reorders text (a newline, a tab, "
        "U+202E); rename it"
    )
    assert "\n" not in warning
    (context / "runbooks" / "notes\u202edm.exe.md").write_text("# Notes\n", encoding="utf-8")  # reads as notesexe.md
    library = load_library(context)
    assert any(line.startswith("skipped 'runbooks/notes\\u202edm.exe.md'") for line in library.warnings)
    assert not any("evil" in path for path in library.paths())


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="a device to link to")
def test_a_stub_template_linked_to_a_device_is_not_read(tmp_path: Path) -> None:
    make_home(tmp_path)
    context = tmp_path / "context"
    (context / "_templates").mkdir(exist_ok=True)
    (context / "_templates" / "incident.md").symlink_to("/dev/zero")  # read whole, it never ends
    assert load_library(context).sections_of("runbooks/deploy.md")


def test_non_utf8_files_are_skipped_with_a_warning(tmp_path: Path) -> None:
    make_home(tmp_path, {"context/runbooks/latin1.md": "# Café\n".encode("latin-1")})
    library = load_library(tmp_path / "context")
    assert library.sections_of("runbooks/latin1.md") is None
    assert any("runbooks/latin1.md" in w and "not UTF-8" in w for w in library.warnings)
    assert library.sections_of("runbooks/deploy.md")


def test_of_a_file_larger_than_a_document_may_be_only_the_first_part_is_indexed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A log or an export saved as markdown: indexed whole, 115 MB took a cold run 22.5 s and 970 MB.
    make_home(tmp_path)
    largest = max(path.stat().st_size for path in (tmp_path / "context").rglob("*.md"))
    limit = largest + 400
    monkeypatch.setattr(files_module, "MAX_DOCUMENT_BYTES", limit)
    dump = tmp_path / "context" / "runbooks" / "dump.md"
    head = "# Dump\n\n## Early\n\nzyzzyva\n\n"
    dump.write_text(head + "x" * (limit - len(head) - 50) + "\n\n## Late\nquokka " + "y" * 60 + "\n")
    library = load_library(tmp_path / "context")
    kept = [section.heading for section in library.sections_of("runbooks/dump.md") or []]
    assert kept == ["Dump", "Early"]  # cut after the blank line before "## Late"
    assert library.rank("zyzzyva", ["runbooks"], 5)
    assert library.rank("quokka", ["runbooks"], 5) == []
    kept_bytes = limit - 50 + 2  # the text up to that blank line
    assert [warning for warning in library.warnings if "a document may have" in warning] == [
        f"runbooks/dump.md is {dump.stat().st_size:,} bytes, over the {limit:,} bytes a document may have: "
        f"only its first {kept_bytes:,} are used; split it, or move it out of context/ if it is no document"
    ]
    assert library.sections_of("runbooks/deploy.md")
    # At the limit it is a document, whole.
    dump.write_text(head + "x" * (limit - len(head) - 1) + "\n")
    again = load_library(tmp_path / "context")
    assert not [warning for warning in again.warnings if "a document may have" in warning]


def scanned(tmp_path: Path, files: dict[str, bytes]) -> tuple[Path, dict[str, FileEntry]]:
    """A `context/` folder holding `files`, and what the scan found in it, by path."""
    context = tmp_path / "context"
    build_file_tree(context, dict(files))
    return context, {entry.path: entry for entry in scan_files(context)[0]}


_R = TypeVar("_R")


def traced_peak(call: Callable[[], _R]) -> tuple[_R, int]:
    """What `call` returns, and the most memory Python held for it at once, in bytes."""
    tracemalloc.start()
    try:
        return call(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_file_that_grew_past_the_limit_since_the_scan_is_cut_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files_module, "MAX_DOCUMENT_BYTES", 100)
    context, entries = scanned(tmp_path, {"log.md": b"# Log\n\nquiet\n"})
    (context / "log.md").write_text("# Log\n\n" + "line\n" * 40)
    warning, read = files_module.read_document(context, "log.md", entries["log.md"])
    assert read is not None and len(read.data) <= 100
    assert warning is not None and warning.startswith("log.md is over the 100 bytes a document may have: only its")


def test_a_file_larger_than_a_document_may_be_is_not_read_whole(tmp_path: Path) -> None:
    context, entries = scanned(tmp_path, {"dump.md": b"# Dump\n" + b"rollback gateway alert\n" * 700_000})  # 16 MB
    (warning, read), peak = traced_peak(lambda: files_module.read_document(context, "dump.md", entries["dump.md"]))
    assert warning is not None and "dump.md is 16,100,007 bytes, over the 1,000,000 bytes" in warning
    assert read is not None and len(read.data) <= files_module.MAX_DOCUMENT_BYTES
    assert read.data.startswith(b"# Dump\n")
    # The digest is of the bytes read, as `document_digest` reads them: the same for the same file.
    assert read.digest == files_module.document_digest(context, "dump.md")
    assert peak < 4 * files_module.MAX_DOCUMENT_BYTES


@pytest.mark.parametrize("size_then", [0, 10, 100, 500])
def test_a_file_read_to_a_limit_is_read_to_it_whatever_size_it_had_when_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size_then: int
) -> None:
    # The read asks for one byte past the size the file has when opened, not for the whole limit: a
    # file that grew since (a size then of 0 or 10) is read on, one that shrank (500) is read whole.
    (tmp_path / "notes.md").write_bytes(b"x" * 100)
    monkeypatch.setattr(files_module, "_size_now", lambda handle: size_then)
    asked: list[int] = []
    real_open = files_module.open_inside

    class Spy:
        def __init__(self, handle: Any) -> None:
            self.handle = handle

        def __enter__(self) -> Spy:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def read(self, size: int = -1) -> bytes:
            asked.append(size)
            return bytes(self.handle.read(size))

        def fileno(self) -> int:
            return int(self.handle.fileno())

    monkeypatch.setattr(files_module, "open_inside", lambda *args, **kwargs: Spy(real_open(*args, **kwargs)))
    assert files_module.read_bytes(tmp_path, "notes.md", limit=10**6) == b"x" * 100
    assert asked[0] == size_then + 1  # not the limit: Python makes a buffer of the size asked for
    assert files_module.read_bytes(tmp_path, "notes.md", limit=50) == b"x" * 50
    assert files_module.read_bytes(tmp_path, "notes.md", limit=100) == b"x" * 100
    assert files_module.read_bytes(tmp_path, "notes.md", limit=101) == b"x" * 100
    assert files_module.read_bytes(tmp_path, "notes.md", limit=0) == b""
    assert files_module.read_bytes(tmp_path, "notes.md") == b"x" * 100


def test_a_large_file_that_is_no_utf8_where_it_is_cut_is_skipped_not_emptied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stepping back to a character's start goes at most three bytes: a run of continuation bytes is no
    # UTF-8, not a part of length 0.
    monkeypatch.setattr(files_module, "MAX_DOCUMENT_BYTES", 1000)
    context, entries = scanned(tmp_path, {"blob.md": b"\x80" * 1005, "euro.md": b"# Euros\n" + "\u20ac".encode() * 400})
    warning, data = files_module.read_document(context, "blob.md", entries["blob.md"])
    assert data is None and warning is not None and "skipped blob.md: not UTF-8 text (byte 0x80 at offset 0)" in warning
    warning, read = files_module.read_document(context, "euro.md", entries["euro.md"])
    # Byte 1,000 is the last of a € (8 + 3 * 330 + 2): cut before it, at 998.
    assert read is not None and len(read.data) == 998 and read.data.decode().endswith("\u20ac")


def test_text_in_another_encoding_is_told_how_to_convert(tmp_path: Path) -> None:
    # `iconv -t UTF-8` alone reads the locale's encoding (UTF-8 here) and fails on the byte reported. The
    # encoding cannot be told from the bytes (Windows-1252 decodes Cyrillic into nonsense without an
    # error), so the hint names the likely ones and says to check the result.
    files = {
        "latin.md": "# Caf\u00e9 runbook\n\nRestart the \u201cworker\u201d, d\u00e9j\u00e0 vu.\n".encode("cp1252"),
        "russian.md": "# \u041f\u0435\u0440\u0435\u0437\u0430\u043f\u0443\u0441\u043a\n".encode("cp1251"),
        "dos.md": "# Caf\u00e9\r\n".encode("cp1252") + b"\x1a",  # Ctrl-Z: DOS's end of file
        "log.md": b"# Log\n\n\x1b[31mfailed\x1b[0m caf\xe9\n",
        "image.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "bell.md": b"# Caf\xe9\x07\n",
    }
    context, entries = scanned(tmp_path, files)

    def hint(name: str) -> str:
        warning, read = files_module.read_document(context, name, entries[name])
        assert read is None and warning is not None and warning.startswith(f"skipped {name}: not UTF-8 text (byte 0x")
        return warning.partition("); ")[2]

    convert = (
        "convert it from the encoding it was saved in, e.g. `iconv -f WINDOWS-1252 -t UTF-8 FILE > FILE.utf8` "
        "(Western European; WINDOWS-1250 Central European, WINDOWS-1251 Cyrillic, SHIFT_JIS Japanese, GBK Chinese), "
        "and check FILE.utf8 before it replaces FILE"
    )
    assert [hint(name) for name in ("latin.md", "russian.md", "dos.md", "log.md")] == [convert] * 4
    assert [hint(name) for name in ("image.md", "bell.md")] == [
        "it looks like a binary file: move it out of context/"
    ] * 2
    if shutil.which("iconv"):  # the commands as printed, FILE named, convert the files
        for name, encoding in (("latin.md", "WINDOWS-1252"), ("russian.md", "WINDOWS-1251")):
            source = context / name
            with source.open("rb") as given, Path(f"{source}.utf8").open("wb") as out:
                subprocess.run(["iconv", "-f", encoding, "-t", "UTF-8"], stdin=given, stdout=out, check=True)
            python_codec = {"WINDOWS-1252": "cp1252", "WINDOWS-1251": "cp1251"}[encoding]
            assert Path(f"{source}.utf8").read_text() == files[name].decode(python_codec)


def test_utf16_and_nul_bytes_are_skipped_with_how_to_fix_them(tmp_path: Path) -> None:
    # UTF-16 without a byte-order mark is valid UTF-8 full of NUL bytes: it would reach prompts as such.
    text = "# Restart the agent\n\nRun restart.ps1\n"
    make_home(
        tmp_path,
        {
            "context/runbooks/bare.md": text.encode("utf-16-le"),
            "context/runbooks/marked.md": text.encode("utf-16"),
            "context/runbooks/big-endian.md": text.encode("utf-16-be"),
            "context/runbooks/cyrillic.md": "# \u041f\u0435\u0440\u0435\u0437\u0430\u043f\u0443\u0441\u043a\n\n\u0421\u043a\u0440\u0438\u043f\u0442\n".encode(
                "utf-16-le"
            ),
            "context/runbooks/pasted.md": "# Notes\n\npaste: \0 here\n",
        },
    )
    library = load_library(tmp_path / "context")
    # The byte order named where no mark gives it (iconv's plain UTF-16 may assume either). Cyrillic in
    # UTF-16 has NUL bytes only in its spaces and line ends.
    for name, encoding in (
        ("bare", "UTF-16LE"),
        ("marked", "UTF-16"),
        ("big-endian", "UTF-16BE"),
        ("cyrillic", "UTF-16LE"),
    ):
        assert library.sections_of(f"runbooks/{name}.md") is None
        utf16 = f"UTF-16 text, not UTF-8; convert it with `iconv -f {encoding} -t UTF-8 FILE > FILE.utf8`"
        assert f"skipped runbooks/{name}.md: {utf16}" in library.warnings
    assert (
        "skipped runbooks/pasted.md: a NUL byte on line 3, which no text holds; remove it, e.g. with `tr -d '\\000'`"
    ) in library.warnings


def digest_of(library: documents.Library, path: str) -> str | None:
    """The digest of the bytes a document's sections were split from, as each of its sections carries it."""
    sections = library.sections_of(path)
    return sections[0].digest if sections else None


def test_sections_are_read_from_the_document_the_index_split(tmp_path: Path) -> None:
    # The index keeps where each section starts and ends; a file saved after it was indexed and before a
    # section is read would give a slice of the new text at the old offsets.
    context = make_home(tmp_path / "home") / "context"
    deploy = context / "runbooks" / "deploy.md"
    original = deploy.read_bytes()
    first, second = load_library(context), load_library(context)
    sections = first.sections_of("runbooks/deploy.md")
    assert sections and {section.digest for section in sections} == {hashlib.sha256(original).hexdigest()}
    assert first.read(sections[1]) == original[sections[1].start : sections[1].end].decode()
    deploy.write_bytes(b"# Deploy\n\nMoved to the wiki.\n" + original)  # saved above the sections
    # A document read already gives its other sections from the same bytes: one prompt, one version.
    assert first.read(sections[0]) == original[: sections[0].end].decode()
    assert digest_of(first, "runbooks/deploy.md") == hashlib.sha256(original).hexdigest()
    # One not read yet is the error, not a slice of the new text.
    with pytest.raises(DocumentChangedError, match=r"runbooks/deploy.md changed while scaffold read it; run again"):
        second.read(second.sections_of("runbooks/deploy.md")[1])  # type: ignore[index]
    assert digest_of(first, "runbooks/gone.md") is None


def test_a_document_found_changed_is_read_again_whatever_its_stamps(tmp_path: Path) -> None:
    # Saved twice within one tick of a coarse clock (FAT, SMB, older kernels), a file keeps its size and
    # times: its stamps say it is unchanged, so without more the error would come back on every run.
    context = make_home(tmp_path / "home") / "context"
    before = digest_of(load_library(context), "runbooks/deploy.md")
    save_within_one_tick(context, "runbooks/deploy.md", b"image", b"IMAGE")
    stale = load_library(context)  # nothing to update, by the stamps
    with pytest.raises(DocumentChangedError) as raised:
        stale.read(stale.sections_of("runbooks/deploy.md")[1])  # type: ignore[index]
    assert raised.value.path == "runbooks/deploy.md"
    assert digest_of(load_library(context), "runbooks/deploy.md") == before  # the stamps alone: still the old split
    again = load_library(context, reread=[raised.value.path])
    text = "".join(again.read(section) for section in again.sections_of("runbooks/deploy.md") or [])
    assert "IMAGE" in text
    assert digest_of(again, "runbooks/deploy.md") not in (None, before)
    assert digest_of(load_library(context), "runbooks/deploy.md") == digest_of(again, "runbooks/deploy.md")  # kept


def test_a_link_pointed_at_another_file_of_the_same_size_and_times_is_indexed_again(tmp_path: Path) -> None:
    # The adversary's case: `decisions/current.md -> 0001-x.md`, pointed at a file of the same size whose
    # times, on a coarse clock, are the first one's too. Only the inode tells; the times are made equal
    # here in the index, as such a clock would have left them.
    context = (
        make_home(
            tmp_path / "home",
            {
                "context/decisions/0001-alpha.md": "# Alpha\n\nWe queue with zeppelin.\n",
                "context/decisions/0002-bravo.md": "# Bravo\n\nWe queue with blimpers.\n",
            },
        )
        / "context"
    )
    link = context / "decisions" / "current.md"
    link.symlink_to("0001-alpha.md")
    assert load_library(context).rank("zeppelin", ["decisions"], 5)
    old = next(entry for entry in scan_files(context)[0] if entry.path == "decisions/current.md")
    link.unlink()
    link.symlink_to("0002-bravo.md")
    index = SectionIndex.open(index_path(context))
    with index.transaction():
        new = next(entry for entry in scan_files(context)[0] if entry.path == "decisions/current.md")
        assert new.size == old.size and new.inode != old.inode
        same_times = new._replace(inode=old.inode)
        query = "UPDATE files SET mtime_ns = ?, ctime_ns = ? WHERE path = ?"
        index.db.execute(query, (new.mtime_ns, new.ctime_ns, new.path))
        entries = [same_times if entry.path == new.path else entry for entry in scan_files(context)[0]]
        index.db.execute("UPDATE meta SET value = ? WHERE key = 'stamps'", (index_module.stamps_digest(entries),))
    index.close()
    library = load_library(context)
    assert sorted(section.path for section, _ in library.rank("blimpers", ["decisions"], 5)) == [
        "decisions/0002-bravo.md",
        "decisions/current.md",
    ]
    assert "decisions/current.md" not in [section.path for section, _ in library.rank("zeppelin", ["decisions"], 5)]


def test_the_last_documents_read_are_kept_and_no_more(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A prompt reads a few sections of each document in turn: the last `KEPT_DOCUMENTS` read are kept (a
    # megabyte each at most), the least recently used one goes first.
    names = [f"runbooks/r{number}.md" for number in range(documents.KEPT_DOCUMENTS + 2)]
    context, _ = scanned(tmp_path, {name: b"# Title\n\n## One\n\nText.\n" for name in names})
    library = load_library(context, use_cache=False)
    real, reads = files_module.read_raw, []

    def spy(root: Path, path: str, seen: FileEntry | None = None) -> tuple[bytes, str]:
        reads.append(path)
        return real(root, path, seen)

    monkeypatch.setattr(files_module, "read_raw", spy)

    def read(name: str) -> None:
        for section in library.sections_of(name) or []:
            library.read(section)

    first, *others = names
    for name in [first, *others[: documents.KEPT_DOCUMENTS - 1], first, others[-2]]:
        read(name)  # the first read again just before a ninth: it stays, the second goes
    assert reads.count(first) == 1
    reads.clear()
    read(first)
    read(others[0])
    assert reads == [others[0]]


def test_a_document_gone_since_the_index_update_is_a_change_too(tmp_path: Path) -> None:
    context = make_home(tmp_path / "home") / "context"
    library = load_library(context)
    (context / "runbooks" / "deploy.md").unlink()
    with pytest.raises(DocumentChangedError, match=r"cannot read .*runbooks/deploy.md: .*; run again"):
        library.read(library.sections_of("runbooks/deploy.md")[0])  # type: ignore[index]


def test_a_documents_digest_is_of_what_a_document_may_be(tmp_path: Path) -> None:
    context = make_home(tmp_path / "home") / "context"
    deploy = context / "runbooks" / "deploy.md"
    # Whole for any document people write: the digests fill records kept before stay valid.
    assert (
        files_module.document_digest(context, "runbooks/deploy.md") == hashlib.sha256(deploy.read_bytes()).hexdigest()
    )
    assert files_module.document_digest(context, "runbooks/gone.md") is None
    (tmp_path / "outside.md").write_text("# Outside\n")
    (context / "out.md").symlink_to(tmp_path / "outside.md")
    assert files_module.document_digest(context, "out.md") is None
    assert files_module.document_digest(context, "../../outside.md") is None
    # Paths a hand-edited fill record may hold, that the system cannot take or that lie elsewhere; an
    # absolute one, even into the home, is no record's path.
    assert files_module.document_digest(context, str(deploy)) is None
    for odd in ("x\0y.md", "\ud800.md", str(tmp_path / "outside.md"), "/dev/zero", "a" * 5000 + ".md"):
        assert files_module.document_digest(context, odd) is None
    (context / "dump.md").write_bytes(b"x" * 16 * 2**20)
    digest, peak = traced_peak(lambda: files_module.document_digest(context, "dump.md"))
    assert digest == hashlib.sha256(b"x" * (files_module.MAX_DOCUMENT_BYTES + 1)).hexdigest()
    assert peak < 4 * files_module.MAX_DOCUMENT_BYTES


# How a version-`INDEX_VERSION` index splits files that exercise each rule of the split: a change to
# any of them changes this digest. Raise INDEX_VERSION with it (an index of another version is rebuilt,
# so none keeps the old split of files that did not change), then update both here.
SPLIT_OF_VERSION = (15, "6f886517544b91aa")


def test_a_change_in_how_files_are_split_comes_with_a_new_index_version(tmp_path: Path) -> None:
    context = tmp_path / "context"
    build_file_tree(
        context,
        {
            "front.md": "---\ntitle: Front\n---\n# Front\n\nText.\n\n## Two\n\nMore.\n",
            "setext.md": "Title\n=====\n\nIntro.\n\nPart\n----\n\nBody.\n\n#### Deep\n\nStays.\n",
            "fenced.md": "# Code\n\n```\n# not a heading\n```\n\n### Three\n\nEnd.\n",
            "long.md": "# Long\n\n" + ("word " * 40 + "\n\n") * 400,
            "log.md": "# Log\n\n" + ("## Page\n\nalert fired\n\n" * 50_000),
            "utf16.md": "# Windows\n".encode("utf-16-le"),
            "bom.md": b"\xef\xbb\xbf# Marked\n\nText.\n\n## Two\n\nMore.\n",
            "crlf.md": b"Title\r\n=====\r\n\r\nIntro.\r\n\r\n## Two\r\n\r\n"
            + b"one line\r\nanother line\r\na third line\r\n\r\n" * 500,
            "latin1.md": "# Caf\u00e9\n".encode("latin-1"),
        },
    )
    stubs = files_module.StubPatterns.load(context)
    parsed = [files_module.parse_file(context, stubs, entry) for entry in scan_files(context)[0]]
    # The stamps (size, times and inode) are the files', not the split's.
    split = [(file[0], file[5:], sections, texts) for (file, sections, texts) in parsed]
    digest = hashlib.sha256(json.dumps(split).encode()).hexdigest()[:16]
    assert (INDEX_VERSION, digest) == SPLIT_OF_VERSION


def test_unreadable_files_are_skipped_with_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_home(tmp_path)
    real_read = files_module.read_bytes

    def read(root: Path, path: str, seen: FileEntry | None = None, limit: int = -1, *, hidden: bool = False) -> bytes:
        if path.endswith("/deploy.md"):
            raise PermissionError(13, "Permission denied", str(root / path))
        return real_read(root, path, seen, limit, hidden=hidden)

    monkeypatch.setattr(files_module, "read_bytes", read)
    library = load_library(tmp_path / "context")
    assert library.sections_of("runbooks/deploy.md") is None
    assert any("runbooks/deploy.md" in w and "Permission denied" in w for w in library.warnings)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_files_by_permissions(tmp_path: Path) -> None:
    make_home(tmp_path)
    target = tmp_path / "context" / "runbooks" / "deploy.md"
    target.chmod(0)
    try:
        library = load_library(tmp_path / "context")
    finally:
        target.chmod(0o644)
    assert any("runbooks/deploy.md" in w for w in library.warnings)


def test_the_index_is_cached_and_only_changed_files_are_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Larger than a home that is rebuilt on every edit (see the next test).
    many = index_module.SMALL_HOME_FILES + 1
    filler: dict[str, str | bytes] = {f"context/notes/{n:03d}.md": f"# Note {n}\n\nNothing.\n" for n in range(many)}
    make_home(tmp_path, filler)
    context = tmp_path / "context"
    first = load_library(context)
    assert index_path(context).is_file()
    read: list[str] = []
    real_read = files_module.read_bytes

    def spy(root: Path, path: str, seen: FileEntry | None = None, limit: int = -1, *, hidden: bool = False) -> bytes:
        read.append(path)
        return real_read(root, path, seen, limit, hidden=hidden)

    monkeypatch.setattr(files_module, "read_bytes", spy)
    again = load_library(context)
    assert read == []
    assert again.sections_of("style.md") == first.sections_of("style.md")

    deploy = context / "runbooks" / "deploy.md"
    deploy.write_text("# Deploy\n\n## Steps\n\nUse the pipeline.\n\n## Verify\n\nWatch the dashboard.\n")
    touch_later(deploy)
    changed = load_library(context)
    assert read == ["runbooks/deploy.md"]
    assert [s.heading for s in changed.sections_of("runbooks/deploy.md") or []] == ["Deploy", "Steps", "Verify"]
    # The old text is gone from the ranking, the new one is in it.
    assert changed.rank("image tag", ["runbooks"], 5) == []
    assert changed.rank("dashboard", ["runbooks"], 5)[0][0].heading == "Verify"

    deploy.unlink()
    assert load_library(context).sections_of("runbooks/deploy.md") is None
    assert load_library(context).rank("dashboard pipeline", ["runbooks"], 5) == []


def _parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The documents split from now on (`parse_file`, as the index calls it)."""
    split: list[str] = []
    real_parse = files_module.parse_file

    def spy(root: Path, stubs: files_module.StubPatterns, entry: FileEntry) -> files_module.Parsed:
        split.append(entry.path)
        return real_parse(root, stubs, entry)

    monkeypatch.setattr(files_module, "parse_file", spy)
    return split


def test_files_touched_or_copied_with_the_same_bytes_get_new_stamps_not_a_new_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A checkout beside a cache restored in CI, `git stash pop`, a copy that does not keep times: every
    # stamp changes, no byte does. Before, each such file was split and indexed again (all of them: a
    # cold build), leaving its old rows dead in the full-text index. (A home larger than one rebuilt
    # on every edit, whose index holds no hidden rows either way.)
    _large_home(tmp_path)
    context = tmp_path / "context"
    first = load_library(context)
    task = "deploy workflow image tag"
    ranking = [(section.path, section.ordinal, score) for section, score in first.rank(task, ["runbooks"], 5)]
    assert ranking
    documents = [entry.path for entry in scan_files(context)[0]]
    for path in documents:
        touch_later(context / path)
    copied = context / "runbooks" / "deploy.md"
    shutil.copyfile(copied, tmp_path / "copy.md")  # a new inode and new times, the same bytes
    os.replace(tmp_path / "copy.md", copied)
    split = _parsed(monkeypatch)
    ranked: list[list[str]] = []
    real_rank = SectionIndex._rank

    def rank_spy(self: SectionIndex, terms: list[str], folders: Sequence[str], limit: int) -> Any:
        ranked.append(terms)
        return real_rank(self, terms, folders, limit)

    monkeypatch.setattr(SectionIndex, "_rank", rank_spy)
    again = load_library(context)
    assert split == []
    assert [(s.path, s.ordinal, score) for s, score in again.rank(task, ["runbooks"], 5)] == ranking
    assert ranked == []  # the rankings kept: the same rows rank the same
    sections = again.sections_of("runbooks/deploy.md") or []
    assert sections and sections == first.sections_of("runbooks/deploy.md")
    assert [again.read(section) for section in sections] == [first.read(section) for section in sections]
    index = SectionIndex.open(index_path(context))
    try:
        entries = scan_files(context)[0]
        # The new stamps kept, the digest a warm run compares and each file's, which the next update compares.
        assert index.stamps_if_current(files_module.StubPatterns.load(context)) == index_module.stamps_digest(entries)
        assert index._stamps() == {entry.path: entry.stamps for entry in entries}
        assert index._meta("dead") == "0"
    finally:
        index.close()


def _large_home(root: Path) -> None:
    """The test home and notes enough that it is not rebuilt on every edit (`SMALL_HOME_FILES`)."""
    many = index_module.SMALL_HOME_FILES + 1
    make_home(root, {f"context/notes/{n:03d}.md": f"# Note {n}\n\nNothing.\n" for n in range(many)})


def test_a_home_edited_since_its_build_is_built_again_when_most_files_are_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its hidden rows make it rank a little unlike a fresh build: a fresh checkout beside it (most
    # stamps changed at once) makes it one, so CI ranks as a teammate's fresh index does.
    _large_home(tmp_path)
    context = tmp_path / "context"
    load_library(context)
    deploy = context / "runbooks" / "deploy.md"
    deploy.write_text(deploy.read_text() + "\nTag the image first.\n")
    touch_later(deploy)
    load_library(context)
    index = SectionIndex.open(index_path(context))
    assert index._meta("dead") != "0"
    index.close()
    documents = [entry.path for entry in scan_files(context)[0]]
    half = documents[: (len(documents) + 1) // 2]
    for path in half:  # the least the index takes for a checkout: too few hidden rows to rebuild by
        touch_later(context / path)
    split = _parsed(monkeypatch)
    load_library(context)
    assert sorted(split) == documents
    index = SectionIndex.open(index_path(context))
    assert index._meta("dead") == "0"
    index.close()
    split.clear()
    for path in documents:  # a whole checkout, on an index as a build left it: only stamps
        touch_later(context / path)
    load_library(context)
    assert split == []


def test_a_file_indexed_unread_is_read_again_when_touched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Its row keeps no digest (nothing was read): no reading now can vouch that it is the same, and
    # the warning it gets must be the one for what it is now (not text then, unreadable now).
    make_home(tmp_path, {"context/runbooks/dump.md": b"# Dump\n\n\0\n"})
    context = tmp_path / "context"
    assert any("dump.md" in warning and "NUL" in warning for warning in load_library(context).warnings)
    touch_later(context / "runbooks" / "dump.md")
    real_read = files_module.read_bytes

    def read(root: Path, path: str, seen: FileEntry | None = None, limit: int = -1, *, hidden: bool = False) -> bytes:
        if path.endswith("/dump.md"):
            raise PermissionError(13, "Permission denied", str(root / path))
        return real_read(root, path, seen, limit, hidden=hidden)

    monkeypatch.setattr(files_module, "read_bytes", read)
    warnings = [warning for warning in load_library(context).warnings if "dump.md" in warning]
    assert len(warnings) == 1 and "Permission denied" in warnings[0], warnings


def test_a_file_of_the_same_size_with_other_bytes_is_split_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Larger than a home that is rebuilt on every edit: only what changed is split.
    _large_home(tmp_path)
    context = tmp_path / "context"
    before = load_library(context)
    assert before.rank("imago", ["runbooks"], 5) == []
    deploy = context / "runbooks" / "deploy.md"
    text = deploy.read_bytes()
    assert b"image" in text
    deploy.write_bytes(text.replace(b"image", b"imago"))  # the same size
    touch_later(deploy)
    touch_later(context / "runbooks" / "rotate-certificates.md")  # only touched
    split = _parsed(monkeypatch)
    after = load_library(context)
    assert split == ["runbooks/deploy.md"]
    assert after.rank("imago", ["runbooks"], 5)[0][0].path == "runbooks/deploy.md"
    assert digest_of(after, "runbooks/deploy.md") == hashlib.sha256(deploy.read_bytes()).hexdigest()


def test_a_small_home_edited_here_ranks_as_the_same_files_indexed_afresh(tmp_path: Path) -> None:
    # Teammates on one commit get one prompt, whatever each index went through on the way.
    make_home(tmp_path / "here")
    context = tmp_path / "here" / "context"
    load_library(context)
    deploy = context / "runbooks" / "deploy.md"
    for number in range(3):
        deploy.write_text(
            deploy.read_text() + f"\nReviewed {number}: deploy the image tag, then watch the dashboard.\n"
        )
        touch_later(deploy)
        load_library(context)
    (context / "runbooks" / "rotate-certificates.md").unlink()
    shutil.copytree(tmp_path / "here", tmp_path / "there")

    def ranking(library: Any) -> list[tuple[str, str, float]]:
        hits = library.rank("deploy the image tag and watch the dashboard", ["runbooks", "decisions"], 20)
        return [(section.path, section.heading, round(score, 9)) for section, score in hits]

    here = ranking(load_library(context))
    assert here and here == ranking(load_library(tmp_path / "there" / "context"))


def test_reading_a_section_returns_its_text(tmp_path: Path) -> None:
    make_home(tmp_path)
    library = load_library(tmp_path / "context")
    python = next(s for s in library.sections_of("style.md") or [] if s.heading == "Python")
    assert library.read(python) == "## Python\n\nType hints everywhere; ruff format.\n\n"
    assert python.trail == "Style > Python"
    assert python.line == 7
    assert python.tokens == -(-len(library.read(python)) // 3)


def test_bm25_ranks_sections_of_the_ranked_folders_only(tmp_path: Path) -> None:
    make_home(tmp_path)
    library = load_library(tmp_path / "context")
    folders = ["decisions", "incidents", "runbooks", "anti-patterns"]

    ranked = library.rank("rotate the TLS certificate on the gateway", folders, 3)
    assert ranked[0][0].path == "runbooks/rotate-certificates.md"
    assert all(score > 0 for _, score in ranked)
    assert [score for _, score in ranked] == sorted((score for _, score in ranked), reverse=True)

    kafka = library.rank("consumer lag on the kafka topics", folders, 1)
    assert kafka[0][0].path == "decisions/0003-kafka.md"

    everything = library.rank("terraform snake_case names", folders, 50)
    assert all(section.folder in folders for section, _ in everything)
    assert library.rank("zzzz qqqq", folders, 5) == []


def test_a_folder_of_few_sections_is_ranked_by_its_row_ids_as_a_full_ranking_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Project contexts are scored by their row ids, in ranges (`_rank_few`): same sections, same
    # scores and order as filtering every match by folder, for rows renumbered by edits (their old
    # ones hidden), with live rows of other folders inside a range, and not for a folder whose
    # name starts the same.
    words = ["pool", "retry", "queue", "cache", "timeout", "ledger", "webhook", "replica"]
    files: dict[str, str | bytes] = {}
    for n in range(60):
        body = " ".join(words[(n + k) % len(words)] for k in range(n % 5 + 1))
        files[f"context/runbooks/r{n:02d}.md"] = f"# R{n}\n\n## Steps\n\n{body}\n\n## Verify\n\n{words[n % 8]}\n"
        if n % 10 == 0:
            files[f"context/project-contexts/svc-{n}.md"] = (
                f"# svc-{n}\n\n## Queues\n\n{body} queue\n\n## Pool\n\npool\n"
            )
    files["context/project-contexts-archive/old.md"] = "# old\n\npool retry queue cache\n"
    make_home(tmp_path, files)
    context = tmp_path / "context"
    load_library(context)
    # An edit renumbers a document's rows and leaves its old ones hidden in the full-text index.
    edited = context / "project-contexts" / "svc-20.md"
    edited.write_text("# svc-20\n\n## Retries\n\nretry the webhook with a timeout\n")
    touch_later(edited)
    index = load_library(context)._index

    few: list[bool] = []
    real_few = SectionIndex._rank_few

    def spy(self: SectionIndex, *args: Any) -> Any:
        answer = real_few(self, *args)
        few.append(answer is not None)
        return answer

    def ranked(terms: list[str], folders: list[str], **settings: int) -> list[tuple[str, int, float]]:
        with monkeypatch.context() as patch:
            for name, value in settings.items():
                patch.setattr(index_module, name, value)
            return index._rank(terms, folders, 5)

    monkeypatch.setattr(SectionIndex, "_rank_few", spy)
    queries = [["pool"], ["retry", "webhook", "retry webhook"], ["queue", "cache", "timeout"], ["zzz"]]
    for folders in (["project-contexts"], ["project-contexts", "project-contexts-archive"]):
        for terms in queries:
            by_folder = ranked(terms, folders, FEW_SECTIONS=-1)
            assert ranked(terms, folders) == by_folder
            assert ranked(terms, folders, RUN_GAP=0) == by_folder  # a range per row
            assert ranked(terms, folders, RUN_GAP=10**6) == by_folder  # one range, every folder's live rows in it
            assert ranked(terms, folders, RUN_GAP=0, MAX_RUNS=0) == by_folder  # too many: the folder filter
            assert {folder_of(path) for path, _, _ in by_folder} <= set(folders)
    assert few.count(True) == 24 and few.count(False) == 8
    pool = index._rank(["pool"], ["project-contexts"], 10)
    assert {path for path, _, _ in pool} == {f"project-contexts/svc-{n}.md" for n in (0, 10, 30, 40, 50)}
    retry = index._rank(["retry"], ["project-contexts"], 10)
    assert ("project-contexts/svc-20.md", 1) in [(path, ordinal) for path, ordinal, _ in retry]  # its new row


@pytest.mark.parametrize("few", [True, False])
def test_a_ranking_sees_one_state_of_the_index_while_another_process_rebuilds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, few: bool
) -> None:
    # A ranking reads the folder's rows, then each full-text table; another process rebuilds the
    # index in between (a changed stub template renumbers every row). Read as two states, the
    # rows found no longer matched the scores: the project contexts vanished for that run.
    import subprocess
    import sys

    files: dict[str, str | bytes] = {}
    for n in range(5):
        files[f"context/project-contexts/svc-{n}.md"] = f"# svc-{n}\n\n## Queue\n\nkafka consumer lag svc{n}\n"
        files[f"context/decisions/{n:04d}-d.md"] = f"# D{n}\n\nkafka retention\n"
    make_home(tmp_path, files)
    context = tmp_path / "context"
    index = load_library(context)._index
    rebuild = "import sys, pathlib; from generator.context.documents import load_library; load_library(pathlib.Path(sys.argv[1]))"
    real_tables = SectionIndex._fts_tables
    fired: list[bool] = []

    def rebuilt_meanwhile(self: SectionIndex) -> list[str]:
        if not fired:
            fired.append(True)
            (context / "_templates").mkdir(exist_ok=True)
            (context / "_templates" / "decision.md").write_text("# $number $title\n")
            subprocess.run([sys.executable, "-c", rebuild, str(context)], check=True, cwd=REPO_ROOT)
        return real_tables(self)

    monkeypatch.setattr(index_module, "FEW_SECTIONS", 500 if few else -1)
    monkeypatch.setattr(SectionIndex, "_fts_tables", rebuilt_meanwhile)
    ranked = index.rank(["kafka"], ["project-contexts"], 10)
    assert fired
    assert sorted(path for path, _, _ in ranked) == [f"project-contexts/svc-{n}.md" for n in range(5)]


def test_the_sections_of_several_documents_are_those_of_each(tmp_path: Path) -> None:
    make_home(tmp_path)
    library = load_library(tmp_path / "context")
    index = library._index
    paths = [*library.paths(), "no/such.md"]
    many = index.sections_of_many(paths)
    assert many == {path: index.sections_of(path) for path in library.paths()}
    ranked = library.rank("rotate the TLS certificate on the gateway", ["runbooks", "decisions"], 10)
    assert all(library.sections_of(section.path) == many[section.path] for section, _ in ranked)


def test_a_ranking_reads_the_sections_it_names_not_their_documents_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_home(tmp_path)
    library = load_library(tmp_path / "context")
    index = library._index
    whole = {path: index.sections_of(path) for path in library.paths()}
    keys = [section.key for sections in whole.values() for section in sections]
    monkeypatch.setattr(index_module, "IN_CHUNK", 3)  # keys and their documents' digests across chunks
    found = index.sections_at([*reversed(keys), ("no/such.md", 0), (keys[0][0], 999), keys[0]])
    assert found == {key: whole[key[0]][key[1]] for key in keys}
    assert all(section.digest for section in found.values())

    whole_reads: list[Sequence[str]] = []
    real = SectionIndex.sections_of_many

    def spy(self: SectionIndex, paths: Sequence[str]) -> dict[str, list[files_module.Section]]:
        whole_reads.append(paths)
        return real(self, paths)

    monkeypatch.setattr(SectionIndex, "sections_of_many", spy)
    ranked = library.rank("rotate the TLS certificate on the gateway", ["runbooks", "decisions"], 10)
    assert ranked
    assert whole_reads == []  # no document read whole for the ranking
    assert [section for section, _ in ranked] == [whole[s.path][s.ordinal] for s, _ in ranked]
    # Loaded whole afterwards, a document's sections are those the ranking gave.
    first = ranked[0][0]
    assert library.sections_of(first.path) == whole[first.path]
    assert library.section(first.key) == first


def test_more_documents_than_one_sqlite_query_takes(tmp_path: Path) -> None:
    # The index asks about documents 500 at a time (old SQLite allows 999 parameters): rank (its
    # rows and their documents) and neighbours must see every one across the chunks, once.
    many = 1_234
    runbooks = [f"runbooks/step-{n:04d}.md" for n in range(many)]
    make_home(
        tmp_path,
        {
            "context/runbooks/hub.md": "# Hub\n\nWhere every step starts.\n",
            **{
                f"context/{path}": "# Zebrafish tank step\n\nFeed them, then see [the hub](hub.md).\n"
                for path in runbooks
            },
        },
    )
    library = load_library(tmp_path / "context")

    ranked = library.rank("zebrafish tank", ["runbooks"], 1_000)
    assert len(ranked) == 1_000
    assert len({section.path for section, _ in ranked}) == 1_000
    assert {section.path for section, _ in ranked} <= set(runbooks)
    assert all(library.sections_of(section.path) == [section] for section, _ in ranked)

    among = [*reversed(runbooks), "runbooks/hub.md"]
    assert library.neighbours("runbooks/hub.md", among) == runbooks[::-1]

    shared = library.words_in(runbooks, ["zebrafish", "hub", "giraffe"])
    assert shared == {path: {"zebrafish", "hub"} for path in runbooks}


def test_the_words_a_document_shares_with_a_task_are_matched_as_ranking_matches_them(tmp_path: Path) -> None:
    make_home(
        tmp_path,
        {
            "context/runbooks/rotate.md": "# Rotate credentials\n\n## Steps\n\nRotating the keys takes an hour.\n",
            "context/runbooks/other.md": "# Other\n\nNothing in common.\n",
        },
    )
    library = load_library(tmp_path / "context")
    words = ["rotate", "credential", "keys", "hour", "steps", "nightly"]
    assert library.words_in(["runbooks/rotate.md", "runbooks/other.md", "runbooks/gone.md"], words) == {
        "runbooks/rotate.md": {"rotate", "credential", "keys", "hour", "steps"},  # stemmed, title and headings too
        "runbooks/other.md": set(),
        "runbooks/gone.md": set(),
    }


def test_a_document_holding_enough_of_the_words_is_looked_at_no_further(tmp_path: Path) -> None:
    make_home(
        tmp_path,
        {
            "context/runbooks/rotate.md": "# Rotate credentials\n\nRotating the keys takes an hour.\n",
            "context/runbooks/other.md": "# Other\n\nAn hour of nothing.\n",
        },
    )
    library = load_library(tmp_path / "context")
    lookups: list[str] = []
    library._index.db.set_trace_callback(lambda sql: lookups.append(sql) if "MATCH" in sql else None)
    words = ["rotate", "keys", "hour", *(f"word{n}" for n in range(40))]
    shared = library.words_in(["runbooks/rotate.md", "runbooks/other.md"], words, enough=2)
    assert shared == {"runbooks/rotate.md": {"rotate", "keys"}, "runbooks/other.md": {"hour"}}
    assert len(lookups) == len(words), "one lookup per word while a document lacks enough"
    lookups.clear()
    assert library.words_in(["runbooks/rotate.md"], words, enough=2) == {"runbooks/rotate.md": {"rotate", "keys"}}
    assert len(lookups) == 2, "a document holding enough is looked at no further"


def test_words_outside_ascii_are_found_as_they_are_written(tmp_path: Path) -> None:
    make_home(tmp_path, {"context/runbooks/strasse.md": "# Sperrung der Hauptstraße\n\nUmleitung über die Brücke.\n"})
    library = load_library(tmp_path / "context")
    assert [section.path for section, _ in library.rank("Hauptstraße Brücke", ["runbooks"], 5)] == [
        "runbooks/strasse.md"
    ]
    assert library.words_in(["runbooks/strasse.md"], documents.query_terms("HAUPTSTRASSE hauptstraße Brücke")) == {
        "runbooks/strasse.md": {"hauptstraße", "brücke"}
    }


def test_a_title_match_outranks_the_same_words_in_a_body(tmp_path: Path) -> None:
    make_home(
        tmp_path,
        {
            "context/runbooks/restart-workers.md": "# Restart workers\n\n## Steps\n\nScale the service to zero.\n",
            "context/runbooks/scale.md": "# Scaling\n\n## Steps\n\nTo restart workers, scale them to zero first.\n",
        },
    )
    ranked = load_library(tmp_path / "context").rank("restart workers", ["runbooks"], 5)
    assert [section.path for section, _ in ranked][:2] == ["runbooks/restart-workers.md", "runbooks/restart-workers.md"]


def test_a_long_task_is_queried_by_its_first_words() -> None:
    text = " ".join(f"word{n} other{n}" for n in range(500))
    assert documents.query_terms(text)[-1] == f"other{documents.MAX_QUERY_WORDS // 2 - 1}"
    assert len(documents.query_terms(text)) == documents.MAX_QUERY_WORDS
    assert len(documents.query_pairs(text)) == documents.MAX_QUERY_WORDS


def test_query_words_and_phrases() -> None:
    terms = documents.query_terms("How do I rotate the TLS certificate? The TLS cert, I mean")
    assert terms == ["rotate", "tls", "certificate", "cert", "mean"]
    assert documents.query_pairs("the visibility timeout of a dead-letter queue") == [
        ("visibility", "timeout"),
        ("dead", "letter"),
        ("letter", "queue"),
    ]


def test_a_corrupt_index_is_rebuilt(tmp_path: Path) -> None:
    make_home(tmp_path)
    context = tmp_path / "context"
    load_library(context)
    path = index_path(context)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(b"this is not an SQLite database" * 100)
    library = load_library(context)
    assert library.rank("kafka consumer lag", ["decisions"], 1)[0][0].path == "decisions/0003-kafka.md"
    assert path.read_bytes().startswith(b"SQLite format 3")


def test_an_index_found_damaged_by_a_query_is_removed_and_built_anew(tmp_path: Path) -> None:
    import sqlite3

    from generator.errors import ExitCode, IndexDamagedError

    make_home(tmp_path)
    context = tmp_path / "context"
    load_library(context)
    path = index_path(context)
    with sqlite3.connect(path) as db:  # the full-text pages only: opening and the up-to-date check still pass
        db.execute("DELETE FROM fts_data WHERE id > 10")
    library = load_library(context)
    with pytest.raises(IndexDamagedError, match=r"was damaged .* run again to build it") as raised:
        library.rank("kafka consumer lag", ["decisions"], 1)
    assert raised.value.exit_code == ExitCode.EXTERNAL  # the machine's file, not the user's input
    assert not path.exists()
    assert load_library(context).rank("kafka consumer lag", ["decisions"], 1)[0][0].path == "decisions/0003-kafka.md"


@pytest.mark.parametrize(
    "damage",
    [
        # Bytes that are not UTF-8 in a heading: SQLite cannot give the text back (was an internal error).
        "UPDATE sections SET heading = CAST(X'44ff6d61696e' AS TEXT) WHERE path LIKE 'decisions/%'",
        # A table of the schema gone, under an intact version (was the in-memory fallback on every run).
        "DROP TABLE queries",
        # A value scaffold stored that no longer parses (was an internal error).
        "UPDATE meta SET value = '{not json' WHERE key = 'folders'",
        # Damage that breaks selection far from where it was read: a text turned into a blob (one bit
        # flipped in a record's type), the full-text index's own tables.
        "UPDATE sections SET trail = CAST(trail AS BLOB)",
        "DROP TABLE fts_config",
        "UPDATE queries SET hits = 'null'",
        # The full-text table itself: ranking found nothing, and the prompt lost its ranked documents.
        "DROP TABLE fts",
    ],
    ids=["heading-not-utf8", "table-gone", "meta-not-json", "text-a-blob", "fts-config-gone", "hits-null", "fts-gone"],
)
def test_damage_sqlite_cannot_see_is_rebuilt_and_the_prompt_is_the_same(tmp_path: Path, damage: str) -> None:
    import sqlite3

    from generator.context import api

    make_home(tmp_path)
    clean = {task: api.build_context(task, home=tmp_path) for task in ("kafka consumer lag", "the deploy rollback")}
    index_path(tmp_path / "context").unlink()  # a new index whose query cache has the first task only
    api.build_context("kafka consumer lag", home=tmp_path)
    with sqlite3.connect(index_path(tmp_path / "context")) as db:
        db.execute(damage)
    for task, expected in [*clean.items(), *clean.items()]:  # a ranking the index kept, one it must make; again
        result = api.build_context(task, home=tmp_path)
        assert (result.prompt, result.warnings) == (expected.prompt, expected.warnings), task


def test_a_bug_is_raised_at_once_and_the_index_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Only damage found in the index makes a run go again from a new one: a bug of scaffold's own would
    # otherwise cost a rebuild on every run, and with a warm index only, never show.
    import sqlite3

    from generator.context import api, select

    make_home(tmp_path)
    api.build_context("kafka consumer lag", home=tmp_path)
    index = index_path(tmp_path / "context")
    with sqlite3.connect(index) as db:
        db.execute("INSERT INTO meta VALUES ('marked', 'yes')")

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(select, "fit", broken)
    with pytest.raises(ValueError, match="a bug"):
        api.build_context("kafka consumer lag", home=tmp_path)
    with sqlite3.connect(index) as db:  # the same index: not removed and built again
        assert db.execute("SELECT value FROM meta WHERE key = 'marked'").fetchone() == ("yes",)


def test_an_index_from_an_older_schema_is_rebuilt(tmp_path: Path) -> None:
    import sqlite3

    make_home(tmp_path)
    context = tmp_path / "context"
    path = index_path(context)
    path.parent.mkdir(parents=True)
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE manifest(json TEXT)")
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()
    library = load_library(context)
    assert library.rank("kafka consumer lag", ["decisions"], 1)[0][0].path == "decisions/0003-kafka.md"
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA user_version").fetchone()[0] == INDEX_VERSION
    assert check.execute("SELECT count(*) FROM sqlite_master WHERE name = 'manifest'").fetchone()[0] == 0
    check.close()


def test_the_index_is_private_to_the_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # In folders of its own, each made private (XDG_CACHE_HOME too, when scaffold makes it).
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    make_home(tmp_path)
    load_library(tmp_path / "context")
    index = index_path(tmp_path / "context")
    assert index.stat().st_mode & 0o077 == 0
    made = [index.parent, *index.parent.parents][: len(index.relative_to(tmp_path).parts) - 1]
    assert made[-1] == tmp_path / "cache"
    assert [folder for folder in made if folder.stat().st_mode & 0o077] == []


def test_a_cache_folder_another_user_can_write_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A shared cache (a CI volume, XDG_CACHE_HOME under /tmp): another user could make the index first
    # and read every word of the home from it, or write the caches that decide what is redacted.
    import os

    from generator.context import api
    from generator.plumbing import cachefile

    def fresh() -> None:  # a new process: what was found private is asked again
        monkeypatch.setattr(cachefile, "_PRIVATE", set())

    cache = tmp_path / "hB" / "Caches"  # a path the entropy rule reads as random, with the hashed name
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    make_home(tmp_path)
    task = "the kafka consumer lag after the deploy"
    private = api.build_context(task, home=tmp_path)
    index = index_path(tmp_path / "context")
    # The user's own folder that others can write (an older scaffold's under umask 002) is made private.
    index.parent.chmod(0o775)
    fresh()
    assert api.build_context(task, home=tmp_path).warnings == private.warnings
    assert index.parent.stat().st_mode & 0o777 == 0o700
    # A folder above it that all can write, without the sticky bit: not used, and said.
    index.unlink()
    cache.chmod(0o777)
    fresh()
    result = api.build_context(task, home=tmp_path)
    assert result.prompt == private.prompt  # built in memory
    assert not index.exists()
    # Said with the cache's path as it is: scanned as a home's names are, its hashed name read as a secret.
    assert result.warnings[0] == (
        f"cannot use the index {index} ({cache} can be written by other users (chmod o-w it, or set "
        "XDG_CACHE_HOME to a folder of yours)); it was built in memory for this run, and will be on every run "
        "until that is fixed"
    )
    assert result.redactions == private.redactions
    assert cachefile.read(index.parent / "redactions.json") is None
    assert not cachefile.write(index.parent / "other.json", b"{}") and not (index.parent / "other.json").exists()
    cache.chmod(0o1777)  # /tmp's sticky bit keeps others from renaming what is not theirs
    fresh()
    assert cachefile.not_private(index.parent) is None
    # Through a link, the folders it really is in count: a link's own parents say nothing.
    cache.chmod(0o777)
    link = tmp_path / "link"
    link.symlink_to(index.parent)
    fresh()
    assert cachefile.not_private(link) == (
        f"{cache} can be written by other users (chmod o-w it, or set XDG_CACHE_HOME to a folder of yours)"
    )
    cache.chmod(0o1777)
    if os.geteuid() == 0:  # as CI runs: files and a folder made another user's
        api.build_context(task, home=tmp_path)
        redactions = index.parent / "redactions.json"
        os.chown(redactions, 65534, 65534)
        assert cachefile.read(redactions) is None  # written by someone else: not trusted
        os.chown(index, 65534, 65534)  # put there before the folder was made private: replaced
        assert api.build_context(task, home=tmp_path).prompt == private.prompt
        assert index.stat().st_uid == 0
        os.chown(index.parent, 65534, 65534)
        fresh()
        assert cachefile.not_private(index.parent) == (
            f"{index.parent} belongs to another user (made by a run under sudo? remove it: sudo rm -r {index.parent})"
        )


def test_a_link_in_the_index_place_is_never_followed(tmp_path: Path) -> None:
    """A dangling link there: SQLite created the index where it pointed, readable by all (adversary)."""
    make_home(tmp_path)
    path = index_path(tmp_path / "context")
    path.parent.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere" / "index.db"
    elsewhere.parent.mkdir()
    path.symlink_to(elsewhere)

    library = load_library(tmp_path / "context")

    assert library.rank("kafka consumer lag", ["decisions"], 1)[0][0].path == "decisions/0003-kafka.md"
    assert not elsewhere.exists() and not path.is_symlink()
    assert path.stat().st_mode & 0o077 == 0


def test_several_processes_can_index_and_query_at_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    make_home(tmp_path)
    for number in range(40):
        (tmp_path / "context" / "decisions" / f"{number + 10:04d}-extra.md").write_text(
            f"# {number + 10:04d}. Extra decision {number}\n\n## Decision\n\nWe use queue number {number}.\n"
        )
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from generator.context.documents import load_library\n"
        f"library = load_library(Path({str(tmp_path / 'context')!r}))\n"
        "hits = library.rank('kafka consumer lag', ['decisions'], 1)\n"
        "print(hits[0][0].path, len(library.paths()))\n"
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", code], cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), [err for _, err in outputs]
    assert {out for out, _ in outputs} == {"decisions/0003-kafka.md 51\n"}


def test_unedited_stubs_are_not_ranked_until_edited(tmp_path: Path) -> None:
    template = "# $number. $title\n\nDate: $date\n\n## Context\n\nWhat is the issue?\n"
    stub = "# 0004. Adopt kafka streams\n\nDate: 2025-01-01\n\n## Context\n\nWhat is the issue?\n"
    make_home(
        tmp_path,
        {"context/_templates/decision.md": template, "context/decisions/0004-adopt-kafka-streams.md": stub},
    )
    context = tmp_path / "context"
    library = load_library(context)
    assert library.stubs == ["decisions/0004-adopt-kafka-streams.md"]
    assert all(
        s.path != "decisions/0004-adopt-kafka-streams.md" for s, _ in library.rank("kafka streams", ["decisions"], 9)
    )

    edited = context / "decisions" / "0004-adopt-kafka-streams.md"
    edited.write_text(stub + "\nKafka streams keep the consumer lag low.\n")
    touch_later(edited)
    library = load_library(context)
    assert library.stubs == []
    assert library.rank("kafka streams", ["decisions"], 1)[0][0].path == "decisions/0004-adopt-kafka-streams.md"


def test_a_repeated_query_is_answered_from_the_cache_until_a_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_home(tmp_path)
    context = tmp_path / "context"
    expected = load_library(context).rank("deploy workflow image tag", ["runbooks"], 2)
    ranked: list[list[str]] = []
    real_rank = SectionIndex._rank

    def spy(self: SectionIndex, terms: list[str], folders: Sequence[str], limit: int) -> list[tuple[str, int, float]]:
        ranked.append(terms)
        return real_rank(self, terms, folders, limit)

    monkeypatch.setattr(SectionIndex, "_rank", spy)
    assert load_library(context).rank("deploy workflow image tag", ["runbooks"], 2) == expected
    assert ranked == []
    deploy = context / "runbooks" / "deploy.md"
    deploy.write_text(deploy.read_text() + "\nTag the image first.\n")
    touch_later(deploy)
    load_library(context).rank("deploy workflow image tag", ["runbooks"], 2)
    assert len(ranked) == 1


def test_an_index_that_cannot_be_used_is_built_in_memory_and_said(tmp_path: Path) -> None:
    make_home(tmp_path)
    context = tmp_path / "context"
    path = index_path(context)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir()  # a folder where the database goes: every run would build in memory, unsaid
    for _ in range(2):
        library = load_library(context)
        assert library.sections_of("runbooks/deploy.md")
        [warning] = [line for line in library.cache_warnings if "cannot use the index" in line]
        assert warning.startswith(f"cannot use the index {path} (")
        assert warning.endswith(
            "it was built in memory for this run, and will be on every run until that is fixed "
            "(check the cache folder, or delete it)"
        )
    assert path.is_dir()  # left as it was


def test_an_index_another_run_holds_too_long_is_built_in_memory_this_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    make_home(tmp_path)
    context = tmp_path / "context"
    real = SectionIndex.open

    def locked(path: Path | None, scratch: bool = False) -> SectionIndex:
        if path is not None:
            raise sqlite3.OperationalError("database is locked")
        return real(path, scratch)

    monkeypatch.setattr(SectionIndex, "open", staticmethod(locked))
    library = load_library(context)
    assert library.sections_of("runbooks/deploy.md")
    [warning] = [line for line in library.cache_warnings if "index" in line]
    assert warning == (
        f"the index {index_path(context)} is in use by another scaffold run (database is locked); "
        "it was built in memory this time"
    )


def test_the_digest_of_the_stamps_keeps_its_form() -> None:
    # The digest an index keeps is compared with each run's: a new form would cost every index one run
    # that cannot take the speculative way (each file's stamps compared instead).
    # It spells out the fields: a stamp added to `FileEntry` must be added to it.
    assert FileEntry._fields == ("path", "size", "mtime_ns", "ctime_ns", "inode")
    entries = [FileEntry("a.md", 1, 2, 3, 4), FileEntry("b/ü.md", 5, 6, 7, 8)]
    assert index_module.stamps_digest(entries) == "66e98a723647ac15e6a91c5bcb31363b7c671824a1877d4c48f31748182d9bd6"


def test_a_stub_is_known_unedited_whatever_its_line_endings(tmp_path: Path) -> None:
    # A bundled template with LF, a stub checked out with CRLF (git autocrlf), or the other way round:
    # the escaped pattern kept its CRLF as "\\\r\\\n", which a `replace` on it never found.
    context = tmp_path / "context"
    (context / "_templates").mkdir(parents=True)
    for template, stub in [(b"\n", b"\r\n"), (b"\r\n", b"\n")]:
        (context / "_templates" / "decision.md").write_bytes(b"# $number. $title" + template * 2 + b"Why." + template)
        stubs = files_module.StubPatterns.load(context)
        assert stubs.matches("decisions/0007-x.md", b"# 0007. Use X" + stub * 2 + b"Why." + stub)
        assert not stubs.matches("decisions/0007-x.md", b"# 0007. Use X" + stub * 2 + b"Because." + stub)


def test_line_endings_are_made_lf_in_linear_time() -> None:
    # A loop of `replace` took a CR a pass: a megabyte of them (within a document's limit) hung the prompt.
    from generator.context.documents import _as_text
    from tests.helpers import cpu_seconds

    assert _as_text(b"a\r\r\nb\r\nc\rd\n") == "a\nb\nc\rd\n"  # a lone CR is no line ending of a markdown file
    began = cpu_seconds()
    assert _as_text(b"\r" * 1_000_000 + b"\nend") == "\nend"
    assert cpu_seconds() - began < 1.0
