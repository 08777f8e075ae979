"""Secrets never leave the machine: find likely secrets in the chosen text and redact them.

Detection is detect-secrets' default plugins and filters, as `detect-secrets scan` runs them
on a markdown file (AWS, Azure, GitHub, GitLab, Slack, Stripe, Twilio, npm... keys and
tokens, private keys, JWTs, passwords in URLs, quoted high-entropy strings and quoted values
assigned to secret-like names), plus `PATTERNS` below for what its markdown rules miss:
vendor formats it does not know (Anthropic, OpenAI project keys, Google API keys, bearer
tokens, fine-grained GitHub and npm tokens), values written without quotes (`.env`, YAML,
ini, prose: `export AWS_SECRET_ACCESS_KEY=...`, `password is ...`), values given to a command
as an option's argument (`--password ...`, `--client-secret ...`, `sshpass -p ...`, keytool's
`-storepass ...`, openssl's `pass:...`, SQL's `IDENTIFIED BY '...'` and `PASSWORD '...'`) or a
command's positional argument (`rabbitmqctl add_user NAME ...`, `echo ... | docker login
--password-stdin`), values on the line below their name (`FOLLOWING`: a Kubernetes `value:`, a YAML
key's indented value, SQL broken after `IDENTIFIED BY`), commands continued over lines with `\\`
(read joined, as the shell reads them) and long
unquoted tokens that mix upper case, lower case and digits with a random string's entropy.
Each finding is replaced by `[REDACTED: <kind>]`, up to the end of the token it starts (a
JWT's signature goes too); a private key goes from its BEGIN line to its END line. Every
finding is reported as file:line and kind.

Scanning costs about a millisecond a line and importing detect-secrets a third of a second,
so the spans found in a piece of text are cached by the text's digest (never the secret
values) under the user cache dir, and only lines that could hold a finding are scanned at
all: lines that one of the regular-expression plugins' patterns matches (copied from
detect-secrets into the cache the first time it is imported), that hold a keyword the
keyword plugin looks for (`key`, `pass`, `pwd`, `secret`, ...) with a quote, `:` or `=` to
take a value after (and the indented lines continuing that value), or a quoted run long
enough to pass an entropy limit. A warm run whose new sections have no such line does not
import detect-secrets at all.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import UsageError
from generator.plumbing.atomic import write_atomic

# Bump when the scanning code changes; a change to scaffold's own patterns needs no bump (see `_rules_digest`).
CACHE_VERSION = 3
CACHE_LIMIT = 50_000
GLOBAL_MIN_LENGTH = 6
PRIVATE_KEY = "Private Key"
_TOKEN_TAIL = re.compile(r"[A-Za-z0-9+/=_\-.~]*")
_KEY_END = re.compile(r"-----END [A-Z0-9 ]*-----|---- END SSH2 ENCRYPTED PRIVATE KEY ----")
# Every word of the keyword plugin's denylist (api_?key, db_?pass, passwd, pwd, secret,
# contraseña...) contains one of these.
_KEYWORDS = re.compile(r"key|pass|pwd|secret|contrase", re.IGNORECASE)
# And the plugin finds a value only after a quote (its rules for a markdown file require one),
# or after `:` or `=` (it also reads the file as ini, quoting each `name = value` itself): a
# line of prose that merely says "key" needs no scan.
_KEYWORD_VALUE = re.compile(r"""['"`:=]""")
# The entropy plugins only look at quoted strings of their charset, and a string of n
# characters has at most log2(n) bits of entropy: the hex limit (3.0) needs 9 or more.
_QUOTED_RUN = re.compile(r"""(['"])[^'"\s]{9,}\1""")
# A line whose value continues below it: `name =`, `name:`, `name: |`, `name: >-`.
_OPENS_VALUE = re.compile(r"[=:]\s*(?:[|>][-+]?)?\s*$")

# Names that say a value is a secret: `DB_PASSWORD`, `client_secret`, "API key", `private_key_id`,
# and `pass` or `pw` as a word or a name's last part (`SMTP_PASS`, `--db-pass`, `pass:`, `PW:`; not
# `bypass`, `passenger`).
_SECRET_WORD = (
    r"(?:secret|passw(?:or)?d|passphrase|pwd|token|api[_\- ]?key|access[_\- ]?key|private[_\- ]?key"
    r"|auth[_\- ]?key|signing[_\- ]?key|account[_\- ]?key|credential|session[_\- ]?(?:key|id)"
    r"|(?<![A-Za-z0-9])pass(?![A-Za-z])|(?<![A-Za-z0-9])pw(?![A-Za-z]))"
)
# Its name is where the word is (`DB_PASSWORD`'s `PASSWORD`): what comes before it is not needed. Matched from a
# word boundary through any name characters before the word, a long run of them with many boundaries
# (`ab12-ab12-...`, a base64url blob) ran from each to the run's end and back (20 KB: 30 s). What follows
# is bounded and never given back, so that a line of `passwordpassword...` is linear too.
_SECRET_NAME = rf"{_SECRET_WORD}[A-Za-z0-9_.\-]{{0,100}}+"
# A long option whose name ends in one (`--password`, `--client-secret`, `--pass`; not `--password-file`)
# or redis-server's `--requirepass` and `--masterauth`,
# but not one that turns it off or asks for it (`--no-password`, `--ask-vault-password`).
_FLAG_NAME = rf"(?<![\w\-])--(?!(?:no|ask)-)(?:[A-Za-z0-9_\-]*{_SECRET_WORD}|requirepass|masterauth)"
# Its value is the next argument; one starting with `-` is the next option (`--password-stdin` takes
# none), and one starting like a path names a file (`--private-key ./deploy2.pem`).
_NOT_A_PATH = r"(?!-|~/|\.{0,2}/)"
_SECRET_FLAG = rf"""{_FLAG_NAME}[ \t]+["'`]?{_NOT_A_PATH}"""
# A quoted value is the whole quote, whatever it holds up to the quote that closes it (`'p@ss:w0rd;x'`,
# `"it's 2 words"`: `_VALUE` stops at the `;` or the space), unless it is a variable, a command's
# output or a path. Every pattern below that takes a value takes a quoted one this way too.
_QUOTED_REST = r"""(?P<secret>(?![$~]|\.{0,2}/)(?:(?!(?P=quote))[^\n]){8,200})(?P=quote)"""
_QUOTED = rf"""(?P<quote>["']){_QUOTED_REST}"""
# More arguments of the same command before the one wanted: bounded, and never past `;`, `&` or `|`
# (`7z x a.7z && docker run -p127.0.0.1:5432:5432 ...` gives 7-Zip no password).
_ARGS = r"""(?:[ \t]+[^\s;&|]+){0,12}?"""
# An argument that may be quoted, spaces and all (a user name: `rabbitmqctl add_user 'billing' ...`).
_ARGUMENT = r"""(?:"[^"\n]{1,100}"|'[^'\n]{1,100}'|[^\s"';&|]{1,100}+)"""
# mysql's `-pVALUE` (the value joined to it: `-p value` prompts, and `value` is the database) and
# 7-Zip's, after a few other arguments (elsewhere `-p8080:80` is a port).
_JOINED_P = rf"""(?<![\w\-])(?:mysql(?:dump|admin)?|7z[arz]?(?:\.exe)?){_ARGS}[ \t]+-p(?=[^\s-])"""
# `-u user:VALUE` or `--user user:VALUE` (curl, wget, httpie; curl's `--proxy-user`, `-U`), on any
# line: a runbook breaks a long curl command over lines ending in `\`, and `-u` may be on its own
# line or its tenth argument. `docker run -u 1000:1000`, a user and group, is short or without
# digits, as `_looks_secret` asks.
_USER_OPTION = r"""(?<![\w\-])(?:-[uU]|--user|--proxy-user)(?:[ \t]+|=)"""
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
# ssh-keygen's second passphrase option (`-p -P OLD -N NEW`): a match ends at the first.
_SSH_KEYGEN_SECOND = rf"""(?<![\w\-])ssh-keygen{_ARGS}[ \t]+-[NP][ \t]+{_ARGUMENT}{_ARGS}[ \t]+-[NP][ \t]*"""
# A single-dash option named for a password (keytool's `-storepass`, `-srckeypass`; `-password`),
# and openssl's `-passin pass:VALUE` (`env:NAME` and `file:PATH` name where it is). The name is
# bounded: at every `-` of a long line it is tried up to 20 letters on.
_SHORT_FLAG_NAME = r"""(?<![\w\-])-[A-Za-z]{0,20}?(?i:storepass|keypass|passw(?:or)?d|passphrase)"""
_SHORT_FLAG = rf"""{_SHORT_FLAG_NAME}[ \t]+["']?{_NOT_A_PATH}"""
_OPENSSL_PASS = r"""(?<![\w\-])-pass(?:in|out)?[ \t]+["']?pass:"""
_OPENSSL_QUOTED = r"""(?<![\w\-])-pass(?:in|out)?[ \t]+(?P<quote>["'])pass:"""
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
# KEY VALUE`, redis's `AUTH [USER] VALUE`, `mosquitto_passwd -b FILE NAME VALUE`. Every argument before
# the value is bounded.
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
    r"""|requirepass|masterauth|(?:^[ \t]*+(?:[\w.:\-]{1,60}>[ \t]*)?|redis-cli(?:[ \t]+[^\s;&|]+){0,12}?[ \t]+)AUTH"""
    r"""(?:[ \t]+[^\s;&|]{1,100}+(?=[ \t]+\S))?"""
    r"""|mc[ \t]+(?:alias[ \t]+set|config[ \t]+host[ \t]+add)(?:[ \t]+[^\s;&|]+){3}"""
    r""")[ \t]+(?![/*])"""
)
# Secret stores' own commands: the value given to them is the secret (`aws ssm put-parameter ...
# --value`, `aws secretsmanager put-secret-value --secret-string`, `az keyvault secret set --value`,
# `gh secret set --body`).
_STORED = (
    r"""(?<![\w\-])(?:aws[ \t]+ssm[ \t]+put-parameter"""
    r"""|aws[ \t]+secretsmanager[ \t]+(?:put-secret-value|create-secret|update-secret)"""
    r"""|az[ \t]+keyvault[ \t]+secret[ \t]+set|gh[ \t]+secret[ \t]+set)"""
    rf"""{_ARGS}[ \t]+(?:--value|--secret-string|--body|-b)(?:[ \t]+|=)"""
)
# A value echoed into the next command, which reads a secret from stdin (`echo VALUE | docker login
# --password-stdin`, `| gcloud secrets versions add NAME --data-file=-`, `| docker secret create`,
# `... =/dev/stdin`, `| chpasswd`, `| sudo -S`),
# or given to it as a here-string (`--password-stdin <<< VALUE`); not `echo "$TOKEN" | ...`.
_ECHOED = r"""(?<![\w\-])(?:echo(?:[ \t]+-[neE]{1,3})?|printf(?:[ \t]+["']?%s(?:\\n)?["']?)?)[ \t]+"""
_TO_STDIN = (
    r"""(?=[ \t]*\|[^\n|;&]{0,200}?(?:--password-stdin|--data-file[= ]-(?![\w/])|/dev/stdin|(?<![\w\-])chpasswd"""
    r"""|(?<![\w\-])passwd[ \t]+--stdin|(?<![\w\-])sudo[ \t]+-S(?!\S)|docker[ \t]+secret[ \t]+create))"""
)
_HERE_STRING = r"""(?<![\w\-])--password-stdin[ \t]*<<<[ \t]*"""
# smbclient's `-U user%VALUE` and `-Uuser%VALUE`.
_USER_PERCENT = r"""(?<![\w\-])-U[ \t]*["']?[^\s%:"'$]{1,100}+%"""
# Oracle's `sqlplus user/VALUE@DB` (and its other tools), Jenkins' `-auth user:VALUE`, lftp's `-u user,VALUE`.
_ORACLE_LOGIN = (
    r"""(?<![\w\-])(?:sqlplus|expdp|impdp|exp|imp|rman|sqlldr|dgmgrl)(?:[ \t]+[^\s;&|/]+){0,3}?"""
    r"""[ \t]+["']?[A-Za-z][\w$#]{0,60}+/(?P<secret>[^\s@/"']{8,200})(?=[@"' \t]|$)"""
)
_OTHER_USER = rf"""(?<![\w\-])(?:-auth[ \t]+{_USER_NAME}|lftp{_ARGS}[ \t]+-u[ \t]+["']?[^\s,"']{{1,100}}+,)"""
# A Dockerfile's `ENV NAME VALUE`, the old form without `=` (a path value names a file); Windows'
# `setx NAME VALUE` and fish's `set -x NAME VALUE` alike.
# The name is found ahead and then taken whole, never given back: `[A-Za-z0-9_]*WORD[A-Za-z0-9_]*`
# backtracked through every WORD of a long name (200 KB: 30 s).
_DOCKER_ENV = (
    r"(?<![\w\-])(?:ENV|setx|set[ \t]+-[gxU]{1,3})[ \t]+"
    rf"(?=[A-Za-z0-9_]*?(?i:{_SECRET_WORD}))[A-Za-z0-9_]++[ \t]+(?!~/|\.{{0,2}}/)"
)
# After the name: `=` or `:` (quotes or markdown emphasis allowed around the name and the colon:
# `**Password**: ...`, `**Password:** ...`; an arrow or a dash: `password -> ...`), a table's next
# cell (`| password | ... |`), what it is for and a colon ("Password for db01: ...", "Password
# (prod): ..."), or a few words of prose and "is" ("is still ...").
_ASSIGNED = (
    r"""(?:["'*_]{0,2}\s*(?::=|=>|->|[:=\u2192\u2013\u2014])[*_]{0,2}\s*|[ \t]*\|[ \t]*"""
    r"""|[ \t]+(?:for|of|on)[ \t]+[^\n:=]{1,40}?:[ \t]*|[ \t]*\([^\n()]{1,40}\)[ \t]*:[ \t]*"""
    r"""|[^\n.:=]{0,40}?\s(?:is|was|are)(?:[ \t]+(?:still|now|currently|temporarily))?\s+)["'`]?"""
)
# A `%` may be in it, but not first (`%s`, `%(password)s`): `password: Xk9p%Q2wLm7` was kept whole.
_VALUE = r"""(?P<secret>(?!%)[^\s"'`,;<>(){}\[\]$]{8,}(?:[!@$][^\s"'`,;<>(){}\[\]]*)?)"""
# A command-line value is the whole shell word (`Xk9p%Q2wLm7`, `Xk9p,Q2wLm7`: `_VALUE` stops at the
# `%` or `,`), unless it starts with `$` (a variable).
_WORD_VALUE = r"""(?P<secret>(?!\$)[^\s"'`;|&<>()]{8,})"""
# The same joined to a name's `=`, but not a comma after it (`f(password=..., port=5432)`).
_JOINED_VALUE = r"""(?P<secret>(?!\$)[^\s"'`;|&<>()]{7,}[^\s"'`;|&<>(),])"""
# Placeholders, references to a value kept elsewhere (Terraform's `var.db_password_2`,
# `random_password.db_v2.result`, `data.vault_generic_secret.aws2.data[...]`, a template's
# `{{ vault_db_password }}`, Windows' `%CI_TOKEN%`) and files (`az login -p sp-cert2024.pem`).
_PLACEHOLDER = re.compile(
    r"\.\.\.|^x+$|example|your[_\-]|changeme|redacted|<|>|\*\*\*|\{\{|^%\w+%$"
    r"|\.(?:pem|pfx|p12|crt|cer|der|key|jks|keystore|kdbx|gpg|asc)$"
    r"|^(?:var|local|data|module|each|self|random_[a-z_]+|aws_[a-z_]+|google_[a-z_]+|azurerm_[a-z_]+)\.",
    re.IGNORECASE,
)
_ENTROPY_TOKEN = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{20,}={0,2}(?![A-Za-z0-9+/_\-])")
ENTROPY_MIN = 3.8
HIGH_ENTROPY = "High Entropy String"
KEYWORD = "Secret Keyword"
BASIC_AUTH = "Basic Auth Credentials"
# `Authorization: Basic <base64 of user:password>`, however little entropy it has; a value that does
# not decode to `user:password` is prose ("send Authorization: Basic credentials").
_BASIC_HEADER = re.compile(
    r"(?i)\bAuthorization:[ \t]*Basic[ \t]+(?P<secret>[A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])"
)
# A value with a capital, a small letter and a digit (looked for ahead, within the value).
_MIXED = r"""(?=\S{0,200}?[A-Z])(?=\S{0,200}?[a-z])(?=\S{0,200}?[0-9])"""
# A name ending in a secret word ("API key", `DB_PASSWORD`; not `credential_source`, `token_endpoint`).
_ENDS_NAME = rf"""(?i:(?<![A-Za-z0-9_.\-])[A-Za-z0-9_.\-]{{0,100}}?{_SECRET_WORD})(?![A-Za-z0-9_.\-])"""
# A name holding a secret word, bounded on both sides.
_NAMED = rf"""[A-Za-z0-9_.\-]{{0,100}}?{_SECRET_WORD}[A-Za-z0-9_.\-]{{0,100}}+"""
# Vault's `vault kv put PATH key=VALUE ...` and `vault write`: every value given is a secret.
_VAULT_WRITE = (
    r"""(?<![\w\-])vault[ \t]+(?:kv[ \t]+(?:put|patch)|write)(?:[ \t]+-[^\s;&|]+){0,6}?[ \t]+[^\s;&|=]{1,200}+"""
    r"""(?:[ \t]+[\w.\-]{1,60}+=[^\s;&|]{0,300}+){0,10}?[ \t]+[\w.\-]{1,60}+="""
)
# A secret-like XML element (`<password>...</password>`), .NET's `<add key="DbPassword" value="..." />`
# and Java's `<property name="password" value="..."/>`.
_XML_ELEMENT = (
    rf"""(?i)<(?P<tag>[\w.:\-]{{0,60}}?{_SECRET_WORD}[\w.:\-]{{0,60}}+)>(?P<secret>[^<\s]{{8,200}})</(?P=tag)>"""
)
_APP_SETTING = rf"""(?i)\b(?:key|name)=["'][\w.:\-]{{0,60}}?{_SECRET_WORD}[\w.:\-]{{0,60}}+["'][ \t]+value="""

