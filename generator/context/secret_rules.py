"""scaffold's own rules for likely secrets, beside detect-secrets' (see `generator.context.redact`).

`PATTERNS` find what detect-secrets' rules for markdown miss: vendor formats it does not know
(Anthropic, OpenAI project keys, Google API keys, bearer tokens, fine-grained GitHub and npm
tokens), values written without quotes (`.env`, YAML, ini, prose: `export
AWS_SECRET_ACCESS_KEY=...`, `password is ...`), values given to a command as an option's
argument (`--password ...`, `--client-secret ...`, `sshpass -p ...`, keytool's `-storepass ...`,
openssl's `pass:...`, SQL's `IDENTIFIED BY '...'` and `WITH PASSWORD '...'`) or as a positional
argument (`rabbitmqctl add_user NAME ...`, `echo ... | docker login --password-stdin`), and
more. `FOLLOWING` finds values on the line below their name (a Kubernetes `value:`, a YAML
key's indented value, SQL broken after `IDENTIFIED BY`), `_named_values` random-looking values
alone a few lines below prose or a heading naming them, `_column_values` those in a table's
column named for a secret; a command continued over lines with
`\\` is read joined, as the shell reads it; and long unquoted tokens that mix upper case,
lower case and digits with a random string's entropy are found too, unless their letters read as
words run together (`made_of_words`: code names, links). A Secret Keyword value must
also pass `looks_secret`: 8 characters or more, a digit, not a placeholder.

Every pattern runs on every line of the text a request sends, so each is linear in the line's
length: repetitions are bounded, and a run that could be split several ways is possessive
(the tests time each on long adversarial lines).
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
import string
from collections.abc import Iterator

# Names that say a value is a secret: `DB_PASSWORD`, `client_secret`, "API key", `private_key_id`,
# and `pass` or `pw` ending a name in capitals (`SMTP_PASS`, `DB_PW`) or after a word that says
# whose (`--db-pass`, `ansible_become_pass`); not `bypass`, `PASS_MAX_DAYS`, `render_pass`,
# `--first-pass`, nor a word of its own ("pass X to", `--- PASS: TestX`).
_PASS_NAME = (
    r"(?:(?-i:(?<=[A-Z0-9]_)(?:PASS|PW))|(?<![A-Za-z0-9])(?:db|database|smtp|mail|redis|admin|root|user|ldap"
    r"|bind|become|ssh|sudo|proxy|ftp|vnc|mq|amqp|broker|store|key|auth|login)[_\-](?:pass|pw))(?![A-Za-z0-9_\-])"
)
_SECRET_WORD = (
    r"(?:secret|passw(?:or)?d|passphrase|pwd|token|api[_\- ]?key|access[_\- ]?key|private[_\- ]?key"
    r"|auth[_\- ]?key|signing[_\- ]?key|account[_\- ]?key|credential|session[_\- ]?key"
    rf"|pre[_\- ]?shared[_\- ]?key|psk|{_PASS_NAME})"
)
# Its name is where the word is (`DB_PASSWORD`'s `PASSWORD`): what comes before it is not needed. Matched from a
# word boundary through any name characters before the word, a long run of them with many boundaries
# (`ab12-ab12-...`, a base64url blob) ran from each to the run's end and back (20 KB: 30 s). What follows
# is bounded and never given back, so that a line of `passwordpassword...` is linear too.
# A name ending in one of these holds what refers to a secret or describes it, not the secret
# (`SECRET_NAME`, `db_password_secret_arn`, `DB_PASSWORD_SSM_PATH`, `api_key_header`, `tokenTtl`): its
# value (`prod/billing/db2`, an ARN, `X-Api-Key-2`) is what the model needs to write code that fetches
# the secret. (Not `id`: `private_key_id` is a key's.) Each a look-behind: theirs must have one width.
_REFERENCE_SUFFIXES = (
    "name", "names", "arn", "path", "region", "version", "header", "ttl", "length", "file",
    "url", "uri", "endpoint", "policy", "prefix", "field", "label", "type", "format", "rotation", "expiry",
)  # fmt: skip
_NOT_A_REFERENCE = "".join(f"(?<!{suffix})" for suffix in _REFERENCE_SUFFIXES)
_REFERENCE_END = re.compile(rf"(?i)(?:{'|'.join(_REFERENCE_SUFFIXES)})$")
# detect-secrets' own findings are checked by the name before the value (`names_a_reference`).
_REFERENCE_NAME = re.compile(rf"""(?i)(?:{"|".join(_REFERENCE_SUFFIXES)})["'`]?[ \t]*(?::=|=>|[:=])[ \t]*["'`]?$""")
_SECRET_NAME = rf"{_SECRET_WORD}[A-Za-z0-9_.\-]{{0,100}}+{_NOT_A_REFERENCE}"
# A long option whose name ends in one (`--password`, `--client-secret`, `--pass`; not `--password-file`)
# or redis-server's `--requirepass` and `--masterauth`,
# but not one that turns it off or asks for it (`--no-password`, `--ask-vault-password`).
_FLAG_NAME = rf"(?<![\w\-])--(?!(?:no|ask)-)(?:[A-Za-z0-9_\-]*{_SECRET_WORD}|requirepass|masterauth|pass(?![\w\-]))"
# Its value is the next argument; one starting with `-` is the next option (`--password-stdin` takes
# none), and one starting like a path names a file (`--private-key ./deploy2.pem`).
_NOT_A_PATH = r"(?!-|~/|\.{0,2}/)"
_SECRET_FLAG = rf"""{_FLAG_NAME}[ \t]+["'`]?{_NOT_A_PATH}"""
# A quoted value is the whole quote, whatever it holds up to the quote that closes it (`'p@ss:w0rd;x'`,
# `"it's 2 words"`: `_VALUE` stops at the `;` or the space), unless it is a variable, a command's
# output or a path. Every rule below that takes a command's value takes a quoted one this way too
# (`_valued`).
_QUOTED_REST = r"""(?P<secret>(?![$~]|\.{0,2}/)(?:(?!(?P=quote))[^\n]){8,200})(?P=quote)"""
_QUOTED = rf"""(?P<quote>["']){_QUOTED_REST}"""
# A value quoted or in inline code with no blank in it: one word, another quote or an escaped one
# allowed (`"Kp9'xT2mQ7"`, `` `Kp9'xT2mQ7` ``, `"Kp9\"xT2"`); not a variable, a command's output, a
# path (as `_QUOTED_REST`) or a format (`%(password)s`, as `_VALUE`), nor code: brackets, braces
# and parentheses (`os.environ['API_KEY_2']`, `"[A-Za-z0-9']{12,64}"`) are no password's.
_WORD_OR_ESCAPE = r"""(?:\\[^\s()\[\]{}]|(?!(?P=quote))[^\s\\()\[\]{}])"""
_QUOTED_WORD = rf"""(?P<quote>["'`])(?P<secret>(?![$~%]|\.{{0,2}}/){_WORD_OR_ESCAPE}{{8,200}})(?P=quote)"""
# More arguments of the same command before the one wanted: bounded, and never past `;`, `&` or `|`
# (`7z x a.7z && docker run -p127.0.0.1:5432:5432 ...` gives 7-Zip no password).
_ARGS = r"""(?:[ \t]+[^\s;&|]+){0,16}?"""
# An argument that may be quoted, spaces and all (a user name: `rabbitmqctl add_user 'billing' ...`).
_ARGUMENT = r"""(?:"[^"\n]{1,100}"|'[^'\n]{1,100}'|[^\s"';&|]{1,100}+)"""
# mysql's `-pVALUE` (the value joined to it: `-p value` prompts, and `value` is the database) and
# 7-Zip's, after a few other arguments (elsewhere `-p8080:80` is a port).
_JOINED_P = rf"""(?<![\w\-])(?:mysql(?:dump|admin)?|7z[arz]?(?:\.exe)?){_ARGS}[ \t]+-p(?=[^\s-])"""
# `-u user:VALUE` or `--user user:VALUE` (curl, wget, httpie; curl's `--proxy-user`, `-U`), on any
# line: a runbook breaks a long curl command over lines ending in `\`, and `-u` may be on its own
# line or its tenth argument. `docker run -u 1000:1000`, a user and group, is short or without
# digits, as `looks_secret` asks.
_USER_OPTION = r"""(?<![\w\-])(?:-u|--user|--proxy-user)(?:[ \t]+|=)"""
# The user name is bounded and never given back: unbounded, `--user=--user=...` (no `:`) ran from each
# `--user=` to the line's end, quadratic (200 KB: 22 s).
_USER_NAME = r"""[^\s:"'$]{1,100}+:"""
# A command's own short password option (elsewhere `-p` is mostly a port, and `-a` anything):
# sshpass's `-p` after a few of its other options, `docker|podman|skopeo|az ... login -p`,
# `redis-cli -a`, `zip -P`, `ssh-keygen -N` (and `-P`, the old passphrase), `openssl enc -k`,
# `sqlcmd -P`, `ipmitool -P`, `ldapsearch -w`, `mongosh -p`, `mosquitto_pub -P`, snmpwalk's community
# `-c` and passphrases `-A`/`-X`, the password `openssl passwd` hashes. Only a word of its own starts it, and
# the arguments are bounded: `\bsshpass(?:[ \t]+-\S+)*?` matched at every `-sshpass` of a long line
# and ran to the line's end from each, quadratic (100 KB: 24 s).
_PASSWORD_OPTION = (
    r"""(?<![\w\-])(?:sshpass(?:[ \t]+-[^\s;&|]+){0,8}?[ \t]+-p"""
    rf"""|(?:(?:docker|podman|buildah|skopeo|oras|az)[ \t]+login|helm[ \t]+registry[ \t]+login){_ARGS}[ \t]+-p"""
    rf"""|redis-cli{_ARGS}[ \t]+-a|(?:un)?zip{_ARGS}[ \t]+-P|ssh-keygen{_ARGS}[ \t]+-[NP]"""
    r"""|openssl[ \t]+(?:enc|aes-[\w\-]{1,30}|des[\w\-]{0,30}|bf[\w\-]{0,30}|camellia[\w\-]{1,30}|chacha20)"""
    rf"""{_ARGS}[ \t]+-k|(?:sqlcmd|bcp|ipmitool){_ARGS}[ \t]+-P"""
    rf"""|ldap(?:search|add|modify|delete|passwd|whoami|compare|modrdn){_ARGS}[ \t]+-w"""
    rf"""|(?:mongo(?:sh|dump|restore|import|export)?|rabbitmqadmin|elasticsearch-users){_ARGS}[ \t]+-p"""
    rf"""|mosquitto_(?:pub|sub|rr){_ARGS}[ \t]+-P|snmp(?:walk|bulkwalk|get|bulkget|set|table|trap){_ARGS}[ \t]+-[cAX]"""
    rf"""|openssl[ \t]+passwd(?:[ \t]+-[^\s;&|]+){{0,4}})[ \t]*"""
)


def _second_option(command: str, options: str) -> str:
    """The second of a `command`'s two secret `options` (a match of the first ends at it)."""
    return rf"""(?<![\w\-]){command}{_ARGS}[ \t]+-{options}[ \t]+{_ARGUMENT}{_ARGS}[ \t]+-{options}[ \t]*"""


# ssh-keygen's two passphrases (`-p -P OLD -N NEW`) and snmp's (`-A ... -X ...`).
_SSH_KEYGEN_SECOND = _second_option("ssh-keygen", "[NP]")
_SNMP_SECOND = _second_option("snmp(?:walk|bulkwalk|get|bulkget|set|table|trap)", "[AX]")
# A single-dash option named for a password (keytool's `-storepass`, `-srckeypass`; `-password`),
# and openssl's `-passin pass:VALUE` (`env:NAME` and `file:PATH` name where it is). The name is
# bounded: at every `-` of a long line it is tried up to 20 letters on.
_SHORT_FLAG_NAME = r"""(?<![\w\-])-[A-Za-z]{0,20}?(?i:storepass|keypass|passw(?:or)?d|passphrase)"""

_OPENSSL_PASS = r"""(?<![\w\-])-pass(?:in|out)?[ \t]+"""
# SQL's `IDENTIFIED BY 'VALUE'` (MySQL, Oracle; `IDENTIFIED WITH plugin BY ...` too). Unquoted
# (Oracle), only in capitals: in prose, "identified by INC-2024-0412" is a ticket.
_IDENTIFIED = r"""(?<![\w\-])(?i:IDENTIFIED)(?:[ \t]+(?i:WITH)[ \t]+\w{1,64}+)?"""
_IDENTIFIED_WITH = rf"""{_IDENTIFIED}[ \t]+(?i:BY)"""
_IDENTIFIED_BY = rf"""{_IDENTIFIED_WITH}[ \t]+"""
_IDENTIFIED_BY_UPPER = r"""(?<![\w\-])IDENTIFIED(?:[ \t]+WITH[ \t]+\w{1,64}+)?[ \t]+BY[ \t]+"""
# PostgreSQL's `PASSWORD 'VALUE'` after `WITH`, `ENCRYPTED`, `LOGIN` or a role's name (also inside
# `psql -c "..."`), SQL Server's `WITH PASSWORD = N'VALUE'`, MySQL's `SET PASSWORD [FOR user] =
# 'VALUE'` or `= PASSWORD('VALUE')`: the word before PASSWORD says it is SQL, where prose says
# "reset the password for user 'svc01'". Not `IDENTIFIED BY PASSWORD '*6BB4...'`, a hash.
_SQL_PASSWORD_NAME = (
    r"""(?<![\w\-])(?i:(?:WITH|ENCRYPTED|UNENCRYPTED|LOGIN|NOLOGIN|(?:USER|ROLE)[ \t]+[^\s;]{1,100}+)[ \t]+PASSWORD"""
    r"""|SET[ \t]+PASSWORD(?:[ \t]+FOR[ \t]+[^\s=]{1,200}+)?)"""
)
_SQL_PASSWORD = rf"""{_SQL_PASSWORD_NAME}[ \t]*(?:=[ \t]*)?(?i:PASSWORD\()?[NE]?(?!["']\*[0-9A-Fa-f]{{40}}["'])"""
# Commands that take a password as a positional argument: `rabbitmqctl add_user NAME VALUE`,
# `net user NAME VALUE` (not `/delete`, `*` prompts), `htpasswd -b [FILE] NAME VALUE` (`-n`: no file),
# `aws configure set aws_secret_access_key VALUE`, `mysqladmin password VALUE`, `nmcli ... password
# VALUE`, a netrc's `login NAME password VALUE`, redis's `requirepass VALUE`, `mc alias set NAME URL
# KEY VALUE`, redis's `AUTH [USER] VALUE` (after `redis-cli` or its `host:port>` prompt),
# `mosquitto_passwd -b FILE NAME VALUE`. Every argument before the value is bounded.
_HTPASSWD_FLAGS = r"""(?:[ \t]+-[A-Za-z]{1,9}+){1,4}+"""
_HTPASSWD_FLAG_WITH = r"""(?:[ \t]+-[A-Za-z]{1,9}+){0,3}?[ \t]+-[A-Za-z]{0,8}"""
_POSITIONAL = (
    r"""(?<![\w\-])(?:rabbitmqctl(?:[ \t]+-[^\s;&|]+(?:[ \t]+[^\s;&|\-][^\s;&|]*)?){0,3}?"""
    rf"""[ \t]+(?:add_user|change_password|authenticate_user)[ \t]+{_ARGUMENT}"""
    rf"""|(?i:net(?:\.exe)?[ \t]+user)(?:[ \t]+/\w+){{0,2}}[ \t]+(?!/){_ARGUMENT}"""
    rf"""|(?:htpasswd|mosquitto_passwd)(?={_HTPASSWD_FLAG_WITH}b)(?:(?={_HTPASSWD_FLAG_WITH}n){_HTPASSWD_FLAGS}"""
    rf"""|(?!{_HTPASSWD_FLAG_WITH}n){_HTPASSWD_FLAGS}[ \t]+[^\s;&|]{{1,300}}+)[ \t]+{_ARGUMENT}"""
    rf"""|aws{_ARGS}[ \t]+configure{_ARGS}[ \t]+set[ \t]+[\w.\-]{{0,60}}?(?:aws_secret_access_key|aws_session_token)"""
    rf"""|(?:mysqladmin|nmcli){_ARGS}[ \t]+password|login[ \t]+[^\s;&|]{{1,100}}+[ \t]+password"""
    r"""|requirepass|masterauth"""
    r"""|(?:redis-cli(?:[ \t]+[^\s;&|]+){0,12}?[ \t]+|[\w.\-]{1,60}:[0-9]{1,5}>[ \t]*)(?i:AUTH)"""
    r"""(?:[ \t]+[^\s;&|]{1,100}+(?=[ \t]+\S))?"""
    r"""|mc[ \t]+(?:alias[ \t]+set|config[ \t]+host[ \t]+add)(?:[ \t]+[^\s;&|]+){3}"""
    r""")[ \t]+(?![/*])"""
)
# Secret stores' own commands: the value given to them is the secret (`aws ssm put-parameter ...
# --value ... --type SecureString`, `aws secretsmanager put-secret-value --secret-string`,
# `az keyvault secret set --value`, `gh secret set --body`).
_STORED = (
    r"""(?<![\w\-])(?:aws[ \t]+ssm[ \t]+put-parameter(?=[^\n]{0,400}?SecureString)"""
    r"""|aws[ \t]+secretsmanager[ \t]+(?:put-secret-value|create-secret|update-secret)"""
    r"""|az[ \t]+keyvault[ \t]+secret[ \t]+set|gh[ \t]+secret[ \t]+set)"""
    rf"""{_ARGS}[ \t]+(?:--value|--secret-string|--body|-b)(?:[ \t]+|=)"""
)
# A value echoed into the next command, which reads a secret from stdin (`echo VALUE | docker login
# --password-stdin`, `| gcloud secrets versions add NAME --data-file=-`, `| docker secret create`,
# `| kubectl create secret ... =/dev/stdin`, `| vault kv put ... key=-`, `| chpasswd`, `| sudo -S`),
# or given to it as a here-string (`--password-stdin <<< VALUE`); not `echo "$TOKEN" | ...`.
_ECHOED = r"""(?<![\w\-])(?:echo(?:[ \t]+-[neE]{1,3})?|printf(?:[ \t]+["']?%s(?:\\n)?["']?)?)[ \t]+"""
_TO_STDIN = (
    r"""(?=[ \t]*\|[^\n|;&]{0,200}?(?:--password-stdin|--data-file[= ]-(?![\w/])|(?<![\w\-])chpasswd"""
    r"""|(?<![\w\-])passwd[ \t]+--stdin|(?<![\w\-])sudo[ \t]+-S(?!\S)|docker[ \t]+secret[ \t]+create"""
    r"""|gh[ \t]+secret[ \t]+set|kubectl[ \t]+create[ \t]+secret[^\n|;&]{0,200}?/dev/stdin"""
    r"""|vault[ \t]+kv[ \t]+(?:put|patch)[^\n|;&]{0,200}?=-(?!\S)))"""
)
_HERE_STRING = r"""(?<![\w\-])--password-stdin[ \t]*<<<[ \t]*"""
# smbclient's `-U user%VALUE` and `-Uuser%VALUE`.
_USER_PERCENT = r"""(?<![\w\-])-U[ \t]*"""
_PERCENT_NAME = r"""[^\s%:"'$]{1,100}+%"""
# Oracle's `sqlplus user/VALUE@DB` (and its other tools), Jenkins' `-auth user:VALUE`, lftp's `-u user,VALUE`.
_ORACLE_LOGIN = (
    r"""(?<![\w\-])(?:sqlplus|expdp|impdp|exp|imp|rman|sqlldr|dgmgrl)(?:[ \t]+[^\s;&|/]+){0,3}?"""
    r"""[ \t]+["']?[A-Za-z][\w$#]{0,60}+/(?P<secret>[^\s@/"']{8,200})(?=[@"' \t]|$)"""
)
_JENKINS_AUTH = r"""(?<![\w\-])-auth[ \t]+"""
_LFTP_USER = rf"""(?<![\w\-])lftp{_ARGS}[ \t]+-u[ \t]+"""
_COMMA_NAME = r"""[^\s,"']{1,100}+,"""
# A Dockerfile's `ENV NAME VALUE`, the old form without `=` (a path value names a file); Windows'
# `setx NAME VALUE` and fish's `set -x NAME VALUE` alike.
# The name is found ahead and then taken whole, never given back: `[A-Za-z0-9_]*WORD[A-Za-z0-9_]*`
# backtracked through every WORD of a long name (200 KB: 30 s).
_DOCKER_ENV = (
    r"(?<![\w\-])(?:ENV|setx|set[ \t]+-[gxU]{1,3})[ \t]+"
    rf"(?=[A-Za-z0-9_]*?(?i:{_SECRET_WORD}))[A-Za-z0-9_]++[ \t]+(?!~/|\.{{0,2}}/)"
)
# After the name: `=` or `:` (quotes or markdown emphasis allowed around the name and the colon:
# `**Password**: ...`, `**Password:** ...`), a table's next cell (`| password | ... |`), or a few
# words of prose and "is" ("is still ...").
_ASSIGNED_BY = (
    r"""(?:["'*_]{0,2}\s*(?::=|=>|[:=])[*_]{0,2}\s*|["'*_`]{0,2}[ \t]*\|[ \t]*"""
    r"""|[^\n.:=]{0,40}?\s(?:is|was|are)(?:[ \t]+(?:still|now|currently|temporarily))?:?\s+)"""
)
_ASSIGNED = rf"""{_ASSIGNED_BY}["'`]?"""
# A `%` may be in it, but not first (`%s`, `%(password)s`): `password: Xk9p%Q2wLm7` was kept whole.
_VALUE = r"""(?P<secret>(?!%)[^\s"'`,;<>(){}\[\]$]{8,}(?:[!@$][^\s"'`,;<>(){}\[\]]*)?)"""
# The name, whose it is, then the colon ("Password for db01.prod: ...", "**Token of the CI bot:** ..."): a
# value there must read as random (`_lone_secret`), as prose names other things so too ("API key for
# Stripe: StripeKeyV2 rotation ...", "The password for svc-ci expires on: 2025-01-31"); a `name=value`
# after it is the next rule's; a colon past a link is none (a `.` only inside a name: not a sentence's end).
# The words that say whose it is, here and over a value (`_PROSE`).
_WHOSE_WORDS = "for|of|to|on|in"
_WHOSE = re.compile(
    rf"""(?i){_SECRET_NAME}[ \t]+(?:{_WHOSE_WORDS})[ \t](?:[^\n.:=|\[\]/]|\.(?=\S)){{1,40}}?:[*_]{{0,2}}"""
    rf"""[ \t]+["'`]?(?![A-Za-z0-9_.\-]*=){_VALUE}"""
)
# A command-line value is the whole shell word (`Xk9p%Q2wLm7`, `Xk9p,Q2wLm7`: `_VALUE` stops at the
# `%` or `,`), unless it starts with `$` (a variable), less a `\` that continues the command below.
_WORD_CHAR = r"""[^\s"'`;|&<>()]"""
_WORD_VALUE = rf"""(?P<secret>(?!\$){_WORD_CHAR}{{7,}}[^\s"'`;|&<>()\\])"""
# The same joined to a name's `=`, but not a comma after it (`f(password=..., port=5432)`).
_JOINED_VALUE = r"""(?P<secret>(?!\$)[^\s"'`;|&<>()]{7,}[^\s"'`;|&<>(),])"""
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
PLACEHOLDER = re.compile(
    r"\.\.\.|^x+$|example|your[_\-]|changeme|redacted|^<|>$|<[\w\-. /]*>"
    r"|^arn:|^(?:\.{0,2}|~)/[\w.\-]+(?:/[\w.\-]+)+/?$"
    r"|\s[<>]=?\s|\w<\w+,\s|^(?=.*\s).*?(?:\s[-=]>\s|[<>]=\s*\d|[<>]\d{2})|\*\*\*|\{\{|^%\w+%$|^[0-9.:]+$"
    r"|\.(?:pem|pfx|p12|crt|cer|der|key|jks|keystore|kdbx|gpg|asc)$"
    r"|^(?:var|local|data|module|each|self|random_[a-z_]+|aws_[a-z_]+|google_[a-z_]+|azurerm_[a-z_]+)\.",
    re.IGNORECASE,
)
ENTROPY_TOKEN = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{20,}={0,2}(?![A-Za-z0-9+/_\-])")
ENTROPY_MIN = 3.8
HIGH_ENTROPY = "High Entropy String"
# A token whose letters read as words run together is a name, not a secret (`made_of_words`):
# its words make up this share of its letters,
WORDS_SHARE = 0.7
# and each of their letters follows the one before at this mean cost (tenths of a nat) or less.
WORDS_COST = 30
# at most this many of its letters stand in runs too short to be words,
WORDS_STRAY = 2
# and each piece of a path of this many characters or more reads as words on its own.
WORD_PIECE = 8
_LETTER_RUN = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
_PIECE_BREAK = re.compile(r"[/_+\-]+")
# A commit hash or digest in a link (`blob/71b20f9...`) is no secret this rule is for: not judged.
_HEX = re.compile(r"[0-9a-f]+|[0-9A-F]+")
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
KEYWORD = "Secret Keyword"
BASIC_AUTH = "Basic Auth Credentials"
# `Authorization: Basic <base64 of user:password>`, however little entropy it has; a value that does
# not decode to `user:password` is prose ("send Authorization: Basic credentials").
_BASIC_HEADER = re.compile(
    r"(?i)\bAuthorization:[ \t]*Basic[ \t]+(?P<secret>[A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])"
)
# A URL password that only stands for one, as examples write it (`stands_for_one`).
_STANDS_FOR_ONE = re.compile(
    r"(?i)^(?:(?:your|my|the|db|database|user|admin)?[_\-]?"
    r"(?:pass(?:word|wd)?|pwd|pw|secret|token|key|changeme|changeit|example|placeholder|redacted|dummy)"
    r"|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%[A-Za-z_][A-Za-z0-9_]*%|<[^<>]*>|\[[^\[\]]*\]|(.)\1{2,})$"
)
# A name holding a secret word, bounded on both sides.
_NAMED = rf"""[A-Za-z0-9_.\-]{{0,100}}?{_SECRET_WORD}[A-Za-z0-9_.\-]{{0,100}}+{_NOT_A_REFERENCE}"""
# Other `Authorization:` schemes than Basic and Bearer (their own rules) and NTLM, Negotiate and Digest
# (handshakes, not secrets): `token ...`, `Splunk ...`, none, also as a JSON key;
# the value ends the header (in `AWS4-HMAC-SHA256 Credential=..., Signature=...` nothing does) and is as
# long as a token is (16 or more: "Authorization: see ADR-0042" is prose).
_AUTHORIZATION = (
    r"""(?i:\bAuthorization["']?:[ \t]*["']?"""
    r"""(?:(?!(?:basic|bearer|ntlm|negotiate|digest)[ \t])[A-Za-z][\w\-]{0,30}+[ \t]+)?)"""
)
_HEADER_END = r"""(?=["'`]|[ \t]*$)"""
_XFREERDP = r"""(?<![\w\-])(?:xfreerdp|wlfreerdp|sdl-freerdp)[^\n|;&]{0,300}?[ \t]/p:"""
# A secret-like XML element (`<password>...</password>`, CDATA too), .NET's `<add key="DbPassword"
# value="..." />` and Java's `<property name="password" value="..."/>`.
# The name ends in the word (not `<UserSecretsId>`, `<tokenUri>`, `key="SecretsManagerRegion"`).
_XML_ELEMENT = (
    rf"""(?i)<(?P<tag>[\w.:\-]{{0,60}}?{_SECRET_WORD})(?:[ \t][^<>\n]{{0,200}})?>(?:<!\[CDATA\[)?"""
    r"""(?P<secret>[^<>\s\]]{8,200})(?:\]\]>)?</(?P=tag)>"""
)
_APP_SETTING = rf"""(?i)\b(?:key|name)=["'][\w.:\-]{{0,60}}?{_SECRET_WORD}["'][ \t]+value="""


def _valued(prefix: str, guard: str = "") -> tuple[str, str]:
    """A command's value after `prefix`: a shell word (after `guard`: not a path, say), or a quoted string whole."""
    return rf"""{prefix}["']?{guard}{_WORD_VALUE}""", rf"{prefix}{_QUOTED}"


def _valued_after(prefix: str, name: str) -> tuple[str, str, str]:
    """A value after `prefix` and the `name` joined to it (`user:`), the quote around both or the value alone."""
    return (
        rf"""{prefix}["']?{name}{_WORD_VALUE}""",
        rf"{prefix}{name}{_QUOTED}",
        rf"""{prefix}(?P<quote>["']){name}{_QUOTED_REST}""",
    )


# Every command-line value, each as a shell word and as a quoted string.
_COMMAND_VALUES = (
    *_valued(_DOCKER_ENV),
    *_valued(_PASSWORD_OPTION, _NOT_A_PATH),
    *_valued(_SSH_KEYGEN_SECOND),
    *_valued(_SNMP_SECOND),
    *_valued(_JOINED_P),
    *_valued(rf"{_SHORT_FLAG_NAME}[ \t]+", _NOT_A_PATH),
    *_valued(_POSITIONAL),
    *_valued(_STORED),
    *_valued(_HERE_STRING),
    *_valued(_XFREERDP),
    *_valued_after(_USER_OPTION, _USER_NAME),
    *_valued_after(_OPENSSL_PASS, "pass:"),
    *_valued_after(_USER_PERCENT, _PERCENT_NAME),
    *_valued_after(_JENKINS_AUTH, _USER_NAME),
    *_valued_after(_LFTP_USER, _COMMA_NAME),
)

# Vendor formats and unquoted assignments that detect-secrets' markdown rules miss; a pattern's
# `secret` group is what is redacted (the whole match when it has none). Kinds reuse
# detect-secrets' names where it has one, so a report reads the same whoever found it. A Secret
# Keyword value must also pass `looks_secret`.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    *(
        (kind, re.compile(pattern))
        for kind, pattern in (
            ("Anthropic API Key", r"\bsk-ant-[A-Za-z0-9]+-[A-Za-z0-9_\-]{20,}"),
            (
                "OpenAI Token",
                r"\bsk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{20,}|\bsk-[A-Za-z0-9]{20,}T3BlbkFJ[\w\-]+",
            ),
            ("AWS Access Key", r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"),
            ("GitHub Token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})"),
            ("GitLab Token", r"\bgl(?:pat|dt|ptt|rt|cbt|ft|imt|soat)-[A-Za-z0-9_\-]{20,}"),
            ("Slack Token", r"\bxox[abposre]-[A-Za-z0-9\-]{10,}"),
            ("Stripe Access Key", r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}"),
            ("Google API Key", r"\bAIza[A-Za-z0-9_\-]{35}"),
            ("NPM tokens", r"\bnpm_[A-Za-z0-9]{36}\b"),
            ("SendGrid API Key", r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"),
            (
                "Azure Storage Account access key",
                r"(?i)\b(?:AccountKey|SharedAccessKey)=(?P<secret>[A-Za-z0-9+/=]{20,})",
            ),
            ("JSON Web Token", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
            ("Bearer Token", r"(?i)\bBearer\s+(?P<secret>[A-Za-z0-9._~+/\-]{16,}=*)"),
            (BASIC_AUTH, r"\b[A-Za-z][A-Za-z0-9+.\-]{0,40}+://[^\s:/@]*:(?P<secret>[^\s@/]+)@"),
            (KEYWORD, rf"(?i){_SECRET_NAME}{_ASSIGNED}{_VALUE}"),
            (KEYWORD, _WHOSE),
            # Quoted, with the other quote inside (`password: "Kp9'xT2mQ7"`), where `_VALUE` stops; one
            # shell-like word, as prose quotes phrases ("see runbook 12").
            (KEYWORD, rf"""(?i){_SECRET_NAME}{_ASSIGNED_BY}{_QUOTED_WORD}"""),
            # Joined to its `=` (`DB_PASSWORD=...`, `--password=...`): the whole shell word, as after `--password `.
            # In a document detect-secrets cannot read as ini, `DB_PASSWORD=Xk9p,Q2wLm7` was kept whole.
            (KEYWORD, rf"(?i){_SECRET_NAME}=(?![=\s]){_JOINED_VALUE}"),
            (KEYWORD, rf"(?i){_SECRET_FLAG}{_WORD_VALUE}"),
            (KEYWORD, rf"""(?i){_FLAG_NAME}(?:[ \t]+|=|["'][ \t]*,[ \t]*){_QUOTED}"""),
            *((KEYWORD, rule) for rule in _COMMAND_VALUES),
            (KEYWORD, _ORACLE_LOGIN),
            (KEYWORD, rf"{_IDENTIFIED_BY}{_QUOTED}"),
            (KEYWORD, rf"{_IDENTIFIED_BY_UPPER}(?![\"'])(?!PASSWORD\b){_WORD_VALUE}"),
            (KEYWORD, rf"{_SQL_PASSWORD}{_QUOTED}"),
            (KEYWORD, rf"{_ECHOED}{_WORD_VALUE}{_TO_STDIN}"),
            (KEYWORD, rf"{_ECHOED}{_QUOTED}{_TO_STDIN}"),
            (KEYWORD, rf"""{_AUTHORIZATION}["']?(?=[^\s"'`]{{16}}){_WORD_VALUE}{_HEADER_END}"""),
            (KEYWORD, rf"{_AUTHORIZATION}{_QUOTED}"),
            (KEYWORD, rf"""(?i)\bConvertTo-SecureString[ \t]+(?:-String[ \t]+)?{_QUOTED}"""),
            (KEYWORD, _XML_ELEMENT),
            (KEYWORD, rf"{_APP_SETTING}{_QUOTED}"),
            (KEYWORD, rf"""\bchangeUserPassword\([ \t]*["'][^"'\n]{{1,100}}["'][ \t]*,[ \t]*{_QUOTED}"""),
            (
                KEYWORD,
                rf"""(?i)[?&](?:{_SECRET_WORD}|access_token|sig|signature)=(?P<secret>(?!\$)[^\s&#"'<>]{{8,200}})""",
            ),
            # A token as a URL's user (`https://TOKEN@github.com`, GitHub's `https://TOKEN:x-oauth-basic@...`):
            # long, as tokens are; a user name is shorter.
            (KEYWORD, r"""\b[A-Za-z][A-Za-z0-9+.\-]{0,20}+://(?P<secret>[A-Za-z0-9_\-]{32,200})(?::[^\s@/]*)?@"""),
            (KEYWORD, rf"""(?i)\bname:[ \t]*+["']?{_NAMED}["']?[ \t]*,[ \t]*value:[ \t]*["']?{_VALUE}"""),
            # A .pgpass line: host:port:database:user:password (a `:` in a field is escaped; the database
            # is a name or `*`, so an IPv6 address or `redis:6379:0:...` is not one).
            (
                KEYWORD,
                r"""^[ \t]*[^\s:]{1,255}+:(?:[0-9]{1,5}|\*):(?:[A-Za-z_][^\s:]{0,254}+|\*):[^\s:]{1,255}+:"""
                r"""(?P<secret>(?:[^\s:\\]|\\.){8,200}+)[ \t]*$""",
            ),
        )
    ),
    (BASIC_AUTH, _BASIC_HEADER),
)
# A Kubernetes manifest's `- name: DB_PASSWORD`, its `value: ...` on the next line. The name is bounded
# on both sides of the word, and anchored, so a long line is tried once; the blanks are possessive
# (two runs with an optional `-` between split a line of blanks every way: 50 KB took 11 s).
_ENV_NAME = (
    r"""(?i)^[ \t]*+(?:-[ \t]*+)?name:[ \t]*+["']?"""
    rf"""{_NAMED}["']?[ \t]*$"""
)
# A YAML key naming a secret, its value indented on the next line (`password:` then `  VALUE`), the
# whole line and not a key of its own (`secrets:` then `  S3_BUCKET_NAME:`).
_YAML_KEY = rf"""(?i)^[ \t]*+["']?{_NAMED}["']?[ \t]*:[ \t]*$"""
# SQL broken after `IDENTIFIED [BY]`, `WITH PASSWORD [=]`, `SET PASSWORD ... =` or `PASSWORD` (no `\`:
# SQL goes on to its `;`), a quoted value (after `BY`, where it was not above) first on the next line.
# In capitals only: prose ends a line with "identified" and quotes an error below.
_SQL_OPEN = (
    r"""(?<![\w\-])(?:IDENTIFIED(?:[ \t]+WITH[ \t]+\w{1,64}+)?(?:[ \t]+BY)?"""
    r"""|(?:WITH|ENCRYPTED|UNENCRYPTED|LOGIN)[ \t]+PASSWORD(?:[ \t]*=)?"""
    r"""|SET[ \t]+PASSWORD(?:[ \t]+FOR[ \t]+[^\s=]{1,200}+)?[ \t]*=|PASSWORD)[ \t]*$"""
)
_SQL_VALUE = rf"""^[ \t]*+(?:BY[ \t]+)?(?:=[ \t]*)?[NE]?{_QUOTED}"""
# What a value alone under prose is not (`_lone_secret`): a digest with its algorithm
# (`sha256:4f2a...`) or an ARN, and how often letters and digits alternate in a random one.
_DIGEST_OR_ARN = re.compile(r"(?:sha(?:1|224|256|384|512)|md5|blake2[bs]|arn):", re.IGNORECASE)
LONE_ALTERNATIONS = 3
_PIECES = re.compile(r"[^A-Za-z0-9]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:$|[T ]\d)")
_VERSION = re.compile(r"(?i)v?\d+(?:\.\d+)*(?:[-.]?(?:alpha|beta|rc|pre|dev|post)[.\-]?\d*)?$")
# An ARN's parts are no names a value is given to (`arn:aws:secretsmanager:eu-west-1:...:secret:db-Ab2`
# is where a secret is kept, not one): a keyword match that starts inside one is dropped (`_matches`).
_ARN_SERVICE = re.compile(r"(?<![\w\-])arn:[a-z\-]{1,20}:(?:[^\s\"'`]{0,300}:)?$", re.IGNORECASE)
_ARN_REACH = len("arn:") + 20 + 1 + 300 + 1
# A value named above it, alone on its line (`_named_values`), and one in a table's column named for a
# secret (`_column_values`); each must read as random, or under a password's name given plainly as a
# password (`_weak_password`). The name: prose whose line ends with it and a colon ("The admin
# password:", `__Password:__`), whose it is ("Password for admin:") or "is" (a wrapped "The staging
# password is", "is:"); or a heading.
_PROSE = re.compile(
    rf"""(?i)(?<![A-Za-z0-9\-])(?P<name>{_SECRET_WORD}[A-Za-z0-9_.\-]{{0,40}}+)["'*_`]{{0,2}}"""
    rf"""(?P<whose>[ \t]+(?:{_WHOSE_WORDS})[ \t][^\n:]{{1,60}}?)?"""
    r"""(?:[ \t]+(?:is|are)[ \t]*:?|[ \t]*:)[*_]{0,2}[ \t]*$"""
)
# A heading is a label when it is short and ends with the name in the singular ("### Staging admin
# password"); a longer one, or a plural, names the section's subject ("## Fix for the leaked token",
# "## Secrets"), and what follows it is no value of it.
# Any heading line: it is read as a heading only (`## Password:` is a heading, not plain prose).
_HEADING_LINE = re.compile(r"[ \t]{0,3}#{1,6}(?:[ \t]|$)")
_HEADING = re.compile(
    rf"""(?i)^[ \t]{{0,3}}#{{1,6}}[ \t]++(?:[^\s#]\S{{0,39}}+[ \t]++){{0,2}}{_SECRET_WORD}(?![A-Za-z0-9])"""
    r"""[ \t]*:?[ \t]*#*[ \t]*$"""
)
# The value: one word, no path or URL (`./reset2.sh`; a `/` inside is base64's, and `$` a password's, but
# neither may start it: a variable or a path), nor a YAML key (`secrets:` over `S3_BUCKET_NAME:`),
# in quotes, inline code or emphasis or not (then any quote inside it is its own); before it, a block
# quote's `>`, a list item's marker or an indented code block's blanks. (Possessive: a line of blanks
# split every way between those parts was quadratic.)
_LONE_VALUE = r"""(?P<lone>\*{1,2}|_{1,2}|["'`]|)(?P<secret>(?![%$/~.])(?!\S*//)[^\s,;<>(){}\[\]]{8,200}?)(?P=lone)"""
_VALUE_LEAD = r"""[ \t]*+(?:>[ \t]*+)*+(?P<item>(?:[-*+]|\d{1,3}[.)])[ \t]++)?"""
_LONE_LINE = re.compile(rf"""^{_VALUE_LEAD}{_LONE_VALUE}[ \t]*$(?<!:)""")
# What may stand between the name and its value, or between two values of a list under it: blank lines, a
# code fence, block quote markers, up to `NAMED_REACH` lines in a row.
_BETWEEN = re.compile(r"""^[ \t]*+(?:>[ \t]*+)*+(?:(?:```|~~~)[^\n`]*+)?$""")
NAMED_REACH = 6
# A table's header cell naming a secret (`Admin password`, `API key`, `Tokens`), not `Secret name`.
_CELL_NAME = re.compile(rf"""(?i)^(?:[^|]{{0,60}}?[ \t])?["'*_`]{{0,2}}{_SECRET_WORD}s?["'*_`]{{0,2}}$""")
# A name that says the value is a password, not a token, key or secret (`_plain_password`).
_PASSWORD_NAME = re.compile(r"(?i)pass|pwd|(?<![a-z])pw(?![a-z])")
_CELL_BREAK = re.compile(r"(?<!\\)\|")
_DELIMITER_CELL = re.compile(r"[ \t]*:?-+:?[ \t]*")
# Every pattern of those two rules searched for in a line, for the tests that time each on long lines
# (`_DELIMITER_CELL` is only matched whole against one cell).
NAMING: tuple[re.Pattern[str], ...] = (_PROSE, _HEADING, _HEADING_LINE, _LONE_LINE, _BETWEEN, _CELL_NAME, _CELL_BREAK)
# Secret Keyword values on the line after the one that names them: (the naming line, the value's line).
# (An option ending its line with `\` has its value found on the command joined whole: `continued`.)
FOLLOWING: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (re.compile(_ENV_NAME), re.compile(rf"""^[ \t]*value:[ \t]*["']?{_VALUE}""")),
    (re.compile(_SQL_OPEN), re.compile(_SQL_VALUE)),
    (re.compile(_YAML_KEY), re.compile(rf"""^[ \t]+["']?{_VALUE}["']?[ \t]*$(?<!:)""")),
)


def own_suspect(line: str) -> bool:
    """Whether one of scaffold's own rules (`PATTERNS`, `FOLLOWING`, random-looking tokens, a name over a value
    or over a table's column) could find something on or below `line`."""
    if any(pattern.search(line) for _, pattern in PATTERNS):
        return True
    # Exactly what the scan reports: a long token alone (a file's path) is no reason to scan.
    if any(_random_looking(match.group(0)) for match in ENTROPY_TOKEN.finditer(line)):
        return True
    if any(naming.search(line) for naming, _ in FOLLOWING):
        return True
    return bool(_PROSE.search(line) or _HEADING.match(line) or _secret_columns(line))


def pattern_findings(lines: list[str]) -> list[tuple[str, str, int]]:
    """(kind, value, line) in one text's `lines` for each match of `PATTERNS` (on each line, and on each
    command continued over lines with `\\` joined whole), of `FOLLOWING`, and each unquoted high-entropy
    token."""
    found = [(kind, value, number) for number, line in enumerate(lines) for kind, value, _ in _matches(line)]
    for first, joined, starts in continued(lines):
        for kind, value, at in _matches(joined):
            # Reported where it is, in the part of each line it spans (a value the join made whole is on none).
            for index in range(bisect.bisect_right(starts, at) - 1, len(starts)):
                if starts[index] >= at + len(value):
                    break
                end = starts[index + 1] if index + 1 < len(starts) else len(joined)
                part = joined[max(at, starts[index]) : min(at + len(value), end)]
                if part:
                    found.append((kind, part, first + index))
    for number, line in enumerate(lines):
        for match in ENTROPY_TOKEN.finditer(line):
            if _random_looking(match.group(0)):
                found.append((HIGH_ENTROPY, match.group(0), number))
        for naming, holding in FOLLOWING:
            held = holding.match(line) if number and naming.search(lines[number - 1]) else None
            value = held.group("secret") if held else ""
            if held and looks_secret(value, line[held.end() : held.end() + 1]):
                found.append((KEYWORD, value, number))
    found.extend((KEYWORD, value, number) for value, number in _named_values(lines))
    found.extend((KEYWORD, value, number) for value, number in _column_values(lines))
    return found


def _named_values(lines: list[str]) -> Iterator[tuple[str, int]]:
    """Each value alone on its line below prose or a heading naming a secret, that reads as the
    secret named: the first one, up to `NAMED_REACH` blank, fence or quote lines below the name,
    and the rest of a list of them, each as close to the one before. One pass."""
    # What a value under the name in force must be: None, no name is in force; True, a password's
    # name given plainly, so a weak password of words goes (`_weak_password`); False, read as random.
    plain: bool | None = None
    gap = 0
    for number, line in enumerate(lines):
        heading = _HEADING_LINE.match(line)
        prose = None if heading else _PROSE.search(line)
        if prose or heading:
            plain = _plain_password(prose) if prose else (False if _HEADING.match(line) else None)
            gap = 0
            continue
        if plain is None:
            continue
        lone = _LONE_LINE.match(line)
        if lone:
            gap = 0
            value = lone.group("secret")
            # A list under a password's name is as often what shares it ("Hosts sharing the root
            # password:" over `db-prod-01`) as its values: a list item must read as random.
            weak = plain and not lone.group("item")
            if looks_secret(value, "") and (_weak_password(value) if weak else _lone_secret(value)):
                yield value, number
        elif _BETWEEN.match(line) and gap < NAMED_REACH:
            gap += 1
        else:
            plain = None


def _plain_password(prose: re.Match[str]) -> bool | None:
    """For prose naming a secret: whether it names a password plainly (see `_named_values`)."""
    if prose.group("whose"):
        # Prose that says whose it is ("the password for these hosts:") as often leads a list of
        # hosts or pods as it gives a password: what is under it must read as random.
        return False
    if _REFERENCE_END.search(prose.group("name")):
        return None  # `TOKEN_NAME:` over the token's name
    return bool(_PASSWORD_NAME.search(prose.group("name")))


def _weak_password(value: str) -> bool:
    """Whether a value alone under a password's name given plainly is the password: any value
    `looks_secret` passes but a digest, an ARN or a date, for prose does not call a region or a
    key's name a password, and a weak password (`blue-fish-42`) is still one; with a `/`, one that
    reads as random (`scripts/reset2.sh` is a path, `k3J/9xQ+2mZa7Lp=` base64)."""
    if "/" in value:
        return _lone_secret(value)
    return not (_DIGEST_OR_ARN.match(value) or _DATE.match(value))


def _cells(line: str, edged: bool = True) -> list[str]:
    """A table row's cells (`\\|` is a cell's own; the pipes at a row's ends are no cell's bounds).
    In a table not `edged`, drawn without pipes at its ends, a row that starts with a pipe and does
    not end with one leaves its first cell empty, as its writer lined it up (GitHub would shift
    its cells left)."""
    row = _row(line)
    cells = _CELL_BREAK.split(row)
    if cells and not cells[-1].strip():
        cells = cells[:-1]
    ends_with_pipe = row.endswith("|") and not row.endswith("\\|")
    if cells and not cells[0].strip() and (edged or ends_with_pipe):
        cells = cells[1:]
    return [cell.strip() for cell in cells]


def _row(line: str) -> str:
    return line.strip().lstrip("\ufeff")  # a file's byte-order mark is no cell's


def _secret_columns(line: str, edged: bool = True) -> list[int]:
    """The columns of a table's header row (`| Service | Admin password |`) that name a secret."""
    if "|" not in line:
        return []
    return [index for index, cell in enumerate(_cells(line, edged)) if _CELL_NAME.match(cell)]


def _column_values(lines: list[str]) -> Iterator[tuple[str, int]]:
    """Each cell of a table's column named for a secret, as a value alone: the header row, its delimiter
    row (`|---|:--:|`), then every row down to the first line without a `|`."""
    number = 1
    while number < len(lines):
        delimiter = _cells(lines[number]) if "-" in lines[number] and "|" in lines[number] else []
        # Its delimiter row says how the table is drawn: with pipes at its ends or without.
        edged = _row(lines[number]).startswith("|")
        columns = _secret_columns(lines[number - 1], edged) if delimiter else []
        if not (columns and all(_DELIMITER_CELL.fullmatch(cell) for cell in delimiter)):
            number += 1
            continue
        number += 1
        while number < len(lines) and "|" in lines[number]:
            cells = _cells(lines[number], edged)
            for column in columns:
                held = _LONE_LINE.match(cells[column]) if column < len(cells) else None
                value = held.group("secret") if held else ""
                # A column says what kind of thing its cells are, as often where a password is kept
                # (`1Password`, `kv-prod-01`) as the password: they must read as random.
                if held and looks_secret(value, "") and _lone_secret(value):
                    yield value, number
            number += 1


def _lone_secret(value: str) -> bool:
    """Whether a value alone under prose naming a secret reads as one, not as the identifier prose
    names as often ("The token:" over `eu-west-1`, `kms-key-prod-01`, `INC-2024-0412`, `v2.14.0-rc1`,
    `id_ed25519`, `sha256:4f2a...`, an ARN): the value found is redacted wherever it appears, so
    a region or a version taken for one would go from every document.

    Letters and digits both, and not names run together (`TokenRotationJob2` under "## Tokens:"),
    nor a digest's or an ARN's prefix; then any of: upper case, lower case and digits mixed; no
    separator (`-_.:/`); or letters and digits alternating `LONE_ALTERNATIONS` times or more, twice
    within one of its pieces (a UUID, `k9x2-m4q7-zt8w`; not `v2.14.0-rc1`, `ike2-aes256-sha256`). Dates,
    times and versions are none (`2025-01-01T00:00:00Z`, `v2alpha1`). A weak password of
    words joined (`s3cr3t-pass`) passes; one of plain words and a number (`blue-fish-42`) does only
    under a password's name (`_weak_password`).
    """
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


def _alternations(piece: str) -> int:
    return sum(first.isdigit() != second.isdigit() for first, second in itertools.pairwise(piece))


def _matches(line: str) -> list[tuple[str, str, int]]:
    """(kind, value, where it starts) for each match of `PATTERNS` in `line` that its kind's checks accept."""
    found = []
    for kind, pattern in PATTERNS:
        for match in pattern.finditer(line):
            group = "secret" if "secret" in pattern.groupindex else 0
            value = match.group(group)
            if kind == KEYWORD and not looks_secret(value, line[match.end() : match.end() + 1]):
                continue
            if pattern is _WHOSE and not _lone_secret(value):
                continue
            # Only as far back as an ARN's prefix reaches: from the line's start, a long line of
            # keyword matches (a JSON export) was searched again for each (300 KB: 43 s).
            if kind == KEYWORD and _ARN_SERVICE.search(line, max(0, match.start() - _ARN_REACH), match.start()):
                continue
            if pattern is _BASIC_HEADER and not _basic_credentials(value):
                continue
            found.append((kind, value, match.start(group)))
    return found


def continued(lines: list[str]) -> list[tuple[int, str, list[int]]]:
    """Each command continued over lines ending in `\\` in one text, joined as the shell reads it (the
    `\\` and the line end dropped, nothing added), with the index of its first line and where each of
    its lines starts in it (`docker login \\`, `-u ci \\`, `-p VALUE`: no line alone shows the password)."""
    joined: list[tuple[int, str, list[int]]] = []
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) - 1 and lines[end].rstrip().endswith("\\"):
            end += 1
        if end > start:
            parts = [line.rstrip()[:-1] for line in lines[start:end]] + [lines[end]]
            starts = list(itertools.accumulate((len(part) for part in parts[:-1]), initial=0))
            joined.append((start, "".join(parts), starts))
        start = end + 1
    return joined


