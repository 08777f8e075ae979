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
also pass `looks_secret`: 8 characters or more, a digit (or letters alone that read as random, or
a password's symbols), not a placeholder. Those checks on a value found are in `generator.context.secret_values`.

Every pattern runs on every line of the text a request sends, so each is linear in the line's
length: repetitions are bounded, and a run that could be split several ways is possessive
(the tests time each on long adversarial lines).
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator

from generator.context import regexes
from generator.context.secret_values import (
    basic_credentials,
    lone_secret,
    looks_secret,
    quoted_secret,
    random_looking,
    weak_password,
)

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
_REFERENCE_END = regexes.compile(rf"(?i)(?:{'|'.join(_REFERENCE_SUFFIXES)})$")
# detect-secrets' own findings are checked by the name before the value (`names_a_reference`).
_REFERENCE_NAME = regexes.compile(
    rf"""(?i)(?:{"|".join(_REFERENCE_SUFFIXES)})["'`]?[ \t]*(?::=|=>|[:=])[ \t]*["'`]?$"""
)
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
# The name, whose it is, then the colon and a blank ("Password for db01.prod: ...", "**Token of the CI bot:**
# ..."; without the blank it is as often a `kind:id`: "Token for commit:a3f9c2e1b7d4", "for pod:web-7d4b9"):
# a value there must read as random (`lone_secret`), as prose names other things so too ("API key for
# Stripe: StripeKeyV2 rotation ...", "The password for svc-ci expires on: 2025-01-31"); a `name=value`
# after it is the next rule's; a colon past a link is none (a `.` only inside a name: not a sentence's end).
# Whose it is may be in brackets too ("Password (prod): ...", "**Password (prod)**:"), but not a bracket
# that says what the value is: an identifier's or a reference's ("API key (ID):", "Secret (name):") or an
# API field's ("`page_token` (optional):"). A plural's `(s)` is none: "### Admin password(s)" is over
# passwords.
# The words that say whose it is, and the brackets, here and over a value (`_PROSE`).
_WHOSE_WORDS = "for|of|to|on|in"
_NOT_WHOSE = "|".join(("ids?", *_REFERENCE_SUFFIXES, "optional", "required", "string", "str", "deprecated", "default"))
_WHOSE_BRACKET = rf"""[ \t]*+\((?![ \t]*(?:{_NOT_WHOSE})[ \t]*\))[^\n()]{{1,40}}\)"""
_BRACKETED = rf"""["'*_`]{{0,2}}{_WHOSE_BRACKET}["'*_`]{{0,2}}"""
_WHOSE = regexes.compile(
    rf"""(?i){_SECRET_NAME}(?:[ \t]+(?:{_WHOSE_WORDS})[ \t](?:[^\n.:=|\[\]/]|\.(?=\S)){{1,40}}?|{_BRACKETED}[ \t]*+)"""
    rf""":[*_]{{0,2}}[ \t]+["'`]?(?![A-Za-z0-9_.\-]*=){_VALUE}"""
)
# A command-line value is the whole shell word (`Xk9p%Q2wLm7`, `Xk9p,Q2wLm7`: `_VALUE` stops at the
# `%` or `,`), unless it starts with `$` (a variable), less a `\` that continues the command below.
_WORD_CHAR = r"""[^\s"'`;|&<>()]"""
_WORD_VALUE = rf"""(?P<secret>(?!\$){_WORD_CHAR}{{7,}}[^\s"'`;|&<>()\\])"""
# The same joined to a name's `=`, but not a comma after it (`f(password=..., port=5432)`).
_JOINED_VALUE = r"""(?P<secret>(?!\$)[^\s"'`;|&<>()]{7,}[^\s"'`;|&<>(),])"""
ENTROPY_TOKEN = regexes.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{20,}={0,2}(?![A-Za-z0-9+/_\-])")
HIGH_ENTROPY = "High Entropy String"
KEYWORD = "Secret Keyword"
# redact.PRIVATE_KEY, whose findings are blocks from the BEGIN line to the END line. Spelt here again:
# importing redact would make a cycle (redact imports this module when it scans), and the module both
# could import it from costs a warm run 11 ms; tests/test_secrets.py holds the two equal.
PRIVATE_KEY = "Private Key"
BASIC_AUTH = "Basic Auth Credentials"
# `Authorization: Basic <base64 of user:password>`, however little entropy it has; a value that does
# not decode to `user:password` is prose ("send Authorization: Basic credentials").
_BASIC_HEADER = regexes.compile(
    r"(?i)\bAuthorization:[ \t]*Basic[ \t]+(?P<secret>[A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])"
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

# Quoted right after its name, with no word between ("log in with password `Kp9xT2mQ7`", "the token
# 'Xk9pQ2wLm7'"): prose gives a value so, and names a reference so as often ("the secret
# `prod/billing/db2`", "see the password `runbook-0012`"), so it must read as a secret (`quoted_secret`).
# A word unquoted there is as often the sentence's next ("password reset", "token rotation2024").
# The name is a word of its own, or joined to others by `_` or `-` (`db_password`, `admin-token`), not
# the start of another ("secretary"); emphasis, a dash or a bracket may stand between ("**Password**
# `...`", "password (`...`)").
_NAMED_QUOTED = regexes.compile(
    rf"""(?i)(?<![A-Za-z0-9_\-])(?:[A-Za-z0-9]{{1,40}}[_\-]){{0,5}}{_SECRET_WORD}s?(?![A-Za-z0-9])"""
    rf"""[*_]{{0,3}}(?:[ \t]++|[ \t]*+[\u2013\u2014(][ \t]*+){_QUOTED_WORD}"""
)

# Vendor formats and unquoted assignments that detect-secrets' markdown rules miss; a pattern's
# `secret` group is what is redacted (the whole match when it has none). Kinds reuse
# detect-secrets' names where it has one, so a report reads the same whoever found it. A Secret
# Keyword value must also pass `looks_secret`.
_PATTERN_SOURCES: tuple[tuple[str, str | re.Pattern[str]], ...] = (
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
    # A prefix, then lowercase hex or capitals and digits: no mixed case for the entropy rule to take. A
    # format shown in docs (`NRAK-XXXX...`) is no key; a cache key of 32 hex digits after `key-` is taken for
    # Mailgun's, which looks the same.
    ("Shopify Token", r"\bshp(?:at|ss|ca|pa)_(?!0{32})[a-fA-F0-9]{32}\b"),
    ("DigitalOcean Token", r"\bdo[opr]_v1_[a-f0-9]{40,}\b"),
    ("Databricks Token", r"\bdapi[a-f0-9]{32}(?:-[0-9]+)?\b"),
    ("Mailgun API Key", r"\bkey-[a-f0-9]{32}\b"),
    ("New Relic API Key", r"\bNR(?:AK|AA|II|JS)-(?![X0]{27})[A-Z0-9]{27}\b"),
    ("age Secret Key", r"\bAGE-SECRET-KEY-1(?!X{50})[02-9AC-HJ-NP-Z]{50,}\b"),
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
    (KEYWORD, _NAMED_QUOTED),
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
        rf"""(?i)[?&;](?:{_SECRET_WORD}|access_token|sig|(?:x-(?:amz|goog)-)?signature|x-amz-security-token)"""
        r"""=(?P<secret>(?!\$)[^\s&#"'<>]{8,2000})""",
    ),
    # A token as a URL's user (`https://TOKEN@github.com`, GitHub's `https://TOKEN:x-oauth-basic@...`):
    # long, as tokens are; a user name is shorter.
    (KEYWORD, r"""\b[A-Za-z][A-Za-z0-9+.\-]{0,20}+://(?P<secret>[A-Za-z0-9_\-]{32,200})(?::[^\s@/]*)?@"""),
    (KEYWORD, rf"""(?i)\bname:[ \t]*+["']?{_NAMED}["']?[ \t]*,[ \t]*value:[ \t]*["']?{_VALUE}"""),
    # A Go or MySQL DSN: `user:password@tcp(host:3306)/db` (no scheme for the URL rule to start from).
    # The password may hold an `@` (the last one before the address ends it); go-sql-driver's `user:pass@/db`
    # has no address at all.
    (KEYWORD, r"""(?<![\w:/@])[A-Za-z0-9_.\-]{1,64}+:(?P<secret>[^\s:/"'`]{8,200}?)@(?:(?:tcp|udp|unix)\(|/)"""),
    # An HTML password field with its value (quoted or not; React's `defaultValue` too), the attributes
    # in either order; not a JSX expression or a template's variable (`value={form.password1}`, `$pw`).
    (
        KEYWORD,
        r"""(?i)<input\b[^<>]{0,300}?\btype=["']?password\b[^<>]{0,300}?\b(?:default)?value=["']?"""
        r"""(?P<secret>[^\s"'<>=`{$][^\s"'<>=`]{0,199})""",
    ),
    (
        KEYWORD,
        r"""(?i)<input\b[^<>]{0,300}?\b(?:default)?value=["']?(?P<secret>[^\s"'<>=`{$][^\s"'<>=`]{0,199})"""
        r"""[^<>]{0,300}?\btype=["']?password\b""",
    ),
    # JSON inside a JSON string, its quotes escaped: `"{\"password\": \"...\"}"`.
    (KEYWORD, rf"""(?i)\\"{_NAMED}\\"[ \t]*:[ \t]*\\"(?P<secret>[^"\\\s]{{8,200}})\\\""""),
    # A key that is no private key but is kept as one (OpenVPN's `--tls-auth` key): its block, as one.
    (PRIVATE_KEY, r"-----BEGIN OpenVPN Static key V[0-9]-----"),
    # A .pgpass line: host:port:database:user:password (a `:` in a field is escaped; the database
    # is a name or `*`, so an IPv6 address or `redis:6379:0:...` is not one).
    (
        KEYWORD,
        r"""^[ \t]*[^\s:]{1,255}+:(?:[0-9]{1,5}|\*):(?:[A-Za-z_][^\s:]{0,254}+|\*):[^\s:]{1,255}+:"""
        r"""(?P<secret>(?:[^\s:\\]|\\.){8,200}+)[ \t]*$""",
    ),
)
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    *((kind, regexes.compile(pattern)) for kind, pattern in _PATTERN_SOURCES),
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
_YAML_KEY = (
    rf"""(?i)^[ \t]*+["']?{_NAMED}["']?[ \t]*:[ \t]*(?:(?:!!?[\w\-]{{1,30}}|&[\w\-]{{1,60}})[ \t]+){{0,2}}"""
    r"""(?:[|>](?:[+\-]?[1-9]?|[1-9][+\-])[ \t]*(?:#[^\n]*)?)?$"""
)
# SQL broken after `IDENTIFIED [BY]`, `WITH PASSWORD [=]`, `SET PASSWORD ... =` or `PASSWORD` (no `\`:
# SQL goes on to its `;`), a quoted value (after `BY`, where it was not above) first on the next line.
# In capitals only: prose ends a line with "identified" and quotes an error below.
_SQL_OPEN = (
    r"""(?<![\w\-])(?:IDENTIFIED(?:[ \t]+WITH[ \t]+\w{1,64}+)?(?:[ \t]+BY)?"""
    r"""|(?:WITH|ENCRYPTED|UNENCRYPTED|LOGIN)[ \t]+PASSWORD(?:[ \t]*=)?"""
    r"""|SET[ \t]+PASSWORD(?:[ \t]+FOR[ \t]+[^\s=]{1,200}+)?[ \t]*=|PASSWORD)[ \t]*$"""
)
_SQL_VALUE = rf"""^[ \t]*+(?:BY[ \t]+)?(?:=[ \t]*)?[NE]?{_QUOTED}"""
# An ARN's parts are no names a value is given to (`arn:aws:secretsmanager:eu-west-1:...:secret:db-Ab2`
# is where a secret is kept, not one): a keyword match that starts inside one is dropped (`_matches`).
_ARN_SERVICE = regexes.compile(r"(?<![\w\-])arn:[a-z\-]{1,20}:(?:[^\s\"'`]{0,300}:)?$", re.IGNORECASE)
_ARN_REACH = len("arn:") + 20 + 1 + 300 + 1
# A value named above it, alone on its line (`_named_values`), and one in a table's column named for a
# secret (`_column_values`); each must read as random, or under a password's name given plainly as a
# password (`weak_password`). The name: prose whose line ends with it and a colon ("The admin
# password:", `__Password:__`), whose it is ("Password for admin:") or "is" (a wrapped "The staging
# password is", "is:"); or a heading.
_PROSE = regexes.compile(
    rf"""(?i)(?<![A-Za-z0-9\-])(?P<name>{_SECRET_WORD}[A-Za-z0-9_.\-]{{0,40}}+)["'*_`]{{0,2}}"""
    rf"""(?P<whose>[ \t]+(?:{_WHOSE_WORDS})[ \t][^\n:]{{1,60}}?|{_BRACKETED})?"""
    r"""(?:[ \t]++(?:is|are)[ \t]*+:?|[ \t]*+:)[*_]{0,2}[ \t]*+$"""
)
# A heading is a label when it is short and ends with the name in the singular ("### Staging admin
# password"); a longer one, or a plural, names the section's subject ("## Fix for the leaked token",
# "## Secrets"), and what follows it is no value of it.
# Styled or not (`` ### `DB_PASSWORD` ``, `### **Admin password:**`), ATX or underlined (setext), with
# whose it is in brackets or not (`### Password (prod)`); the name may be an environment variable's
# (`PROD_DB_PASSWORD`, `STRIPE_SECRET_KEY`), not a reference's (`DB_PASSWORD_SECRET_ARN`).
# Any heading line: it is read as a heading only (`## Password:` is a heading, not plain prose).
_HEADING_LINE = regexes.compile(r"[ \t]{0,3}#{1,6}(?:[ \t]|$)")
_HEADING_NAME = (
    rf"""(?:[^\s#]\S{{0,39}}+[ \t]++){{0,2}}["'*_`]{{0,2}}(?:[A-Za-z0-9]{{1,40}}[_\-.]){{0,4}}{_SECRET_WORD}"""
    rf"""(?:_[A-Za-z0-9]{{1,40}}){{0,3}}{_NOT_A_REFERENCE}(?![A-Za-z0-9])(?:{_WHOSE_BRACKET})?:?["'*_`]{{0,2}}"""
    rf"""(?:{_WHOSE_BRACKET})?[ \t]*+:?"""
)
_HEADING = regexes.compile(rf"""(?i)^[ \t]{{0,3}}#{{1,6}}[ \t]++{_HEADING_NAME}[ \t]*+#*+[ \t]*+$""")
# A setext heading is its text over a line of `=` or `-` (two at least: one `-` is an empty list item).
# Not a list item's or a quote's text over a rule, nor front matter's `title: API token`.
_SETEXT_TEXT = regexes.compile(
    rf"""(?i)^[ \t]{{0,3}}(?![-*+>][ \t]|\d{{1,9}}[.)][ \t])(?![^\n]*:[ \t]*[A-Za-z0-9]){_HEADING_NAME}[ \t]*+$"""
)
_SETEXT_UNDERLINE = regexes.compile(r"^[ \t]{0,3}(?:=++|-{2,}+)[ \t]*+$")
# The value: one word, no path or URL (`./reset2.sh`; a `/` inside is base64's, and `$` a password's, but
# neither may start it: a variable or a path), nor a YAML key (`secrets:` over `S3_BUCKET_NAME:`),
# in quotes, inline code or emphasis or not (then any quote inside it is its own); no bracket or comma,
# which a value alone under a name holds as a call or a list far more often than as a password's
# symbols (`os.getenv("DB_PASSWORD_V2")`, `PBKDF2(SHA256,600000)`, `web01,web02`); before it, a block
# quote's `>`, a list item's marker or an indented code block's blanks. (Possessive: a line of blanks
# split every way between those parts was quadratic.)
_LONE_VALUE = r"""(?P<lone>\*{1,2}|_{1,2}|["'`]|)(?P<secret>(?![%$/~.])(?!\S*//)[^\s,;<>(){}\[\]]{8,200}?)(?P=lone)"""
_VALUE_LEAD = r"""[ \t]*+(?:>[ \t]*+)*+(?P<item>(?:[-*+]|\d{1,3}[.)])[ \t]++)?"""
_LONE_LINE = regexes.compile(rf"""^{_VALUE_LEAD}{_LONE_VALUE}[ \t]*$(?<!:)""")
# What may stand between the name and its value, or between two values of a list under it: blank lines, a
# code fence, block quote markers, up to `NAMED_REACH` lines in a row.
_BETWEEN = regexes.compile(r"""^[ \t]*+(?:>[ \t]*+)*+(?:(?:```|~~~)[^\n`]*+)?$""")
NAMED_REACH = 6
# A table's header cell naming a secret (`Admin password`, `API key`, `Tokens`, `Password (prod)`), not
# `Secret name` nor `Password (ID)`.
_CELL_NAME = regexes.compile(
    rf"""(?i)^(?:[^|]{{0,60}}?[ \t])?["'*_`]{{0,2}}{_SECRET_WORD}s?(?:{_BRACKETED}|["'*_`]{{0,2}})$"""
)
# A name that says the value is a password, not a token, key or secret (`_plain_password`).
_PASSWORD_NAME = regexes.compile(r"(?i)pass|pwd|(?<![a-z])pw(?![a-z])")
_CELL_BREAK = regexes.compile(r"(?<!\\)\|")
_QUOTE_MARKERS = regexes.compile(r"(?:>[ \t]*+)++")
_DELIMITER_CELL = regexes.compile(r"[ \t]*:?-+:?[ \t]*")
# Every pattern of those two rules searched for in a line, for the tests that time each on long lines
# (`_DELIMITER_CELL` is only matched whole against one cell).
NAMING: tuple[re.Pattern[str], ...] = (
    _PROSE, _HEADING, _HEADING_LINE, _SETEXT_TEXT, _SETEXT_UNDERLINE, _LONE_LINE, _BETWEEN, _CELL_NAME, _CELL_BREAK,
    _QUOTE_MARKERS,
)  # fmt: skip
# Secret Keyword values on the line after the one that names them: (the naming line, the value's line).
# (An option ending its line with `\` has its value found on the command joined whole: `continued`.)
FOLLOWING: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (regexes.compile(_ENV_NAME), regexes.compile(rf"""^[ \t]*value:[ \t]*["']?{_VALUE}""")),
    (regexes.compile(_SQL_OPEN), regexes.compile(_SQL_VALUE)),
    (regexes.compile(_YAML_KEY), regexes.compile(rf"""^[ \t]+["']?{_VALUE}["']?[ \t]*$(?<!:)""")),
)


