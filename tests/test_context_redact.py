"""Secrets never leave the machine: detection with detect-secrets, redaction, file:line reports."""

from __future__ import annotations

import json
import os
import random
import re
import string
import threading
from pathlib import Path

import pytest

from generator.context import redact as redact_module
from generator.context import secret_rules
from generator.context.redact import Finding, Piece, Redactor, Span
from tests.helpers import REPO_ROOT, cpu_seconds

# Assembled from parts so that this file itself does not look like it leaks anything.
AWS_KEY = "AKIA" + "Z7Q4L2M9XK3TPW5R"
GITHUB_TOKEN = "ghp_" + "Zx8Qw3Er5Ty7Ui9Op1As2Df4Gh6Jk8Lz0Xc2V"
SLACK = "xoxb-" + "1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
GENERIC_TOKEN = "9f8e7d6c" + "5b4a3928" + "1706f5e4" + "d3c2b1a0"
KEY_BODY = "MIIEowIBAAKCAQEA" + "3Tz2mr7SZiAMfQyuvBjM9Oi"
PRIVATE_KEY = "\n".join(
    ["-----BEGIN RSA " + "PRIVATE KEY-----", KEY_BODY, "q7Yb0dLmGJtNpvXw", "-----END RSA " + "PRIVATE KEY-----"]
)

RUNBOOK = f"""## Credentials

Never do this:

    aws_access_key_id = {AWS_KEY}
    api_token = "{GENERIC_TOKEN}"

A deploy key that was pasted here once:

{PRIVATE_KEY}

export GITHUB_TOKEN={GITHUB_TOKEN}
The end.
"""


def test_planted_secrets_are_redacted_and_reported_with_file_and_line() -> None:
    [result] = Redactor().redact([Piece("runbooks/creds.md", 10, RUNBOOK)])

    for secret in (AWS_KEY, GENERIC_TOKEN, KEY_BODY, GITHUB_TOKEN, "q7Yb0dLmGJtNpvXw"):
        assert secret not in result.text
    assert "aws_access_key_id = [REDACTED: AWS Access Key]" in result.text
    assert 'api_token = "[REDACTED: Hex High Entropy String]"' in result.text
    assert "export GITHUB_TOKEN=[REDACTED: GitHub Token]" in result.text
    assert "[REDACTED: Private Key]" in result.text
    assert "Never do this:" in result.text and "The end." in result.text
    assert result.text.count("\n") == RUNBOOK.count("\n")  # line numbers still match the file

    found = {(f.path, f.line, f.kind) for f in result.findings}
    assert ("runbooks/creds.md", 14, "AWS Access Key") in found
    assert ("runbooks/creds.md", 15, "Hex High Entropy String") in found
    assert ("runbooks/creds.md", 19, "Private Key") in found
    assert ("runbooks/creds.md", 24, "GitHub Token") in found
    assert str(Finding("runbooks/creds.md", 14, "AWS Access Key")) == "runbooks/creds.md:14: AWS Access Key"


def test_the_same_secret_is_redacted_wherever_it_appears() -> None:
    text = f"first {AWS_KEY}\nsecond {AWS_KEY}\n"
    one, two = Redactor().redact([Piece("a.md", 1, text), Piece("b.md", 5, f"again {AWS_KEY}")])
    assert AWS_KEY not in one.text and AWS_KEY not in two.text
    assert {(f.path, f.line) for f in one.findings + two.findings} == {("a.md", 1), ("a.md", 2), ("b.md", 5)}


def test_clean_text_is_untouched() -> None:
    text = "Use OIDC federation in CI. The token endpoint is /oauth/token.\n"
    [result] = Redactor().redact([Piece("a.md", 1, text)])
    assert result.text == text
    assert result.findings == ()


def test_the_bundled_starter_knowledge_has_nothing_to_redact() -> None:
    pieces = [
        Piece(str(path.relative_to(REPO_ROOT)), 1, path.read_text(encoding="utf-8"))
        for path in sorted((REPO_ROOT / "context").rglob("*.md"))
    ]
    results = Redactor().redact(pieces)
    assert [finding for result in results for finding in result.findings] == []


def test_findings_are_cached_by_text_so_a_repeat_does_not_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "redactions.json"
    redactor = Redactor(cache)
    first = redactor.redact([Piece("runbooks/creds.md", 1, RUNBOOK)])
    redactor.save()

    def no_scan(texts: list[str]) -> list[list[Span]]:
        raise AssertionError("cached text was scanned again")

    monkeypatch.setattr(redact_module, "_scan", no_scan)
    again = Redactor(cache).redact([Piece("elsewhere.md", 100, RUNBOOK)])
    assert again[0].text == first[0].text
    assert {f.line for f in again[0].findings} == {f.line + 99 for f in first[0].findings}
    assert AWS_KEY not in cache.read_text()  # spans are cached, never the secrets


def test_the_cache_is_private_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "redactions.json"
    redactor = Redactor(cache)
    redactor.redact([Piece("a.md", 1, f"key {AWS_KEY}")])
    redactor.save()
    assert cache.stat().st_mode & 0o777 == 0o600
    assert [path.name for path in cache.parent.iterdir()] == ["redactions.json"]


