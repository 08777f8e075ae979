"""Secrets never leave the machine: a corpus of invented secrets, redacted from `scaffold context` and fill requests."""

from __future__ import annotations

import base64
import json
import random
import string
from pathlib import Path

import pytest
import yaml

from generator.cli import main
from generator.context import secret_rules as rules
from generator.context import secret_values
from generator.context.api import build_context, search_knowledge
from generator.context.assemble import PREAMBLE
from generator.context.redact import Piece, Redactor, Shown
from generator.context.tokens import estimate_tokens
from tests.fakeapi import FakeAnthropic, Recorded, Reply
from tests.fillfakes import KEY, answer, asked_for, requested, tagged, valid_reply
from tests.helpers import GIT_IDENTITY, run
from tests.secret_corpus import CORPUS, FORMATS, NOT_SECRETS, Secret, anthropic_client_snippet, document
from tests.test_context_fixtures import make_home

FORMS = ("prose", "code", "env", "yaml", "json", "ini")


def _leaks(text: str) -> list[str]:
    return [f"{secret.format}: {leak[:12]}..." for secret in CORPUS for leak in secret.must_not_leak if leak in text]


def test_the_corpus_is_large_and_varied() -> None:
    assert len(CORPUS) >= 40 and len(FORMATS) >= 15
    assert all(tuple(secret.forms()) == FORMS for secret in CORPUS)
    assert len({secret.value for secret in CORPUS}) == len(CORPUS)


def test_every_secret_is_redacted_in_every_form_on_its_own() -> None:
    redactor = Redactor()
    cases: list[tuple[Secret, str, str]] = [
        (secret, form, text) for secret in CORPUS for form, text in secret.forms().items()
    ]
    cases += [(s, "sdk", anthropic_client_snippet(s)) for s in CORPUS if s.format == "Anthropic API key"]
    missed = []
    for secret, form, text in cases:
        # One text per scan: a value found in one form must not hide a miss in another.
        [result] = redactor.redact([Piece(f"{form}.md", 1, text)])
        if any(leak in result.text for leak in secret.must_not_leak) or not result.findings:
            missed.append(f"{secret.format} as {form}")
    assert missed == []


# Where an adversary found values that went out in clear: each value, in its place.
FOUND_IN_PLACES = {
    "Xq7PwL2mZr9Tb4Kc": "db:\n  password: |\n    Xq7PwL2mZr9Tb4Kc\n",  # a YAML block scalar
    "Rt5Hy8Lp2Qw9Zx3Vb7": "auth:\n  api_token: >-\n    Rt5Hy8Lp2Qw9Zx3Vb7\n",
    "423cea742242106cb2916a8a4c829756": (
        "-----BEGIN OpenVPN Static key V1-----\n6acef03f62675b4b1bbd03e53b187727\n"
        "423cea742242106cb2916a8a4c829756\n-----END OpenVPN Static key V1-----\n"
    ),
    "Q7sGpWx2LmZr9Tb": '{"config": "{\\"password\\": \\"Q7sGpWx2LmZr9Tb\\"}"}\n',  # JSON in a JSON string
    "Hp3YpLublqdiVAH": '<input type="password" name="pw" value="Hp3YpLublqdiVAH">\n',
    "Zk8PqLm2Vn4Rt7Wx": '<input value="Zk8PqLm2Vn4Rt7Wx" type="password">\n',
    "Go7hVeECXxGLgCG": 'sql.Open("mysql", "billing:Go7hVeECXxGLgCG@tcp(10.0.0.7:3306)/billing")\n',
    # And beside them, found by the next adversary: a comment, a tag or an anchor after the key; a field
    # unquoted or React's; a DSN's password holding an `@`, or go-sql-driver's form with no address.
    "Xq7PwL2mZr9Tb4Kd": "db:\n  password: | # the admin one\n    Xq7PwL2mZr9Tb4Kd\n",
    "Rt5Hy8Lp2Qw9Zx3V": "db:\n  password: !!str |\n    Rt5Hy8Lp2Qw9Zx3V\n",
    "Kj3Lm9Pq2Wx7Zr4T": "db:\n  password: &pw |\n    Kj3Lm9Pq2Wx7Zr4T\n",
    "Hp3YpLublqdiVAJ": "<input type=password value=Hp3YpLublqdiVAJ>\n",
    "Zk8PqLm2Vn4Rt7Wy": '<input type="password" defaultValue="Zk8PqLm2Vn4Rt7Wy" />\n',
    "p@ssw0rd123x": 'dsn := "app:p@ssw0rd123x@tcp(db:3306)/app"\n',
    "Go7hVeECXxGLgCH": 'dsn := "app:Go7hVeECXxGLgCH@/billing"\n',
}


