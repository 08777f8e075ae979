"""The 0.1 import path of the context API (`from generator.api import Task, build_context`), kept working.

New code imports from `generator` (classify, get_context, prompt, build_context) or `generator.context.api`.
"""

from generator.context.api import (
    ContextResult,
    Document,
    Task,
    build_context,
    classify,
    count_tokens,
    get_context,
    prompt,
)

__all__ = ["ContextResult", "Document", "Task", "build_context", "classify", "count_tokens", "get_context", "prompt"]