def test_a_cache_that_is_a_link_is_left_alone(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("{}")
    cache = tmp_path / "redactions.json"
    cache.symlink_to(elsewhere)
    redactor = Redactor(cache)
    [result] = redactor.redact([Piece("a.md", 1, f"key {AWS_KEY}")])
    redactor.save()  # a cache it may not write costs speed, never the run
    assert AWS_KEY not in result.text
    assert cache.is_symlink() and elsewhere.read_text() == "{}"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_cache_that_is_a_fifo_is_passed_over_not_waited_on(tmp_path: Path) -> None:
    cache = tmp_path / "redactions.json"
    os.mkfifo(cache)  # reading it as a file would wait for a writer forever
    texts: list[str] = []

    def run() -> None:
        redactor = Redactor(cache)
        [result] = redactor.redact([Piece("a.md", 1, f"key {AWS_KEY}")])
        redactor.save()  # replaces it with the cache file, as it would a damaged one
        texts.append(result.text)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "the redaction cache's FIFO was waited on"
    assert len(texts) == 1 and AWS_KEY not in texts[0]
    assert AWS_KEY not in cache.read_text(encoding="utf-8")


def test_a_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    cache = tmp_path / "redactions.json"
    cache.write_text('{"version": "nonsense", "entries": [1, 2]}')
    [result] = Redactor(cache).redact([Piece("a.md", 1, f"key {AWS_KEY}")])
    assert AWS_KEY not in result.text


def test_a_quoted_password_is_redacted_where_it_is_assigned_and_where_it_is_repeated() -> None:
    password = "Tr0ub4" + "dor&3"
    text = f'db_password = "{password}"\nsome text\nthe password {password} again\n'
    [result] = Redactor().redact([Piece("runbooks/db.md", 1, text)])
    assert password not in result.text
    assert result.text.startswith('db_password = "[REDACTED: Secret Keyword]"\nsome text\n')
    assert [(f.line, f.kind) for f in result.findings] == [(1, "Secret Keyword"), (3, "Secret Keyword")]


def test_many_values_are_found_again_in_one_pass_as_one_search_each_finds_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A document of many passwords: each searched in the whole text took 30 s for 30,000.
    passwords = [f"Vq7Lm{n}Xk9pRt" for n in range(12)] + ["Vq7Lm1Xk9pRtZZ"]  # prefixes shared, one inside another
    text = "".join(f"db_password_{n}: '{password}'\n" for n, password in enumerate(passwords))
    text += f"Rotated: {passwords[3]} and {passwords[3]}, then {passwords[0]}.\nx={passwords[12]}y\n"
    other = Piece("runbooks/b.md", 1, f"Check {passwords[5]}{passwords[6]} in the vault.\n")
    searched = Redactor().redact([Piece("runbooks/a.md", 1, text), other])
    monkeypatch.setattr(redact_module._Holding, "ONE_PASS_VALUES", 0)
    assert Redactor().redact([Piece("runbooks/a.md", 1, text), other]) == searched
    assert not any(password in result.text for result in searched for password in passwords)
    assert searched[1].text == "Check [REDACTED: Secret Keyword] in the vault.\n"


def test_the_one_pass_finds_the_lines_each_search_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    # Redaction looks for each value again in the lines given, so a line listed that does not
    # hold the value only costs time: compared here on the lines themselves.
    long = "Wq5Zr8Lp3Tn6Vb1Kx4Hm7Jd2Fs9Gc0Ny5Pe8"  # longer than the window of characters a place is looked up by
    values = [
        "Vq7Lm1Xk9pRt",
        "Vq7Lm1Xk9pRtZZ",
        "Vq7Lm10Xk9pRt",
        "Vq7Lm11Xk9pRt",
        "Qz8Wn4Tt",
        "Qz8Wn4Tt5",
        long,
        long[:-1] + "Q",
    ]
    assert len(long) > redact_module._Holding.WINDOW
    lines = [
        f"{long[:-1]}X shares the window and the length, {long} is one of them",
        f"{long[:-1]}Q",
        "Vq7Lm1 alone, Vq7Lm1Xk9 cut short, Vq7Lm1Xk9pR one short",
        "Vq7Lm1Xk9pRtZZ holds two; Vq7Lm10Xk9pRt and Vq7Lm1Xk9pRt again",
        "Qz8Wn4T Qz8Wn4Tt",
        "Qz8Wn4Tt5Qz8Wn4Tt5 twice on a line",
        "",
        "end: Vq7Lm11Xk9pRt",
    ]
    searched = redact_module._Holding(lines)
    expected = {value: searched(value) for value in values}
    assert expected["Vq7Lm1Xk9pRt"] == [3] and expected["Qz8Wn4Tt"] == [4, 5] and expected[long] == [0]
    monkeypatch.setattr(redact_module._Holding, "ONE_PASS_VALUES", 0)
    assert redact_module._Holding(lines).lines_of(values) == expected


def test_many_values_from_one_prefix_are_found_again_in_linear_time() -> None:
    # 10,000 values generated from one prefix, each compared at every place the prefix appears: 6.2 s.
    values = [f"Xk9pQ2wLm{number:06d}" for number in range(10_000)]
    lines = [f"export DB_PASSWORD={value}" for value in values]
    started = cpu_seconds()
    found = redact_module._Holding(lines).lines_of(values)
    assert cpu_seconds() - started < 1, "quadratic in the values sharing a prefix"
    assert found[values[1234]] == [1234]


def test_a_value_found_today_is_redacted_in_a_text_cached_before(tmp_path: Path) -> None:
    # The cache keeps spans per text; a runbook cached earlier that repeats a password found now in
    # another must lose it too, as it does when both are scanned afresh.
    password = "Vq7Lm2" + "Xk9pRt"
    first = Piece("runbooks/a.md", 1, f"# A\n\n```yaml\ndb_password: '{password}'\n```\n")
    second = Piece("runbooks/b.md", 1, f"# B\n\nIf login fails, check that {password} was rotated.\n")
    cache = tmp_path / "redactions.json"
    earlier = Redactor(cache)
    assert earlier.redact([second])[0].text == second.text
    earlier.save()
    fresh = Redactor().redact([first, second])
    cached = Redactor(cache).redact([first, second])
    assert cached == fresh
    assert all(password not in result.text for result in cached)
    assert cached[1].findings == (Finding("runbooks/b.md", 3, "Secret Keyword"),)


# Secrets given to a command as a flag's next argument: no `=` or `:` says a value follows, the flag's name does.
FLAG_VALUE = "s3cr3t" + "Value9"
FLAGS = {
    f"mysql -u root --password {FLAG_VALUE} orders": "mysql -u root --password [REDACTED: Secret Keyword] orders",
    f"mysql -u root --password={FLAG_VALUE}": "mysql -u root --password=[REDACTED: Secret Keyword]",
    "sshpass -p 'Tr0ub4" + "dor&3' ssh deploy@host": "sshpass -p '[REDACTED: Secret Keyword]' ssh deploy@host",
    f"sshpass -v -p{FLAG_VALUE} ssh deploy@host": "sshpass -v -p[REDACTED: Secret Keyword] ssh deploy@host",
    f'vault login --token "{FLAG_VALUE}"': 'vault login --token "[REDACTED: Secret Keyword]"',
    f"curl --api-key {FLAG_VALUE} https://api.internal": "curl --api-key [REDACTED: Secret Keyword] https://api.internal",
    f"deploy --secret {FLAG_VALUE} --env prod": "deploy --secret [REDACTED: Secret Keyword] --env prod",
    f"az login --service-principal --client-secret {FLAG_VALUE}": (
        "az login --service-principal --client-secret [REDACTED: Secret Keyword]"
    ),
    f"redis-cli --DB-PASSWORD {FLAG_VALUE}": "redis-cli --DB-PASSWORD [REDACTED: Secret Keyword]",
    # A quoted value is redacted whole, past the characters that end an unquoted one.
    "mysql --password 'p@ss:w0rd;x' orders": "mysql --password '[REDACTED: Secret Keyword]' orders",
    # A command-line value is the whole shell word; JSON argument lists; docker login and redis-cli.
    "deploy --password Xk9p%Q2wLm7 --env prod": "deploy --password [REDACTED: Secret Keyword] --env prod",
    "deploy --password Xk9p,Q2wLm7 --env prod": "deploy --password [REDACTED: Secret Keyword] --env prod",
    f'args: ["--db-password", "{FLAG_VALUE}"]': 'args: ["--db-password", "[REDACTED: Secret Keyword]"]',
    f"docker login -u ci -p {FLAG_VALUE} registry.internal": (
        "docker login -u ci -p [REDACTED: Secret Keyword] registry.internal"
    ),
    f"redis-cli -h cache -p 6379 -a {FLAG_VALUE} ping": "redis-cli -h cache -p 6379 -a [REDACTED: Secret Keyword] ping",
    # Markdown emphasis and tables around the name, and a Dockerfile's ENV without `=`.
    f"- **Password**: {FLAG_VALUE}": "- **Password**: [REDACTED: Secret Keyword]",
    f"- **Password:** {FLAG_VALUE}": "- **Password:** [REDACTED: Secret Keyword]",
    f"| password | {FLAG_VALUE} |": "| password | [REDACTED: Secret Keyword] |",
    f"ENV DB_PASSWORD {FLAG_VALUE}": "ENV DB_PASSWORD [REDACTED: Secret Keyword]",
    # An inline assignment keeps the command after it (detect-secrets' value runs to the line's end).
    f"PGPASSWORD={FLAG_VALUE} psql -h db -U app orders": "PGPASSWORD=[REDACTED: Secret Keyword] psql -h db -U app orders",
    # A colon or comma that ends the word is prose's (a message quoting a file name), not the value's.
    f"context.yml lists notes/password={FLAG_VALUE}.md: it does not exist": (
        "context.yml lists notes/password=[REDACTED: Secret Keyword]: it does not exist"
    ),
    f"PGPASSWORD={FLAG_VALUE}, then psql": "PGPASSWORD=[REDACTED: Secret Keyword], then psql",
    f"Run it with PGPASSWORD={FLAG_VALUE}:": "Run it with PGPASSWORD=[REDACTED: Secret Keyword]:",
    f"wget --password={FLAG_VALUE} https://files.internal/a": (
        "wget --password=[REDACTED: Secret Keyword] https://files.internal/a"
    ),
    f"mysql -u root -p{FLAG_VALUE} orders": "mysql -u root -p[REDACTED: Secret Keyword] orders",
    f"mysqldump -h db -P 3306 -u root -p'{FLAG_VALUE}' db": (
        "mysqldump -h db -P 3306 -u root -p'[REDACTED: Secret Keyword]' db"
    ),
    f"curl -sS -u deploy:{FLAG_VALUE} https://api.internal": (
        "curl -sS -u deploy:[REDACTED: Secret Keyword] https://api.internal"
    ),
    # Quoted values are redacted whole after every option that takes one, not up to a space or `;`.
    "sshpass -p 'Secr3t" + "Pass;tail' ssh deploy@host": "sshpass -p '[REDACTED: Secret Keyword]' ssh deploy@host",
    'sshpass -p "Secr3t' + 'Pass word" ssh deploy@host': 'sshpass -p "[REDACTED: Secret Keyword]" ssh deploy@host',
    "mysql -u root -p'Secr3t" + "Pass;tail' db": "mysql -u root -p'[REDACTED: Secret Keyword]' db",
    "curl -u 'deploy:Secr3t" + "Pass;tail' https://x": "curl -u 'deploy:[REDACTED: Secret Keyword]' https://x",
    "curl -u deploy:'Secr3t" + "Pass word' https://x": "curl -u deploy:'[REDACTED: Secret Keyword]' https://x",
    # A long command broken over lines: `-u` on a line of its own, or after many other arguments.
    f"  -u deploy:{FLAG_VALUE} \\": "  -u deploy:[REDACTED: Secret Keyword] \\",
    f"curl -sS --fail -X POST -H 'A: b' -H 'C: d' --data @x --retry 3 --user=deploy:{FLAG_VALUE} https://x": (
        "curl -sS --fail -X POST -H 'A: b' -H 'C: d' --data @x --retry 3 --user=deploy:[REDACTED: Secret Keyword] "
        "https://x"
    ),
    "mysql --password \"it's-Secr3t" + '" db': 'mysql --password "[REDACTED: Secret Keyword]" db',
    # Joined by `=` too: `--password='...'` holding the other quote was not redacted at all.
    "mysql --password=\"it's-Secr3t" + '" db': 'mysql --password="[REDACTED: Secret Keyword]" db',
    "mytool --client-secret='Secr3t\"" + "Pass' -v": "mytool --client-secret='[REDACTED: Secret Keyword]' -v",
}
# Values judged with their closing punctuation, as found (a short one may be a secret by the symbol it
# ends with), then redacted without it: detect-secrets finds these, scaffold's own patterns do not.
PUNCTUATED = {
    "export DB_PASSWORD=Xk9mQ2v;": "export DB_PASSWORD=[REDACTED: Secret Keyword];",
    "PGPASSWORD=hunterhunte; psql": "PGPASSWORD=[REDACTED: Secret Keyword]; psql",
    "mysql --password=hunterhunte: next": "mysql --password=[REDACTED: Secret Keyword]: next",
}
# Placeholders, options that only say where a secret is, and `-p` outside sshpass (a port): kept as they are.
FLAGS_KEPT = [
    'mysql -u root --password "$DB_PASSWORD" orders',
    "mysql -u root --password ${DB_PASSWORD} orders",
    "mysql -u root --password <password> orders",
    "mysql -u root --password ... orders",
    "mysql --password-file /etc/mysql/password2.txt orders",
    'echo "$TOKEN" | docker login --username ci2024 --password-stdin',
    "vault login --token --no-print2",
    "ssh -p 2222 deploy@host && psql -h db -p 5432 -U app2024 orders",
    "docker run -p 127.0.0.1:8080:8080 payments2024",
    "sshpass -f ~/.ssh/pass2024.txt ssh -p 2222 deploy@host",
    # Options that turn a secret off or ask for it, and values that name a file.
    "mysql -u root --no-password backup2024 orders",
    "ansible-playbook --ask-vault-password site2024.yml",
    "ssh-add --private-key ./keys/deploy2.pem",
    "terraform apply --private-key ~/.ssh/id_2024_rsa",
    "deploy --private-key /etc/keys/deploy2024.pem",
    'mysql --password "$DB_PASSWORD2" orders',
    'vault login --token "$(cat token2024.txt)"',
    # `mysql -p` alone prompts (the next word is the database); a short or digitless `-u` is a user and group.
    "mysql -u root -p orders2024x",
    "curl -u deploy:$TOKEN2024 https://api.internal",
    "docker run -u app2024:app2024 payments",
    "docker run --user appuser:appgroup payments",
    "| db_password | stored in vault2 |",
    "ENV DB_PASSWORD_FILE /run/secrets/db2",
    # Terraform's references to a value kept elsewhere.
    "password = var.db_password_2",
    "password = random_password.db_v2.result",
    'access_key = data.vault_generic_secret.aws2.data["access_key"]',
    "redis-cli -h cache2024 -p 6379 ping",
    "deploy --password $DB_PASSWORD2 --env prod",
    'sshpass -p "$SSHPASS2024" ssh deploy@host',
    "mysql -u root -p'$DB_PASSWORD2' orders",
    'curl -u "deploy:$TOKEN2024" https://api.internal',
]


def _redactor(tmp_path: Path, warm: bool) -> Redactor:
    """A redactor with a new cache, or (warm) one whose cache an earlier run wrote, with detect-secrets'
    triggers in it: the first copies them from detect-secrets before its first scan, the second reads them."""
    if not warm:
        return Redactor()
    cache = tmp_path / "redactions.json"
    earlier = Redactor(cache)
    earlier.redact([Piece("warm.md", 1, f"key: {AWS_KEY}")])
    earlier.save()
    return Redactor(cache)


@pytest.mark.parametrize("warm", [False, True])
def test_secrets_given_as_command_line_flags_are_redacted_and_the_flags_kept(tmp_path: Path, warm: bool) -> None:
    redactor = _redactor(tmp_path, warm)
    for text, expected in FLAGS.items():
        [result] = redactor.redact([Piece("runbooks/db.md", 3, text)])
        assert (result.text, result.findings) == (expected, (Finding("runbooks/db.md", 3, "Secret Keyword"),))
    for text in FLAGS_KEPT:
        [result] = redactor.redact([Piece("runbooks/db.md", 3, text)])
        assert (result.text, result.findings) == (text, ())
    for text, expected in PUNCTUATED.items():
        [result] = redactor.redact([Piece("runbooks/db.md", 3, text)])
        assert result.text == expected, text


R = "[REDACTED: Secret Keyword]"
# Other tools' own password options and SQL's, and values on the line after their name.
OTHER_TOOLS = {
    f"CREATE USER 'app'@'%' IDENTIFIED BY '{FLAG_VALUE}';": f"CREATE USER 'app'@'%' IDENTIFIED BY '{R}';",
    f'ALTER USER app IDENTIFIED BY "{FLAG_VALUE}";': f'ALTER USER app IDENTIFIED BY "{R}";',
    f"CREATE USER app IDENTIFIED BY {FLAG_VALUE};": f"CREATE USER app IDENTIFIED BY {R};",
    f"ALTER USER 'a'@'%' IDENTIFIED WITH caching_sha2_password BY '{FLAG_VALUE}';": (
        f"ALTER USER 'a'@'%' IDENTIFIED WITH caching_sha2_password BY '{R}';"
    ),
    f"openssl pkcs12 -export -passout pass:{FLAG_VALUE} -out c.p12": f"openssl pkcs12 -export -passout pass:{R} -out c.p12",
    f"keytool -importkeystore -srcstorepass {FLAG_VALUE} -destkeypass {FLAG_VALUE}x": (
        f"keytool -importkeystore -srcstorepass {R} -destkeypass {R}"
    ),
    f"sqlcmd -S db -U sa -P {FLAG_VALUE} -Q 'select 1'": f"sqlcmd -S db -U sa -P {R} -Q 'select 1'",
    f"mongosh -u admin -p {FLAG_VALUE} --authenticationDatabase admin": (
        f"mongosh -u admin -p {R} --authenticationDatabase admin"
    ),
    f"env:\n  - name: DB_PASSWORD\n    value: {FLAG_VALUE}": f"env:\n  - name: DB_PASSWORD\n    value: {R}",
    f'- name: "STRIPE_API_KEY"\n  value: "{FLAG_VALUE}"': f'- name: "STRIPE_API_KEY"\n  value: "{R}"',
    f"mysql -u root --password \\\n    {FLAG_VALUE} orders": f"mysql -u root --password \\\n    {R} orders",
    f"gpg --batch --passphrase {FLAG_VALUE} -d backup.gpg": f"gpg --batch --passphrase {R} -d backup.gpg",
    f"export GPG_PASSPHRASE={FLAG_VALUE}": f"export GPG_PASSPHRASE={R}",
}
SPACED = "s3cr3t Value 9"
# Found by the adversary at stop 20 and after: quoted values with spaces, SQL broken over lines,
# other tools' password options and arguments. Each was kept whole before.
MORE_TOOLS = {
    f"CREATE USER app IDENTIFIED BY\n  '{FLAG_VALUE}';": f"CREATE USER app IDENTIFIED BY\n  '{R}';",
    f"CREATE USER app IDENTIFIED\n  BY '{FLAG_VALUE}';": f"CREATE USER app IDENTIFIED\n  BY '{R}';",
    f"ALTER ROLE billing WITH\n  PASSWORD\n  '{SPACED}';": f"ALTER ROLE billing WITH\n  PASSWORD\n  '{R}';",
    f"""psql -c "ALTER USER app PASSWORD '{FLAG_VALUE}'\"""": f"""psql -c "ALTER USER app PASSWORD '{R}'\"""",
    f"SET PASSWORD FOR 'app'@'%' = '{FLAG_VALUE}';": f"SET PASSWORD FOR 'app'@'%' = '{R}';",
    f"openssl pkcs12 -export -passout 'pass:{SPACED}' -out a.p12": f"openssl pkcs12 -export -passout 'pass:{R}' -out a.p12",
    f'keytool -importkeystore -storepass "{SPACED}" -keystore a.jks': f'keytool -importkeystore -storepass "{R}" -keystore a.jks',
    f"mysql --password\\\n  '{SPACED}' orders": f"mysql --password\\\n  '{R}' orders",
    f'mysql --password \\\n  "{SPACED}" orders': f'mysql --password \\\n  "{R}" orders',
    f"mysql --password\\\n  {FLAG_VALUE} orders": f"mysql --password\\\n  {R} orders",
    f"7z a -p{FLAG_VALUE} backup.7z data/": f"7z a -p{R} backup.7z data/",
    f"zip -P {FLAG_VALUE} backup.zip data/": f"zip -P {R} backup.zip data/",
    f"openssl enc -aes-256-cbc -k {FLAG_VALUE} -in a -out b": f"openssl enc -aes-256-cbc -k {R} -in a -out b",
    f"ssh-keygen -t ed25519 -N '{FLAG_VALUE}' -f deploy": f"ssh-keygen -t ed25519 -N '{R}' -f deploy",
    f"az login --service-principal -u app-id -p {FLAG_VALUE} --tenant t": (
        f"az login --service-principal -u app-id -p {R} --tenant t"
    ),
    f"htpasswd -b /etc/nginx/.htpasswd admin {FLAG_VALUE}": f"htpasswd -b /etc/nginx/.htpasswd admin {R}",
    f"htpasswd -nbB admin '{SPACED}'": f"htpasswd -nbB admin '{R}'",
    f"rabbitmqctl change_password billing {FLAG_VALUE}": f"rabbitmqctl change_password billing {R}",
    f"net user svc_backup {FLAG_VALUE} /add": f"net user svc_backup {R} /add",
    f"aws configure set aws_secret_access_key {FLAG_VALUE}": f"aws configure set aws_secret_access_key {R}",
    f"echo '{FLAG_VALUE}' | docker login -u ci --password-stdin": f"echo '{R}' | docker login -u ci --password-stdin",
    f"printf %s {FLAG_VALUE} | helm registry login -u ci --password-stdin r.io": (
        f"printf %s {R} | helm registry login -u ci --password-stdin r.io"
    ),
    f"redis-cli -h cache --pass {FLAG_VALUE}": f"redis-cli -h cache --pass {R}",
    f"smbclient //srv/share -U admin%{FLAG_VALUE}": f"smbclient //srv/share -U admin%{R}",
}
# From the adversary at stop 21: more names, secret stores, commands continued with `\\`, prose.
MORE_TOOLS.update(
    {
        f"RABBITMQ_DEFAULT_PASS={FLAG_VALUE}": f"RABBITMQ_DEFAULT_PASS={R}",
        f"      SMTP_PASS: {FLAG_VALUE}": f"      SMTP_PASS: {R}",
        f"ansible_become_pass={FLAG_VALUE}": f"ansible_become_pass={R}",
        f"env:\n  - name: DB_PASS\n    value: {FLAG_VALUE}": f"env:\n  - name: DB_PASS\n    value: {R}",
        f"myapp --db-pass={FLAG_VALUE}": f"myapp --db-pass={R}",
        f"redis-server --requirepass {FLAG_VALUE}": f"redis-server --requirepass {R}",
        f'command: ["redis-server", "--requirepass", "{FLAG_VALUE}"]': f'command: ["redis-server", "--requirepass", "{R}"]',
        f"requirepass {FLAG_VALUE}": f"requirepass {R}",
        f"aws ssm put-parameter --name /prod/db/password --value {FLAG_VALUE} --type SecureString": (
            f"aws ssm put-parameter --name /prod/db/password --value {R} --type SecureString"
        ),
        f"az keyvault secret set --vault-name kv --name db-password --value {FLAG_VALUE}": (
            f"az keyvault secret set --vault-name kv --name db-password --value {R}"
        ),
        f"aws secretsmanager put-secret-value --secret-id prod/db --secret-string {FLAG_VALUE}": (
            f"aws secretsmanager put-secret-value --secret-id prod/db --secret-string {R}"
        ),
        f"gh secret set API_TOKEN --body {FLAG_VALUE}": f"gh secret set API_TOKEN --body {R}",
        f"echo -n {FLAG_VALUE} | gcloud secrets versions add db-pass --data-file=-": (
            f"echo -n {R} | gcloud secrets versions add db-pass --data-file=-"
        ),
        f"docker login -u ci --password-stdin <<< {FLAG_VALUE}": f"docker login -u ci --password-stdin <<< {R}",
        f"ssh-keygen -p -P Zp8Old2024x -N {FLAG_VALUE} -f key": f"ssh-keygen -p -P {R} -N {R} -f key",
        f"htpasswd -b -c /etc/nginx/.htpasswd admin {FLAG_VALUE}": f"htpasswd -b -c /etc/nginx/.htpasswd admin {R}",
        f"rabbitmqctl add_user 'billing' '{FLAG_VALUE}'": f"rabbitmqctl add_user 'billing' '{R}'",
        f"NET USER svc_backup {FLAG_VALUE} /ADD": f"NET USER svc_backup {R} /ADD",
        f"openssl aes-256-cbc -d -k {FLAG_VALUE} -in a": f"openssl aes-256-cbc -d -k {R} -in a",
        f"smbclient //srv/share -Uadmin%{FLAG_VALUE}": f"smbclient //srv/share -Uadmin%{R}",
        f"ALTER LOGIN sa WITH PASSWORD = N'{FLAG_VALUE}';": f"ALTER LOGIN sa WITH PASSWORD = N'{R}';",
        f"SET PASSWORD FOR 'app'@'%'='{FLAG_VALUE}';": f"SET PASSWORD FOR 'app'@'%'='{R}';",
        f"ALTER ROLE app WITH PASSWORD\n  '{FLAG_VALUE}';": f"ALTER ROLE app WITH PASSWORD\n  '{R}';",
        f"docker login \\\n  -u ci \\\n  -p {FLAG_VALUE}": f"docker login \\\n  -u ci \\\n  -p {R}",
        f"rabbitmqctl add_user \\\n  billing {FLAG_VALUE}": f"rabbitmqctl add_user \\\n  billing {R}",
        f"Authorization: token {FLAG_VALUE}{FLAG_VALUE}": f"Authorization: token {R}",
        f'ldapsearch -x -D "cn=admin,dc=corp" -w {FLAG_VALUE} -b dc=corp': (
            f'ldapsearch -x -D "cn=admin,dc=corp" -w {R} -b dc=corp'
        ),
        f"sqlplus system/{FLAG_VALUE}@ORCL": f"sqlplus system/{R}@ORCL",
        f'ConvertTo-SecureString "{FLAG_VALUE}" -AsPlainText -Force': f'ConvertTo-SecureString "{R}" -AsPlainText -Force',
        f"curl --proxy-user u:{FLAG_VALUE} https://x": f"curl --proxy-user u:{R} https://x",
        f"db.internal:5432:orders:app:{FLAG_VALUE}": f"db.internal:5432:orders:app:{R}",
        f"machine api.corp login app password {FLAG_VALUE}": f"machine api.corp login app password {R}",
        f"<password>{FLAG_VALUE}</password>": f"<password>{R}</password>",
        f'<add key="DbPassword" value="{FLAG_VALUE}" />': f'<add key="DbPassword" value="{R}" />',
        f"The admin password for the staging DB is still {FLAG_VALUE}": (
            f"The admin password for the staging DB is still {R}"
        ),
        f"db:\n  password:\n    {FLAG_VALUE}": f"db:\n  password:\n    {R}",
        f"smbclient //srv/share -U 'admin%{SPACED}'": f"smbclient //srv/share -U 'admin%{R}'",
        f"java -jar jenkins-cli.jar -auth 'admin:{SPACED}' who-am-i": (
            f"java -jar jenkins-cli.jar -auth 'admin:{R}' who-am-i"
        ),
        f"lftp -u 'ci,{SPACED}' sftp://files.corp": f"lftp -u 'ci,{R}' sftp://files.corp",
        f'curl -H "Authorization: token {FLAG_VALUE}{FLAG_VALUE}" https://x': f'curl -H "Authorization: token {R}" https://x',
        f"Authorization: Splunk {FLAG_VALUE}{FLAG_VALUE}": f"Authorization: Splunk {R}",
        f"xfreerdp /u:admin /p:'{SPACED}' /v:host": f"xfreerdp /u:admin /p:'{R}' /v:host",
        f'setx DB_PASSWORD "{SPACED}"': f'setx DB_PASSWORD "{R}"',
        f'ENV DB_PASSWORD "{SPACED}"': f'ENV DB_PASSWORD "{R}"',
        f'<password encrypted="false"><![CDATA[{FLAG_VALUE}]]></password>': (
            f'<password encrypted="false"><![CDATA[{R}]]></password>'
        ),
        f"127.0.0.1:6379> auth {FLAG_VALUE}": f"127.0.0.1:6379> auth {R}",
        f"echo {FLAG_VALUE} | gh secret set DEPLOY_TOKEN": f"echo {R} | gh secret set DEPLOY_TOKEN",
        f"snmpwalk -v3 -u mon -l authPriv -a SHA -A {FLAG_VALUE} -x AES -X {FLAG_VALUE}x 10.0.0.1": (
            f"snmpwalk -v3 -u mon -l authPriv -a SHA -A {R} -x AES -X {R} 10.0.0.1"
        ),
        f"| **password** | {FLAG_VALUE} |": f"| **password** | {R} |",
        f'{{"Authorization": "token {FLAG_VALUE}{FLAG_VALUE}"}}': f'{{"Authorization": "{R}"}}',
        f"redis-cli -h r1 -p 6379 --tls --cacert ca.crt --cert c.crt --key k.key --user default -a {FLAG_VALUE} ping": (
            f"redis-cli -h r1 -p 6379 --tls --cacert ca.crt --cert c.crt --key k.key --user default -a {R} ping"
        ),
    }
)
MORE_TOOLS_KEPT = [
    "zip -r backup.zip data/",
    "unzip archive2024.zip -d /tmp/out",
    "ssh-keygen -t ed25519 -N '' -f deploy",
    "az login -u me@example.com -p $AZ_PASSWORD",
    'echo "$REGISTRY_TOKEN" | docker login --password-stdin ghcr.io',
    "echo build2024x | tee out.txt",
    "7z x -o/tmp/out archive2024.7z",
    "openssl enc -aes-256-cbc -kfile /run/secrets/key -in a",
    "SELECT password_hash FROM users WHERE id = 'abc12345';",
    "CREATE USER app IDENTIFIED BY\n  PASSWORD '*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9';",
    "ALTER ROLE app WITH PASSWORD NULL;",
    "net user alice /delete",
    "htpasswd -B /etc/nginx/.htpasswd admin",
    "aws configure set region eu-west-1a2b",
    "compile --pass first --bypass cache2024x",
    "redis-cli --pass $REDIS_PASSWORD",
    "psql -U app -h db2024 orders",
    # Found redacted by the adversary at stop 21, each kept before the patterns they came from.
    "Reset the password for user 'svc_backup01' in AD.",
    "grep -rn password 'src/main/resources/application-prod2.yml'",
    "-- password 'must be rotated every 90 days'",
    'password = "{{ vault_db_password_v2 }}"',
    "The failing node was identified\nby ip-10-0-3-17.ec2.internal and drained.",
    "The regression was identified by INC-2024-0412 in the postmortem.",
    "az login --service-principal -u $APP_ID -p sp-cert2024.pem --tenant t",
    "aws configure set credential_source Ec2InstanceMetadata --profile prod",
    "7z x tools.7z && docker run -p127.0.0.1:5432:5432 postgres:16",
    "unzip -q site.zip && wget -P downloads2024 https://x/y",
    "echo Deploying-v2.4.1 | tee -a deploy.log && cat token | docker login -u ci --password-stdin",
    "echo %CI_TOKEN2% | docker login -u ci --password-stdin",
    "curl --user alice%40corp.com:$PW https://x",
    # And by the second adversary at stop 21.
    "Pass OAuth2Config to NewClient; it reads the token URL from there.",
    "--- PASS: TestOAuth2Refresh (0.02s)",
    "| test_oauth2_login | PASS | 2024-05-01 |",
    "func (r *Reconciler) reconcileSecret(ctx context.Context, secret *corev1.Secret) error {",
    "func NewClient(apiKey string, token oauth2.TokenSource) *Client {",
    "The ID token RS256-signed by Keycloak carries the tenant.",
    "See the API key ApiKeyV1 deprecation in ADR-0031.",
    "<UserSecretsId>79a3edd0-2092-40a2-a04d-dcb46d5e6d84</UserSecretsId>",
    '<add key="SecretsManagerRegion" value="eu-west-1" />',
    "GET /api/v2/files/download?key=uploads/2024/05/report.pdf",
    "Authorization: AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date",
    "Authorization: see ADR-0042",
    "SELECT session_id, user_id FROM sessions WHERE session_id = 'a1b2c3d4-...' LIMIT 10;",
    "vault write pki_int/issue/acme-dot-io common_name=api2.acme.io ttl=24h",
    "aws ssm put-parameter --name /app/db_host --value db-prod-01.internal --type String",
    "Request a token for api://payments-api-v2/.default then call the API.",
    "- Secret (v2): SHA256-HMAC of the request body.",
    "Rotate the signing key on 2024-03-01: kid2024-03 replaces kid2023-11.",
    "on:\n  workflow_call:\n    secrets:\n      S3_BUCKET_NAME:\n        required: true",
    "docker run -d \\\n  --name mongo \\\n  -p 27017:27017 \\\n  mongo:7.0",
    "export AUTH_URL=https://auth.acme.io/oauth2/token \\\n  CLIENT_ID=svc-billing-02",
    "git clone https://contoso-platform2@dev.azure.com/contoso/app/_git/app",
    "AUTH CRAM-MD5",
    "PW_IMAGE=mcr.microsoft.com/playwright:v1.44.0-jammy",
    "PASS_MAX_DAYS=99999999",
    "fe80:0:0:0:0202:b3ff:fe1e:8329",
    "redis:6379:0:cache:session-store-v2",
    # And by the third.
    "Migrate TokenProvider \u2192 OAuth2TokenProvider in all services.",
    "Field renames: access_token -> accessTokenV2, refresh_token -> refreshTokenV2",
    "API key for Stripe: StripeKeyV2 rotation is quarterly",
    "mvn -U org.apache.maven.plugins:maven-dependency-plugin:3.6.1:tree -Dverbose",
    'Root cause identified\n"Error 1040: Too many connections"',
    'echo "release-2.14.0" | kubectl apply --filename=-',
    "render_pass: RenderPassV2",
    "--first-pass stage2-build",
    "GET /v1/reports?token=${API_TOKEN_V2}",
    "Authorization: NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==",
]
OTHER_TOOLS_KEPT = [
    "openssl rsa -in k.pem -passin env:KEY_PASS -out k2.pem",
    "openssl rsa -in k.pem -passin file:/run/secrets/key-pass -out k2.pem",
    "keytool -list -keystore ks.jks -storepass:env STOREPASS",
    "ALTER USER app IDENTIFIED BY PASSWORD '*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9';",
    "ssh -p 2222 deploy@host1234",
    "psql -p 5432 -U app orders2024",
    "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef: {name: db2024, key: password}",
    "env:\n  - name: DB_HOST\n    value: db1234.internal",
    "- name: db_password\n  value: ${DB_PASSWORD2}",
    "mysql -u root --password \\\n    --host db2024 orders",
]


@pytest.mark.parametrize("warm", [False, True])
def test_other_tools_password_options_and_values_on_the_next_line_are_redacted(tmp_path: Path, warm: bool) -> None:
    redactor = _redactor(tmp_path, warm)
    for text, expected in {**OTHER_TOOLS, **MORE_TOOLS}.items():
        [result] = redactor.redact([Piece("runbooks/db.md", 3, text)])
        assert result.text == expected, text
        assert {finding.kind for finding in result.findings} == {"Secret Keyword"}, text
    for text in [*OTHER_TOOLS_KEPT, *MORE_TOOLS_KEPT]:
        [result] = redactor.redact([Piece("runbooks/db.md", 3, text)])
        assert (result.text, result.findings) == (text, ()), text


@pytest.mark.parametrize(
    "line",
    [
        "Clients send Authorization: Basic credentials on every call.",
        "Authorization: Basic username:password",
        "Authorization: Basic realm2024",
    ],
)
def test_a_basic_authorization_value_that_is_not_user_and_password_is_prose(line: str) -> None:
    # Redacted, "credentials" would have gone from every other text of the request too.
    [result, other] = Redactor(None).redact(
        [Piece("docs/auth.md", 1, line), Piece("docs/vault.md", 1, "Store the credentials")]
    )
    assert (result.text, result.findings, other.text) == (line, (), "Store the credentials")


def test_a_value_found_on_a_command_continued_over_lines_is_reported_on_its_own_line(tmp_path: Path) -> None:
    text = f"Log in:\n\n    docker login \\\n      -u ci \\\n      -p {FLAG_VALUE} \\\n      registry.corp\n"
    [result] = _redactor(tmp_path, True).redact([Piece("runbooks/registry.md", 10, text)])
    assert result.findings == (Finding("runbooks/registry.md", 14, "Secret Keyword"),)
    assert f"-p {R} \\" in result.text and FLAG_VALUE not in result.text


def test_a_value_the_shell_joins_over_a_line_end_is_redacted_in_both_parts(tmp_path: Path) -> None:
    # The shell drops `\` and the line end: `--password=s3cr3t` + `Value9` is one word. No line holds
    # it whole, so each part is redacted and reported where it is.
    text = "mysql -h db --password=s3cr3t\\\nValue9 orders\n"
    [result] = _redactor(tmp_path, True).redact([Piece("runbooks/db.md", 3, text)])
    assert result.text == f"mysql -h db --password={R}\\\n{R} orders\n"
    assert [finding.line for finding in result.findings] == [3, 4]


def test_a_command_continued_at_one_texts_end_does_not_go_on_in_the_next(tmp_path: Path) -> None:
    first, second = "Log in:\n\n    docker login -u ci \\", f"-p {FLAG_VALUE} registry.corp"
    alone = _redactor(tmp_path, False).redact([Piece("b.md", 1, second)])
    together = _redactor(tmp_path / "again", False).redact([Piece("a.md", 1, first), Piece("b.md", 1, second)])
    assert together[1] == alone[0] and alone[0].text == second


def test_many_values_and_continued_lines_take_linear_time() -> None:
    # Each value was looked for on every line, and each found on a joined command from its first line:
    # 6,000 continued lines and 600 values took 3.9 s, 4,000 lines of a value each 12 s; and one key
    # 8,000 times on a line had its plugin's patterns run again at each place (32 s).
    texts = [
        ("a \\\n" * 6_000 + " ".join(f"--token Xk9pQ2wLm{number:06d}" for number in range(600)) + "\n", "Xk9pQ2wLm"),
        ("".join(f"export DB_PASSWORD=Xk9pQ2wLm{number:06d}\n" for number in range(4_000)), "Xk9pQ2wLm"),
        (" ".join([AWS_KEY] * 8_000), AWS_KEY),
    ]
    for text, secret in texts:
        started = cpu_seconds()
        [result] = Redactor(None).redact([Piece("runbooks/many.md", 1, text)])
        assert secret not in result.text
        assert cpu_seconds() - started < 6, "quadratic in the values found"


# Found by detect-secrets alone (scaffold's own rules let a value of words be).
WORDS_PASSWORD = "password = 'correct-horse-battery'"


def test_the_allowlist_filter_runs_only_on_a_text_that_could_hold_its_pragma(monkeypatch: pytest.MonkeyPatch) -> None:
    # It cannot drop a value from a text without its pragma, and it searched a long line again for each one.
    from detect_secrets.filters import allowlist
    from detect_secrets.settings import get_settings

    seen: list[str] = []
    original = allowlist.is_line_allowlisted

    def counted(filename: str, line: str, context: object) -> bool:
        seen.append(line)
        return bool(original(filename, line, context))  # type: ignore[arg-type]

    monkeypatch.setattr(allowlist, "is_line_allowlisted", counted)
    found = WORDS_PASSWORD  # by detect-secrets alone: its pragma can let it be
    assert redact_module._scan([found]) == [[(0, 12, 33, secret_rules.KEYWORD, True)]]
    # Another pragma (SQLite's, C's) is no reason to run it.
    assert redact_module._scan(["Run PRAGMA integrity_check first.\n#pragma once\n" + found]) != [[]]
    assert seen == []
    # Off for one scan only: the next one, with the pragma, still honours it, in any of the texts.
    assert redact_module._scan([found + "  # pragma: allowlist secret"]) == [[]]
    assert seen
    assert redact_module._scan(["Roll back first.", "# pragma: allowlist nextline secret\n" + found]) == [[], []]
    assert allowlist.__name__ + ".is_line_allowlisted" in get_settings().filters


@pytest.mark.parametrize("text", ["intro\r" + WORDS_PASSWORD, "a \r b\r\r" + WORDS_PASSWORD])
def test_a_value_after_a_bare_carriage_return_is_redacted(text: str) -> None:
    # detect-secrets reads its file with universal newlines: a CR ended its line there, and what it found
    # after one was on no line of ours (an old Mac file, a stray CR in a task).
    [result] = Redactor(None).redact([Piece("runbooks/mac.md", 1, text)])
    assert result.text.replace(R, "") == text.replace("correct-horse-battery", "") and result.findings


@pytest.mark.parametrize("char", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\r"])
def test_a_line_break_of_splitlines_in_an_ini_value_keeps_the_lines_after_it_in_step(char: str) -> None:
    # detect-secrets reads a file that parses as ini (a `[section]` line, a link) by its values, split
    # with `str.splitlines()`: one of these characters in a value moved every later line up by one, and a
    # value found there was dropped.
    for texts in (
        [f"[s]\napi_key = a{char}b\n{WORDS_PASSWORD}"],
        [f"[s]\napi_key = a{char}b", WORDS_PASSWORD],
        [f"user = a{char}b\npassword = correct-horse-battery"],
    ):
        results = Redactor(None).redact([Piece(f"runbooks/{n}.md", 1, text) for n, text in enumerate(texts)])
        assert "correct-horse" not in "".join(result.text for result in results), repr(texts)


def test_each_texts_findings_are_its_own_whatever_it_is_scanned_with(tmp_path: Path) -> None:
    # detect-secrets reads a file as ini, YAML or prose by all of it, and as ini again only when it found
    # nothing: scanned as one file, a text's findings depended on the texts beside it, and the cache kept
    # what the first request decided (`password = correct-horse-battery` is found only as ini).
    samples = [
        "Release notes for 2.4.",
        "password = correct-horse-battery",
        "AKIAIOSFODNN7EXAMPLF",
        "user = 50%",
        "password =",
        "    battery-staple-horse",
        WORDS_PASSWORD,
        "[links]\nrunbook = https://wiki.internal/runbooks/deploy",
    ]
    alone = [redact_module._scan([sample])[0] for sample in samples]
    assert alone[1] and alone[2] and not alone[0] and not alone[5]
    for first in range(len(samples)):
        for second in range(len(samples)):
            if first != second:
                together = redact_module._scan([samples[first], samples[second]])
                assert together == [alone[first], alone[second]], (samples[first], samples[second])
    redactor = Redactor(tmp_path / "cache.json")
    redactor.redact([Piece("a.md", 1, samples[0]), Piece("b.md", 1, samples[1])])
    redactor.save()
    [cached] = Redactor(tmp_path / "cache.json").redact([Piece("b.md", 1, samples[1])])
    assert cached.text == f"password = {R}"


def test_a_text_detect_secrets_cannot_decode_in_the_locale_is_still_scanned() -> None:
    # detect-secrets opens its file in the locale's encoding; written as UTF-8, a file holding `é` was
    # undecodable under a C locale (or Windows' cp1252, where UTF-8's bytes read as other letters), and
    # skipped whole: what was found only by detect-secrets went unredacted.
    import subprocess
    import sys

    # A value holding a letter the encoding lacks was read with a `?` there: redacted as it is in the text.
    texts = ["caf\u00e9\n" + WORDS_PASSWORD, "password = 'correct-hors\u00e9-battery'"]
    code = (
        "from generator.context.redact import Piece, Redactor\n"
        f"for text in {texts!a}:\n"
        "    print(ascii(Redactor(None).redact([Piece('a.md', 1, text)])[0].text))\n"
    )
    legacy = {**os.environ, "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, env=legacy, check=True
    )
    assert result.stdout.splitlines() == [ascii(f"caf\u00e9\npassword = '{R}'"), ascii(f"password = '{R}'")]


def test_a_value_read_with_a_blank_for_a_line_break_is_redacted_where_it_was_read() -> None:
    # Searched for on the line with any blank-like character where detect-secrets read a blank, the value
    # was first found elsewhere (the real password kept its end), and the search was quadratic: 30 s on a
    # 256 KB line of form feeds.
    [result] = Redactor(None).redact([Piece("a.md", 1, 'Not "Vb8mQ7tRz9 Kp4wX2" but password = "Vb8mQ7tRz9\fKp4wX2"')])
    assert "Kp4wX2" not in result.text.split("but")[1]
    line = "[s]\n" + "Xk9 " * 64_000 + "password = " + "Xk9\f" * 64_000
    started = cpu_seconds()
    [result] = Redactor(None).redact([Piece("a.md", 1, line)])
    assert cpu_seconds() - started < 12, "the value looked for along the line"
    assert result.text.split("password = ")[1] == f"{R}\f"


def test_a_pragma_at_one_texts_end_lets_nothing_go_at_the_next_ones_start(tmp_path: Path) -> None:
    # Scanned together, the texts were one file: a pragma for the next line on one's last line let the
    # value on the next one's first line go, and the cache kept that.
    pragma = "Steps end here.\n# pragma: allowlist nextline secret"
    secret = WORDS_PASSWORD + "\nrest"
    redactor = Redactor(tmp_path / "cache.json")
    assert [result.text for result in redactor.redact([Piece("a.md", 1, pragma), Piece("b.md", 1, secret)])] == [
        pragma,
        f"password = '{R}'\nrest",
    ]
    redactor.save()
    [again] = Redactor(tmp_path / "cache.json").redact([Piece("b.md", 1, secret)])
    assert again.text == f"password = '{R}'\nrest"
    # Within one text the pragma still lets the next line be.
    [within] = Redactor(None).redact([Piece("c.md", 1, pragma + "\n" + secret)])
    assert within.text == pragma + "\n" + secret


def test_a_plugins_patterns_run_once_over_a_line_of_many_values(monkeypatch: pytest.MonkeyPatch) -> None:
    # Run for each value found on the line, a line of 4,000 AWS keys (80 KB) took 9 s.
    calls: list[str] = []
    original = redact_module._matches_of

    def counted(line: str, patterns: list[re.Pattern[str]]) -> object:
        calls.append(line)
        return original(line, patterns)

    monkeypatch.setattr(redact_module, "_matches_of", counted)
    keys = [f"AKIA{number:04d}Z7Q4L2M9XK3T" for number in range(50)]
    [result] = Redactor(None).redact([Piece("runbooks/keys.md", 1, " ".join(keys) + "\n" + keys[0])])
    assert result.text == " ".join(["[REDACTED: AWS Access Key]"] * 50) + "\n[REDACTED: AWS Access Key]"
    assert sorted(calls) == sorted([" ".join(keys), keys[0]])


def test_a_long_line_of_urls_with_passwords_takes_seconds_not_minutes() -> None:
    # detect-secrets' allowlist filter searched the line again for each password found on it: 2,000 URLs took
    # 16 s (4,000: 72 s); 1.2 s without it. What is left still grows faster than the line (`_url_passwords`
    # looks for each value along it), hence no smaller bound.
    line = " ".join(f"postgres://svc{number}:Xk9pQ2wLm{number:06d}@db.internal/app" for number in range(2_000))
    started = cpu_seconds()
    [result] = Redactor(None).redact([Piece("runbooks/replicas.md", 1, line)])
    assert cpu_seconds() - started < 8, "the allowlist filter ran for every password"
    assert "Xk9pQ2wLm" not in result.text and result.text.count("@db.internal/app") == 2_000


def test_begin_lines_without_an_end_make_one_block_not_one_each_to_the_end(tmp_path: Path) -> None:
    # Each BEGIN line was its own block to the end of the text: 2,000 lines gave 2 million spans, a
    # 64 MB cache that every later run parsed (5 s a run), and 20,000 lines never finished.
    text = "# Keys\n\n" + "-----BEGIN RSA PRIVATE KEY-----\n" * 300 + "after"
    redactor = Redactor(tmp_path / "redactions.json")
    [result] = redactor.redact([Piece("runbooks/keys.md", 1, text)])
    assert "BEGIN" not in result.text and "after" not in result.text  # no END: to the end of the text
    assert result.findings == (Finding("runbooks/keys.md", 3, "Private Key"),)
    assert sum(len(spans) for spans in redactor.cache.entries.values()) <= text.count("\n") + 1


def test_two_keys_are_two_blocks_and_what_is_between_them_stays() -> None:
    second = PRIVATE_KEY.replace("RSA", "EC")
    [result] = Redactor(None).redact([Piece("runbooks/keys.md", 1, f"{PRIVATE_KEY}\nkeep me\n{second}\n")])
    assert result.text.split("\n")[4] == "keep me" and KEY_BODY not in result.text
    assert [finding.line for finding in result.findings if finding.kind == "Private Key"] == [1, 6]


def test_a_line_repeating_one_url_password_widens_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each report of the same value on the line looked along the whole line again: 3,000 URLs took 18 s.
    calls = 0
    original = redact_module._password_end

    def counted(line: str, at: int) -> int:
        nonlocal calls
        calls += 1
        return original(line, at)

    monkeypatch.setattr(redact_module, "_password_end", counted)
    line = ("https://user:" + "x" * 50 + "@") * 300
    Redactor(None).redact([Piece("runbooks/urls.md", 1, line)])
    assert calls <= 4 * 300


def test_a_basic_authorization_header_is_redacted_even_with_little_entropy() -> None:
    line = "curl -H 'Authorization: Basic " + "dXNlcjpwYXNz" + "' https://api.internal/v1"
    [result] = Redactor(None).redact([Piece("runbooks/api.md", 7, line)])
    assert result.text == "curl -H 'Authorization: Basic [REDACTED: Basic Auth Credentials]' https://api.internal/v1"
    assert result.findings == (Finding("runbooks/api.md", 7, "Basic Auth Credentials"),)


# The password of a URL alone: its scheme, user and host are what a runbook's reader needs.
URL_PASSWORD = "Kp9xT2mQ" + "7zz"
IN_A_URL = {
    f"psql postgres://app:{URL_PASSWORD}@db.internal:5432/app": (
        "psql postgres://app:[REDACTED: Basic Auth Credentials]@db.internal:5432/app"
    ),
    f"git clone https://deploy:{URL_PASSWORD}@github.com/acme/billing": (
        "git clone https://deploy:[REDACTED: Basic Auth Credentials]@github.com/acme/billing"
    ),
    f"DATABASE_URL=postgresql://app:{URL_PASSWORD}@db.internal/app": (
        "DATABASE_URL=postgresql://app:[REDACTED: Basic Auth Credentials]@db.internal/app"
    ),
    # GitHub's token as the user, with a filler for a password.
    "git clone https://a94a8fe5ccb19ba61c4c0873" + "d391e987982fbbd3:x-oauth-basic@github.com/acme/x": (
        "git clone https://[REDACTED: Secret Keyword]:[REDACTED: Basic Auth Credentials]@github.com/acme/x"
    ),
    # A raw @ in the password: the host is after the last one.
    "psql postgres://app:Kp9xT2@mQ" + "7zz@db.internal:5432/app?sslmode=require": (
        "psql postgres://app:[REDACTED: Basic Auth Credentials]@db.internal:5432/app?sslmode=require"
    ),
    # And a `/` after it; but a host and a path holding an `@` stay.
    "psql postgres://app:Kp9@xT2/mQ"
    + "7@db:5432/app": "psql postgres://app:[REDACTED: Basic Auth Credentials]@db:5432/app",
    f"pip install git+https://deploy:{URL_PASSWORD}@github.com/org/repo@v1.2#egg=x": (
        "pip install git+https://deploy:[REDACTED: Basic Auth Credentials]@github.com/org/repo@v1.2#egg=x"
    ),
    f"psql postgres://app:{URL_PASSWORD}@db/app": "psql postgres://app:[REDACTED: Basic Auth Credentials]@db/app",
    # A `#`, a `?` or a `/@` in the password itself.
    "psql postgres://app:P@ss#2024" + "x@db/app": "psql postgres://app:[REDACTED: Basic Auth Credentials]@db/app",
    "psql postgres://app:Kp9@xT2?mQ" + "7@db:5432": "psql postgres://app:[REDACTED: Basic Auth Credentials]@db:5432",
    "psql postgres://app:Kp9@xT" + "2/@db/app": "psql postgres://app:[REDACTED: Basic Auth Credentials]@db/app",
    f"npm view https://ci:{URL_PASSWORD}@localhost/@scope/pkg": (
        "npm view https://ci:[REDACTED: Basic Auth Credentials]@localhost/@scope/pkg"
    ),
    f"smtp://alerts:{URL_PASSWORD}@mailhost/?to=oncall@corp.example.com": (
        "smtp://alerts:[REDACTED: Basic Auth Credentials]@mailhost/?to=oncall@corp.example.com"
    ),
    f"curl https://ci:{URL_PASSWORD}@registry.npmjs.org/@acme%2fpkg": (
        "curl https://ci:[REDACTED: Basic Auth Credentials]@registry.npmjs.org/@acme%2fpkg"
    ),
}


# Where a secret is kept, and what describes it, is what code that fetches it needs: a name ending in
# `_name`, `_arn`, `_path`, `_header`... gives no secret, nor does an ARN or a path of two parts.
REFERENCES = [
    "secret_name: prod/db/billing-2024",
    'secret_name: "prod/db/billing-2024"',
    "secret_arn: arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod-db-Ab2CdE",
    'db_password_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-Ab2"',
    "DB_PASSWORD_SSM_PATH=/prod/billing/db_password2",
    "SECRET=/prod-uk/partner-bridge/petropass/acct-0193",
    "api_key_header: X-Api-Key-2",
    "tokenTtl: 3600s2",
    "password_filename: secrets2.txt",
    "- name: DB_PASSWORD_ARN\n  value: arn:aws:ssm:eu-west-1:1:parameter/x2",
    "TOKEN_NAME:\n\nbilling-token-2024\n",
    "password: arn:aws:ssm:eu-west-1:123456789012:parameter/db2",
    "The admin password:\n\nhttps://vault.example.com/db2\n",
    "The API token:\n\nhttps://db.internal/Kp9xT2m9\n",
]


@pytest.mark.parametrize("text", REFERENCES)
def test_where_a_secret_is_kept_is_no_secret(text: str) -> None:
    [result] = Redactor(None).redact([Piece("modules/db.md", 1, text + "\n")])
    assert (result.text, result.findings) == (text + "\n", ())


@pytest.mark.parametrize(
    "text",
    ["db_password: Kp9xT2mQ7w", 'password: "Kp9xT2mQ7w"', "SECRET_ID=Kp9xT2mQ7w", "password = /Kp9xT2mQ7w"],
)
def test_a_secret_by_a_name_that_is_not_a_reference_is_still_redacted(text: str) -> None:
    [result] = Redactor(None).redact([Piece("modules/db.md", 1, text + "\n")])
    assert "Kp9xT2mQ7w" not in result.text and result.findings


URL_OTHER = "Rotate the password monthly; the secret lives in Secrets Manager.\n"


@pytest.mark.parametrize(
    "password",
    [
        *("password", "PASSWORD", "secret", "changeme", "YOUR_PASSWORD", "${DB_PASSWORD}", "$DB_PASSWORD"),
        *("%DB_PW%", "<password>", "[password]", "****", "xxxxxxxx"),
    ],
)
def test_a_url_password_that_stands_for_one_is_left_and_its_word_stays_everywhere(password: str) -> None:
    text = f"DATABASE_URL=postgres://app:{password}@db.internal:5432/app\n"
    example, other = Redactor(None).redact([Piece("runbooks/db.md", 1, text), Piece("runbooks/x.md", 1, URL_OTHER)])
    assert (example.text, other.text, example.findings) == (text, URL_OTHER, ())


def test_an_example_url_before_a_real_one_on_a_line_does_not_hide_it() -> None:
    line = "postgres://app:password@db/a and postgres://app:password@2024x@db/b\n"
    [result] = Redactor(None).redact([Piece("runbooks/db.md", 1, line)])
    assert result.text == "postgres://app:password@db/a and postgres://app:[REDACTED: Basic Auth Credentials]@db/b\n"


@pytest.mark.parametrize("password", ["hunter2x", "p4ssw0rd", "12345678", "password@2024x", "secret@db", "aaaaaaa1"])
def test_a_weak_url_password_is_redacted_whole_and_only_it(password: str) -> None:
    text = f"DATABASE_URL=postgres://app:{password}@db.internal:5432/app\n"
    found, other = Redactor(None).redact([Piece("runbooks/db.md", 1, text), Piece("runbooks/x.md", 1, URL_OTHER)])
    assert found.text == "DATABASE_URL=postgres://app:[REDACTED: Basic Auth Credentials]@db.internal:5432/app\n"
    assert other.text == URL_OTHER and found.values == ((password, "Basic Auth Credentials"),)


@pytest.mark.parametrize("line", IN_A_URL)
def test_a_url_loses_its_password_and_keeps_its_user_and_host(line: str) -> None:
    [result] = Redactor(None).redact([Piece("runbooks/db.md", 1, f"## Connect\n\n```bash\n{line}\n```\n")])
    assert result.text == f"## Connect\n\n```bash\n{IN_A_URL[line]}\n```\n"


# A value holding an angle bracket or the other quote is a password like any other; a name in
# angle brackets, or a quoted phrase in prose, is not one.
ODD_VALUE = "Kp9<xT2!" + "mQ7"
ODD_VALUES = {
    f'db_password = "{ODD_VALUE}"': 'db_password = "[REDACTED: Secret Keyword]"',
    f"export PGPASSWORD='s3cr3t>Zq{81}'": "export PGPASSWORD='[REDACTED: Secret Keyword]'",
    f'mysql -u app -p"{ODD_VALUE}" orders': 'mysql -u app -p"[REDACTED: Secret Keyword]" orders',
    "password: \"Kp9'xT2m" + 'Q7rest"': 'password: "[REDACTED: Secret Keyword]"',
    '"api_token": "it\'s-Xk9p' + 'Q2wLm7",': '"api_token": "[REDACTED: Secret Keyword]",',
    "password: <your-password>": "password: <your-password>",
    "export DB_PASSWORD=<password-from-vault-2>": "export DB_PASSWORD=<password-from-vault-2>",
    'password: "db-<env>-2024x"': 'password: "db-<env>-2024x"',
    # Without a blank, a bound or an arrow is a password's own.
    "DB_PASSWORD=Qm7>=9kLm" + "2x": "DB_PASSWORD=[REDACTED: Secret Keyword]",
    'password: "Tr0ub4dor<3' + '3x"': 'password: "[REDACTED: Secret Keyword]"',
    'token: "aB3<45dEfGh' + 'IjK"': 'token: "[REDACTED: Secret Keyword]"',
    # With a blank too: only a comparison or a generic's list is code.
    'password = "Kp9<x T2m' + 'Q7"': 'password = "[REDACTED: Secret Keyword]"',
    "ALTER USER app WITH PASSWORD 'I <3 Lisbon 20"
    + "24';": "ALTER USER app WITH PASSWORD '[REDACTED: Secret Keyword]';",
    'deploy --password "Kp9>x T2m' + 'Q7" --env prod': 'deploy --password "[REDACTED: Secret Keyword]" --env prod',
    'The password is "see runbook 12 first".': 'The password is "see runbook 12 first".',
    # In inline code, or with an escaped quote.
    "password: `Kp9'xT2m" + "Q7`": "password: `[REDACTED: Secret Keyword]`",
    "The staging password is `Kp9'xT2m" + "Q7`.": "The staging password is `[REDACTED: Secret Keyword]`.",
    'password: "Kp9\\"xT2m' + 'Q7"': 'password: "[REDACTED: Secret Keyword]"',
    # Code and rules about passwords are no passwords, nor is where one is kept.
    "aws secretsmanager get-secret-value --secret-id arn:aws:secretsmanager:eu-west-1:1234:secret:db-Ab2Cd": (
        "aws secretsmanager get-secret-value --secret-id arn:aws:secretsmanager:eu-west-1:1234:secret:db-Ab2Cd"
    ),
    "api_key = \"os.environ['API_KEY_2']\"": "api_key = \"os.environ['API_KEY_2']\"",
    'password: "[A-Za-z0-9\']{12,64}"': 'password: "[A-Za-z0-9\']{12,64}"',
    'password_policy: "min length >= 12, max <= 64"': 'password_policy: "min length >= 12, max <= 64"',
    'api_key_type = "Map<String, Key2> cache"': 'api_key_type = "Map<String, Key2> cache"',
    **{
        line: line
        for line in [
            'password: "stored in Vault -> secret/db2"',
            'secret: "Vault path kv/app2 => key db_password"',
            'api_key: "rotate every <90 days (SOC2)"',
            "password_policy: 'length>=12, 1 digit'",
        ]
    },
    # Variables, command output and formats quoted are references to a secret kept elsewhere.
    'AWS_SECRET_ACCESS_KEY: "${S3_SECRET_KEY}"': 'AWS_SECRET_ACCESS_KEY: "${S3_SECRET_KEY}"',
    "db_password = '$PG_PASS_2024'": "db_password = '$PG_PASS_2024'",
    'password: "%(db_password)s2x"': 'password: "%(db_password)s2x"',
}


@pytest.mark.parametrize("line", ODD_VALUES)
def test_angle_brackets_and_inner_quotes_do_not_hide_a_password(line: str) -> None:
    [result] = Redactor(None).redact([Piece("runbooks/db.md", 1, f"Set it:\n\n{line}\n")])
    assert result.text == f"Set it:\n\n{ODD_VALUES[line]}\n"


# Prose naming a secret at a line's end, the value alone on the next line (as a setext heading's
# text, or not); names run together there are prose.
NEXT_LINE = {
    "The admin password:\nKp9xT2mQ" + "7w\n": "The admin password:\n[REDACTED: Secret Keyword]\n",
    "The admin password:\n`Kp9xT2mQ" + "7w`\n----------\n": (
        "The admin password:\n`[REDACTED: Secret Keyword]`\n----------\n"
    ),
    "The break-glass password:\n`Vb00m'Q7tR" + "zWq`\n": "The break-glass password:\n`[REDACTED: Secret Keyword]`\n",
    "Its token:\n'Vb00m\"Q7tR" + "zWq'\n": "Its token:\n'[REDACTED: Secret Keyword]'\n",
    "## Tokens:\nTokenRotationJob2\n": "## Tokens:\nTokenRotationJob2\n",
    "To reset the token:\n./scripts/reset2.sh\n": "To reset the token:\n./scripts/reset2.sh\n",
    "Its password:\nk9x2m4q7" + "zt\n": "Its password:\n[REDACTED: Secret Keyword]\n",
    "**Admin password:**\nKp9xT2mQ" + "7w\n": "**Admin password:**\n[REDACTED: Secret Keyword]\n",
    "The admin password:\n**Kp9xT2mQ" + "7w**\n": "The admin password:\n**[REDACTED: Secret Keyword]**\n",
    # Random with separators: a UUID, groups, a colon in it; a weak one of words with digits.
    **{
        f"The API token:\n{value}\n": "The API token:\n[REDACTED: Secret Keyword]\n"
        for value in [
            "3f2a9c1b-7d4e-4a2b-" + "9c1d-2e3f4a5b6c7d",
            "k9x2-m4q7-" + "zt8w",
            "kp9:XT2m" + "Q7zz",
            "s3cr" + "3t-pass",
        ]
    },
    # What prose names as often, which would go from every document if taken for a secret.
    **{
        f"The {name}:\n{value}\n": f"The {name}:\n{value}\n"
        for name, value in [
            ("token", "eu-west-1"),
            ("signing key", "kms-key-prod-01"),
            ("token", "INC-2024-0412"),
            ("secret", "us-east-1b"),
            ("token", "v2.14.0-rc1"),
            ("key", "r6g.large"),
            ("token", "sha256:4f2a9c1b7d"),
            ("private key", "id_ed25519"),
            ("secret", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod-db-Ab2CdEf"),
        ]
    },
}


# A value quoted right after its name, no word between: a secret when it reads as one, not a reference.
QUOTED_AFTER_NAME = {
    "Log in with password `Tr0ub4dor&3-payments` to the console.": (
        "Log in with password `[REDACTED: Secret Keyword]` to the console."
    ),
    "Break-glass login: user ops, password `Winter2024!Retry`.": (
        "Break-glass login: user ops, password `[REDACTED: Secret Keyword]`."
    ),
    "the token 'Xk9pQ2wLm7' still works": "the token '[REDACTED: Secret Keyword]' still works",
    "**Password** `Kp9xT2mQ7z`": "**Password** `[REDACTED: Secret Keyword]`",
    "Password \u2014 `Kp9xT2mQ7z`": "Password \u2014 `[REDACTED: Secret Keyword]`",
    "db_password (`Kp9xT2mQ7z`)": "db_password (`[REDACTED: Secret Keyword]`)",
    **{
        line: line
        for line in [
            "Set the password `DB_PASSWORD_2` in Vault.",
            "the secret `prod/billing/db2` holds it",
            "see the password `runbook-0012` first",
            "follow the password `rotation-policy-v2`",
            "Rotate the api key `stripe_live_key_2024` monthly.",
            "the token `${{ secrets.NPM_TOKEN_2 }}` is injected",
            # A secret's name (it says so), a word that starts like one, a password's hash.
            "kubectl get secret `billing-db-creds-7f9k2` -o yaml",
            "The secret `stripeWebhookSecret2` is mounted",
            "Ask the secretary `JaneDoe2024` for access",
            "ALTER USER app IDENTIFIED BY PASSWORD '*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9';",
        ]
    },
}


@pytest.mark.parametrize("line", QUOTED_AFTER_NAME)
def test_a_value_quoted_right_after_its_name_is_redacted_when_it_reads_as_a_secret(line: str) -> None:
    [result] = Redactor(None).redact([Piece("runbooks/console.md", 1, f"{line}\n")])
    assert result.text == f"{QUOTED_AFTER_NAME[line]}\n"


@pytest.mark.parametrize("text", NEXT_LINE)
def test_a_value_on_the_line_after_prose_naming_it_is_redacted(text: str) -> None:
    [result] = Redactor(None).redact([Piece("project-contexts/adv.md", 1, text)])
    assert result.text == NEXT_LINE[text]


# The same name over its value in the other forms markdown gives them: a blank line, a code fence or a
# block quote between, a list, an indented code block, `__emphasis__`, whose it is, a wrapped "is", a heading.
PW = "Kp9xT2mQ" + "7w"
NAMED_ABOVE = {
    f"The admin password:\n\n{PW}\n": f"The admin password:\n\n{R}\n",
    f"The admin password:\n\n```text\n{PW}\n```\n": f"The admin password:\n\n```text\n{R}\n```\n",
    f"The admin password:\n~~~\n{PW}\n~~~\n": f"The admin password:\n~~~\n{R}\n~~~\n",
    f"The admin password:\n\n    {PW}\n": f"The admin password:\n\n    {R}\n",
    f"> The admin password:\n>\n> `{PW}`\n": f"> The admin password:\n>\n> `{R}`\n",
    f"The admin password:\n- {PW}\n": f"The admin password:\n- {R}\n",
    f"Break-glass passwords:\n\n1. `{PW}`\n2. `Vb00mQ7tR" + "zWq`\n": (
        f"Break-glass passwords:\n\n1. `{R}`\n2. `{R}`\n"
    ),
    f"__Password:__\n{PW}\n": f"__Password:__\n{R}\n",
    f"Password for the staging admin:\n{PW}\n": f"Password for the staging admin:\n{R}\n",
    f"The staging admin password is\n`{PW}` until Friday\n": f"The staging admin password is\n`{PW}` until Friday\n",
    f"The staging admin password is\n`{PW}`\n": f"The staging admin password is\n`{R}`\n",
    f"### Staging admin password\n\n`{PW}`\n": f"### Staging admin password\n\n`{R}`\n",
    f"## API key ##\n\n{PW}\n": f"## API key ##\n\n{R}\n",
    # Headings styled, or underlined (setext), are headings too.
    f"### `DB_PASSWORD`\n\n{PW}\n": f"### `DB_PASSWORD`\n\n{R}\n",
    f"### **Staging admin password**\n\n`{PW}`\n": f"### **Staging admin password**\n\n`{R}`\n",
    f"Staging admin password\n----------------------\n\n{PW}\n": f"Staging admin password\n----------------------\n\n{R}\n",
    f"API key\n=======\n{PW}\n": f"API key\n=======\n{R}\n",
    f"**Password (prod)**:\n\n{PW}\n": f"**Password (prod)**:\n\n{R}\n",
    f"### `PROD_DB_PASSWORD`\n\n{PW}\n": f"### `PROD_DB_PASSWORD`\n\n{R}\n",
    f"### `STRIPE_SECRET_KEY`\n\n{PW}\n": f"### `STRIPE_SECRET_KEY`\n\n{R}\n",
    f"### `AWS_SECRET_ACCESS_KEY`\n\n{PW}\n": f"### `AWS_SECRET_ACCESS_KEY`\n\n{R}\n",
    f"### `SLACK_BOT_TOKEN`\n\n{PW}\n": f"### `SLACK_BOT_TOKEN`\n\n{R}\n",
    f"PROD_DB_PASSWORD\n================\n\n{PW}\n": f"PROD_DB_PASSWORD\n================\n\n{R}\n",
    f"### **Admin password:**\n\n{PW}\n": f"### **Admin password:**\n\n{R}\n",
    # A setext heading is as strict as one with `#`; a rule after a blank line ends a name's reach.
    "Staging admin password\n---\n\nblue-fish-42\n": "Staging admin password\n---\n\nblue-fish-42\n",
    "API key\n=======\n\nblue-fish-42\n": "API key\n=======\n\nblue-fish-42\n",
    f"The admin password:\n\n---\n\n{PW}\n": f"The admin password:\n\n---\n\n{PW}\n",
    # No setext heading: front matter's `key: value`, a list item over a rule.
    "---\ntitle: API token\n---\n\nINC0045123\n": "---\ntitle: API token\n---\n\nINC0045123\n",
    "- Rotate token\n---\n\nINC0045123\n": "- Rotate token\n---\n\nINC0045123\n",
    "1. Rotate token\n---\n\nINC0045123\n": "1. Rotate token\n---\n\nINC0045123\n",
    f"### `DB_PASSWORD_SECRET_ARN`\n\n{PW}\n": f"### `DB_PASSWORD_SECRET_ARN`\n\n{PW}\n",
    # As strict as any heading, and not one for a reference, nor a rule after a blank line.
    "### `DB_PASSWORD`\n\nblue-fish-42\n": "### `DB_PASSWORD`\n\nblue-fish-42\n",
    f"### `DB_PASSWORD_ARN`\n\n{PW}\n": f"### `DB_PASSWORD_ARN`\n\n{PW}\n",
    f"Staging admin password\n\n---\n\n{PW}\n": f"Staging admin password\n\n---\n\n{PW}\n",
    f"Rotating the staging admin password every quarter\n---\n\n{PW}\n": (
        f"Rotating the staging admin password every quarter\n---\n\n{PW}\n"
    ),
    # Prose between, a name that is not the line's end, identifiers and names: left alone.
    f"The admin password:\n\nAsk in #ops.\n\n{PW}\n": f"The admin password:\n\nAsk in #ops.\n\n{PW}\n",
    f"## Password rotation\n\n{PW}\n": f"## Password rotation\n\n{PW}\n",
    "## Rotate the API token\n\nTokenRotationJob2\n": "## Rotate the API token\n\nTokenRotationJob2\n",
    "### Signing key\n\n- `kms-key-prod-01`\n- `eu-west-1`\n": "### Signing key\n\n- `kms-key-prod-01`\n- `eu-west-1`\n",
    "The token is\nrotated2024 nightly.\n": "The token is\nrotated2024 nightly.\n",
    # Prose calls nothing but a password a password: a weak one of words goes too, a digest stays.
    "The VPN admin password:\n\nblue-fish-42\n": f"The VPN admin password:\n\n{R}\n",
    "Its SMTP_PASS:\n`winter-2024`\n": f"Its SMTP_PASS:\n`{R}`\n",
    "The admin password:\n\nsha256:4f2a9c1b7d\n": "The admin password:\n\nsha256:4f2a9c1b7d\n",
    "The deploy token:\n\nblue-fish-42\n": "The deploy token:\n\nblue-fish-42\n",
    "Token for the pass-through proxy:\n\nproxy-2024-a\n": "Token for the pass-through proxy:\n\nproxy-2024-a\n",
    "### Password policy\n\n- min-length-12\n": "### Password policy\n\n- min-length-12\n",
    # "is:" too; a list goes whole, however long, blank lines between its items or not.
    f"The staging admin password is:\n\n```\n{PW}\n```\n": f"The staging admin password is:\n\n```\n{R}\n```\n",
    "Break-glass passwords:\n\n" + "".join(f"- Xk9pQ2wLm{n}a\n\n" for n in range(10)): (
        "Break-glass passwords:\n\n" + f"- {R}\n\n" * 10
    ),
    "The admin password:\n\nk3J/9xQ+2mZa7Lp=\n": f"The admin password:\n\n{R}\n",
    "The admin password:\n\nXk9p$Q2wLm7\n": f"The admin password:\n\n{R}\n",
    # Prose that says whose it is leads a list of hosts as often as it gives a password.
    **{
        text: text
        for text in [
            "Rotate the admin password for these hosts:\n\n- db-prod-01\n- nginx-01\n",
            "After changing the database password for the app, restart these pods:\n\n```\nbilling-api-7d9f\n```\n",
            "The root password of db01 was rotated in:\n\nINC-2024-0412\n",
            "The password for svc-ci expires on:\n\n2025-01-31\n",
            "## Fix for the leaked token\n\n`3f9a2c1b`\n",
            "## Breaking changes to the API token\n\n- v2alpha1\n",
            "## Secrets\n\n- `AzureSqlAdmin01`\n- `SqlAdminPassword2`\n",
            "IPsec PSK:\n\n`ike2-aes256-sha256`\n",
            "Expiry date of the API token:\n\n2025-01-01T00:00:00Z\n",
            "The admin password:\n\nscripts/reset2.sh\n",
            "The admin password:\n\n2025-01-31\n",
            "## API token\n\n- v2alpha1\n",
            "DB_PASSWORD_PATH:\n\nprod-billing-db2\n",
            "Hosts sharing the root password:\n\n- db-prod-01\n- nginx-01\n",
            "## Password:\n\nvault-prod-01\n",
            "## Where the password is\n\nvault-prod-01\n",
            "The admin password:" + "\n" * 8 + f"{PW}\n",
        ]
    },
    "The admin password:" + "\n" * 7 + f"{PW}\n": "The admin password:" + "\n" * 7 + f"{R}\n",
    "The API token:\n\n123e4567-e89b-12d3-a456-426614174000\n": f"The API token:\n\n{R}\n",
    f"Admin password (prod):\n\n    {PW}\n": f"Admin password (prod):\n\n    {R}\n",
    # Whose it is, in brackets too: what is under it must read as random.
    "Admin password (prod):\n\nblue-fish-42\n": "Admin password (prod):\n\nblue-fish-42\n",
    # A heading may say whose it is in brackets too, as strict; not a bracket saying what the value is.
    f"### Password (prod)\n\n{PW}\n": f"### Password (prod)\n\n{R}\n",
    f"### Staging admin password (EU)\n\n`{PW}`\n": f"### Staging admin password (EU)\n\n`{R}`\n",
    f"### **Password** (prod)\n\n{PW}\n": f"### **Password** (prod)\n\n{R}\n",
    f"### **Password (prod)**\n\n{PW}\n": f"### **Password (prod)**\n\n{R}\n",
    f"Password (prod)\n---------------\n\n{PW}\n": f"Password (prod)\n---------------\n\n{R}\n",
    "### Password (prod)\n\nblue-fish-42\n": "### Password (prod)\n\nblue-fish-42\n",
    f"### API key (ID)\n\n{PW}\n": f"### API key (ID)\n\n{PW}\n",
    f"### Password (prod) rotation\n\n{PW}\n": f"### Password (prod) rotation\n\n{PW}\n",
    # "(s)" is a plural's, over the values: "### Admin password(s)".
    "## API key(s)\n\nsk4x9Lm2PqR7\n": f"## API key(s)\n\n{R}\n",
    f"### Admin password(s)\n\n- {PW}\n": f"### Admin password(s)\n\n- {R}\n",
    # A bracket or a comma in a value alone is a call's or a list's far more often than a password's.
    **{
        text: text
        for text in [
            '### Password\n\n```python\nos.getenv("DB_PASSWORD_V2")\n```\n',
            "### Password hashing\n\nPBKDF2(SHA256,600000)\n",
            "**Admin password:**\n\n`useJwt2()`\n",
            "## Token (v2)\n\n```\nweb01,web02,web03\n```\n",
            "## Token(s)\n\n```\neu1x,eu2y,us1z\n```\n",
        ]
    },
}


@pytest.mark.parametrize("text", NAMED_ABOVE)
def test_a_value_alone_a_few_lines_below_its_name_is_redacted(text: str) -> None:
    [result] = Redactor(None).redact([Piece("runbooks/vpn.md", 1, text)])
    assert result.text == NAMED_ABOVE[text]


# A table's column named for a secret: its cells are values alone, however the table is drawn.
TABLES = {
    f"| Service | Admin password |\n|---|---|\n| billing | `{PW}` |\n| search | Vb00mQ7tR" + "zWq |\n": (
        f"| Service | Admin password |\n|---|---|\n| billing | `{R}` |\n| search | {R} |\n"
    ),
    f"Service | Token\n:-- | --:\nbilling | {PW}\n": f"Service | Token\n:-- | --:\nbilling | {R}\n",
    f"| **API key** | Owner |\n| :---: | --- |\n| {PW} | ops |\n\n{PW} again\n": (
        f"| **API key** | Owner |\n| :---: | --- |\n| {R} | ops |\n\n{R} again\n"
    ),
    f"\ufeff| VPN | Password |\n|---|---|\n| eu | {PW} |\n": f"\ufeff| VPN | Password |\n|---|---|\n| eu | {R} |\n",
    # Without pipes at its ends, a row that leaves its first cell empty starts with one: the value is still
    # in the second column, as the writer lined it up.
    f"Service | Password\n--- | ---\nbilling | {PW}\n | Vb00mQ7tR" + "zWq\n": (
        f"Service | Password\n--- | ---\nbilling | {R}\n | {R}\n"
    ),
    f"Owner | Token | Host\n--- | --- | ---\n | {PW} | db01\n": f"Owner | Token | Host\n--- | --- | ---\n | {R} | db01\n",
    f"| Service | Password |\n--- | ---\nbilling | {PW}\n": f"| Service | Password |\n--- | ---\nbilling | {R}\n",
    # A row that starts with a pipe in a table drawn without: an edge pipe, as GitHub reads it, when the row
    # has the table's cells that way (the delimiter row counts them).
    f"Service | Password\n--- | ---\n| billing | {PW}\n": f"Service | Password\n--- | ---\n| billing | {R}\n",
    f"| Service | Password\n--- | ---\nbilling | {PW}\n": f"| Service | Password\n--- | ---\nbilling | {R}\n",
    f"Service | Password |\n--- | --- |\n| billing | {PW}\n": f"Service | Password |\n--- | --- |\n| billing | {R}\n",
    f"Service | Password\n---|---\n|billing|{PW}\n": f"Service | Password\n---|---\n|billing|{R}\n",
    f"Password | Service\n--- | ---\n| {PW} | billing\n": f"Password | Service\n--- | ---\n| {R} | billing\n",
    f"Host | Token\n--- | ---\n| web01a2b | {PW}\nweb01a2b is the host\n": (
        f"Host | Token\n--- | ---\n| web01a2b | {R}\nweb01a2b is the host\n"
    ),
    "Owner | Host | Token\n--- | --- | ---\n| ops | a7f3k9q2 | none\n": "Owner | Host | Token\n--- | --- | ---\n| ops | a7f3k9q2 | none\n",
    # A column says as often where a password is kept: its cells must read as random, even under "Password".
    **{
        f"| Service | Password |\n|---|---|\n| Jenkins | {cell} |\n": f"| Service | Password |\n|---|---|\n| Jenkins | {cell} |\n"
        for cell in ["1Password", "kv-prod-01", "2024-05-01", "db01:5432", "python3.11", "bcrypt-4.1.2", "blue-fish-42"]
    },
    # Names, paths and identifiers in such a column, and columns that only mention a secret: left alone.
    **{
        table: table
        for table in [
            "| Service | Secret | Rotation |\n|---|---|---|\n| billing | prod/billing/db2 | 90 days |\n"
            "| search | search-api-2024 | 30 days |\n| ci | `GITHUB_TOKEN` | never |\n",
            f"| Service | Secret name | Token TTL |\n|---|---|---|\n| billing | {PW} | 86400sec |\n",
            "| Service | Secret |\n|---|---|\n| billing | kv/app2/db |\n",
            f"| Service | Password |\n| billing | {PW} |\n",
            f"| Service | Password (ID) |\n|---|---|\n| billing | {PW} |\n",
        ]
    },
    # Whose it is in the header's brackets; a table in a block quote.
    f"| Host | Password (prod) |\n|---|---|\n| db01 | {PW} |\n": f"| Host | Password (prod) |\n|---|---|\n| db01 | {R} |\n",
    f"| Host | **Password (prod)** |\n|---|---|\n| db01 | {PW} |\n": (
        f"| Host | **Password (prod)** |\n|---|---|\n| db01 | {R} |\n"
    ),
    f"| Service | Token(s) |\n|---|---|\n| billing | {PW} |\n": f"| Service | Token(s) |\n|---|---|\n| billing | {R} |\n",
    f"| Host | **Password** (prod) |\n|---|---|\n| db01 | {PW} |\n": (
        f"| Host | **Password** (prod) |\n|---|---|\n| db01 | {R} |\n"
    ),
    f"> | Host | Password |\n> |---|---|\n> | db01 | {PW} |\n>\n> {PW}\n": (
        f"> | Host | Password |\n> |---|---|\n> | db01 | {R} |\n>\n> {R}\n"
    ),
    f">> Host | Token\n>> --- | ---\n>> db01 | {PW}\n": f">> Host | Token\n>> --- | ---\n>> db01 | {R}\n",
}


@pytest.mark.parametrize("text", TABLES)
def test_a_tables_column_named_for_a_secret_is_redacted(text: str) -> None:
    [result] = Redactor(None).redact([Piece("runbooks/accounts.md", 1, text)])
    assert result.text == TABLES[text]


# Letters alone, as a generator drawing from letters and digits gives one 16-character password in 16.
LETTERS = "qqETPPy" + "BETceRDCM"
# Names of letters alone a secret's name or column points at as often: they read as words.
LETTER_NAMES = (
    "DescribeVpcEndpoints",
    "PasswordAuthentication",
    "CorrectHorseBatteryStaple",
    "AzureKeyVault",
    "kvLedgerPrdNEU",
    "KafkaProdPwd",
)


@pytest.mark.parametrize(
    "text",
    [
        f"| worker | database user | password |\n|---|---|---|\n| recon-000 | refunds_ro | {LETTERS} |\n",
        f"The admin password:\n\n{LETTERS}\n",
        f"### Staging API key\n\n`{LETTERS}`\n",
        f"psql --password {LETTERS} -h db01\n",
        f"Password for db01.prod: {LETTERS}\n",
        f"  - name: DB_PASSWORD\n    value: {LETTERS}\n",
    ],
)
def test_a_random_value_of_letters_alone_is_redacted_where_a_secrets_name_points_at_it(text: str) -> None:
    _redacted_where_named(text, LETTERS, LETTER_NAMES)


def _redacted_where_named(text: str, value: str, names: tuple[str, ...]) -> None:
    """`value` is redacted in `text`, and wherever else it appears; each of `names` in its place is not."""
    result, other = Redactor(None).redact(
        [Piece("runbooks/accounts.md", 1, text), Piece("other.md", 1, f"see {value}")]
    )
    assert value not in result.text and result.findings
    assert other.text == f"see {R}"
    for name in names:
        [kept] = Redactor(None).redact([Piece("runbooks/accounts.md", 1, text.replace(value, name))])
        assert name in kept.text, kept.text


# Letters and a password's symbols, no digit: one 16-character password in 9 drawn from letters, digits and symbols.
SYMBOLS = "Hq&vTn*" + "WzKp@Lr"
# Values with such symbols a secret's name points at as often: names, accounts, links, an address.
SYMBOL_NAMES = (
    "Dev&Ops&Prod",
    "ops@Example.com",
    "Okta+SSO",
    "R&D-Platform",
    "svc_backup@CORP",
    "Runbook.md#Access",
    "AzureAD+MFA",
    "Read+Write",
)


@pytest.mark.parametrize(
    "text",
    [
        f"| Host | Password |\n|---|---|\n| billing-db | {SYMBOLS} |\n",
        f"The admin password:\n\n{SYMBOLS}\n",
        f"### Staging API key\n\n`{SYMBOLS}`\n",
        f"psql --password '{SYMBOLS}' -h db01\n",
        f"export API_TOKEN={SYMBOLS}\n",
        f"The token `{SYMBOLS}` is the bot's.\n",
    ],
)
def test_a_value_of_letters_and_a_passwords_symbols_is_redacted_where_a_secrets_name_points_at_it(text: str) -> None:
    _redacted_where_named(text, SYMBOLS, SYMBOL_NAMES)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"Password for admin: {PW}", f"Password for admin: {R}"),
        # Without a blank after the colon it is as often a `kind:id`.
        (
            "The token for bucket:s3://acme-prod2/k8s3 is read-only.",
            "The token for bucket:s3://acme-prod2/k8s3 is read-only.",
        ),
        ("Token for commit:a3f9c2e1b7d4", "Token for commit:a3f9c2e1b7d4"),
        ("Password for pod:web-7d4b9c8f5-x2k9p", "Password for pod:web-7d4b9c8f5-x2k9p"),
        (f"**Token of the CI bot:** {PW}", f"**Token of the CI bot:** {R}"),
        (f"Password for grafana.example.com: {PW}", f"Password for grafana.example.com: {R}"),
        (f"Password for admin (staging): {PW}", f"Password for admin (staging): {R}"),
        (f"Password to the admin console: {PW}", f"Password to the admin console: {R}"),
        (f"The admin password is: {PW}", f"The admin password is: {R}"),
        # Whose it is, then a colon, is as often prose: the value must read as random.
        ("Password for the VPN admin: blue-fish-42", "Password for the VPN admin: blue-fish-42"),
        ("The password for svc-ci expires on: 2025-01-31", "The password for svc-ci expires on: 2025-01-31"),
        # A colon further on that is a link's, or a date's: prose.
        (
            "add test about unencrypted PKCS#8 private key for RSA (Daiki Ueno) [#29008](https://github.com/n/p/29008)",
            "add test about unencrypted PKCS#8 private key for RSA (Daiki Ueno) [#29008](https://github.com/n/p/29008)",
        ),
        ("Tokens for the partner API: see runbook 12", "Tokens for the partner API: see runbook 12"),
        # Whose it is in brackets, as strict.
        (f"Password (prod): {PW}", f"Password (prod): {R}"),
        (f"**API key (staging):** {PW}", f"**API key (staging):** {R}"),
        ("Password (prod): blue-fish-42", "Password (prod): blue-fish-42"),
        ("Token (see the runbook): 2025-01-31", "Token (see the runbook): 2025-01-31"),
        ("Password (rotated monthly): ask-in-ops", "Password (rotated monthly): ask-in-ops"),
        (f"**Password (prod)**: {PW}", f"**Password (prod)**: {R}"),
        (f"*Password (prod)*: {PW}", f"*Password (prod)*: {R}"),
        (f"Password (prod) : {PW}", f"Password (prod) : {R}"),
        (f"`DB_PASSWORD` (prod): {PW}", f"`DB_PASSWORD` (prod): {R}"),
        # A bracket that says what the value is, not whose: an identifier or a field's description.
        ("API key (ID): ak01prod9x", "API key (ID): ak01prod9x"),
        ("Secret (name): billing-db-7f3a9c", "Secret (name): billing-db-7f3a9c"),
        ("`page_token` (optional): CiAKGjBpNDd2Nmp1", "`page_token` (optional): CiAKGjBpNDd2Nmp1"),
    ],
)
def test_a_secret_named_with_whose_it_is_before_the_colon_is_redacted(line: str, expected: str) -> None:
    [result] = Redactor(None).redact([Piece("runbooks/accounts.md", 1, line + "\n")])
    assert result.text == expected + "\n"


