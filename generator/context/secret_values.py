"""Whether a value reads as a secret: the checks scaffold's own rules (`generator.context.secret_rules`)
put a value through once a rule has found it by its name or its place.

- `looks_secret`: any value given to a secret's name: 8 characters or more, a digit, letters
  alone that read as random (`random_letters`) or a password's symbols (`with_symbols`), not a
  placeholder or a reference to a value kept elsewhere (`PLACEHOLDER`);
- `lone_secret`: a value alone under prose naming a secret, in a table's column named for one, or
  after "Password for X:", which prose as often uses for the identifiers it names: it must read as
  random; `weak_password` the same under a password's name given plainly, where a weak password of
  words passes;
- `random_looking`: a token with no name before it, mixed with a random string's entropy and not
  words run together (`made_of_words`);
- `stands_for_one`: a URL's password that only stands for one (`password`, `${DB_PASSWORD}`);
- `basic_credentials`: an `Authorization: Basic` value that decodes to `user:password`.
"""

from __future__ import annotations

import itertools
import math
import re
import string

from generator.context import regexes

# Placeholders, references to a value kept elsewhere (Terraform's `var.db_password_2`,
# `random_password.db_v2.result`, `data.vault_generic_secret.aws2.data[...]`, a template's
# `{{ vault_db_password }}`, Windows' `%CI_TOKEN%`), files (`az login -p sp-cert2024.pem`), and
# numbers, addresses and port mappings (`27017:27017`). Angle brackets only around a name
# (`<password>`, `<%= ENV["X"] %>`, `db-<env>-2`), as a comparison between blanks (`min length >= 12`)
# or opening a generic's list (`Map<String, Key2>`), and in a value with a blank, with a number
# (`length>=12, 1 digit`, `every <90 days`) or as an arrow (`Vault -> secret/db2`, `kv/app2 => key`):
# a password may hold one, even with a blank (`Kp9<xT2!mQ`, `Qm7>=9kLm2x`, `I <3 Lisbon 2024`).
# Also where a secret is kept: an ARN, a path of two parts or more (`/prod/billing/db2`, a Secrets
# Manager or Parameter Store name; a file).
PLACEHOLDER = regexes.compile(
    r"\.\.\.|^x+$|example|your[_\-]|changeme|redacted|^<|>$|<[\w\-. /]*>"
    r"|^arn:|^(?:\.{0,2}|~)/[\w.\-]+(?:/[\w.\-]+)+/?$"
    r"|\s[<>]=?\s|\w<\w+,\s|^(?=.*\s).*?(?:\s[-=]>\s|[<>]=\s*\d|[<>]\d{2})|\*\*\*|\{\{|^%\w+%$|^[0-9.:]+$"
    r"|\.(?:pem|pfx|p12|crt|cer|der|key|jks|keystore|kdbx|gpg|asc)$"
    r"|^(?:var|local|data|module|each|self|random_[a-z_]+|aws_[a-z_]+|google_[a-z_]+|azurerm_[a-z_]+)\.",
    re.IGNORECASE,
)
# A URL password that only stands for one, as examples write it (`stands_for_one`).
_STANDS_FOR_ONE = regexes.compile(
    r"(?i)^(?:(?:your|my|the|db|database|user|admin)?[_\-]?"
    r"(?:pass(?:word|wd)?|pwd|pw|secret|token|key|changeme|changeit|example|placeholder|redacted|dummy)"
    r"|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%[A-Za-z_][A-Za-z0-9_]*%|<[^<>]*>|\[[^\[\]]*\]|(.)\1{2,})$"
)
# The Shannon entropy, in bits a character, a token with no name before it must have (`mixed_with_entropy`).
ENTROPY_MIN = 3.8
# A token whose letters read as words run together is a name, not a secret (`made_of_words`):
# its words make up this share of its letters,
WORDS_SHARE = 0.7
# and each of their letters follows the one before at this mean cost (tenths of a nat) or less.
WORDS_COST = 30
# at most this many of its letters stand in runs too short to be words,
WORDS_STRAY = 2
# and each piece of a path of this many characters or more reads as words on its own.
WORD_PIECE = 8
_LETTER_RUN = regexes.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
_PIECE_BREAK = regexes.compile(r"[/_+\-]+")
# A piece of letters alone, at most its first in capitals (`_compound`).
_ONE_WORD = regexes.compile(r"[A-Za-z][a-z]*")
# The mean letter-pair cost a compound word may have: `runbooks` 35.1, `workbooks` 35.0, `playbooks`
# 34.4; random letters of 8 to 24 have a median of 50.7, and 2 in 100 are at 36.7 or less.
COMPOUND_COST = 36.0
# A commit hash or digest in a link (`blob/71b20f9...`) is no secret this rule is for: not judged.
_HEX = regexes.compile(r"[0-9a-f]+|[0-9A-F]+")
# -ln P(next letter | letter) in tenths of a nat, row the letter, column the next one (a-z),
# counted in the words of CPython 3.11's standard library, its code and its docs
# (`python bench/redaction_words.py --table` prints it anew).
_PAIR_COSTS = (
    "a: 54 37 30 30 65 54 39 75 31 83 46 19 28 24 95 36 83 22 18 20 44 48 51 51 47 68",
    "b: 18 45 30 40 21 56 63 73 29 26 69 21 52 58 25 39 83 33 36 53 21 78 64 78 26 56",
    "c: 22 61 46 53 21 54 69 24 35 86 23 24 46 60 16 56 67 34 46 21 36 57 64 72 49 87",
    "d: 26 47 55 32  8 51 49 72 19 71 75 34 64 55 26 62 83 36 33 43 30 67 72 63 47 87",
    "e: 34 55 29 30 45 30 49 71 59 88 63 18 38 25 56 39 34 17 21 26 65 47 50 30 48 77",
    "f: 22 61 46 41 31 27 54 77 14 85 83 31 54 41 14 49 78 25 40 36 28 85 65 79 49 94",
    "g: 36 61 46 54 10 63 36 30 26 89 74 33 48 27 38 57 91 27 20 41 30 51 69 80 72 54",
    "h: 16 74 68 57  8 70 77 70 22 99 64 50 53 58 20 71 92 34 52 31 43 86 78 82 57 83",
    "i: 44 41 32 36 39 30 34 90 59 83 62 26 29 13 26 37 78 36 22 21 82 44 97 46 99 42",
    "j: 33 67 53 61  7 67 64 62 42 71 43 67 79 70 14 39 80 61 32 63 21 78 67 66 61 71",
    "k: 31 60 52 41  7 58 36 60 20 67 73 28 70 36 51 48 61 42 27 51 45 64 27 89 52 78",
    "l: 24 54 60 37 16 13 69 72 23 89 74 27 64 59 25 46 99 62 31 34 33 69 68 94 39 68",
    "m: 16 36 65 47 11 60 73 72 31 96 57 42 36 58 22 19 99 64 32 43 38 77 76 93 51 84",
    "n: 24 62 27 22 21 37 22 59 31 84 47 45 60 42 22 49 75 65 27 19 38 42 76 89 52 87",
    "o: 44 38 29 26 56 36 44 77 45 84 45 35 29 16 33 30 99 16 30 28 29 46 38 51 70 65",
    "p: 17 67 52 46 17 51 66 52 29 99 55 25 65 62 21 30 75 22 43 24 37 63 62 92 32 99",
    "q: 63 75 70 66 67 77 79 75 72 92 87 42 78 51 74 57 69 46 52 81  1 79 71 80 85 89",
    "r: 23 57 41 43 15 52 35 76 26 93 49 49 39 30 22 53 99 28 30 19 34 48 60 88 37 99",
    "s: 42 78 43 64  9 63 49 39 30 90 50 48 48 59 36 37 62 59 20 16 33 72 59 79 39 91",
    "t: 25 63 43 46 14 47 80 18 22 99 59 48 52 63 28 44 93 24 34 31 31 63 53 59 34 63",
    "u: 22 34 40 49 22 40 44 86 36 99 79 24 31 20 51 28 99 20 28 21 63 81 94 68 96 86",
    "v: 10 63 54 74  7 60 71 69 24 85 85 74 49 60 41 60 91 66 58 55 64 64 63 76 78 82",
    "w: 18 54 57 41 26 62 75 24 10 89 77 44 60 32 25 67 76 23 36 63 70 67 43 62 87 87",
    "x: 28 40 16 41 24 35 77 57 28 85 77 51 38 66 57 21 85 60 47 13 64 70 71 32 41 61",
    "y: 56 49 39 50 36 54 60 62 34 82 69 38 36 23 39 12 79 38 18 17 64 45 39 63 46 51",
    "z: 34 71 60 47  6 50 67 52 16 82 78 41 38 50 26 53 71 66 53 53 70 76 64 59 48 31",
)
_PAIR_COST = {
    first + second: int(cost)
    for first, costs in (row.split(": ") for row in _PAIR_COSTS)
    for second, cost in zip(string.ascii_lowercase, costs.split(), strict=True)
}
# A value of letters alone reads as random (`random_letters`): this long, its case changing this often,
# and each of its letters following the one before at this mean cost (tenths of a nat) or more,
LETTERS_MIN = 12
LETTERS_CASE_CHANGES = 4
LETTERS_COST = 38
# with no word in it: a run of four letters at this mean cost or less, or a longer one at `WORDS_COST`.
LETTERS_WORD_COST = 25
# What a value alone under prose is not (`lone_secret`): a digest with its algorithm
# (`sha256:4f2a...`) or an ARN, and how often letters and digits alternate in a random one.
_DIGEST_OR_ARN = regexes.compile(r"(?:sha(?:1|224|256|384|512)|md5|blake2[bs]|arn):", re.IGNORECASE)
LONE_ALTERNATIONS = 3
_PIECES = regexes.compile(r"[^A-Za-z0-9]+")
_DATE = regexes.compile(r"\d{4}-\d{2}-\d{2}(?:$|[T ]\d)")
_VERSION = regexes.compile(r"(?i)v?\d+(?:\.\d+)*(?:[-.]?(?:alpha|beta|rc|pre|dev|post)[.\-]?\d*)?$")


