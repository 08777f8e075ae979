"""Context selection: the right pieces of the team's written knowledge for one task.

The stages, one module each, in the order `generator.context.api.build_context` runs them:

- `sections` finds the markdown files of a knowledge home and splits them into sections at
  headings; `index` keeps them in an SQLite database with an FTS5 (BM25) index, updated for the
  files whose size, mtime, ctime or inode changed (a large home is built in slots by `parallel`'s
  worker processes, and ranked on two connections by `beside`); `documents` is the `Library`
  selection reads them through, and `links` finds which documents refer to which;
- `kinds` loads and validates `context.yml` and classifies free-text tasks into a kind;
- `select` is the pure selection: the core documents' general sections and those for the
  kind, the kind's documents, the project's context, then the documents BM25 ranks close to
  the best match (or, with a re-rank, those the model chooses among BM25's best: `rerank`),
  fitted to a token budget;
- `redact` finds likely secrets with detect-secrets and scaffold's own `secret_rules` (the
  checks a value found must pass are `secret_values`), and replaces them;
- `assemble` builds the final, paste-ready prompt.

Nothing here imports detect-secrets or PyYAML at module level: `scaffold --help` stays fast.
"""