def own_suspect(line: str) -> bool:
    """Whether one of scaffold's own rules (`PATTERNS`, `FOLLOWING`, random-looking tokens, a name over a value
    or over a table's column) could find something on or below `line`."""
    if any(pattern.search(line) for _, pattern in PATTERNS):
        return True
    # Exactly what the scan reports: a long token alone (a file's path) is no reason to scan.
    if any(random_looking(match.group(0)) for match in ENTROPY_TOKEN.finditer(line)):
        return True
    if any(naming.search(line) for naming, _ in FOLLOWING):
        return True
    return bool(_PROSE.search(line) or _HEADING.match(line) or _SETEXT_TEXT.match(line) or _secret_columns(line))


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
            if random_looking(match.group(0)):
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
    # name given plainly, so a weak password of words goes (`weak_password`); False, read as random.
    plain: bool | None = None
    gap = 0
    for number, line in enumerate(lines):
        if number and _SETEXT_UNDERLINE.match(line):
            # The line above was a heading's text: its name, if it names a secret, is a heading's.
            plain = False if _SETEXT_TEXT.match(lines[number - 1]) else None
            gap = 0
            continue
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
            if looks_secret(value, "") and (weak_password(value) if weak else lone_secret(value)):
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


def _cells(line: str, edges: int | None = None) -> list[str]:
    """A table row's cells (`\\|` is a cell's own). The pipes at a row's ends are no cell's bounds, as
    GitHub reads a table; but in a table of `edges` cells drawn without pipes at its ends (its
    delimiter row starts with none: `_edges`), a row that starts with one and has those cells
    only with an empty first one is read so, as its writer lined it up (` | VALUE` under
    `Service | Password`)."""
    cells = _CELL_BREAK.split(_row(line))
    if cells and not cells[-1].strip():
        cells = cells[:-1]
    if cells and not cells[0].strip() and len(cells) != edges:
        cells = cells[1:]
    return [cell.strip() for cell in cells]