# Vendor formats and unquoted assignments that detect-secrets' markdown rules miss; a pattern's
# `secret` group is what is redacted (the whole match when it has none). Kinds reuse
# detect-secrets' names where it has one, so a report reads the same whoever found it. A Secret
# Keyword value must also pass `_looks_secret`.
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
            # Joined to its `=` (`DB_PASSWORD=...`, `--password=...`): the whole shell word, as after `--password `.
            # In a document detect-secrets cannot read as ini, `DB_PASSWORD=Xk9p,Q2wLm7` was kept whole.
            (KEYWORD, rf"(?i){_SECRET_NAME}=(?![=\s]){_JOINED_VALUE}"),
            (KEYWORD, rf"{_DOCKER_ENV}{_WORD_VALUE}"),
            (KEYWORD, rf"(?i){_SECRET_FLAG}{_WORD_VALUE}"),
            (KEYWORD, rf"""(?i){_FLAG_NAME}(?:[ \t]+|=|["'][ \t]*,[ \t]*){_QUOTED}"""),
            (KEYWORD, rf"""{_PASSWORD_OPTION}["']?{_NOT_A_PATH}{_WORD_VALUE}"""),
            (KEYWORD, rf"{_PASSWORD_OPTION}{_QUOTED}"),
            (KEYWORD, rf"""{_SSH_KEYGEN_SECOND}["']?{_WORD_VALUE}"""),
            (KEYWORD, rf"{_SSH_KEYGEN_SECOND}{_QUOTED}"),
            (KEYWORD, rf"""{_JOINED_P}["']?{_WORD_VALUE}"""),
            (KEYWORD, rf"{_JOINED_P}{_QUOTED}"),
            (KEYWORD, rf"""{_USER_OPTION}["']?{_USER_NAME}{_WORD_VALUE}"""),
            (KEYWORD, rf"{_USER_OPTION}{_USER_NAME}{_QUOTED}"),
            (KEYWORD, rf"""{_USER_OPTION}(?P<quote>["']){_USER_NAME}{_QUOTED_REST}"""),
            (KEYWORD, rf"{_SHORT_FLAG}{_WORD_VALUE}"),
            (KEYWORD, rf"{_SHORT_FLAG_NAME}[ \t]+{_QUOTED}"),
            (KEYWORD, rf"{_OPENSSL_PASS}{_WORD_VALUE}"),
            (KEYWORD, rf"{_OPENSSL_QUOTED}{_QUOTED_REST}"),
            (KEYWORD, rf"(?<![\w\-])-pass(?:in|out)?[ \t]+pass:{_QUOTED}"),
            (KEYWORD, rf"{_IDENTIFIED_BY}{_QUOTED}"),
            (KEYWORD, rf"{_IDENTIFIED_BY_UPPER}(?![\"'])(?!PASSWORD\b){_WORD_VALUE}"),
            (KEYWORD, rf"{_SQL_PASSWORD}{_QUOTED}"),
            (KEYWORD, rf"""{_POSITIONAL}["']?{_WORD_VALUE}"""),
            (KEYWORD, rf"{_POSITIONAL}{_QUOTED}"),
            (KEYWORD, rf"""{_STORED}["']?{_WORD_VALUE}"""),
            (KEYWORD, rf"{_STORED}{_QUOTED}"),
            (KEYWORD, rf"{_ECHOED}{_WORD_VALUE}{_TO_STDIN}"),
            (KEYWORD, rf"{_ECHOED}{_QUOTED}{_TO_STDIN}"),
            (KEYWORD, rf"""{_HERE_STRING}["']?{_WORD_VALUE}"""),
            (KEYWORD, rf"{_HERE_STRING}{_QUOTED}"),
            (KEYWORD, rf"{_USER_PERCENT}{_WORD_VALUE}"),
            (KEYWORD, _ORACLE_LOGIN),
            (KEYWORD, rf"""{_OTHER_USER}{_WORD_VALUE}"""),
            (KEYWORD, rf"""(?i)\bAuthorization:[ \t]*(?:(?:token|apikey|api-key|ssws|key)[ \t]+)?["']?{_WORD_VALUE}"""),
            (KEYWORD, rf"""(?i)\bConvertTo-SecureString[ \t]+(?:-String[ \t]+)?{_QUOTED}"""),
            (KEYWORD, _XML_ELEMENT),
            (KEYWORD, rf"{_APP_SETTING}{_QUOTED}"),
            (KEYWORD, rf"""\bchangeUserPassword\([ \t]*["'][^"'\n]{{1,100}}["'][ \t]*,[ \t]*{_QUOTED}"""),
            # A value right after the name, in prose ("Use token ...", "API key ... was leaked"): only one that
            # mixes capitals, small letters and digits (quoted or not), since prose goes on after a name.
            (KEYWORD, rf"""{_ENDS_NAME}[ \t]+{_MIXED}{_WORD_VALUE}"""),
            (KEYWORD, rf"""{_ENDS_NAME}[ \t]+(?P<quote>["']){_MIXED}(?P<secret>[^\s"']{{8,200}})(?P=quote)"""),
            (KEYWORD, rf"""{_VAULT_WRITE}{_JOINED_VALUE}"""),
            (
                KEYWORD,
                rf"""(?i)[?&](?:{_SECRET_WORD}|key|access_token|auth|sig|signature)=(?P<secret>[^\s&#"'<>]{{8,200}})""",
            ),
            (KEYWORD, r"""\b[A-Za-z][A-Za-z0-9+.\-]{0,20}+://(?P<secret>[A-Za-z0-9_\-]{16,200})@"""),
            (
                KEYWORD,
                rf"""(?<![\w\-])(?:xfreerdp|wlfreerdp|sdl-freerdp)[^\n|;&]{{0,300}}?[ \t]/p:["']?{_WORD_VALUE}""",
            ),
            (KEYWORD, rf"""(?i)\bname:[ \t]*+["']?{_NAMED}["']?[ \t]*,[ \t]*value:[ \t]*["']?{_VALUE}"""),
            # A .pgpass line: host:port:database:user:password.
            (
                KEYWORD,
                r"""^[ \t]*[^\s:]{1,255}+:(?:[0-9]{1,5}|\*):[^\s:]{1,255}+:[^\s:]{1,255}+:(?P<secret>\S{8,200})$""",
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
# A YAML key naming a secret, its value indented on the next line (`password:` then `  VALUE`).
_YAML_KEY = rf"""(?i)^[ \t]*+["']?{_NAMED}["']?[ \t]*:[ \t]*$"""
# SQL broken after `IDENTIFIED [BY]`, `WITH PASSWORD [=]`, `SET PASSWORD ... =` or `PASSWORD` (no `\`:
# SQL goes on to its `;`), a quoted value (after `BY`, where it was not above) first on the next line.
_SQL_OPEN = (
    rf"""(?:{_IDENTIFIED}(?:[ \t]+(?i:BY))?|{_SQL_PASSWORD_NAME}(?:[ \t]*=)?"""
    r"""|(?<![\w\-])PASSWORD)[ \t]*$"""
)
_SQL_VALUE = rf"""^[ \t]*+(?:(?i:BY)[ \t]+)?(?:=[ \t]*)?[NE]?{_QUOTED}"""
# Secret Keyword values on the line after the one that names them: (the naming line, the value's line).
# (An option ending its line with `\` has its value found on the command joined whole: `_continued`.)
FOLLOWING: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (re.compile(_ENV_NAME), re.compile(rf"""^[ \t]*value:[ \t]*["']?{_VALUE}""")),
    (re.compile(_SQL_OPEN), re.compile(_SQL_VALUE)),
    (re.compile(_YAML_KEY), re.compile(rf"""^[ \t]+["']?{_VALUE}""")),
)

