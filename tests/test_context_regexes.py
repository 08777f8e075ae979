"""The secret rules' patterns built from codes kept between runs (`generator.context.regexes`)."""

from __future__ import annotations

import hashlib
import json
import marshal
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.context import regexes, secret_rules, secret_values
from generator.context.redact import Piece, Redactor
from tests.helpers import REPO_ROOT


@pytest.fixture(autouse=True)
def fresh_table() -> Iterator[None]:
    """Each test starts from what its own cache dir holds, and leaves no table to the next."""
    regexes.forget()
    yield
    regexes.forget()


def _rules() -> list[tuple[str, int]]:
    """Every pattern of the rules' modules, as source and flags."""
    found: dict[tuple[str, int], None] = {}
    for module in (secret_rules, secret_values):
        for value in vars(module).values():
            if isinstance(value, re.Pattern):
                found[value.pattern, value.flags] = None
    for _, pattern in secret_rules.PATTERNS:
        found[pattern.pattern, pattern.flags] = None
    for naming, holding in secret_rules.FOLLOWING:
        found[naming.pattern, naming.flags] = found[holding.pattern, holding.flags] = None
    return list(found)


def _stored() -> Any:
    """What the file holds, past its digest."""
    return marshal.loads(regexes._path().read_bytes()[regexes._DIGEST :])


def _store(payload: bytes, digest: bytes | None = None) -> None:
    """Write `payload` as the file, with its digest (or `digest`)."""
    path = regexes._path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((digest or hashlib.sha256(payload).digest()) + payload)


