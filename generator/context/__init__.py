"""Context selection: the right pieces of the team's written knowledge for one task.

The stages, one module each, in the order `generator.context.api.build_context` runs them:

- `documents` finds the markdown files of a knowledge home, splits them into sections at
  headings and caches that index (and its BM25 ranker) keyed by paths, sizes and mtimes;
- `kinds` loads and validates `context.yml` and classifies free-text tasks into a kind;
- `select` is the pure selection: core documents, the kind's documents, the project's
  context, then BM25-ranked sections, fitted to a token budget;
- `redact` finds likely secrets with detect-secrets and replaces them;
- `prompt` assembles the final, paste-ready prompt.

Nothing here imports bm25s or detect-secrets at module level: `scaffold --help` stays fast.
"""