# In a runbook's code block, where detect-secrets cannot read the document as ini (a line alone it can).
IN_A_DOCUMENT = {
    "DB_PASSWORD=Xk9p,Q2wL" + "m7": "DB_PASSWORD=[REDACTED: Secret Keyword]",
    "export API_TOKEN=Xk9p{Q2wL" + "m7}": "export API_TOKEN=[REDACTED: Secret Keyword]",
    "deploy --password=Xk9p%Q2wL" + "m7 --env prod": "deploy --password=[REDACTED: Secret Keyword] --env prod",
    "  password: Xk9p%Q2wL" + "m7": "  password: [REDACTED: Secret Keyword]",
    "REDIS_URL=redis://:Xk9pQ2wL" + "m7@cache:6379/0": (
        "REDIS_URL=redis://:[REDACTED: Basic Auth Credentials]@cache:6379/0"
    ),
    "login(user, password=pass12" + "34, port=5432)": "login(user, password=[REDACTED: Secret Keyword], port=5432)",
    'printf "password=%s" "$PW"': 'printf "password=%s" "$PW"',
    "password: %(db_password2)s": "password: %(db_password2)s",
}


@pytest.mark.parametrize("warm", [False, True])
def test_values_joined_to_their_name_are_redacted_whole_in_a_document(tmp_path: Path, warm: bool) -> None:
    redactor = _redactor(tmp_path, warm)
    page = "## Deploy\n\nOn the bastion:\n\n```bash\n{}\n```\n\nThen check the logs.\n"
    for line, expected in IN_A_DOCUMENT.items():
        [result] = redactor.redact([Piece("runbooks/db.md", 1, page.format(line))])
        assert result.text == page.format(expected)