def _compiled_by_re(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sources `re.compile` is asked for from now on (a pattern built from kept codes never is)."""
    asked: list[str] = []
    real = re.compile

    def counting(pattern: str, flags: int = 0) -> re.Pattern[str]:
        asked.append(str(pattern))
        return real(pattern, flags)

    monkeypatch.setattr(re, "compile", counting)
    return asked


def test_kept_codes_build_every_rule_as_re_compiles_it(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = _rules()
    assert len(rules) > 100
    first = [regexes.compile(source, flags) for source, flags in rules]
    regexes.save()
    assert regexes._path().stat().st_mode & 0o777 == 0o600
    regexes.forget()  # as the next run: the file read again
    asked = _compiled_by_re(monkeypatch)
    again = [regexes.compile(source, flags) for source, flags in rules]
    assert asked == []
    monkeypatch.undo()
    # Equal patterns have the same source, flags and codes; and they find the same.
    assert again == first == [re.compile(source, flags) for source, flags in rules]
    line = "export DB_PASSWORD=Xk9pQ2wLm7 && curl -H 'Authorization: Bearer abcdefghijklmnop1234'"
    assert [[m.span() for m in p.finditer(line)] for p in again] == [
        [m.span() for m in p.finditer(line)] for p in first
    ]
    assert [p.groupindex for p in again] == [p.groupindex for p in first]  # `==` leaves the group names out
    assert [p.groups for p in again] == [p.groups for p in first]


SOURCE = r"(?i)password[ \t]*=[ \t]*(?P<secret>\S{8,})"
# Sound codes, but another pattern's: a file whose codes were trusted would find `xyz` instead.
OTHERS = [((SOURCE, 0), regexes._codes_of(("(?P<secret>xyz)", 0), re.compile("(?P<secret>xyz)")))]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not marshal at all",
        marshal.dumps((regexes.FORMAT, ("2.7.18 (an older Python)", 1, 4), OTHERS)),  # another interpreter's
        marshal.dumps((regexes.FORMAT, (regexes._interpreter()[0], 1, 4), OTHERS)),  # another engine's
        marshal.dumps((regexes.FORMAT + 1, regexes._interpreter(), OTHERS)),  # another format
        marshal.dumps(["a list", "of the wrong shape"]),
        marshal.dumps((regexes.FORMAT, regexes._interpreter(), [("not a key", "nor codes")])),
    ],
)
def test_a_file_that_cannot_be_used_means_compiling_as_usual_and_is_replaced(content: bytes) -> None:
    _store(content)  # its digest right: what is wrong is what it holds
    source = SOURCE
    assert regexes.compile(source).search("PASSWORD = Xk9pQ2wLm7")["secret"] == "Xk9pQ2wLm7"  # type: ignore[index]
    regexes.save()
    version, interpreter, items = _stored()
    assert (version, interpreter) == (regexes.FORMAT, regexes._interpreter())
    assert [key for key, _ in items] == [(source, 0)]


def test_codes_the_engine_refuses_are_compiled_again(monkeypatch: pytest.MonkeyPatch) -> None:
    source = r"token=(?P<secret>[A-Za-z0-9]{20,})"
    regexes.compile(source)
    regexes.save()
    version, interpreter, [(key, (flags, code, groups, groupindex, indexgroup))] = _stored()
    broken = [999] * len(code)  # no sound program for the engine, in a file whose digest holds
    _store(marshal.dumps((version, interpreter, [(key, (flags, broken, groups, groupindex, indexgroup))])))
    regexes.forget()
    asked = _compiled_by_re(monkeypatch)
    built = regexes.compile(source)
    assert asked == [source]
    monkeypatch.undo()
    assert built == re.compile(source)


@pytest.mark.parametrize("damage", ["one code", "one byte", "digest", "cut short"])
def test_a_damaged_file_is_not_used_and_is_replaced(monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    """Codes off by one value can pass the engine's own check and match what they should not (or crash
    it), and damaged bytes can make `marshal` take gigabytes: the digest is checked before either."""
    from re import _constants

    source = r"(?m)^[ \t]*[^\s:]{1,255}+:(?P<secret>\S{8,})$"
    regexes.compile(source)
    regexes.save()
    data = regexes._path().read_bytes()
    digest, payload = data[: regexes._DIGEST], data[regexes._DIGEST :]
    version, interpreter, [(key, (flags, code, groups, groupindex, indexgroup))] = _stored()
    if damage == "one code":  # `:` read as `;`: sound codes, another pattern
        literal = int(_constants.LITERAL)
        at = next(i for i in range(len(code) - 1) if code[i : i + 2] == [literal, ord(":")]) + 1
        changed = [*code[:at], ord(";"), *code[at + 1 :]]
        _store(marshal.dumps((version, interpreter, [(key, (flags, changed, groups, groupindex, indexgroup))])), digest)
    elif damage == "one byte":
        _store(payload[:-40] + bytes([payload[-40] ^ 1]) + payload[-39:], digest)
    elif damage == "digest":
        _store(payload, bytes(regexes._DIGEST))
    else:
        regexes._path().write_bytes(data[:20])
    regexes.forget()
    asked = _compiled_by_re(monkeypatch)
    built = regexes.compile(source)
    assert asked == [source]
    monkeypatch.undo()
    assert built.search("db.internal:Vq7rTz2kLp9w")["secret"] == "Vq7rTz2kLp9w"  # type: ignore[index]
    regexes.save()
    assert regexes._path().read_bytes() == data  # sound again


def test_codes_that_build_another_pattern_are_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check before keeping codes: built from them, the pattern must equal what `re.compile` gave."""
    from re import _compiler, _parser  # type: ignore[attr-defined]

    real = _compiler._code
    other = _parser.parse("something else entirely", 0)
    regexes.compile(r"secret=(\S+)")
    # Another pattern's codes where the pattern's are computed again to be kept.
    monkeypatch.setattr(_compiler, "_code", lambda parsed, flags: real(other, flags))
    regexes.save()
    assert not regexes._path().exists()  # nothing sound to keep: no file
    monkeypatch.undo()
    regexes.compile(r"token=(\S+)")
    regexes.save()
    _, _, items = _stored()
    assert [key for key, _ in items] == [(r"token=(\S+)", 0)]


def test_codes_whose_groups_are_not_the_patterns_are_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """`==` leaves the groups out: a `secret` group under another name would redact nothing."""
    from re import _parser

    regexes.compile(r"token=(?P<secret>\S+)")
    real = _parser.parse

    def renamed(pattern: str, flags: int = 0) -> Any:
        parsed = real(pattern, flags)
        parsed.state.groupdict = {f"other{index}": index for index in parsed.state.groupdict.values()}
        return parsed

    monkeypatch.setattr(_parser, "parse", renamed)
    regexes.save()
    assert not regexes._path().exists()


def test_a_redactor_that_keeps_nothing_keeps_no_patterns() -> None:
    regexes.compile(r"a pattern compiled (now)")  # one to keep, were it asked for
    redactor = Redactor(None)
    [result] = redactor.redact([Piece("a.md", 1, "export DB_PASSWORD=Xk9pQ2wLm7")])
    redactor.save()
    assert result.text == "export DB_PASSWORD=[REDACTED: Secret Keyword]"
    assert not regexes._path().exists()
    Redactor(regexes._path().parent / "redactions.json").save()  # one that keeps: the pattern is kept
    assert regexes._path().exists()


def test_nothing_compiled_anew_writes_nothing() -> None:
    regexes.compile(r"key=(\S+)")
    regexes.save()
    path = regexes._path()
    written = path.stat().st_ino  # a write replaces the file (`write_atomic`): another inode
    regexes.forget()
    regexes.compile(r"key=(\S+)")
    regexes.save()
    assert path.stat().st_ino == written
    regexes.compile(r"token=(\S+)")
    regexes.save()
    assert path.stat().st_ino != written  # as the check is made: a write is seen


