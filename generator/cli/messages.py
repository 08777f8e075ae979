"""Error messages as the CLI prints them: any likely secret in them redacted first.

Messages quote what was given: an unquoted task's words in "unrecognized arguments", a bad
--budget, a setting's value, a template source's URL with its credentials. A key pasted there
would reach a terminal or a CI log. The scan is the one `scaffold context` runs on the names it
shows (`redact.redacted_messages`), imported only when there is an error to print.
"""

from __future__ import annotations


def redacted(message: str) -> str:
    """`message` with any likely secret redacted; as it is if the scan itself fails (a broken install
    must not turn one line into a traceback)."""
    try:
        from generator.context.redact import redacted_messages

        return redacted_messages([message])[0]
    except Exception:
        return message