def test_spans_cached_by_older_patterns_do_not_hide_what_new_ones_find(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A runbook scanned before the flag patterns existed was cached with no spans; an upgrade must scan it again.
    text = f"mysql -u root --password {FLAG_VALUE} -h db1"
    cache = tmp_path / "redactions.json"
    with monkeypatch.context() as older:
        before_flags = tuple(p for p in secret_rules.PATTERNS if not p[1].search(text))
        older.setattr(secret_rules, "PATTERNS", before_flags)
        # An older version: its rules' files, so its digest, were not these.
        older.setattr(redact_module, "_RULES_DIGEST", "older-rules")
        before = Redactor(cache)
        assert before.redact([Piece("runbooks/db.md", 1, text)])[0].text == text
        before.save()
    monkeypatch.setattr(redact_module, "_LOADED", {})  # a new process: nothing parsed yet
    [result] = Redactor(cache).redact([Piece("runbooks/db.md", 1, text)])
    assert result.text == "mysql -u root --password [REDACTED: Secret Keyword] -h db1"


def test_a_rules_file_digest_follows_the_file(tmp_path: Path) -> None:
    # The patterns are in the files; a file's digest changes with any rule, and, unreadable, with every run.
    rules = tmp_path / "secret_rules.py"
    rules.write_bytes((Path(redact_module.__file__).parent / rules.name).read_bytes())
    first = redact_module._file_digest(str(rules))
    assert redact_module._file_digest(str(rules)) == first
    with rules.open("a") as rules_file:
        rules_file.write("\n# one more rule\n")
    assert redact_module._file_digest(str(rules)) != first
    rules.unlink()
    assert redact_module._file_digest(str(rules)) != redact_module._file_digest(str(rules))
    # The cache's version is made of the rules' files' digests as this module was imported.
    version = Redactor(None).cache.version
    assert version.endswith("/" + redact_module._RULES_DIGEST)
    assert [
        redact_module._file_digest(path) for path in redact_module._RULES_FILES
    ] == redact_module._RULES_FILE_DIGESTS


@pytest.mark.parametrize("module", ["secret_rules.py", "secret_values.py", "redact.py"])
def test_a_long_lived_process_keeps_the_digest_of_the_rules_it_imported(tmp_path: Path, module: str) -> None:
    """After an upgrade, `scaffold mcp` still runs the old rules: what they find must not be filed as the new ones'.
    A new version of any of the rules' files is a new digest."""
    import shutil
    import subprocess
    import sys

    shutil.copytree(REPO_ROOT / "generator", tmp_path / "generator", ignore=shutil.ignore_patterns("__pycache__"))
    rules = tmp_path / "generator" / "context" / module
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "from generator.context.redact import Redactor\n"
        "print(Redactor(None).cache.version)\n"
        "{then}"
    )
    upgrade = f"open({str(rules)!r}, 'a').write('\\n# a new rule\\n')\nprint(Redactor(None).cache.version)\n"

    def run(then: str) -> list[str]:
        result = subprocess.run(
            [sys.executable, "-c", code.format(then=then)], capture_output=True, text=True, cwd=tmp_path, check=True
        )
        return result.stdout.split()

    before, still = run(upgrade)
    assert still == before  # the process that imported the old rules
    [after] = run("")
    assert after != before  # a process of the new version


