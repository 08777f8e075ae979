"""scaffold for AI assistants: the team's knowledge home served to Claude Code, Cursor, VS Code...

- `tools` answers an assistant's questions (context for a task, search, a document, the
  templates, a project's status) and writes its new decisions, incidents and runbooks, as
  JSON-ready data with every string redacted: protocol-neutral, testable without a client;
- `mcp_server` serves those answers over the Model Context Protocol on stdio (`scaffold mcp`),
  built on the official `mcp` SDK, which only that module imports.
"""