# A span is (line index in the piece, start column, end column or -1 for the whole line, kind,
# whether it is reported): a private key's body lines are redacted but reported once.
Span = tuple[int, int, int, str, bool]


@dataclass(frozen=True)
class Piece:
    """Text to scan: `path` and `line` (of its first line) are what findings report."""

    path: str
    line: int
    text: str


@dataclass(frozen=True)
class Finding:
    """A likely secret: where it was and what detect-secrets called it."""

    path: str
    line: int
    kind: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "kind": self.kind}

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}"


@dataclass(frozen=True)
class Redacted:
    """A piece's text with its secrets replaced, and what was replaced."""

    text: str
    findings: tuple[Finding, ...]


class Redactor:
    """Redacts pieces of text, scanning only those its cache has not seen; `save()` keeps the cache."""

    def __init__(self, cache_file: Path | None = None) -> None:
        self.cache = _Cache(cache_file)

    def redact(self, pieces: Sequence[Piece]) -> list[Redacted]:
        if not pieces:
            return []
        keys = [hashlib.sha256(piece.text.encode("utf-8")).hexdigest()[:32] for piece in pieces]
        unseen = {key: piece.text for key, piece in zip(keys, pieces, strict=True) if not self.cache.has(key)}
        if unseen:
            texts = list(unseen.values())
            triggers = self.cache.triggers
            if triggers is None:
                # Once per cache: the plugins' patterns cost importing detect-secrets, which a scan needs anyway.
                triggers = _plugin_patterns()
                self.cache.set_triggers(triggers)
            lines = [line for text in texts for line in text.split("\n")]
            # Neither detect-secrets (by its triggers) nor scaffold's own patterns could find anything: skip the scan.
            logical = lines + [joined for _, joined in _continued(lines)]
            if not any(_suspect(line, triggers) for line in lines) and not any(map(_own_suspect, logical)):
                results: list[list[Span]] = [[] for _ in texts]
            else:
                results = _scan(texts, triggers)
            for key, spans in zip(unseen, results, strict=True):
                self.cache.put(key, spans)
        cached = _everywhere(pieces, [self.cache.get(key) for key in keys])
        return [_apply(piece, found) for piece, found in zip(pieces, cached, strict=True)]

    def save(self) -> None:
        self.cache.save()


