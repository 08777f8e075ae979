"""How well redaction tells random tokens from identifiers made of words.

    python bench/redaction_words.py [--corpus DIR ...] [--table]

scaffold's own rule for unnamed secrets (`generator.context.secret_rules`) redacts a token of
20 or more characters that mixes upper case, lower case and digits with a random string's
entropy. On its own it also took `AmazonS3ClientBuilder`, `ListObjectsV2Paginator` and
`github.com/HypothesisWorks/hypothesis/issues/2108` for secrets, so a team's code samples and
links reached the model as `[REDACTED: ...]`. A token whose letters read as words
(`secret_values.made_of_words`: by how likely each letter is after the one before in English and code) is
left alone. This script measures both sides, with seeded generators so that runs agree:

- random tokens the rule still catches: base62, base64, base64url and webhook-URL-shaped tokens
  that pass the entropy rule, and how many of them are taken for words (each one a secret that
  would now go through);
- identifiers and links it lets through: a list of real names (AWS SDKs, Java, .NET, Anthropic's
  SDK types, URLs), and with `--corpus DIR` every token in DIR's source and docs that the
  entropy rule alone redacts, with how many read as words (on a site-packages folder most are
  type names and links; the rest, IDs in tests and base64, should stay redacted: listed).

Values of letters alone (`secret_values.random_letters`, asked only of a value a secret's name,
heading or column points at) are measured the same two ways: random letters of 12 to 32
characters taken as random, and with `--corpus DIR` the names of 12 letters or more in mixed
case in DIR's files that would be taken for a secret under such a name (listed). Random
passwords of letters, digits and symbols are put through the checks of a Password column's
cells (`looks_secret` and `lone_secret`), all of them and those without a digit.

`--table` prints the letter-pair table `secret_values._PAIR_COSTS` holds, derived from the text
and code of the running Python's standard library (lowercase words of two or more letters,
and capitalised words, as code names them), for when the rule is retuned.
"""

from __future__ import annotations

import argparse
import base64
import collections
import math
import os
import random
import re
import string
import sys
import sysconfig
from collections.abc import Callable, Iterator
from pathlib import Path

from _timing import REPO

sys.path.insert(0, str(REPO))

from generator.context import secret_rules, secret_values

SAMPLES = 300_000
IDENTIFIERS = (
    "AmazonS3ClientBuilder",
    "getS3BucketNameForRegion",
    "ListObjectsV2Paginator",
    "Ec2InstanceMetadataProvider",
    "DynamoDbEnhancedClientV2",
    "createS3PresignedPostV4",
    "SHA256WithRSAEncryption",
    "HmacSHA256SignatureVerifier",
    "X509TrustManagerFactoryImpl",
    "OAuth2AuthorizedClientService",
    "Log4j2ConfigurationFactory",
    "KafkaConsumerRebalanceListener2",
    "K8sDeploymentRolloutV1Beta1",
    "Utf8JsonReaderExtensions",
    "Base64UrlEncodedPayloadV2",
    "TestCheckoutTimeout504AfterDeploy",
    "test_returns_404_when_missing_Invoice",
    "BetaMemoryTool20250818Param",
    "BetaWebFetchTool20250910Param",
    "com/HypothesisWorks/hypothesis/issues/2108",
    "com/AmazonS3/latest/API/API_ListObjectsV2",
    # File names and links the second adversary found redacted (a decision's file name, a Java
    # class's path, a permalink with a commit hash).
    "0009-adopt-gRPC-for-internal-RPCs-2024",
    "0007-use-PostgreSQL15-for-OLTP-workloads",
    "com/amazonaws/services/s3/model/ListObjectsV2Request",
    "how-to-use-Base64Encoder-in-Java8",
    "com/acme/billing/blob/71b20f92874c02dfe82ad2cc2dcc7fa64996be91/src/Billing2Handler",
)
_ALNUM = string.ascii_letters + string.digits
_WORD_PATHS = (
    "com/services/engineering/production/alerting/channel/",
    "com/integrations/slack/notifications/",
    "/secrets/production/deployment/credentials/",
    "com/generic-webhook-trigger/invoke/projects/backend/pipelines/",
)
_LETTER_WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z]{12,}(?![A-Za-z0-9_])")
_TEXT_SUFFIXES = (".py", ".pyi", ".md", ".rst", ".txt", ".java", ".go", ".ts", ".js")


def generators(rng: random.Random) -> dict[str, Callable[[], str]]:
    return {
        "base62": lambda: "".join(rng.choice(_ALNUM) for _ in range(rng.randint(20, 45))),
        "base64": lambda: base64.b64encode(rng.randbytes(rng.randint(15, 40))).decode().rstrip("="),
        "base64url": lambda: base64.urlsafe_b64encode(rng.randbytes(rng.randint(15, 40))).decode().rstrip("="),
        "webhook URL": lambda: (
            "com/api/webhooks/"
            + "".join(rng.choice(string.digits) for _ in range(10))
            + "/"
            + "".join(rng.choice(_ALNUM + "-_") for _ in range(rng.randint(16, 40)))
        ),
        # A random piece at the end of a path of words: a webhook's or a key file's.
        "words path": lambda: rng.choice(_WORD_PATHS) + "".join(rng.choice(_ALNUM) for _ in range(rng.randint(8, 40))),
    }


def entropy_hits(text: str) -> Iterator[str]:
    """The tokens of `text` the entropy rule takes for random, before the words check."""
    for match in secret_rules.ENTROPY_TOKEN.finditer(text):
        token = match.group(0)
        if secret_values.mixed_with_entropy(token):
            yield token