@pytest.mark.parametrize(
    ("module", "rule", "without"),
    [
        ("secret_rules.py", "    *_valued(_XFREERDP),\n", ""),  # a branch without the xfreerdp rule
        (
            "secret_values.py",
            "    return any(c.isdigit() for c in value) or random_letters(value) or with_symbols(value)\n",
            "    return False\n",
        ),  # no value passes
    ],
)
def test_rules_changed_before_they_are_first_used_turn_the_process_cache_off(
    tmp_path: Path, module: str, rule: str, without: str
) -> None:
    """A long-lived process imports the rules' modules only for its first text not in the cache; a
    branch switched meanwhile gives it rules its digest does not name. What they find must not be
    filed under that digest: a fresh process with the rules the digest names would trust it."""
    import shutil
    import subprocess
    import sys

    shutil.copytree(REPO_ROOT / "generator", tmp_path / "generator", ignore=shutil.ignore_patterns("__pycache__"))
    rules = tmp_path / "generator" / "context" / module
    current = rules.read_text()
    older = current.replace(rule, without)
    assert older != current
    cache = tmp_path / "redactions.json"
    line = "Connect: xfreerdp /v:host /u:admin /p:Zq8vT3mWx2"
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "from pathlib import Path\n"
        "from generator.context.redact import Piece, Redactor\n"
        "{between}"
        f"redactor = Redactor(Path({str(cache)!r}))\n"
        f"print(redactor.redact([Piece('a.md', 1, {line!r})])[0].text)\n"
        "redactor.save()\n"
    )
    switch = f"open({str(rules)!r}, 'w').write({older!r})\n"

    def run(between: str = "") -> str:
        result = subprocess.run(
            [sys.executable, "-c", code.format(between=between)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=True,
        )
        return result.stdout.strip()

    assert run(switch) == line  # the older rules, run by the process whose digest names the current ones
    assert not cache.exists()
    rules.write_text(current)
    assert run() == "Connect: xfreerdp /v:host /u:admin /p:[REDACTED: Secret Keyword]"


def test_text_found_in_the_cache_compiles_no_pattern(tmp_path: Path) -> None:
    """A warm run whose sections were all scanned before imports none of the rules (20 ms of regular expressions)."""
    import subprocess
    import sys

    cache = tmp_path / "redactions.json"
    first = Redactor(cache)
    first.redact([Piece("a.md", 1, f"key: {AWS_KEY}"), Piece("b.md", 1, "Roll back first.")])
    first.save()
    code = (
        "import re, sys\n"
        "from pathlib import Path\n"
        "from generator.context.redact import Piece, Redactor\n"
        "compiled = re.compile\n"
        "count = []\n"
        "re.compile = lambda *a, **k: count.append(1) or compiled(*a, **k)\n"
        f"redactor = Redactor(Path({str(cache)!r}))\n"
        f"[secret, plain] = redactor.redact([Piece('a.md', 1, 'key: {AWS_KEY}'), Piece('b.md', 1, 'Roll back first.')])\n"
        "print(secret.text, len(secret.findings), plain.findings, len(count))\n"
        "print([name in sys.modules for name in ('generator.context.secret_rules', 'generator.context.secret_values')])\n"
        "print('detect_secrets' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert result.stdout.splitlines() == ["key: [REDACTED: AWS Access Key] 1 () 0", "[False, False]", "False"]


@pytest.mark.parametrize(
    "line",
    [
        "sshpass" + " -sshpass" * 20_000,
        "sshpass -p'" * 20_000,
        "--password " * 20_000,
        "--password '" + "a" * 200_000,
        "mysql" + " -pmysql" * 20_000,
        "ENV password" * 20_000,
        "ENV " + "password" * 25_000,
        "password |" * 20_000,
        "**password**" * 20_000,
        "docker login" + " docker login -p" * 10_000,
        "redis-cli -a" + " redis-cli" * 20_000,
        '--password"' + ', "--password"' * 20_000,
        "curl -u" + " curl" * 20_000,
        "sshpass -p '" + "a" * 200_000,
        "curl -u 'u:" + "a" * 200_000,
        "--user=" * 28_000,
        "-" * 200_000,
        # Long runs of name characters with a word boundary every few (a base64url blob), or of secret words.
        "ab12-" * 40_000,
        "eyJaaaaaaaa." * 16_000,
        "password" * 25_000,
        "db_password-" * 16_000,
        "sqlcmd" + " sqlcmd -P" * 20_000,
        "mongo -u" + " mongo" * 30_000,
        "-" + "a" * 200_000 + "password",
        "-storepass" * 20_000,
        "IDENTIFIED BY " * 14_000,
        "IDENTIFIED WITH " + "a" * 200_000,
        "-passin pass:" * 15_000,
        "- name: " + "a" * 200_000,
        "- name: " + "password" * 25_000,
        "--password \\" * 16_000,
        " " * 200_000,
        "\t" * 200_000,
        " - " * 60_000,
        "--pass " * 28_000,
        "--" + "a-" * 100_000,
        "htpasswd -b " * 18_000,
        "htpasswd -b " + "a" * 200_000,
        "echo aaaaaaaaaa |" * 12_000,
        "PASSWORD FOR " * 15_000,
        "PASSWORD FOR " + "a" * 200_000,
        "aws configure set " + "password" * 25_000,
        "aws configure set password " * 7_000,
        "-U a%" * 40_000,
        "Authorization: Basic " * 10_000,
        "IDENTIFIED WITH a " * 10_000,
        "rabbitmqctl add_user " + "a" * 200_000,
        "7z" + " a" * 100_000,
        "az login" + " x" * 100_000,
        "-passin 'pass:" + "a" * 200_000,
        "password " * 25_000,
        "a-" * 100_000 + "pw",
        "token " + "A1a" * 60_000,
        "vault kv put " + "a=b " * 40_000,
        "?key=" * 40_000,
        "a://" + "a" * 200_000 + "@",
        "name: password, value: " * 8_000,
        "AUTH" + " a" * 100_000,
        "echo x |" * 25_000,
        "Password (" * 20_000,
        "password for " * 15_000,
        "<" + "password" * 25_000 + ">",
        "ssh-keygen" + " -N" * 60_000,
        "a:1:b:c:" + "x" * 200_000,
        "sqlplus a/" * 20_000,
        "WITH PASSWORD =" * 13_000,
        " " * 200_000 + "x",
        "> " * 100_000 + "x",
        "- " * 100_000 + "x",
        "## " + "password " * 20_000 + "x",
        "| password " * 20_000 + "x",
        "The password for " * 15_000 + "x",
        "**password (" * 20_000 + "x",
        # Blanks after a heading's or prose's name: `[ \t]*:?[ \t]*#*[ \t]*$` took 44 s at 4,000 (cubic).
        "## password" + " " * 100_000 + "x",
        "-" * 100_000 + "x",
        "=" * 100_000 + "x",
        "### `" + "A_" * 50_000 + "x",
        "### `" + "A_" * 20 + "PASSWORD" + "_A" * 50_000 + "x",
        "### `DB_PASSWORD`" + " " * 100_000 + ":x",
        "The password is" + " " * 100_000 + "x",
        "The password:" + " " * 100_000 + "*x",
        "password " + " " * 100_000 + "(prod):" * 10_000,
        "```" + "`" * 200_000 + "x",
        "# " + " " * 200_000 + "x",
        "## a b " + "password" * 25_000,
    ],
)
def test_long_adversarial_lines_take_linear_time(line: str) -> None:
    started = cpu_seconds()
    patterns = [pattern for _, pattern in secret_rules.PATTERNS]
    patterns += [pattern for pair in secret_rules.FOLLOWING for pattern in pair]
    patterns += secret_rules.NAMING
    for pattern in patterns:
        for _ in pattern.finditer(line):
            pass
    assert cpu_seconds() - started < 2, "quadratic backtracking"


def test_a_trigger_is_tried_only_on_lines_holding_its_plain_text() -> None:
    # The npm plugin's `//.+/:_authToken=` backtracked from every `//` of a line to its end: a 280 KB line of
    # URLs took 15 s to be found no suspect. Its plain text is looked for first.
    from tests.secret_corpus import document

    triggers = redact_module._plugin_patterns()
    npm = next(pattern for pattern in triggers if ":_authToken=" in pattern.pattern)
    assert redact_module._required_text(npm) == "/:_authToken="
    assert [redact_module._required_text(p) for p in triggers if p.flags & re.IGNORECASE] == [""] * sum(
        1 for p in triggers if p.flags & re.IGNORECASE
    )
    searched: list[str] = []

    class Counting:
        pattern, flags = npm.pattern, npm.flags

        def search(self, line: str) -> re.Match[str] | None:
            searched.append(line)
            return npm.search(line)

    counting = Counting()
    assert not redact_module._suspect("zebra//" * 40_000, [counting])  # type: ignore[list-item]
    assert redact_module._suspect("//registry.npmjs.org/:_authToken=" + "0" * 36, [counting])  # type: ignore[list-item]
    assert len(searched) == 1
    # What any trigger matches holds its plain text: every line of the corpus of secrets, in every form.
    lines = [redact_module._as_given(line) for line in document().split("\n")]
    missed = [
        (pattern.pattern, line)
        for pattern in triggers
        for line in lines
        if pattern.search(line) and redact_module._required_text(pattern) not in line
    ]
    assert missed == []


def test_a_long_run_of_blanks_after_a_name_is_not_cubic() -> None:
    # One of detect-secrets' patterns took 230 s on `password`, 4,000 blanks and a word; a run is cut short
    # before its patterns see it (the own rules still read the line whole).
    started = cpu_seconds()
    [result] = Redactor(None).redact([Piece("runbooks/db.md", 1, "password" + " " * 4_000 + "x\n")])
    assert cpu_seconds() - started < 2 and result.findings == ()
    line = "password:" + " " * 60 + "Kp9xT2mQ7w\n"
    [result] = Redactor(None).redact([Piece("runbooks/db.md", 1, line)])
    assert result.text == line.replace("Kp9xT2mQ7w", "[REDACTED: Secret Keyword]")
    # A run inside a value, cut short for detect-secrets, is found in the line as it is.
    for line in [
        'password = "correct horse' + " " * 40 + 'battery 42"\n',
        "password = hunter2 horse" + " " * 40 + "staple\n",
    ]:
        [result] = Redactor(None).redact([Piece("runbooks/db.md", 1, line)])
        assert "horse" not in result.text and result.findings, line


# Values continued on indented lines, as ini and YAML read them (detect-secrets reads a file alone as ini).
CONTINUED = [
    "password =\n    secret hunter2Xq9vLm4Tz",
    "[database]\nhost = db\npassword =\n  pass hunter2Xq9vLm4Tz",
    "password:\n  key hunter2Xq9vLm4Tz",
    "db_password: >\n  the key hunter2Xq9vLm4Tz",
]
SAMPLES = [
    f"key: {AWS_KEY}",
    f'api_token = "{GENERIC_TOKEN}"',
    PRIVATE_KEY,
    f"export GITHUB_TOKEN={GITHUB_TOKEN}",
    "postgres://admin:" + "hunter2hunter2" + "@db.internal:5432/orders",
    "token: " + "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl",
    "slack: " + "xoxb-" + "1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "stripe = " + "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    'value = "' + "Zm9vYmFyYmF6cXV4" + "cXV1eGNvcmdlZ3JhdWx0" + '"',
    "connect to 52.14.221.9 on port 22",
    "# pragma: allowlist nextline secret\npassword = 'correct-horse-battery'",
    "password: correcthorsebatterystaple",
    *CONTINUED,
]


def test_only_lines_that_could_hold_a_secret_are_scanned_and_the_findings_are_the_same() -> None:
    triggers = redact_module._plugin_patterns()
    corpus = [RUNBOOK, *SAMPLES, *FLAGS, *FLAGS_KEPT] + [
        path.read_text(encoding="utf-8")
        for folder in (REPO_ROOT / "context", REPO_ROOT / "bench" / "eval" / "home" / "context", REPO_ROOT / "docs")
        for path in sorted(folder.rglob("*.md"))
    ]
    assert redact_module._scan(corpus, triggers) == redact_module._scan(corpus)
    for text in CONTINUED:  # alone: a file of them all is no ini file
        assert redact_module._scan([text], triggers) == redact_module._scan([text]) != [[]], text
    for text in FLAGS:  # scaffold's own patterns find these, and let them past the gate
        assert redact_module._scan([text], triggers) == redact_module._scan([text]) != [[]], text
        assert secret_rules.own_suspect(text), text
    for sample in SAMPLES:
        assert any(redact_module._suspect(line, triggers) for line in sample.split("\n")), sample
    plain = (
        "Roll back first, investigate second.\nThe canary takes 10% of traffic for ten minutes.\n"
        "The key decision was to keep the passwords in the vault."
    )
    assert not any(redact_module._suspect(line, triggers) for line in plain.split("\n"))


def test_new_text_without_a_suspect_line_does_not_import_detect_secrets(tmp_path: Path) -> None:
    import subprocess
    import sys

    cache = tmp_path / "redactions.json"
    warm = Redactor(cache)
    warm.redact([Piece("a.md", 1, f"key: {AWS_KEY}")])
    warm.save()
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from generator.context.redact import Piece, Redactor\n"
        f"redactor = Redactor(Path({str(cache)!r}))\n"
        "[plain] = redactor.redact([Piece('b.md', 1, 'Roll back first, investigate second.')])\n"
        f"[secret] = redactor.redact([Piece('c.md', 1, 'again {AWS_KEY}')])\n"
        "print(plain.findings == (), [f.kind for f in secret.findings], 'detect_secrets' in sys.modules)\n"
    )
    # The plain piece is answered without detect-secrets; the one with a key still gets it.
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert result.stdout.split() == ["True", "['AWS", "Access", "Key']", "True"]
    only_plain = code.replace("[secret] = redactor.redact([Piece('c.md', 1, 'again " + AWS_KEY + "')])\n", "")
    only_plain = only_plain.replace("[f.kind for f in secret.findings], ", "")
    result = subprocess.run(
        [sys.executable, "-c", only_plain], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    assert result.stdout.split() == ["True", "False"]


def test_detect_secrets_is_imported_without_requests_and_requests_stays_whole() -> None:
    """Its plugins import `requests` only to verify a secret with its vendor, which scaffold never asks."""
    import subprocess
    import sys

    check = (
        "import sys\n"
        "{before}"
        "from generator.context.redact import Piece, Redactor\n"
        f"[found] = Redactor(None).redact([Piece('a.md', 1, 'slack {SLACK}\\nkey {AWS_KEY}')])\n"
        "print(sorted(f.kind for f in found.findings), 'requests' in sys.modules)\n"
        "import requests\n"
        "import detect_secrets.filters.common as common\n"
        "import detect_secrets.plugins.base as base\n"
        "print(requests.Response.__module__, requests.Session.__module__)\n"
        "print(base.requests.exceptions.RequestException is requests.exceptions.RequestException)\n"
        "print(common.requests is requests, base.requests.get is requests.get)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", check.format(before="")], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    # Found as before, without `requests`; imported after, it is the real module, and detect-secrets'
    # stand-in answers with it.
    assert result.stdout.splitlines() == [
        "['AWS Access Key', 'High Entropy String', 'Slack Token'] False",
        "requests.models requests.sessions",
        "True",
        "False True",
    ]
    # Imported before, detect-secrets gets it as it is.
    result = subprocess.run(
        [sys.executable, "-c", check.format(before="import requests\n")],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
    )
    assert result.stdout.splitlines() == [
        "['AWS Access Key', 'High Entropy String', 'Slack Token'] True",
        "requests.models requests.sessions",
        "True",
        "True True",
    ]


# Run first in a subprocess: holds detect-secrets' import half-way (its aws plugin, imported by a
# thread named "redacting") until `go` is set, and sets `held` when it gets there. It holds the
# plugin's execution, not its finder, which runs under the global import lock.
_HOLD_DETECT_SECRETS = """
import importlib.abc, importlib.machinery, sys, threading
held, go = threading.Event(), threading.Event()
class Pause:
    def find_spec(self, name, path=None, target=None):
        if name != "detect_secrets.plugins.aws" or threading.current_thread().name != "redacting":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        real = spec.loader
        class Waiting(importlib.abc.Loader):
            def create_module(self, spec):
                return real.create_module(spec)
            def exec_module(self, module):
                held.set()
                go.wait(10)
                real.exec_module(module)
        spec.loader = Waiting()
        return spec
sys.meta_path.insert(0, Pause())
"""


def test_another_thread_importing_requests_meanwhile_gets_the_real_modules() -> None:
    # A program using scaffold as a library imports `requests.exceptions` in another thread while
    # detect-secrets is imported (a hook holds that import half-way, so the two meet every time).
    import subprocess
    import sys

    code = (
        _HOLD_DETECT_SECRETS
        + """
from generator.context.redact import Piece, Redactor
found = {}
def redacting():
    found["text"] = Redactor(None).redact([Piece("a.md", 1, "aws key AKIA" + "Z7Q4L2M9XK3TPW5R")])[0].text
def importing():
    held.wait(10)
    from requests.exceptions import HTTPError
    found["error"] = HTTPError
    go.set()
threads = [threading.Thread(target=redacting, name="redacting"), threading.Thread(target=importing)]
for thread in threads: thread.start()
for thread in threads: thread.join()
import requests
print(found["text"])
# What requests raises (its modules took HTTPError when it was imported) is what the program catches.
print(found["error"] is requests.models.HTTPError is requests.exceptions.HTTPError)
print(sys.modules["detect_secrets.plugins.aws"].requests.post is requests.post)
"""
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert result.stdout.splitlines() == ["aws key [REDACTED: AWS Access Key]", "True", "True"]


def test_an_import_hook_left_installed_by_another_tool_only_passes_imports_on() -> None:
    # A profiler wraps `__import__` while detect-secrets is imported and later puts back what it
    # found, scaffold's hook: from then on that hook must hand nobody the stand-in.
    import subprocess
    import sys

    code = (
        _HOLD_DETECT_SECRETS
        + """
import builtins, importlib
from generator.context.redact import Piece, Redactor
thread = threading.Thread(target=lambda: Redactor(None).redact([Piece("a.md", 1, "x")]), name="redacting")
thread.start()
held.wait(10)
found = builtins.__import__
builtins.__import__ = lambda *args, **kwargs: found(*args, **kwargs)
go.set()
thread.join()
builtins.__import__ = found
import detect_secrets.plugins.aws as aws
importlib.reload(aws)
import requests
print(found.__qualname__, aws.requests is requests)
"""
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert result.stdout.split() == ["_import_detect_secrets.<locals>.importing", "True"]


def test_two_threads_first_scans_leave_no_import_hook_behind() -> None:
    # Both start detect-secrets' first import at once (one held half-way): only one installs the hook.
    import subprocess
    import sys

    code = (
        _HOLD_DETECT_SECRETS
        + """
import builtins, time
from generator.context.redact import Piece, Redactor
original = builtins.__import__
texts = {}
def redact(name):
    texts[name] = Redactor(None).redact([Piece("a.md", 1, "aws key AKIA" + "Z7Q4L2M9XK3TPW5R")])[0].text
first = threading.Thread(target=redact, args=("first",), name="redacting")
first.start()
held.wait(10)
second = threading.Thread(target=redact, args=("second",))
second.start()
time.sleep(0.5)
go.set()
first.join()
second.join()
print(builtins.__import__ is original, texts["first"] == texts["second"] == "aws key [REDACTED: AWS Access Key]")
"""
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert result.stdout.split() == ["True", "True"]


def test_a_process_whose_rules_changed_loads_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "redactions.json"
    first = Redactor(cache)
    first.redact([Piece("a.md", 1, "Roll back first.")])
    first.save()
    monkeypatch.setattr(redact_module, "_LOADED", {})
    assert Redactor(cache).cache.entries
    monkeypatch.setattr(redact_module, "_LOADED", {})
    monkeypatch.setattr(redact_module, "_rules_as_digested", False)
    assert Redactor(cache).cache.entries == {}


def test_a_new_cache_scans_no_text_that_could_hold_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scans: list[int] = []
    scan = redact_module._scan

    def counted(texts: list[str], triggers: list[re.Pattern[str]] | None = None) -> list[list[redact_module.Span]]:
        scans.append(1)
        return scan(texts, triggers)

    monkeypatch.setattr(redact_module, "_scan", counted)
    redactor = Redactor(tmp_path / "redactions.json")
    [result] = redactor.redact(
        [Piece("runbooks/deploy.md", 1, "## Deploy\n\nRun the pipeline, then watch the logs.\n")]
    )
    assert (scans, result.findings) == ([], ())
    [result] = redactor.redact([Piece("runbooks/db.md", 1, f"key: {AWS_KEY}")])
    assert scans == [1] and result.findings


# A long section is cut into parts (`sections.MAX_SECTION_BYTES`), each redacted as a piece of its own: the
# cut went through secrets (a key in a long line) and between a name and its value (after a blank line).
LONG_LINE_KEY = "AKIA" + "Q3EGRT5YHN7MKP2X"


def _cut_after(title: str, heading: str, filler: str, before_cut: str, after_cut: str) -> str:
    """A document whose section `heading` is cut right after `before_cut` (the section's first part ends
    there, 5 bytes short of `MAX_SECTION_BYTES`): `filler` repeated and trimmed to fit in front of it."""
    from generator.context.sections import MAX_SECTION_BYTES

    room = MAX_SECTION_BYTES - 5 - len(heading) - len(before_cut)
    padding = (filler * (room // len(filler) + 1))[:room]
    return title + heading + padding + before_cut + after_cut


def _far_below(title: str, naming: str, line: str, count: int) -> str:
    """A section of `count` lines of random-looking values under `naming` (a table's header, a line naming
    them), three parts long: those of the later parts are far below what says they are secrets."""
    rng = random.Random(7)
    values = ["".join(rng.choice(string.ascii_letters + string.digits) for _ in range(14)) for _ in range(count)]
    return title + naming + "".join(line.format(n=n, value=value) for n, value in enumerate(values))


# Each document with the fragments a part shows when the cut is not scanned across (besides the values a
# scan of the whole document finds, which no output may show either).
_TABLE = _far_below(
    "# Legacy database accounts\n\n",
    "## Accounts to roll back\n\n| host | user | password |\n|---|---|---|\n",
    "| db-{n:03}.internal | app_rw | {value} |\n",
    400,
)
_LIST = _far_below("# Roll back the deploy\n\n", "## Registry login\n\nThe admin passwords:\n\n", "    {value}\n", 900)

# Each document; the fragments a part shows when the cut is not scanned across (besides the values a scan
# of the whole document finds, which no output may show either); two things the cut puts in different parts.
PART_CUTS: dict[str, tuple[str, tuple[str, ...], tuple[str, str]]] = {
    # No line end near the cut: it falls inside the long line, through the key.
    "a key across the cut": (
        _cut_after("# Deploy rollback\n\n", "## Keys\n\n", "roll back deploy ", "", f"{LONG_LINE_KEY} rollback\n"),
        (LONG_LINE_KEY[:5], LONG_LINE_KEY[5:]),
        (LONG_LINE_KEY[:5], LONG_LINE_KEY[5:]),
    ),
    # The last blank line: the name ends the first part, the value starts the second.
    "a value below the cut, its name above": (
        _cut_after(
            "# Database failover\n\n",
            "## Steps\n\n",
            "Roll back the deploy with helm rollback, then watch the error rate.\n\n",
            "\nThe admin password:\n\n",
            "    blue-fish-42\n\nRoll back the deploy.\n",
        ),
        ("blue-fish-42",),
        ("The admin password:", "blue-fish-42"),
    ),
    # No blank line near the cut, a line end: a command continued over it.
    "a command continued across the cut": (
        _cut_after(
            "# Registry\n\n",
            "## Login\n\n",
            "roll back the deploy, then log in to the registry\n",
            "\ndocker login registry.example.com \\\n",
            "  -u ci -p weakpass2024\nroll back the deploy\n",
        ),
        ("weakpass2024",),
        ("docker login", "weakpass2024"),
    ),
    # A window of a few KB around the cut (as first written) missed these (adversary, second round).
    "a table's rows far below its header": (_TABLE, (), ("| host | user | password |", _TABLE.splitlines()[-1])),
    "a list far below the line naming its values": (_LIST, (), ("The admin passwords:", _LIST.splitlines()[-1])),
}


@pytest.mark.parametrize(("document", "fragments", "apart"), PART_CUTS.values(), ids=PART_CUTS)
def test_a_secret_a_part_cut_splits_is_redacted_in_the_prompt_search_and_a_rerank(
    tmp_path: Path, document: str, fragments: tuple[str, ...], apart: tuple[str, str]
) -> None:
    from generator.context import api, rerank

    (tmp_path / "context" / "runbooks").mkdir(parents=True)
    (tmp_path / "context" / "runbooks" / "long.md").write_text(document, encoding="utf-8")
    library = api._library(api._home(tmp_path))
    parts = [section for section in library.sections_of("runbooks/long.md") or [] if "(part " in section.heading]
    assert len(parts) >= 2 and parts[1].heading.endswith("(part 2)")
    # The case is what it says: the cut puts its two things in different parts.
    holding = [[n for n, section in enumerate(parts) if thing in library.read(section)] for thing in apart]
    assert len(holding[0]) == len(holding[1]) == 1 and holding[0] != holding[1], holding
    # As in the whole: what a scan of the whole document finds, no part may show.
    found = [value for value, _ in Redactor(None).redact([Piece("runbooks/long.md", 1, document)])[0].values]
    secrets = [*fragments, *found]
    assert found and all(fragment in document for fragment in fragments)

    result = api.build_context("roll back the deploy, log in to the registry", home=tmp_path, budget=60_000)
    assert {document.path for document in result.documents} >= {"runbooks/long.md"}
    assert not [secret for secret in secrets if secret in result.prompt]
    assert [finding for finding in result.redactions if finding.path == "runbooks/long.md"]

    hits = api.search_knowledge("roll back deploy registry login password", limit=50, home=tmp_path)
    assert hits and not [secret for secret in secrets for hit in hits if secret in hit.snippet]

    # Each part alone, as a re-rank's card shows a section that is not the document's first.
    for section in parts:
        candidate = rerank._candidate("runbooks/long.md", [(section, 1.0)], library)
        request = rerank.RerankRequest("roll back", "deploy", (), (candidate,))
        sent = rerank.redacted(request, Redactor(None)).user()
        assert not [secret for secret in secrets if secret in sent], section.heading


def _parts_of(tmp_path: Path, document: str) -> list[Piece]:
    """The pieces of `document`'s long section, as the prompt's redaction takes them."""
    from generator.context import api

    (tmp_path / "context" / "runbooks").mkdir(parents=True, exist_ok=True)
    (tmp_path / "context" / "runbooks" / "long.md").write_text(document, encoding="utf-8")
    library = api._library(api._home(tmp_path))
    sections = library.sections_of("runbooks/long.md") or []
    return [library.piece(section) for section in sections if "(part " in section.heading]


def test_a_private_key_the_cut_splits_is_reported_in_the_part_without_its_begin_line(tmp_path: Path) -> None:
    body = "".join(f"MIIEow{n:04d}IBAAKCAQEAu8R5b3Tq9kPz2mN7xW4vY6hJ1cL0sD8fG3aK5eQ9rT2uV\n" for n in range(12))
    begin, end = "-----BEGIN RSA PRIVATE KEY-----\n", f"{body}-----END RSA PRIVATE KEY-----\n"
    first, second = _parts_of(tmp_path, _cut_after("# Keys\n\n", "## Signing\n\n", "rotate the key\n", begin, end))
    assert "BEGIN RSA PRIVATE KEY" in first.text and "END RSA PRIVATE KEY" in second.text  # split by the cut
    later = Redactor(None).redact([second])[0]
    assert "MIIEow" not in later.text and later.findings  # reported, though the BEGIN line is in the other part
    assert "Private Key" in {finding.kind for finding in later.findings}


def test_half_a_secret_the_cut_leaves_is_not_looked_for_elsewhere(tmp_path: Path) -> None:
    value = "rollback|Winter2024xyz"
    document = _cut_after(
        "# Db\n\n", "## Access\n\n", "roll back deploy ", 'db_password = "rol', f'{value[3:]}" done\n'
    )
    first, second = _parts_of(tmp_path, document)
    assert first.text.endswith('"rollback') and second.text.startswith("|Winter2024xyz")  # split by the cut
    other = Piece("runbooks/b.md", 1, "Run the rollback script, then check the rollback log.")
    results = Redactor(None).redact([first, second, other])
    assert "rollback" not in results[0].text[-30:] and "Winter2024xyz" not in results[1].text
    assert results[2].text == other.text and not results[2].findings  # "rollback" alone is no secret
    # A part gives away its section's whole value, for its heading (which every part repeats), never a half.
    alone = Redactor(None).redact([second])[0]
    assert (value, "Secret Keyword") in alone.values and not [v for v, _ in alone.values if v != value]


def test_a_part_spreads_only_the_values_it_holds_and_names_lose_its_sections(tmp_path: Path) -> None:
    """A part scanned with its whole section found a value of a part not chosen (a false positive there,
    a secret's name) and replaced it in the task and in other documents (adversary, third round)."""
    document = _cut_after(
        "# Rotation\n\n",
        "## Steps\n\n",
        "rotate the billing database credentials\n",
        "",
        "- password: Kp9xT2mQ7wZz4y\n",
    )
    first, second = _parts_of(tmp_path, document)
    assert "Kp9xT2mQ7wZz4y" in second.text and "Kp9xT2mQ7wZz4y" not in first.text
    task = Piece("<task>", 1, "rotate Kp9xT2mQ7wZz4y after the audit")
    redactor = Redactor(None)
    redactor.redact([first])  # the section scanned before (cached): what spreads now is `_everywhere`'s doing
    chosen, asked = redactor.redact([first, task])
    assert asked.text == task.text and not asked.findings
    assert ("Kp9xT2mQ7wZz4y", "Secret Keyword") in chosen.values  # for the part's heading and trail


def test_the_cache_file_keeps_its_newest_entries_within_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "redactions.json"
    redactor = Redactor(cache)
    redactor.redact([Piece(f"runbooks/{n}.md", 1, f"key {AWS_KEY} in text {n}") for n in range(40)])
    newest = list(redactor.cache.entries)[-1]
    redactor.save()
    whole = cache.stat().st_size
    data = json.loads(cache.read_text(encoding="utf-8"))
    bare = len(json.dumps({**data, "entries": {}}, separators=(",", ":")))  # the version and the triggers

    limit = (whole + bare) // 2
    monkeypatch.setattr(redact_module, "CACHE_BYTES", limit)
    redactor.cache.dirty = True
    redactor.save()
    assert cache.stat().st_size <= limit
    kept = Redactor(cache).cache.entries
    assert newest in kept and 0 < len(kept) < 40

    monkeypatch.setattr(redact_module, "CACHE_BYTES", bare)  # not even one entry fits: none kept, no endless halving
    redactor.cache.dirty = True
    redactor.save()
    assert json.loads(cache.read_text(encoding="utf-8"))["entries"] == {}


def test_a_cache_file_larger_than_its_limit_is_not_parsed_but_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "redactions.json"
    redactor = Redactor(cache)
    redactor.redact([Piece("runbooks/a.md", 1, f"key {AWS_KEY}")])
    redactor.save()
    monkeypatch.setattr(redact_module, "_LOADED", {})  # a new process
    monkeypatch.setattr(redact_module, "CACHE_BYTES", cache.stat().st_size - 1)  # an older scaffold's, too large
    assert Redactor(cache).cache.entries == {}


@pytest.mark.parametrize(
    "other",
    [
        f"AWS_ACCESS_KEY_ID={AWS_KEY}",
        "ARTIFACTORY=AP4MtA1c0LLZZK",
        "token = ghp_" + "abcdefghijklmnopqrstuvwxyz0123456789",
    ],
    ids=["aws", "artifactory", "github"],
)
def test_a_plain_words_password_beside_another_secret_is_still_found(other: str) -> None:
    # detect-secrets reads a text as ini, where alone it finds an unquoted value of letters, only when it
    # found nothing else in it: beside an AWS key id, this password was shown in clear.
    password = "fzlcdgGB" + "UGCcfS"
    [result] = Redactor(None).redact([Piece("runbooks/env.md", 1, f"DB_PASSWORD={password}\n{other}\n")])
    assert password not in result.text and result.text.startswith("DB_PASSWORD=[REDACTED: Secret Keyword]\n")
    assert "REDACTED" in result.text.split("\n")[1]
