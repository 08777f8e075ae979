"""Error messages as the CLI prints them: any likely secret in them redacted first; and whether the
running command had done its work when one is printed (`work_done`).

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


# Marked by a command once what it was asked to do is done, and only its report is left (`work_done`).
_done: list[bool] = []


def work_done() -> None:
    """Mark the running command's work as done (the decision written, the project made): output that
    then cannot be written (a full disk, with PYTHONUNBUFFERED set) says the command finished, so that
    nobody runs it again for a second decision."""
    _done.append(True)


def new_run() -> None:
    """Forget the last command's mark: `main` runs one command a call (the tests call it many times)."""
    _done.clear()


def is_work_done() -> bool:
    return bool(_done)