def _everywhere(pieces: Sequence[Piece], spans: list[list[Span]]) -> list[list[Span]]:
    """`spans` plus every other place in `pieces` where a redacted value of `GLOBAL_MIN_LENGTH` or more appears.

    A scan redacts a value wherever it appears in the texts scanned together, but the cache
    holds spans per text: a runbook cached earlier that repeats a password found today in
    another must lose it too, as it would if both were scanned afresh.
    """
    values: dict[str, str] = {}
    for piece, found in zip(pieces, spans, strict=True):
        lines = piece.text.split("\n")
        for index, start, end, kind, _ in found:
            if end != -1 and index < len(lines) and end - start >= GLOBAL_MIN_LENGTH:
                values.setdefault(lines[index][start:end], kind)
    if not values:
        return spans
    result = []
    for piece, found in zip(pieces, spans, strict=True):
        more = list(found)
        for index, line in enumerate(piece.text.split("\n")):
            for value, kind in values.items():
                more += [(index, start, end, kind, True) for start, end in _spans(line, value, [])]
        result.append(more)
    return result


def _apply(piece: Piece, spans: list[Span]) -> Redacted:
    if not spans:
        return Redacted(piece.text, ())
    lines = piece.text.split("\n")
    by_line: dict[int, list[Span]] = {}
    for span in spans:
        by_line.setdefault(span[0], []).append(span)
    findings: dict[tuple[int, str], None] = {}
    for index, line_spans in by_line.items():
        if index >= len(lines):
            continue
        lines[index] = _replace(lines[index], line_spans)
        for _, _, _, kind, reported in line_spans:
            if reported:
                findings[(piece.line + index, kind)] = None
    found = tuple(Finding(piece.path, line, kind) for line, kind in findings)
    return Redacted("\n".join(lines), found)