@pytest.mark.parametrize("value", list(FOUND_IN_PLACES))
def test_a_value_in_the_places_an_adversary_found_is_redacted(value: str) -> None:
    text = f"# Notes\n\nText before.\n\n{FOUND_IN_PLACES[value]}\nText after.\n"
    [result] = Redactor().redact([Piece("notes.md", 1, text)])
    assert value not in result.text and result.findings, result.text
    assert "Text before." in result.text and "Text after." in result.text  # a key's block ends at its END line


def test_places_like_those_hold_no_value_when_they_hold_none() -> None:
    from generator.context import redact

    assert rules.PRIVATE_KEY == redact.PRIVATE_KEY  # spelt in both: a rule's kind makes redaction's blocks
    # Empty fields, a template's placeholder and a YAML key of other things are no values.
    for text in (
        '<input type="password" name="pw" value="">\n',
        "secrets:\n  password: |\n    {{ .Values.password }}\n",
        "db:\n  password_policy: >-\n    at least twelve characters\n",
        "user:password@tcp(localhost:3306)/db\n",
        '<input type="password" value={form.values.password1} onChange={update} />\n',  # JSX, not a value
        'dsn := fmt.Sprintf("%s:%s@tcp(%s)/%s", user, pass, host, db)\n',
    ):
        [result] = Redactor().redact([Piece("notes.md", 1, text)])
        assert result.findings == (), text


def test_ordinary_text_is_not_redacted() -> None:
    [result] = Redactor().redact([Piece("release.md", 1, NOT_SECRETS)])
    assert result.text == NOT_SECRETS
    assert result.findings == ()


# Names and links in NOT_SECRETS that mix upper case, lower case and digits with a random string's entropy.
NAMES = (
    "AmazonS3ClientBuilder",
    "ListObjectsV2Paginator",
    "Ec2InstanceMetadataProvider",
    "TestCheckoutTimeout504AfterDeploy",
    "com/HypothesisWorks/hypothesis/issues/2108",
    "BetaMemoryTool20250818Param",
    "com/acme/billing/blob/71b20f92874c02dfe82ad2cc2dcc7fa64996be91/src/Billing2Handler",
)


def test_names_run_together_are_left_alone_for_their_words_not_their_entropy() -> None:
    # Each would be redacted by entropy alone: what keeps it is that its letters read as words.
    assert all(secret_values.mixed_with_entropy(name) and secret_values.made_of_words(name) for name in NAMES)
    assert all(name in NOT_SECRETS for name in NAMES)
    assert not secret_values.made_of_words("xK9mPq2RvT7wLz4NbY6cHs")
    # A random piece at the end of a path of words is judged on its own (a webhook's secret).
    assert not secret_values.made_of_words("com/services/engineering/production/alerting/channel/Kq3Zt8HuVx2Lm9Wr4Np7")
    assert not secret_values.made_of_words("secrets/production/deployment/credentials/Xk9mPq2RvT7wLz3NbH8c")
    # A compound word in a path (`runbooks`, `webhooks`) joins letters that rarely follow each other:
    # judged with the rest of the path, not on its own.
    for path in (
        "/Users/alice/payco-home/context/runbooks/0001-deploy",
        "C:/Users/Alice/payco/context/runbooks/0002-x",
    ):
        assert secret_values.mixed_with_entropy(path) and secret_values.made_of_words(path), path
    assert not secret_values.made_of_words("hooks/webhooks/Kq3Zt8HuVx2Lm9Wr4Np7")
    # But random letters are no compound word, capitalised or not.
    assert not secret_values.made_of_words("secret/data/Teams/Payments/Gmail/Jghlcicyocusu/Mailer/Outbound/44821")
    assert not secret_values.made_of_words("fileserver/Operations/Backups/zaamevrbsmie/Nightly/Archive/16392")
    # The price, in docs/context.md: an unnamed password made of words.
    assert secret_values.mixed_with_entropy("TrustNoOne2024Password") and secret_values.made_of_words(
        "TrustNoOne2024Password"
    )