def looks_secret(value: str, after: str) -> bool:
    """A value assigned to a secret-like name, unless it is a placeholder, a plain word or a call (`f(`):
    one with a digit, letters alone that read as random (`random_letters`) or a password's symbols
    among letters or digits (`with_symbols`)."""
    value = value.rstrip(".")
    if after == "(" or len(value) < 8 or PLACEHOLDER.search(value):
        return False
    return any(c.isdigit() for c in value) or random_letters(value) or with_symbols(value)


def random_letters(value: str) -> bool:
    """Whether a value of letters alone reads as random (`qqETPPyBETceRDCM`), not as a name
    (`DescribeVpcEndpoints`, `PasswordAuthentication`, a vault's `kvLedgerPrdNEU`, a secret's own
    name `KafkaProdPwd`): `LETTERS_MIN` letters or more in both cases, the case changing
    `LETTERS_CASE_CHANGES` times or more, its letter pairs unlikely in English and code (a mean
    cost by `_PAIR_COSTS` of `LETTERS_COST` or more), not words run together (`made_of_words`),
    holding no word (`_holds_a_word`: names mix words with abbreviations, `Ledger` with `Prd`)
    and not naming a secret (`_NAMES_A_SECRET`).

    The other checks want a digit, which a generator drawing from letters and digits leaves out
    of one 16-character password in 16. Measured by bench/redaction_words.py: of random letters
    of 12, 16, 20 and 32 characters, 84, 94, 96 and 95 in 100 are taken; of the names of 12
    letters or more in mixed case in this machine's standard library, scaffold's packages and
    /usr/share/doc, 17 of 23,920, most of them test strings (`AaaBbbCccAaa`, `bgCyanBright`). Only
    ever asked of a value a secret's name or place points at.
    """
    if len(value) < LETTERS_MIN or not (value.isascii() and value.isalpha()) or value.isupper() or value.islower():
        return False
    changes = sum(first.isupper() != second.isupper() for first, second in itertools.pairwise(value))
    if changes < LETTERS_CASE_CHANGES or _mean_cost(value) < LETTERS_COST:
        return False
    return not (made_of_words(value) or _holds_a_word(value) or _NAMES_A_SECRET.search(value))