def _replace(line: str, spans: list[Span]) -> str:
    whole = [span for span in spans if span[2] == -1]
    if whole:
        return f"[REDACTED: {whole[0][3]}]"
    merged: list[list[Any]] = []
    for _, start, end, kind, _ in sorted(spans, key=lambda span: (span[1], -span[2])):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, kind])
    for start, end, kind in reversed(merged):
        line = line[:start] + f"[REDACTED: {kind}]" + line[end:]
    return line


# --- scanning with detect-secrets ----------------------------------------------------------


def _suspect(line: str, triggers: list[re.Pattern[str]]) -> bool:
    """Whether a line could hold something detect-secrets finds (see the module docstring)."""
    if (_KEYWORDS.search(line) and _KEYWORD_VALUE.search(line)) or _QUOTED_RUN.search(line):
        return True
    return any(pattern.search(line) for pattern in triggers)


def _own_suspect(line: str) -> bool:
    """Whether one of scaffold's own patterns (`PATTERNS`, `FOLLOWING`, random-looking tokens) could match `line`."""
    if any(pattern.search(line) for _, pattern in PATTERNS) or _ENTROPY_TOKEN.search(line) is not None:
        return True
    return any(naming.search(line) for naming, _ in FOLLOWING)


def _lines_to_scan(lines: list[str], triggers: list[re.Pattern[str]] | None) -> list[int | None]:
    """Which lines to scan, in order, with None for the empty line between two runs."""
    if triggers is None:
        return list(range(len(lines)))
    wanted: set[int] = set()
    for index, line in enumerate(lines):
        if _suspect(line, triggers):
            wanted.update((index - 1, index) if index else (index,))
            if _OPENS_VALUE.search(line):
                # `password =` (ini) or `password: >` (YAML) continues its value on the indented lines
                # below, and detect-secrets reads them together: they go with it.
                follow = index + 1
                while follow < len(lines) and lines[follow][:1] in (" ", "\t") and lines[follow].strip():
                    wanted.add(follow)
                    follow += 1
    scanned: list[int | None] = []
    for index in sorted(wanted):
        if scanned and scanned[-1] != index - 1:
            scanned.append(None)
        scanned.append(index)
    return scanned