def _row(line: str) -> str:
    """A table's row less what is no cell's: a file's byte-order mark, a block quote's markers."""
    row = line.strip().lstrip("\ufeff")
    quoted = _QUOTE_MARKERS.match(row)
    return row[quoted.end() :] if quoted else row


def _edges(delimiter: str, cells: list[str]) -> int | None:
    """How many cells the table of a delimiter row has, if it is drawn without pipes at its ends."""
    return None if _row(delimiter).startswith("|") else len(cells)


def _secret_columns(line: str, edges: int | None = None) -> list[int]:
    """The columns of a table's header row (`| Service | Admin password |`) that name a secret."""
    if "|" not in line:
        return []
    return [index for index, cell in enumerate(_cells(line, edges)) if _CELL_NAME.match(cell)]


def _column_values(lines: list[str]) -> Iterator[tuple[str, int]]:
    """Each cell of a table's column named for a secret, as a value alone: the header row, its delimiter
    row (`|---|:--:|`), then every row down to the first line without a `|`."""
    number = 1
    while number < len(lines):
        delimiter = _cells(lines[number]) if "-" in lines[number] and "|" in lines[number] else []
        edges = _edges(lines[number], delimiter)
        columns = _secret_columns(lines[number - 1], edges) if delimiter else []
        if not (columns and all(_DELIMITER_CELL.fullmatch(cell) for cell in delimiter)):
            number += 1
            continue
        number += 1
        while number < len(lines) and "|" in lines[number]:
            cells = _cells(lines[number], edges)
            for column in columns:
                held = _LONE_LINE.match(cells[column]) if column < len(cells) else None
                value = held.group("secret") if held else ""
                # A column says what kind of thing its cells are, as often where a password is kept
                # (`1Password`, `kv-prod-01`) as the password: they must read as random.
                if held and looks_secret(value, "") and lone_secret(value):
                    yield value, number
            number += 1