def _basic_credentials(value: str) -> bool:
    """Whether an `Authorization: Basic` value decodes to `user:password` ("Basic credentials" is prose)."""
    import base64
    import binascii

    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    return ":" in decoded and decoded.isprintable()


def names_a_reference(line: str, value: str) -> bool:
    """Whether `value` is assigned in `line` to a name that refers to a secret (`SECRET_NAME: ...`,
    `db_password_arn = ...`; see `_REFERENCE_SUFFIXES`)."""
    start = line.find(value)
    return start > 0 and bool(_REFERENCE_NAME.search(line, max(0, start - 40), start))


def stands_for_one(password: str) -> bool:
    """Whether a URL's password is a placeholder: a word that names one (`password`, `secret`,
    `changeme`, `YOUR_PASSWORD`), a variable (`${DB_PASSWORD}`, `$PW`, `%PW%`), a name in angle or
    square brackets (`<password>`), or one character three times or more (`****`, `xxxxxxxx`). A weak
    real one (`hunter2x`, `p4ssw0rd`, `12345678`) is none of these."""
    return bool(_STANDS_FOR_ONE.match(password))


def looks_secret(value: str, after: str) -> bool:
    """A value assigned to a secret-like name, unless it is a placeholder, a plain word or a call (`f(`)."""
    value = value.rstrip(".")
    if after == "(" or len(value) < 8 or PLACEHOLDER.search(value):
        return False
    return any(c.isdigit() for c in value)


def _random_looking(token: str) -> bool:
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
    return _words("/".join(pieces)) and all(_words(piece) for piece in pieces if len(piece) >= WORD_PIECE)


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