def _mean_cost(letters: str) -> float:
    """The mean cost by `_PAIR_COSTS` of each letter of `letters` after the one before."""
    lower = letters.lower()
    return sum(_PAIR_COST[first + second] for first, second in itertools.pairwise(lower)) / (len(lower) - 1)


def _holds_a_word(value: str) -> bool:
    """Whether a run of four letters or more of `value` (at most its first in capitals) reads as a
    word: four at a mean cost of `LETTERS_WORD_COST` or less, more at `WORDS_COST`."""
    return any(
        len(run) >= 4 and not run.isupper() and _mean_cost(run) <= (LETTERS_WORD_COST if len(run) == 4 else WORDS_COST)
        for run in _LETTER_RUN.findall(value)
    )


def lone_secret(value: str) -> bool:
    """Whether a value alone under prose naming a secret reads as one, not as the identifier prose
    names as often ("The token:" over `eu-west-1`, `kms-key-prod-01`, `INC-2024-0412`, `v2.14.0-rc1`,
    `id_ed25519`, `sha256:4f2a...`, an ARN): the value found is redacted wherever it appears, so
    a region or a version taken for one would go from every document.

    Letters alone that read as random (`random_letters`); a password's symbols among letters or
    digits (`with_symbols`) that do not name a secret; or letters and digits both, and not
    names run together (`TokenRotationJob2` under "## Tokens:"), nor a digest's or an ARN's
    prefix; then any of: upper case, lower case and digits mixed; no
    separator (`-_.:/`); or letters and digits alternating `LONE_ALTERNATIONS` times or more, twice
    within one of its pieces (a UUID, `k9x2-m4q7-zt8w`; not `v2.14.0-rc1`, `ike2-aes256-sha256`). Dates,
    times and versions are none (`2025-01-01T00:00:00Z`, `v2alpha1`). A weak password of
    words joined (`s3cr3t-pass`) passes; one of plain words and a number (`blue-fish-42`) does only
    under a password's name (`weak_password`).
    """
    if random_letters(value):
        return True
    if with_symbols(value) and not _NAMES_A_SECRET.search(value):
        return True
    if not (any(c.isdigit() for c in value) and any(c.isalpha() for c in value)):
        return False
    if _DIGEST_OR_ARN.match(value) or _DATE.match(value) or _VERSION.match(value) or made_of_words(value):
        return False
    if any(c.isupper() for c in value) and any(c.islower() for c in value):
        return True
    if not any(c in "-_.:/" for c in value):
        return True
    # Random groups alternate in most pieces (`k9x2-m4q7-zt8w`, a UUID); names of things with a number
    # each alternate once a piece (`ike2-aes256-sha256`, `v2.14.0-rc1`).
    alternations = [_alternations(piece) for piece in _PIECES.split(value)]
    return sum(alternations) >= LONE_ALTERNATIONS and max(alternations) >= 2


