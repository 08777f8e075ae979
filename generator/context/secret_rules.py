"""scaffold's own rules for likely secrets, beside detect-secrets' (see `generator.context.redact`).

`PATTERNS` find what detect-secrets' rules for markdown miss: vendor formats it does not know
(Anthropic, OpenAI project keys, Google API keys, bearer tokens, fine-grained GitHub and npm
tokens), values written without quotes (`.env`, YAML, ini, prose: `export
AWS_SECRET_ACCESS_KEY=...`, `password is ...`), values given to a command as an option's
argument (`--password ...`, `--client-secret ...`, `sshpass -p ...`, keytool's `-storepass ...`,
openssl's `pass:...`, SQL's `IDENTIFIED BY '...'` and `WITH PASSWORD '...'`) or as a positional
argument (`rabbitmqctl add_user NAME ...`, `echo ... | docker login --password-stdin`), and
more. `FOLLOWING` finds values on the line below their name (a Kubernetes `value:`, a YAML
key's indented value, SQL broken after `IDENTIFIED BY`); a command continued over lines with
`\\` is read joined, as the shell reads it; and long unquoted tokens that mix upper case,
lower case and digits with a random string's entropy are found too. A Secret Keyword value must
also pass `looks_secret`: 8 characters or more, a digit, not a placeholder.

Every pattern runs on every line of the text a request sends, so each is linear in the line's
length: repetitions are bounded, and a run that could be split several ways is possessive
(the tests time each on long adversarial lines).
"""

from __future__ import annotations

import math
import re

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
# digits, as `looks_secret` asks.
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
PLACEHOLDER = re.compile(
    r"\.\.\.|^x+$|example|your[_\-]|changeme|redacted|<|>|\*\*\*|\{\{|^%\w+%$"
    r"|\.(?:pem|pfx|p12|crt|cer|der|key|jks|keystore|kdbx|gpg|asc)$"
    r"|^(?:var|local|data|module|each|self|random_[a-z_]+|aws_[a-z_]+|google_[a-z_]+|azurerm_[a-z_]+)\.",
    re.IGNORECASE,
)
ENTROPY_TOKEN = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{20,}={0,2}(?![A-Za-z0-9+/_\-])")
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
# (An option ending its line with `\` has its value found on the command joined whole: `continued`.)
FOLLOWING: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (re.compile(_ENV_NAME), re.compile(rf"""^[ \t]*value:[ \t]*["']?{_VALUE}""")),
    (re.compile(_SQL_OPEN), re.compile(_SQL_VALUE)),
    (re.compile(_YAML_KEY), re.compile(rf"""^[ \t]+["']?{_VALUE}""")),
)


def own_suspect(line: str) -> bool:
    """Whether one of scaffold's own patterns (`PATTERNS`, `FOLLOWING`, random-looking tokens) could match `line`."""
    if any(pattern.search(line) for _, pattern in PATTERNS) or ENTROPY_TOKEN.search(line) is not None:
        return True
    return any(naming.search(line) for naming, _ in FOLLOWING)


def pattern_findings(lines: list[str]) -> list[tuple[str, str, int]]:
    """(kind, value, line) for each match of `PATTERNS` (on each line, and on each command continued
    over lines with `\\` joined whole), of `FOLLOWING`, and each unquoted high-entropy token."""
    found: list[tuple[str, str, int]] = []
    for first, line in [*enumerate(lines), *continued(lines)]:
        for kind, pattern in PATTERNS:
            for match in pattern.finditer(line):
                value = match.group("secret") if "secret" in pattern.groupindex else match.group(0)
                if kind == KEYWORD and not looks_secret(value, line[match.end() : match.end() + 1]):
                    continue
                if pattern is _BASIC_HEADER and not _basic_credentials(value):
                    continue
                found.append((kind, value, _line_holding(lines, first, value)))
    for number, line in enumerate(lines):
        for match in ENTROPY_TOKEN.finditer(line):
            if _random_looking(match.group(0)):
                found.append((HIGH_ENTROPY, match.group(0), number))
        for naming, holding in FOLLOWING:
            held = holding.match(line) if number and naming.search(lines[number - 1]) else None
            if held and looks_secret(held.group("secret"), line[held.end() : held.end() + 1]):
                found.append((KEYWORD, held.group("secret"), number))
    return found


def continued(lines: list[str]) -> list[tuple[int, str]]:
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


def looks_secret(value: str, after: str) -> bool:
    """A value assigned to a secret-like name, unless it is a placeholder, a plain word or a call (`f(`)."""
    value = value.rstrip(".")
    if after == "(" or len(value) < 8 or PLACEHOLDER.search(value):
        return False
    return any(c.isdigit() for c in value)


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