def test_random_letters_alone_read_as_random_and_names_of_letters_do_not() -> None:
    rng = random.Random(7)
    for length, share in ((12, 0.80), (16, 0.91), (20, 0.93)):
        values = ["".join(rng.choice(string.ascii_letters) for _ in range(length)) for _ in range(2_000)]
        # bench/redaction_words.py measures 84, 94 and 96 in 100.
        assert sum(map(secret_values.random_letters, values)) >= share * len(values)
    names = ["DescribeVpcEndpoints", "PasswordAuthentication", "SecretsManagerClient", "getElementById", "kvProdEastUS"]
    # Names that mix words with abbreviations, and a secret's own name: where a secret is kept, not it.
    names += ["kvLedgerPrdNEU", "AKVLedgerPrdWE", "KafkaProdPwd", "MySQLDeployKey", "GitHubWebhookKey"]
    assert not any(map(secret_values.random_letters, names))
    # One case, short, or not letters alone: the other checks' to judge.
    assert not any(
        map(secret_values.random_letters, ("qqetppybetcerdcm", "QQETPPYBETCERDCM", "qqETPPyBETc", "qqETPP-yBETceRDCM"))
    )


def test_random_tokens_unnamed_in_prose_are_still_redacted() -> None:
    rng = random.Random(5)

    def shaped(shape: str) -> str:
        if shape == "base62":
            return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(rng.randint(20, 45)))
        encode = base64.b64encode if shape == "base64" else base64.urlsafe_b64encode
        return encode(rng.randbytes(rng.randint(15, 40))).decode().rstrip("=")

    made = (shaped(shape) for shape in ("base62", "base64", "base64url") for _ in range(2_000))
    tokens = [token for token in made if secret_values.mixed_with_entropy(token)]
    assert len(tokens) > 5_000
    # bench/redaction_words.py measures 6 in 900,000 taken for words; these 6,000 hold none.
    assert [token for token in tokens if secret_values.made_of_words(token)] == []
    text = "\n".join(f"The value {token} is what the job needs." for token in tokens[::60])
    hook = "Kq3Zt8HuVx2Lm9Wr4Np7"
    text += f"\nPost to https://hooks.example.com/services/engineering/production/alerting/channel/{hook}\r\n"
    [result] = Redactor().redact([Piece("notes.md", 1, text)])
    assert all(token not in result.text for token in tokens[::60]) and hook not in result.text
    assert {finding.kind for finding in result.findings} == {rules.HIGH_ENTROPY}


@pytest.fixture
def leaky_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_home(tmp_path / "home")
    (root / "context" / "patterns.md").write_text(document(), encoding="utf-8")
    monkeypatch.setenv("SCAFFOLD_HOME", str(root))
    return root