def with_symbols(value: str) -> bool:
    """Whether a value reads as a password by its symbols: 8 characters or more, only letters,
    digits, `-_.` and a password's symbols (`_PASSWORD_SYMBOLS`), one of those between two other
    characters, two of upper case, lower case and digits, a piece between them that is no word,
    acronym or number (`_NAMED_PIECE`), and not an email address, an account, a format or an
    assignment (`Kx!pQwLz#RbTm`; not `Okta+SSO`, `R&D-Platform`, `Runbook.md#Access`,
    `v2.14.0-rc1+build`, `ops@Example.com`, `svc_backup@CORP`, `%Y-%m-%d`, `BUILD_TYPE=Debug`,
    markdown's `**Ops**.`, code's `!HasSucc`). A generator drawing from letters, digits and symbols
    gives no digit to one 16-character password in 9: of those, a Password column's checks took
    3 in 100, 81 now (bench/redaction_words.py)."""
    if not _WITH_SYMBOLS.fullmatch(value) or any(shape.fullmatch(value) for shape in (_EMAIL, _FORMAT, _ASSIGNMENT)):
        return False
    if not _PASSWORD_SYMBOLS.intersection(value.strip(_SYMBOLS + ".")[1:-1]):
        return False
    account = _ACCOUNT.fullmatch(value)
    if account and (account.group("domain").isupper() or account.group("domain").islower()):
        return False
    if all(len(piece) <= 2 or _NAMED_PIECE.fullmatch(piece) for piece in _ALNUM_PIECE.findall(value)):
        return False
    return sum((any(c.isupper() for c in value), any(c.islower() for c in value), any(c.isdigit() for c in value))) >= 2