def test_the_file_holds_at_most_the_limit_newest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(regexes, "LIMIT", 3)
    for word in ("one", "two", "three"):
        regexes.compile(word)
    regexes.save()
    regexes.forget()
    regexes.compile("four")
    regexes.save()
    _, _, items = _stored()
    assert [key[0] for key, _ in items] == ["four", "one", "two"]


def test_a_compiled_pattern_is_itself() -> None:
    compiled = re.compile(r"x+")
    assert regexes.compile(compiled) is compiled
    assert regexes._loaded().new == {}  # nothing to keep
    with pytest.raises(ValueError, match="flags"):
        regexes.compile(compiled, re.IGNORECASE)  # as `re.compile` refuses it


def test_patterns_compiled_while_another_thread_saves_are_all_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """The MCP server scans from several threads: one compiles while another saves, a third saves too."""
    regexes.compile("first (1)")
    checking, release = threading.Event(), threading.Event()
    real = regexes._codes_of

    def slow(key: tuple[str, int], compiled: re.Pattern[str]) -> Any:
        checking.set()
        release.wait(10)
        return real(key, compiled)

    monkeypatch.setattr(regexes, "_codes_of", slow)
    first = threading.Thread(target=regexes.save)
    first.start()
    assert checking.wait(10)
    regexes.compile("second (2)")  # while the first save checks its codes
    second = threading.Thread(target=regexes.save)
    second.start()
    release.set()
    first.join(10)
    second.join(10)
    _, _, items = _stored()
    assert sorted(key[0] for key, _ in items) == ["first (1)", "second (2)"]


def test_outside_cpython_patterns_are_compiled_as_usual_and_nothing_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(regexes, "_ENABLED", False)
    assert regexes.compile(r"token=(\S+)", re.IGNORECASE) == re.compile(r"token=(\S+)", re.IGNORECASE)
    regexes.save()
    assert not regexes._path().exists()


def test_a_run_after_one_that_kept_them_compiles_none_of_the_rules(tmp_path: Path) -> None:
    """The point of it: a new text to scan imports the rules built from their codes, and finds the same."""
    cache = tmp_path / "redactions.json"
    code = (
        "import re, sys\n"
        "from pathlib import Path\n"
        "from generator.context.redact import Piece, Redactor\n"
        "compiled = re.compile\n"
        "count = []\n"
        # The rules' patterns only: detect-secrets, imported for the scan, compiles its own.
        "def counting(*a, **k):\n"
        "    if sys._getframe(1).f_globals['__name__'] == 'generator.context.regexes':\n"
        "        count.append(a[0])\n"
        "    return compiled(*a, **k)\n"
        "re.compile = counting\n"
        f"redactor = Redactor(Path({str(cache)!r}))\n"
        # A text never scanned: the rules are imported to look at it, and detect-secrets scans it.
        "[text] = redactor.redact([Piece('a.md', 1, sys.argv[1])])\n"
        "redactor.save()\n"
        "print(text.text, 'generator.context.secret_rules' in sys.modules, len(count))\n"
    )

    def run(text: str) -> list[str]:
        result = subprocess.run(
            [sys.executable, "-c", code, text], capture_output=True, text=True, cwd=REPO_ROOT, check=True
        )
        return result.stdout.rsplit(maxsplit=2)

    # The first run compiles every rule, and keeps them. detect-secrets compiles its trigger patterns
    # itself, and the redaction cache keeps their sources: the second run compiles those and keeps
    # them; from the third on, every pattern is built from its codes.
    written, imported, compiled = run("DB_PASSWORD=Xk9pQ2wLm7 # the staging database")
    assert (written, imported) == ("DB_PASSWORD=[REDACTED: Secret Keyword] # the staging database", "True")
    assert int(compiled) > 100
    triggers = json.loads(cache.read_text())["triggers"]
    assert run("export API_TOKEN=Qm7xT2pLk9Vb a second text") == [
        "export API_TOKEN=[REDACTED: Secret Keyword] a second text", "True", str(len(triggers))
    ]  # fmt: skip
    assert run("SMTP_PASS=Hq3vN8wRt5 a third text") == [
        "SMTP_PASS=[REDACTED: Secret Keyword] a third text",
        "True",
        "0",
    ]
    regexes._path().unlink()
    assert int(run("PGPASSWORD=Wn4kR8sZp2 psql")[2]) > 100  # without the file: every rule again