def test_scaffold_context_output_holds_none_of_them(leaky_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    anthropic_keys = [secret.value for secret in CORPUS if secret.format == "Anthropic API key"]
    task = f'deploy the api with key {anthropic_keys[0]} and Anthropic(api_key="{anthropic_keys[1]}")'
    assert main(["context", "--json", "--budget", "400000", task]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert [document["path"] for document in data["documents"]].count("patterns.md") > len(CORPUS)
    assert _leaks(out) == [] and _leaks(err) == []
    assert {finding["path"] for finding in data["redactions"]} >= {"patterns.md", "<task>"}
    assert "## 1. AWS access key id" in data["prompt"]  # the sections are there, only their secrets went


def test_a_secret_in_a_heading_or_a_file_name_is_replaced_wherever_the_result_shows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = next(secret.value for secret in CORPUS if secret.format == "GitHub personal access token")
    password = "VpnS3cret2024x"
    root = make_home(
        tmp_path / "home",
        {
            "context/runbooks/vpn.md": f"# VPN access\n\n## Password for the vpn: password={password}\n\nConnect.\n",
            f"context/runbooks/token-{token}.md": "# Token rotation\n\nRotate the vpn token monthly.\n",
            # Characters the prompt's attributes escape: the heading is redacted before it is escaped.
            "context/runbooks/wifi.md": '# Wifi access\n\n## The vpn wifi: password=Wp&S3cret"2024x<y\n\nJoin.\n',
        },
    )
    monkeypatch.setenv("SCAFFOLD_HOME", str(root))
    task = "connect to the vpn, join the vpn wifi and rotate the token; CI key Xk9mPq2RvT7wLz3NbH8cYf4G"
    for flags in ([], ["--json"], ["--explain"]):
        assert main(["context", *flags, task]) == 0
        out, err = capsys.readouterr()
        assert password not in out + err and token not in out + err, flags
        assert "Wp&S3cret" not in out + err and "Wp&amp;S3cret" not in out + err and "Wp\\u0026" not in out, flags
        # The task's key, which ranking reasons quote lowercased among the task's words.
        assert "Xk9mPq2RvT7wLz3NbH8cYf4G".lower() not in (out + err).lower(), flags
        assert "<headings and file names>" in err  # the file name's token, reported once, without a line
    result = build_context(task)
    sections = [(document.path, document.section) for document in result.documents]
    assert ("runbooks/vpn.md", "VPN access > Password for the vpn: password=[REDACTED: Secret Keyword]") in sections
    assert 'section="VPN access > Password for the vpn: password=[REDACTED: Secret Keyword]"' in result.prompt
    assert 'section="Wifi access > The vpn wifi: password=[REDACTED: Secret Keyword]&quot;2024x&lt;y"' in result.prompt
    assert any("Rotate the vpn token monthly." in block for block in result.prompt.split("<document ")[1:])
    assert [path for path, _ in sections if path.startswith("runbooks/token-")] == []  # its name went with the token
    assert token not in repr(result) and password not in repr(result)
    assert result.tokens == estimate_tokens(result.prompt)  # costed as rendered, with the names redacted
    # A fill records no digest of the document: its name is written nowhere, and `scaffold check`
    # could not find it by its redacted one (every region would be stale for good).
    assert "runbooks/vpn.md" in dict(result.digests)
    assert [path for path, _ in result.digests if "token" in path or "REDACTED" in path] == []


def test_a_value_only_a_sections_text_names_as_a_secret_leaves_its_heading_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = "# VPN admin\n\n## Admin password (Winter2024Temp9) until Friday\n\n    password: Winter2024Temp9\n"
    monkeypatch.setenv("SCAFFOLD_HOME", str(make_home(tmp_path / "home", {"context/runbooks/vpn-admin.md": admin})))
    for flags in ([], ["--json"], ["--explain"]):
        assert main(["context", *flags, "rotate the vpn admin password"]) == 0
        out, err = capsys.readouterr()
        assert "Winter2024Temp9" not in out + err and "Admin password ([REDACTED: Secret Keyword])" in out, flags
    hits = search_knowledge("vpn admin password")
    assert "VPN admin > Admin password ([REDACTED: Secret Keyword]) until Friday" in [hit.heading for hit in hits]


def test_a_name_its_own_text_redacts_is_redacted_where_another_documents_reason_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The neighbour joins as "related to the best document (PATH)": that path is the best
    # document's, and is shown as its own lines show it, whatever the line is about.
    admin = "# 0012. VPN admin account\n\nThe office network.\n\n    password: Winter2024Temp9\n\nSee ADR 0013.\n"
    guest = "# 0013. VPN guest account\n\nThe VPN guest account for visitors of the office network.\n"
    root = make_home(
        tmp_path / "home",
        {"context/decisions/0012-vpn-admin-Winter2024Temp9.md": admin, "context/decisions/0013-vpn-guest.md": guest},
    )
    monkeypatch.setenv("SCAFFOLD_HOME", str(root))
    for flags in ([], ["--json"], ["--explain"]):
        assert main(["context", *flags, "vpn admin account for the office network"]) == 0
        out, err = capsys.readouterr()
        assert "Winter2024Temp9" not in out + err, flags
    result = build_context("vpn admin account for the office network")
    [guest_reason] = [document.reason for document in result.documents if document.path.endswith("0013-vpn-guest.md")]
    assert "related to the best document (decisions/0012-vpn-admin-[REDACTED: Secret Keyword].md)" in guest_reason


def test_a_secret_its_text_holds_is_redacted_in_its_file_name_lowercased_as_titles_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `new-decision` used to name a file after its title lowercased, `_` as `-`: the heading's token was
    # redacted, its form in the path was not (nor does a scan of the name find it in that form).
    admin = "# 0012. VPN admin account\n\nThe office network.\n\n    password: Winter2024_Temp9x\n"
    named = "0012-vpn-admin-winter2024-temp9x.md"
    root = make_home(tmp_path / "home", {f"context/decisions/{named}": admin})
    monkeypatch.setenv("SCAFFOLD_HOME", str(root))
    for flags in ([], ["--json"], ["--explain"]):
        assert main(["context", *flags, "vpn admin account for the office network"]) == 0
        out, err = capsys.readouterr()
        assert "0012-vpn-admin-" in out, flags  # the document is there: its name is, redacted
        assert "winter2024" not in (out + err).lower() and "temp9x" not in (out + err).lower(), flags


def test_a_name_taken_for_a_secret_leaves_the_documents_path_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `POSTGRES_PASSWORD` is taken for a value; lowercased and as a name it would take the path out of the
    # very warning that says where the value is. Only a value of letters and digits is looked for so.
    runbook = "# Rotate the Postgres password\n\n## Steps\n\n    password_env: POSTGRES_PASSWORD\n"
    root = make_home(tmp_path / "home", {"context/runbooks/rotate-postgres-password.md": runbook})
    monkeypatch.setenv("SCAFFOLD_HOME", str(root))
    assert main(["context", "--json", "rotate the postgres password of billing-api"]) == 0
    out, err = capsys.readouterr()
    paths = {document["path"] for document in json.loads(out)["documents"]}
    assert "runbooks/rotate-postgres-password.md" in paths and "REDACTED" not in " ".join(paths)


def test_a_name_that_names_another_document_keeps_what_its_own_scan_found() -> None:
    # Splitting a string around another document's path must not lose the string's own findings
    # (a whole line, a value too short to replace elsewhere), nor take a longer path for a shorter.
    shown = Shown(Redactor())
    name = "decisions/0012-vpn.md: -----BEGIN RSA PRIVATE KEY-----"
    shown.add([name])
    shown.document("decisions/0012-vpn.md", [("Winter2024Temp9", rules.KEYWORD)])
    assert "PRIVATE KEY-----" not in shown(name, "decisions/0013-other.md")
    shown.document("archive/decisions/0012-vpn-Summer2023Temp8.md", [("Summer2023Temp8", rules.KEYWORD)])
    shown.document("decisions/0012-vpn-Summer2023Temp8.md", [("Autumn2022Temp7", rules.KEYWORD)])
    shorter = shown("related to the best document (archive/decisions/0012-vpn-Summer2023Temp8.md)")
    assert shorter == "related to the best document (archive/decisions/0012-vpn-[REDACTED: Secret Keyword].md)"
    admin = "decisions/0012-vpn-Winter2024Temp9.md"
    shown.document(admin, [("Winter2024Temp9", rules.KEYWORD)])
    assert shown(f"see {admin}", "decisions/0013-other.md") == "see decisions/0012-vpn-[REDACTED: Secret Keyword].md"


def test_a_task_secret_is_not_quoted_by_ranking_and_a_project_named_by_one_is_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_home(
        tmp_path / "home",
        {"context/runbooks/bastion.md": "# Bastion host\n\nThe bastion uses Wz5Hn8Kc2Pv7q! for now.\n"},
    )
    monkeypatch.setenv("SCAFFOLD_HOME", str(root))
    # Ranking reasons quote the task's words lowercased and without their punctuation.
    assert main(["context", "--explain", "SMTP_PASS=Wz5Hn8Kc2Pv7q! bounced"]) == 0
    out, err = capsys.readouterr()
    assert "bastion" in out and "wz5hn8kc2pv7q" not in (out + err).lower()
    # A passphrase's plain words stay in the names: only those of its words that hold a digit go.
    assert main(["context", "--explain", "bastion login --password correct-bastion-horse-2024x"]) == 0
    out, err = capsys.readouterr()
    assert "correct-bastion-horse-2024x" not in out + err and "runbooks/bastion.md" in out
    project = next(secret.value for secret in CORPUS if secret.format == "GitHub personal access token")
    assert main(["context", "--project", project, "fix the deploy"]) == 0
    out, err = capsys.readouterr()
    assert project not in out + err and 'project="[REDACTED: GitHub Token]"' in out


def test_a_false_positive_in_a_text_does_not_rename_documents_or_touch_the_preamble(tmp_path: Path) -> None:
    # `password: "architecture"` is taken for a password in that text; the word stays everywhere else.
    root = make_home(tmp_path / "home")
    patterns = root / "context" / "patterns.md"
    patterns.write_text(patterns.read_text() + '\n```yaml\npassword: "architecture"\n```\n')
    result = build_context("deploy the billing service", home=root)
    assert any(finding.path == "patterns.md" for finding in result.redactions)
    assert result.prompt.startswith(PREAMBLE)
    assert '<document path="architecture.md"' in result.prompt
    assert {document.path for document in result.documents} >= {"patterns.md", "architecture.md"}


def test_crlf_line_ends_do_not_hide_a_value_from_the_rules_that_end_at_a_line_end() -> None:
    text = "- name: DB_PASSWORD\r\n  value: Qw3rTy8uIo9p\r\nAuthorization: Splunk 1a2b3c4d5e6f7a8b9c0d1e2f\r\n"
    [result] = Redactor().redact([Piece("deploy.md", 1, text)])
    assert "Qw3rTy8uIo9p" not in result.text and "1a2b3c4d5e6f7a8b9c0d1e2f" not in result.text
    assert result.text.count("\r\n") == 3  # the text keeps its line ends


def test_no_fill_request_holds_any_of_them(
    project: Path, fake: FakeAnthropic, leaky_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every secret in every form: in the team's documents, the description (the task) and a region file.
    (leaky_home / "context" / "patterns.md").write_text(document(("code", "env", "yaml")), encoding="utf-8")
    answers_file = project / ".copier-answers.yml"
    answers = yaml.safe_load(answers_file.read_text())
    answers["description"] = "Payments.\n" + "\n".join(secret.forms()["prose"] for secret in CORPUS)
    answers_file.write_text(yaml.safe_dump(answers, sort_keys=False))
    domain = project / "src" / "payments" / "domain.py"
    notes = document(("json", "ini", "prose")).splitlines()
    domain.write_text(domain.read_text() + "".join(f"# {line}\n" for line in notes))
    run(["git", *GIT_IDENTITY, "commit", "-qam", "notes"], cwd=project)
    fake.responder = valid_reply(project)

    assert main(["fill", str(project)]) == 0

    assert fake.requests
    for request in fake.requests:
        sent = json.dumps(request.body, ensure_ascii=False)
        assert _leaks(sent) == []
        assert "[REDACTED: " in request.body["messages"][0]["content"]
        assert "[REDACTED: " in request.body["system"][-1]["text"]


def _everything_written(project: Path) -> str:
    """Every file under the project, .git's objects unpacked as the history's patches and messages."""
    files = "".join(
        path.read_text(errors="replace") for path in project.rglob("*") if path.is_file() and ".git" not in path.parts
    )
    history = run(["git", "log", "-p", "--all", "--format=%B"], cwd=project).stdout
    return files + history


def test_a_gateway_echoing_the_key_gets_nothing_written(
    project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    def echo(request: Recorded) -> Reply:
        return Reply.message(answer(project, requested(request), lambda region: tagged(region, f"key {KEY}")))

    fake.responder = echo
    assert main(["fill", str(project)]) == 3
    assert len(fake.requests) == 3  # first, repair and escalation calls: each answer was refused
    assert KEY not in _everything_written(project)
    out, err = capsys.readouterr()
    assert KEY not in out + err
    assert "holds the API key" in out + err
    # The refused answers are not sent back in the repair prompt either.
    assert all(KEY not in json.dumps(request.body) for request in fake.requests)


def test_a_region_refused_for_the_key_is_repaired(
    project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    replies = iter([lambda region: tagged(region, f"key {KEY}"), tagged])

    def echo_once(request: Recorded) -> Reply:
        return Reply.message(answer(project, asked_for(request), next(replies)))

    fake.responder = echo_once
    assert main(["fill", str(project)]) == 0
    assert len(fake.requests) == 2
    assert KEY not in _everything_written(project)
    assert KEY not in json.dumps(fake.requests[1].body)


@pytest.mark.parametrize("link", [".scaffold", ".scaffold/fills.yml"])
def test_fill_refuses_to_write_through_a_link(
    project: Path, fake: FakeAnthropic, tmp_path: Path, capsys: pytest.CaptureFixture[str], link: str
) -> None:
    elsewhere = tmp_path / "elsewhere"
    if link == ".scaffold":
        elsewhere.mkdir()
    else:
        (project / ".scaffold").mkdir(exist_ok=True)
        elsewhere.write_text("version: 1\nregions: {}\n")
    (project / link).symlink_to(elsewhere)
    before = {path: path.read_bytes() for path in [elsewhere, *elsewhere.rglob("*")] if path.is_file()}
    fake.responder = valid_reply(project)

    assert main(["fill", str(project)]) == 2

    err = capsys.readouterr().err.strip()
    assert err == (
        f"scaffold: error: {project / link} is a symbolic link; scaffold fill writes only real files and folders "
        "inside the project: replace the link with a folder or file of its own"
    )
    assert fake.requests == []
    assert {path: path.read_bytes() for path in [elsewhere, *elsewhere.rglob("*")] if path.is_file()} == before


def test_fill_outside_git_refuses_a_linked_previous_folder(
    tmp_path: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "ledger"
    assert main(["new-service", "ledger", "--defaults", "--no-ai", "--no-git", "--dest", str(project)]) == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / ".scaffold").mkdir(exist_ok=True)
    (project / ".scaffold" / "previous").symlink_to(elsewhere, target_is_directory=True)
    fake.responder = valid_reply(project)

    assert main(["fill", str(project)]) == 2

    assert "previous is a symbolic link" in capsys.readouterr().err
    assert list(elsewhere.iterdir()) == [] and fake.requests == []