def _alternations(piece: str) -> int:
    return sum(first.isdigit() != second.isdigit() for first, second in itertools.pairwise(piece))


def weak_password(value: str) -> bool:
    """Whether a value alone under a password's name given plainly is the password: any value
    `looks_secret` passes but a digest, an ARN or a date, for prose does not call a region or a
    key's name a password, and a weak password (`blue-fish-42`) is still one; with a `/`, one that
    reads as random (`scripts/reset2.sh` is a path, `k3J/9xQ+2mZa7Lp=` base64)."""
    if "/" in value:
        return lone_secret(value)
    return not (_DIGEST_OR_ARN.match(value) or _DATE.match(value))


# What a password holds and a name, a path or a reference does not.
_SYMBOLS = "!@#%^&*+=?~"
_PASSWORD_SYMBOLS = frozenset(_SYMBOLS)
# A password of letters, digits and those symbols (`with_symbols`): no blank, quote, bracket, `/` or `:`,
# which a path, a URL, a call or a list holds.
_WITH_SYMBOLS = regexes.compile(rf"[A-Za-z0-9{re.escape(_SYMBOLS)}._\-]{{8,}}")
# A piece of a name (`Okta`, `SSO`, `AzureAD`, `aes256`): words, acronyms and numbers run together;
# a random one breaks the pattern with a lone letter of one case (`PBv`, `rpOk`).
_NAMED_PIECE = regexes.compile(r"(?:[A-Z]?[a-z]{2,}|[A-Z]{2,}(?![a-z])|[0-9]+)+")
_ALNUM_PIECE = regexes.compile(r"[A-Za-z0-9]+")
# A user at a host or domain, which is in one case (`sa@SQLPROD`, `svc-backup@contoso`).
_ACCOUNT = regexes.compile(r"[\w.\-]+@(?P<domain>[A-Za-z][\w.\-]*)")
_EMAIL = regexes.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
# strftime's and printf's formats: `%` before a letter their only symbol.
_FORMAT = regexes.compile(r"(?:[A-Za-z0-9._\-]|%[A-Za-z])+")
# A name given a plain value, or an option (`BUILD_TYPE=Debug`, `--max-size=SIZE`): `=` its only symbol.
_ASSIGNMENT = regexes.compile(r"-*[A-Za-z_][\w.\-]*=[\w.\-]*")
# MySQL's hash of a password (`IDENTIFIED BY PASSWORD '*6BB4...'`, SQL's way to set one without it).
_MYSQL_HASH = regexes.compile(r"\*[0-9A-Fa-f]{40}")
# A value naming itself a secret is a secret's name (`stripeWebhookSecret2`, `billing-db-creds-7f9k2`).
_NAMES_A_SECRET = regexes.compile(r"(?i)secret|passw|pwd|token|cred|key")


def quoted_secret(value: str) -> bool:
    """Whether a value quoted right after a secret's name is the secret, not what prose names so as
    often (`runbook-0012`, `prod/billing/db2`, `rotation-policy-v2`): one reading as random
    (`lone_secret`), or upper case, lower case and digits with a password's symbol (`Winter2024!Retry`,
    which reads as words); not a password's hash (`_MYSQL_HASH`), nor a name that says it is one's."""
    if _MYSQL_HASH.fullmatch(value) or _NAMES_A_SECRET.search(value):
        return False
    if lone_secret(value):
        return True
    mixed = any(c.isupper() for c in value) and any(c.islower() for c in value) and any(c.isdigit() for c in value)
    return mixed and any(c in _PASSWORD_SYMBOLS for c in value) and "/" not in value


def random_looking(token: str) -> bool:
    """A token that could be an unnamed secret: mixed with entropy, and not names run together."""
    return mixed_with_entropy(token) and not made_of_words(token)