def _plugin_patterns() -> list[re.Pattern[str]]:
    """The patterns of detect-secrets' regular-expression plugins."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    return [pattern for kind in get_mapping_from_secret_type_to_class() for pattern in _denylist(kind)]


def _scan(texts: list[str], triggers: list[re.Pattern[str]] | None = None) -> list[list[Span]]:
    """The spans to redact in each text, from one detect-secrets scan of them all.

    With `triggers`, only the lines `_suspect` picks are given to detect-secrets, each with
    the line before it (an allowlist pragma for the next line must stay next to it) and runs
    of them apart by an empty line; a value it finds is still redacted on every line. Without,
    every line is (the tests hold the two to the same findings; `Redactor` always has them).
    """
    import tempfile

    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import default_settings

    lines: list[str] = []
    owner: list[tuple[int, int]] = []
    for number, text in enumerate(texts):
        for index, line in enumerate(text.split("\n")):
            lines.append(line)
            owner.append((number, index))
    scanned = _lines_to_scan(lines, triggers)

    found: list[tuple[str, str, int]] = []
    with tempfile.TemporaryDirectory(prefix="scaffold-redact-") as folder:
        # A markdown name selects detect-secrets' rules for prose (keyword values quoted).
        scratch = Path(folder) / "context.md"
        scratch.write_text("\n".join("" if i is None else lines[i] for i in scanned) + "\n", encoding="utf-8")
        with default_settings():
            collection = SecretsCollection()
            collection.scan_file(str(scratch))
            for _, secret in collection:
                at = scanned[secret.line_number - 1] if 0 < secret.line_number <= len(scanned) else None
                value = secret.secret_value
                if secret.type == KEYWORD and value and at is not None:
                    value = _unquoted_word(value, lines[at])
                # Its keyword rule takes any quoted value (`API_KEY_HEADER = "X-API-Key"`): fill requests carry
                # code, and redacting names would cost the model the code's meaning.
                if value and at is not None and (secret.type != KEYWORD or _plausible(value)):
                    found.append((secret.type, value, at))
            found.extend(_pattern_findings(lines))
            patterns = {kind: _denylist(kind) for kind, _, _ in found}

    result: list[list[Span]] = [[] for _ in texts]
    for kind, value, reported in found:
        # detect-secrets reports a value once; a long one is redacted wherever it appears, a
        # very short one only where it was found, so that it cannot eat ordinary words.
        positions = [reported] if 0 <= reported < len(lines) and value in lines[reported] else []
        if len(value) >= GLOBAL_MIN_LENGTH or not positions:
            positions = [position for position, line in enumerate(lines) if value in line]
        for position in positions:
            line = lines[position]
            number, index = owner[position]
            if kind == PRIVATE_KEY:
                result[number].extend(_key_block(texts[number], index))
            else:
                result[number].extend(
                    (index, start, end, kind, True) for start, end in _spans(line, value, patterns[kind])
                )
    return result


def _pattern_findings(lines: list[str]) -> list[tuple[str, str, int]]:
    """(kind, value, line) for each match of `PATTERNS` (on each line, and on each command continued
    over lines with `\\` joined whole), of `FOLLOWING`, and each unquoted high-entropy token."""
    found: list[tuple[str, str, int]] = []
    for first, line in [*enumerate(lines), *_continued(lines)]:
        for kind, pattern in PATTERNS:
            for match in pattern.finditer(line):
                value = match.group("secret") if "secret" in pattern.groupindex else match.group(0)
                if kind == KEYWORD and not _looks_secret(value, line[match.end() : match.end() + 1]):
                    continue
                if pattern is _BASIC_HEADER and not _basic_credentials(value):
                    continue
                found.append((kind, value, _line_holding(lines, first, value)))
    for number, line in enumerate(lines):
        for match in _ENTROPY_TOKEN.finditer(line):
            if _random_looking(match.group(0)):
                found.append((HIGH_ENTROPY, match.group(0), number))
        for naming, holding in FOLLOWING:
            held = holding.match(line) if number and naming.search(lines[number - 1]) else None
            if held and _looks_secret(held.group("secret"), line[held.end() : held.end() + 1]):
                found.append((KEYWORD, held.group("secret"), number))
    return found


def _continued(lines: list[str]) -> list[tuple[int, str]]:
    """Each command continued over lines ending in `\\`, joined as the shell reads it, with the index of
    its first line (`docker login \\`, `-u ci \\`, `-p VALUE`: no line alone shows the password)."""
    joined: list[tuple[int, str]] = []
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) - 1 and lines[end].rstrip().endswith("\\"):
            end += 1
        if end > start:
            parts = [line.rstrip()[:-1] for line in lines[start:end]] + [lines[end]]
            joined.append((start, " ".join(parts)))
        start = end + 1
    return joined


def _line_holding(lines: list[str], first: int, value: str) -> int:
    """The line, from `first` on, that holds `value` (a value found on a joined command is on one of its lines)."""
    for number in range(first, len(lines)):
        if value in lines[number]:
            return number
        if not lines[number].rstrip().endswith("\\"):
            break
    return first


def _basic_credentials(value: str) -> bool:
    """Whether an `Authorization: Basic` value decodes to `user:password` ("Basic credentials" is prose)."""
    import base64
    import binascii

    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    return ":" in decoded and decoded.isprintable()


def _unquoted_word(value: str, line: str) -> str:
    """A keyword value joined to its `=` (shell style: `NAME=VALUE`, `--password=VALUE`) up to its first space.

    detect-secrets reads a line as ini, where a value runs to the line's end: in
    `PGPASSWORD=Vb00mQ7tRz psql -h db -U app` it is the password and the command after it,
    and redacting all of it would cost the model the command. In shell a value ends at a
    space; after `key = ` or `key: ` (ini, YAML) it may hold spaces, and all of it stays redacted.
    """
    start = line.find(value)
    if start <= 0 or line[start - 1] != "=" or not value.strip():
        return value
    return value.split(maxsplit=1)[0]


def _looks_secret(value: str, after: str) -> bool:
    """A value assigned to a secret-like name, unless it is a placeholder, a plain word or a call (`f(`)."""
    value = value.rstrip(".")
    if after == "(" or len(value) < 8 or _PLACEHOLDER.search(value):
        return False
    return any(c.isdigit() for c in value)


def _plausible(value: str) -> bool:
    """A quoted value by a secret-like name that could be a secret: `_looks_secret`, or a long word without spaces."""
    if _looks_secret(value, ""):
        return True
    return len(value) >= 12 and not any(c.isspace() for c in value) and not _PLACEHOLDER.search(value)


def _random_looking(token: str) -> bool:
    """Upper case, lower case and digits mixed with a random string's entropy: not a word, a path or a hex digest."""
    if not (any(c.isupper() for c in token) and any(c.islower() for c in token) and any(c.isdigit() for c in token)):
        return False
    return _entropy(token) >= ENTROPY_MIN


