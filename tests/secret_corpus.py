"""Invented secrets in the shapes real ones take, each rendered the ways people paste them.

No value here is real: each is a vendor's prefix and layout filled from a seeded generator, at
import time, so this file holds no string a secret scanner (or a reader) would take for a key.
`CORPUS` has one `Secret` per value; `Secret.forms()` renders it as prose, a fenced code
block, a `.env` line, YAML, JSON and an ini section; `Secret.leaks` are the substrings that
must never survive redaction (the token itself, not the harmless prefix around it).
`NOT_SECRETS` is ordinary text that must come through untouched.
"""

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass, field

_random = random.Random(13)
_ALNUM = string.ascii_letters + string.digits
_UPPER_DIGITS = string.ascii_uppercase + string.digits
_B64 = _ALNUM + "+/"
_URLSAFE = _ALNUM + "-_"
_HEX = "0123456789abcdef"


def _pick(alphabet: str, length: int) -> str:
    return "".join(_random.choice(alphabet) for _ in range(length))


def _b64url(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _jwt() -> str:
    header = _b64url({"alg": "HS256", "typ": "JWT"})
    claims = _b64url({"sub": _pick(_HEX, 12), "iat": _random.randrange(1_600_000_000, 1_800_000_000)})
    return f"{header}.{claims}.{_pick(_URLSAFE, 43)}"


def _pem(label: str) -> str:
    lines = [_pick(_B64, 64) for _ in range(5)] + [_pick(_B64, 20) + "=="]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"])


def _password() -> str:
    # Letters, digits and one punctuation mark that needs no quoting in any of the forms.
    return _pick(string.ascii_letters, 6) + _pick(string.digits, 3) + _random.choice("-_.!@%") + _pick(_ALNUM, 5)


@dataclass(frozen=True)
class Secret:
    """One invented secret: its format, the variable it is usually kept in, the value, and what must not leak."""

    format: str
    name: str
    value: str
    leaks: tuple[str, ...] = field(default=())

    @property
    def must_not_leak(self) -> tuple[str, ...]:
        if self.leaks:
            return self.leaks
        if "\n" in self.value:
            # A PEM block: its body lines; the BEGIN/END lines are public words.
            return tuple(line for line in self.value.splitlines() if not line.startswith("-----"))
        return (self.value,)

    def forms(self) -> dict[str, str]:
        """The secret as prose, a code block, a .env line, YAML, JSON and ini."""
        key, value = self.name, self.value
        lower = key.lower()
        if "\n" in value:
            indented = "\n".join("  " + line for line in value.splitlines())
            return {
                "prose": f"The {self.format} we used in staging, pasted here by mistake:\n\n{value}\n\nRotate it.",
                "code": f"```python\n{lower} = '''{value}'''\n```",
                "env": f'{key}="{value}"',
                "yaml": f"{lower}: |\n{indented}",
                "json": json.dumps({lower: value}, indent=2),
                "ini": f"[default]\n{lower} =\n{indented}",
            }
        return {
            "prose": f"The {self.format} for the staging account is {value} - ask ops before rotating it.",
            "code": f'```python\n{lower} = "{value}"\nclient = connect({lower}="{value}")\n```',
            "env": f"export {key}={value}",
            "yaml": f"{lower}: {value}",
            "json": json.dumps({lower: value}, indent=2),
            "ini": f"[default]\n{lower} = {value}",
        }


def _corpus() -> list[Secret]:
    items: list[Secret] = []

    def add(format: str, name: str, value: str, *leaks: str) -> None:
        items.append(Secret(format, name, value, tuple(leaks)))

    for prefix in ("AKIA", "ASIA", "AKIA"):
        add("AWS access key id", "AWS_ACCESS_KEY_ID", prefix + _pick(_UPPER_DIGITS, 16))
    for _ in range(3):
        add("AWS secret access key", "AWS_SECRET_ACCESS_KEY", _pick(_B64, 40))
    for kind in ("api03", "api03", "admin01"):
        add("Anthropic API key", "ANTHROPIC_API_KEY", f"sk-ant-{kind}-{_pick(_URLSAFE, 93)}AA")
    for prefix in ("sk-proj-", "sk-proj-", "sk-svcacct-"):
        add("OpenAI API key", "OPENAI_API_KEY", prefix + _pick(_URLSAFE, 74) + "T3BlbkFJ" + _pick(_URLSAFE, 74))
    for token in (_pick(_URLSAFE, 40), _pick(_HEX, 48), _pick(_ALNUM, 32)):
        add("bearer token", "AUTHORIZATION", f"Bearer {token}", token)
    for account in ("scaffolddemo", "billingprod"):
        key = _pick(_B64, 86) + "=="
        connection = (
            f"DefaultEndpointsProtocol=https;AccountName={account};AccountKey={key};EndpointSuffix=core.windows.net"
        )
        add("Azure storage connection string", "AZURE_STORAGE_CONNECTION_STRING", connection, key)
    for _ in range(2):
        add("npm token", "NPM_TOKEN", "npm_" + _pick(_ALNUM, 36))
    for _ in range(2):
        add("GitHub personal access token", "GITHUB_TOKEN", "ghp_" + _pick(_ALNUM, 36))
    for _ in range(2):
        add("GitHub fine-grained token", "GH_TOKEN", "github_pat_" + _pick(_ALNUM, 22) + "_" + _pick(_ALNUM, 59))
    for _ in range(2):
        add("GitLab personal access token", "GITLAB_TOKEN", "glpat-" + _pick(_URLSAFE, 20))
    for prefix in ("xoxb", "xoxb", "xoxp"):
        digits = f"{_pick(string.digits, 12)}-{_pick(string.digits, 13)}"
        add("Slack token", "SLACK_TOKEN", f"{prefix}-{digits}-{_pick(_ALNUM, 24)}")
    for prefix in ("sk_live_", "sk_live_", "rk_live_"):
        add("Stripe secret key", "STRIPE_SECRET_KEY", prefix + _pick(_ALNUM, 99))
    for _ in range(2):
        add("Google API key", "GOOGLE_API_KEY", "AIza" + _pick(_URLSAFE, 35))
    for _ in range(2):
        add("GCP service account private_key_id", "PRIVATE_KEY_ID", _pick(_HEX, 40))
    add("GCP service account private_key", "PRIVATE_KEY", _pem("PRIVATE KEY"))
    add("RSA private key", "DEPLOY_KEY", _pem("RSA PRIVATE KEY"))
    add("OpenSSH private key", "SSH_PRIVATE_KEY", _pem("OPENSSH PRIVATE KEY"))
    add("EC private key", "TLS_KEY", _pem("EC PRIVATE KEY"))
    for _ in range(2):
        add("JWT", "SESSION_JWT", _jwt())
    for name in ("PASSWORD", "DB_PASSWORD", "SMTP_PASSWORD"):
        add("password", name, _password())
    for scheme, user, host in (
        ("postgres", "app", "db.internal:5432/app"),
        ("redis", "default", "cache.internal:6379/0"),
        ("https", "deploy", "artifacts.example.com/simple"),
    ):
        password = _password()
        add("URL with a password", "DATABASE_URL", f"{scheme}://{user}:{password}@{host}", password)
    for name in ("API_KEY", "API_KEY"):
        add("API key", name, _pick(_HEX, 32))
    for name in ("SESSION_SECRET", "SIGNING_KEY", "CLIENT_SECRET", "WEBHOOK_SECRET"):
        add("secret", name, _pick(_ALNUM, 32))
    add("SendGrid API key", "SENDGRID_API_KEY", f"SG.{_pick(_URLSAFE, 22)}.{_pick(_URLSAFE, 43)}")
    add("Twilio auth token", "TWILIO_AUTH_TOKEN", _pick(_HEX, 32))
    # Drawn from letters and digits, one 16-character password in 16 holds no digit.
    for name in ("DB_PASSWORD", "ADMIN_TOKEN"):
        add("letters-only password", name, _pick(string.ascii_letters, 16))
    # Letters and symbols (those no form needs to quote), no digit: one in 9 of 16 characters so drawn.
    for name in ("DB_PASSWORD", "SMTP_PASSWORD"):
        add(
            "letters-and-symbols password",
            name,
            _pick(string.ascii_letters, 7) + "!" + _pick(string.ascii_letters + "@%^+", 8),
        )
    # A vendor's prefix, then lowercase hex or capitals and digits (no mixed case for the entropy rule).
    add("Shopify access token", "SHOPIFY_TOKEN", "shpat_" + _pick(_HEX, 32))
    add("DigitalOcean token", "DIGITALOCEAN_TOKEN", "dop_v1_" + _pick(_HEX, 64))
    add("Databricks token", "DATABRICKS_TOKEN", "dapi" + _pick(_HEX, 32))
    add("Mailgun API key", "MAILGUN_API_KEY", "key-" + _pick(_HEX, 32))
    add("New Relic API key", "NEW_RELIC_API_KEY", "NRAK-" + _pick(_UPPER_DIGITS, 27))
    add("age secret key", "AGE_IDENTITY", "AGE-SECRET-KEY-1" + _pick("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58))
    signature = _pick(_HEX, 64)
    presigned = f"https://exports.s3.amazonaws.com/q3.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature={signature}"
    add("AWS presigned URL", "EXPORT_URL", presigned, signature)
    return items


CORPUS: tuple[Secret, ...] = tuple(_corpus())
FORMATS: frozenset[str] = frozenset(secret.format for secret in CORPUS)


def anthropic_client_snippet(secret: Secret) -> str:
    """The key passed straight to the SDK, as people do in a notebook."""
    return f'```python\nclient = anthropic.Anthropic(api_key="{secret.value}")\n```'


def document(forms: tuple[str, ...] = ("prose", "code", "env", "yaml", "json", "ini")) -> str:
    """A knowledge-home document holding every secret in each of `forms`, one section per secret."""
    parts = ["# Leaked credentials\n\nA runbook that should never have held any of these.\n"]
    for number, secret in enumerate(CORPUS, start=1):
        parts.append(f"## {number}. {secret.format}\n")
        parts.extend(f"{form}:\n\n{text}\n" for form, text in secret.forms().items() if form in forms)
        if secret.format == "Anthropic API key" and "code" in forms:
            parts.append(anthropic_client_snippet(secret) + "\n")
    return "\n".join(parts)


# Ordinary text with long hex, ids and placeholders: none of it is a secret.
NOT_SECRETS = """\
# Releasing

Tag the merge commit (e.g. 3f2c9a1d8b7e6f5a4c3b2a1908f7e6d5c4b3a291) and push the tag.
The incident id is 123e4567-e89b-12d3-a456-426614174000; see request req_01HZX3 in the logs.

Set your key with `export ANTHROPIC_API_KEY=<your-key>` or `api_key: ...` in the config;
`password = os.environ["DB_PASSWORD"]` reads it at start-up, and `token = get_token()` refreshes it.
Use `Authorization: Bearer $TOKEN` in curl examples, and `DATABASE_URL=postgres://app@localhost/app`.

```python
API_KEY_HEADER = "X-API-Key"
TOKEN_URL = "/oauth/token"


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="payments", version="1.2.3")
    app.include_router(router, prefix="/v1/payments")
    return app
```

The image is ghcr.io/acme/payments@sha256:4b825dc642cb6eb9a060e54bf8d69288fbee4904 in the 2024-05-01 release.
Our password policy: at least 12 characters. The token endpoint is /oauth/token.
Key formats, as the vendors document them: NRAK-XXXXXXXXXXXXXXXXXXXXXXXXXXX, shpat_00000000000000000000000000000000.
A presigned URL's parameters are X-Amz-Algorithm, X-Amz-Credential and X-Amz-Signature.

Names run together with digits in them, and links, are code, not secrets:

```java
AmazonS3 s3 = AmazonS3ClientBuilder.standard().withRegion(region).build();
ListObjectsV2Paginator pages = client.listObjectsV2Paginator(request);
var provider = new Ec2InstanceMetadataProvider();
```

Run `go test -run TestCheckoutTimeout504AfterDeploy ./...`; the fix was in
https://github.com/HypothesisWorks/hypothesis/issues/2108, see also `BetaMemoryTool20250818Param` and
https://github.com/acme/billing/blob/71b20f92874c02dfe82ad2cc2dcc7fa64996be91/src/Billing2Handler.py.
"""