def mixed_with_entropy(token: str) -> bool:
    """Upper case, lower case and digits mixed with a random string's entropy: not a word, a path or a hex digest."""
    if not (any(c.isupper() for c in token) and any(c.islower() for c in token) and any(c.isdigit() for c in token)):
        return False
    return _entropy(token) >= ENTROPY_MIN


def made_of_words(token: str) -> bool:
    """Whether `token` reads as words run together (`AmazonS3ClientBuilder`, `ListObjectsV2Paginator`,
    `com/HypothesisWorks/hypothesis/issues/2108`), not as random characters.

    Its words are its runs of three letters or more with at most their first in capitals
    (`Amazon`, `Client`; digits do not count, and an acronym's letters are not words): they must
    make up `WORDS_SHARE` of its letters, each letter of them follow the one before as English
    and code do, at a mean cost of at most `WORDS_COST` by `_PAIR_COSTS`, and at most
    `WORDS_STRAY` letters may stand in runs too short to be words (`Ec2`'s `Ec`). Random strings
    split into short runs of unlikely pairs (`xK9mPq2RvT7w`: `x`, `Pq`, `Rv`). A path or URL is
    judged piece by piece as well: each piece
    between `/`, `_`, `-` or `+` of `WORD_PIECE` characters or more (a hex digest aside) must read
    as words too, so that the words before it (`.../production/alerting/channel/`) do not carry
    a random one through. Measured by bench/redaction_words.py on random tokens that pass the
    entropy rule: standing alone, 6 in 900,000 (base62, base64, base64url) read as words; at the
    end of a path of words, 4 in 100,000 of 16 characters or more, 1 in 800 of 8 to 15. The
    price: an unnamed password made of words (`TrustNoOne2024Password`, with no secret's name
    before it) reads as words too.
    """
    pieces = [piece for piece in _PIECE_BREAK.split(token) if not (len(piece) >= WORD_PIECE and _HEX.fullmatch(piece))]
    judged = [piece for piece in pieces if len(piece) >= WORD_PIECE]
    return _words("/".join(pieces)) and all(_words(piece) or _compound(piece) for piece in judged)


def _compound(piece: str) -> bool:
    """Whether a piece of letters alone (at most its first in capitals) reads as a compound word: words
    joined (`runbooks`, `playbooks`, `workbooks`) put letters together that rarely follow each other,
    so `WORDS_COST` is too strict for them, and `COMPOUND_COST` is asked instead. Random letters of 8
    to 24 pass it about twice in 100 (1 in 1,000 pass `WORDS_COST`); `webhooks` (39.9) does not."""
    return bool(_ONE_WORD.fullmatch(piece)) and _mean_cost(piece) <= COMPOUND_COST


def _words(text: str) -> bool:
    """`made_of_words` for one piece: enough letters in words, few stray ones, likely letter pairs."""
    letters = worded = stray = pairs = cost = 0
    for run in _LETTER_RUN.findall(text):
        letters += len(run)
        if run.isupper():
            continue
        if len(run) < 3:
            stray += len(run)
            continue
        worded += len(run)
        lower = run.lower()
        pairs += len(lower) - 1
        cost += sum(_PAIR_COST[lower[i : i + 2]] for i in range(len(lower) - 1))
    return pairs > 0 and worded >= WORDS_SHARE * letters and stray <= WORDS_STRAY and cost <= WORDS_COST * pairs


def _entropy(text: str) -> float:
    counts: dict[str, int] = {}
    for char in text:
        counts[char] = counts.get(char, 0) + 1
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def stands_for_one(password: str) -> bool:
    """Whether a URL's password is a placeholder: a word that names one (`password`, `secret`,
    `changeme`, `YOUR_PASSWORD`), a variable (`${DB_PASSWORD}`, `$PW`, `%PW%`), a name in angle or
    square brackets (`<password>`), or one character three times or more (`****`, `xxxxxxxx`). A weak
    real one (`hunter2x`, `p4ssw0rd`, `12345678`) is none of these."""
    return bool(_STANDS_FOR_ONE.match(password))


def basic_credentials(value: str) -> bool:
    """Whether an `Authorization: Basic` value decodes to `user:password` ("Basic credentials" is prose)."""
    import base64
    import binascii

    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    return ":" in decoded and decoded.isprintable()