def _entropy(text: str) -> float:
    counts: dict[str, int] = {}
    for char in text:
        counts[char] = counts.get(char, 0) + 1
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _denylist(kind: str) -> list[re.Pattern[str]]:
    """The regular expressions of a regex-based plugin, to redact its whole match."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    plugin: Any = get_mapping_from_secret_type_to_class().get(kind)
    patterns = getattr(plugin, "denylist", None)
    if not isinstance(patterns, list | tuple):
        return []
    return [pattern for pattern in patterns if isinstance(pattern, re.Pattern)]


def _spans(line: str, value: str, patterns: list[re.Pattern[str]]) -> list[tuple[int, int]]:
    """Where `value` sits in `line`, widened to its plugin's whole match and token tail."""
    spans = []
    start = line.find(value)
    while start != -1:
        end = start + len(value)
        for pattern in patterns:
            for match in pattern.finditer(line):
                if match.start() <= start < match.end() or start <= match.start() < end:
                    start, end = min(start, match.start()), max(end, match.end())
        tail = _TOKEN_TAIL.match(line, end)
        spans.append((start, tail.end() if tail else end))
        start = line.find(value, end)
    return spans


def _key_block(text: str, first: int) -> list[Span]:
    """A private key from its BEGIN line to its END line (or the end of the text)."""
    lines = text.split("\n")
    last = len(lines) - 1
    for index in range(first, len(lines)):
        if _KEY_END.search(lines[index]):
            last = index
            break
    return [(index, 0, -1, PRIVATE_KEY, index == first) for index in range(first, last + 1)]