def measure_random(samples: int) -> None:
    print(f"Random tokens that pass the entropy rule ({samples:,} of each shape, seeded):")
    rng = random.Random(12)
    for shape, make in generators(rng).items():
        tokens: list[str] = []
        while len(tokens) < samples:
            tokens.extend(entropy_hits(make()))
        through = [token for token in tokens[:samples] if secret_values.made_of_words(token)]
        print(f"  {shape:12} taken for words: {len(through)} ({len(through) / samples:.1e}) {through[:3]}")


def measure_letters(samples: int) -> None:
    print(f"\nRandom letters alone taken as random under a secret's name ({samples:,} of each length, seeded):")
    rng = random.Random(13)
    for length in (12, 16, 20, 32):
        made = ("".join(rng.choice(string.ascii_letters) for _ in range(length)) for _ in range(samples))
        taken = sum(map(secret_values.random_letters, made))
        print(f"  {length:2} letters: {taken / samples:.1%}")


def measure_symbols(samples: int) -> None:
    print(
        f"\nRandom passwords of letters, digits and symbols in a Password column ({samples:,} of each length, seeded):"
    )
    rng = random.Random(14)
    alphabet = _ALNUM + "!@#%^&*-_+=?"
    for length in (12, 16, 20):
        made = ["".join(rng.choice(alphabet) for _ in range(length)) for _ in range(samples)]
        plain = [value for value in made if not any(char.isdigit() for char in value)]
        taken = [value for value in made if secret_values.looks_secret(value, "") and secret_values.lone_secret(value)]
        taken_once = set(taken)  # not built again for each value below
        plain_taken = sum(1 for value in plain if value in taken_once)
        print(
            f"  {length:2} characters: {len(taken) / samples:.1%} taken; of the {len(plain) / samples:.0%} without a "
            f"digit, {plain_taken / max(1, len(plain)):.1%}"
        )


def measure_identifiers() -> None:
    kept = [name for name in IDENTIFIERS if secret_values.made_of_words(name)]
    print(f"\nIdentifiers and links left alone: {len(kept)} of {len(IDENTIFIERS)}")
    for name in IDENTIFIERS:
        if name not in kept:
            print(f"  still redacted: {name}")


def measure_corpus(folder: Path) -> set[str]:
    """Print what the entropy rule and `random_letters` make of `folder`; its mixed-case names of letters."""
    tokens: set[str] = set()
    letters: set[str] = set()
    for base, _, files in os.walk(folder):
        for name in files:
            if name.endswith(_TEXT_SUFFIXES):
                try:
                    text = Path(base, name).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                tokens.update(entropy_hits(text))
                letters.update(word for word in _LETTER_WORD.findall(text) if not (word.islower() or word.isupper()))
    redacted = sorted(token for token in tokens if not secret_values.made_of_words(token))
    print(f"\n{folder}: {len(tokens)} distinct tokens the entropy rule alone redacts;")
    print(f"  {len(tokens) - len(redacted)} read as words and are left alone, {len(redacted)} stay redacted:")
    for token in redacted:
        print(f"    {token}")
    taken = sorted(word for word in letters if secret_values.random_letters(word))
    print(f"\n{folder}: {len(letters)} distinct names of 12 letters or more in mixed case;")
    print(f"  {len(taken)} would be taken for a secret under a secret's name:")
    for word in taken:
        print(f"    {word}")
    return letters


def table() -> str:
    """`_PAIR_COSTS` from the standard library: -ln P(next letter | letter) in tenths of a nat."""
    words = re.compile(r"[A-Z]?[a-z]{2,}|[A-Z]{2,}(?![a-z])")
    counts: collections.Counter[str] = collections.Counter()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for base, folders, files in os.walk(stdlib):
        folders[:] = [name for name in folders if name != "site-packages"]
        for name in files:
            if name.endswith(_TEXT_SUFFIXES):
                try:
                    text = Path(base, name).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                for word in words.findall(text):
                    word = word.lower()
                    counts.update(word[i : i + 2] for i in range(len(word) - 1))
    letters = string.ascii_lowercase
    rows = []
    for first in letters:
        total = sum(counts[first + second] for second in letters) + len(letters)  # add-one smoothing
        costs = [min(99, round(-10 * math.log((counts[first + second] + 1) / total))) for second in letters]
        rows.append(f'    "{first}: ' + " ".join(f"{cost:2d}" for cost in costs) + '",')
    return "_PAIR_COSTS = (\n" + "\n".join(rows) + "\n)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, action="append", default=[], help="a folder of source and docs")
    parser.add_argument(
        "--samples",
        type=int,
        default=SAMPLES,
        help=f"random tokens of each shape ({SAMPLES:,}); a sixth of it of random letters of each length",
    )
    parser.add_argument("--table", action="store_true", help="print the letter-pair table from this Python's stdlib")
    args = parser.parse_args()
    if args.table:
        print(table())
        return
    measure_random(args.samples)
    measure_letters(args.samples // 6)  # four lengths: the run takes about as long as the shapes above
    measure_symbols(args.samples // 6)
    measure_identifiers()
    names: set[str] = set()
    for folder in args.corpus:
        names |= measure_corpus(folder)
    if len(args.corpus) > 1:
        taken = sum(map(secret_values.random_letters, names))
        print(f"\nAll corpora: {taken} of {len(names)} distinct names would be taken under a secret's name")


if __name__ == "__main__":
    main()