def without_closing_punctuation(value: str, following: str) -> str:
    """A keyword's value without one colon, comma or semicolon that ends it before a blank or the line's
    end (`following`, the character after it): the prose's (`notes/password=X.md: missing`), kept in the
    text rather than redacted. Dropped only once the value was judged a secret with it; the price is
    that a password which really ends in one shows that character."""
    if len(value) > 1 and value[-1] in ":,;" and not following.strip():
        return value[:-1]
    return value


def _matches(line: str) -> list[tuple[str, str, int]]:
    """(kind, value, where it starts) for each match of `PATTERNS` in `line` that its kind's checks accept."""
    found = []
    for kind, pattern in PATTERNS:
        for match in pattern.finditer(line):
            group = "secret" if "secret" in pattern.groupindex else 0
            value = match.group(group)
            if kind == KEYWORD and not looks_secret(value, line[match.end() : match.end() + 1]):
                continue
            if pattern is _WHOSE and not lone_secret(value):
                continue
            if pattern is _NAMED_QUOTED and not quoted_secret(value):
                continue
            # Only as far back as an ARN's prefix reaches: from the line's start, a long line of
            # keyword matches (a JSON export) was searched again for each (300 KB: 43 s).
            if kind == KEYWORD and _ARN_SERVICE.search(line, max(0, match.start() - _ARN_REACH), match.start()):
                continue
            if pattern is _BASIC_HEADER and not basic_credentials(value):
                continue
            if kind == KEYWORD:
                value = without_closing_punctuation(value, line[match.end(group) :][:1])
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


def names_a_reference(line: str, value: str) -> bool:
    """Whether `value` is assigned in `line` to a name that refers to a secret (`SECRET_NAME: ...`,
    `db_password_arn = ...`; see `_REFERENCE_SUFFIXES`)."""
    start = line.find(value)
    return start > 0 and bool(_REFERENCE_NAME.search(line, max(0, start - 40), start))
