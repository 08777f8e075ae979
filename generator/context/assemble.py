"""The paste-ready prompt: a short preamble, the chosen sections, then the task.

Long documents go first and the task last, each section in a `<document>` element naming
its file and heading path, which is the layout Anthropic recommends for long context and
reads well in any other assistant too.
"""

from __future__ import annotations

import re

PREAMBLE = (
    "You are helping a software team with the task at the end of this message. Before it are "
    "excerpts from the team's knowledge home (coding patterns, architecture principles, style, "
    "runbooks, architecture decisions, incident postmortems, anti-patterns and project notes), "
    "selected for this task. Follow them. Where the task conflicts with them, say so and explain "
    "the trade-off. Likely secrets were replaced by [REDACTED: kind]."
)


# The prompt's own tags. A section or a task that writes one (a runbook about this very format,
# an HTML page, a document meant to break out) would close its element early and could pose as
# the task: their `<` is escaped in texts, which any reader still reads as the tag it names. Blanks
# inside (`< /task>`, `</ task>`, a line break) do not hide one; look-alike characters are not
# looked for (a fullwidth less-than sign, letters of other scripts).
_FRAME_TAG = re.compile(r"<(?=\s*/?\s*(?:documents?|task)(?![\w\-]))", re.IGNORECASE)


def _text(value: str) -> str:
    return _FRAME_TAG.sub("&lt;", value)


def _attribute(value: str) -> str:
    """Escape an attribute value; '>' stays readable in heading trails."""
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def render_block(path: str, section: str, text: str) -> str:
    """One section as a `<document>` element."""
    body = _text(text.strip("\n"))
    return f'<document path="{_attribute(path)}" section="{_attribute(section)}">\n{body}\n</document>\n'


def render_frame(task: str, kind: str, project: str | None) -> tuple[str, str]:
    """The text before and after the documents."""
    head = PREAMBLE + "\n\n<documents>\n"
    attributes = f' kind="{_attribute(kind)}"' + (f' project="{_attribute(project)}"' if project else "")
    tail = f"</documents>\n\n<task{attributes}>\n{_text(task.strip())}\n</task>\n"
    return head, tail


def render_documents(blocks: list[str]) -> str:
    """The documents alone, for `get_context`."""
    return "<documents>\n" + "".join(blocks) + "</documents>\n"


def assemble(head: str, blocks: list[str], tail: str) -> str:
    return head + "".join(blocks) + tail