# --- the cache -----------------------------------------------------------------------------


def _span(stored: list[Any]) -> Span:
    line, start, end, kind, reported = stored
    return (int(line), int(start), int(end), str(kind), bool(reported))


def _rules_digest() -> str:
    """A digest of scaffold's own rules: spans cached by older rules must not hide what new ones find."""
    gate = (_KEYWORDS, _KEYWORD_VALUE, _QUOTED_RUN, _OPENS_VALUE, _TOKEN_TAIL, _KEY_END, _ENTROPY_TOKEN, _PLACEHOLDER)
    rules = [pattern.pattern for _, pattern in PATTERNS] + [pattern.pattern for pattern in gate]
    rules += [pattern.pattern for pair in FOLLOWING for pattern in pair]
    rules += [str(ENTROPY_MIN), str(GLOBAL_MIN_LENGTH)]
    return hashlib.sha256("\n".join(rules).encode("utf-8")).hexdigest()[:12]


def _scanner_version() -> str:
    """detect-secrets' version (read without importing it: the import is the slow part) and `_rules_digest`."""
    return f"{_detect_secrets_version()}/{_rules_digest()}"


def _detect_secrets_version() -> str:
    from importlib.util import find_spec

    spec = find_spec("detect_secrets")
    folders = spec.submodule_search_locations if spec else None
    try:
        text = (Path(next(iter(folders or []))) / "__version__.py").read_text(encoding="utf-8")
    except (OSError, StopIteration):
        return f"{CACHE_VERSION}/unknown"
    match = re.search(r"VERSION\s*=\s*['\"]([^'\"]+)['\"]", text)
    return f"{CACHE_VERSION}/{match.group(1) if match else 'unknown'}"


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)


# The cache files this process has read or written, with the stat they had then: a long-lived
# process (`scaffold mcp`) parses the file once, not on every request, until another process
# changes it.
_LOADED: dict[Path, tuple[tuple[int, int], dict[str, list[Span]], list[re.Pattern[str]] | None]] = {}


class _Cache:
    """Spans found per text digest, in a JSON file; any trouble reading it means empty."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.version = _scanner_version()
        self.entries: dict[str, list[Span]] = {}
        self.triggers: list[re.Pattern[str]] | None = None
        self.dirty = False
        if path is None:
            return
        stamp = _stamp(path)
        loaded = _LOADED.get(path)
        if stamp is not None and loaded is not None and loaded[0] == stamp:
            self.entries, self.triggers = loaded[1], loaded[2]
            return
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and data.get("version") == self.version:
            try:
                self.entries = {key: [_span(span) for span in spans] for key, spans in data["entries"].items()}
                if data.get("triggers") is not None:
                    self.triggers = [re.compile(source, flags) for source, flags in data["triggers"]]
            except (KeyError, TypeError, ValueError, AttributeError, re.error):
                self.entries, self.triggers = {}, None
        if stamp is not None:
            _LOADED[path] = (stamp, self.entries, self.triggers)

    def set_triggers(self, patterns: list[re.Pattern[str]]) -> None:
        self.triggers = patterns
        self.dirty = True

    def has(self, key: str) -> bool:
        return key in self.entries

    def get(self, key: str) -> list[Span]:
        return self.entries.get(key, [])

    def put(self, key: str, spans: list[Span]) -> None:
        self.entries[key] = spans
        self.dirty = True

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        keep = list(self.entries.items())[-CACHE_LIMIT:]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            triggers = [[p.pattern, p.flags] for p in self.triggers] if self.triggers is not None else None
            data = {"version": self.version, "triggers": triggers, "entries": dict(keep)}
            text = json.dumps(data, separators=(",", ":"))
            # Private to the user: it says where the secrets are in their documents.
            write_atomic(self.path, text, mode=0o600)
        except (OSError, UsageError):
            return  # a cache we cannot write (or that is a link) only costs speed
        self.dirty = False
        stamp = _stamp(self.path)
        if stamp is not None:
            _LOADED[self.path] = (stamp, dict(keep), self.triggers)
