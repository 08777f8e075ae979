"""Where a ranking's time goes, row by row: FTS5's bm25() with and without the rows' sizes stored.

    python bench/bm25_row_cost.py [--documents 10000] [--rounds 5] [--keep DIR]

Builds the synthetic home of `context_bench.py` (10,000 documents: 53 MB, two full-text tables)
and indexes it twice with `scaffold context`, each under a private cache: as scaffold builds it,
and with its full-text tables made with `columnsize=0`, which stores no row sizes. Then, for each
of `context_bench.py`'s tasks, it ranks the task's words on each table as a new task's ranking
does (`index._ranking_terms`, `_match`, `ORDER BY score DESC, rowid LIMIT 600`) and times:

- as built: the statement `scaffold context` runs;
- no sizes: the same statement on the `columnsize=0` tables;
- count: the rows the words match, counted, with no bm25().

BM25 divides a row's term frequencies by its length against the average (the length
normalisation). For that, bm25() reads each matched row's size in tokens, with a statement of
its own; with no sizes stored it reads none, and scores every row as if it had no length, so its
ranking is another one: the last column counts the rows of the 600 best that differ.
Times are medians of `--rounds` rounds, after one round that warms SQLite's page cache.
"""

from __future__ import annotations

import argparse
import functools
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _timing import REPO, isolated_env, load_average, machine
from context_bench import TASKS, add_home_arguments, synthetic_home

from generator.context.documents import _ranking_terms
from generator.context.index import RANK_WEIGHTS, _match

# The command, run with the full-text tables made without row sizes (`index._FTS_TABLE`).
_NO_SIZES = """
import sys
from generator.context import index
index._FTS_TABLE = index._FTS_TABLE.replace("content=''", "content='', columnsize=0")
from generator.cli import main
sys.exit(main(sys.argv[1:]))
"""
LIMIT = 600  # what `index._rank` asks each table for: twice the pool of 300 sections


def index_home(home: Path, cache: Path, user_home: Path, script: list[str]) -> Path:
    """Index `home` under `cache` with `python <script> context TASK`; the database made."""
    env = isolated_env(user_home)
    env.update(XDG_CACHE_HOME=str(cache), SCAFFOLD_HOME=str(home))
    command = [sys.executable, *script, "context", TASKS[0]]
    subprocess.run(command, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    (database,) = (cache / "scaffold" / "context-index").glob("*.sqlite3")
    return database


def tables_of(db: sqlite3.Connection) -> list[str]:
    rows = db.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name")
    return [name for (name,) in rows]


def fetched(db: sqlite3.Connection, query: str, match: str) -> list[Any]:
    return db.execute(query, (match,)).fetchall()


def timed(rounds: int, work: Callable[[], list[Any]]) -> tuple[float, list[Any]]:
    """The median seconds of `rounds` calls of `work` after one untimed call, and what it returned."""
    found = work()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_home_arguments(parser)
    args = parser.parse_args(argv)
    load_before = load_average()
    with synthetic_home(args.documents, args.keep, "scaffold-bm25-rows-") as (scratch, home):
        print("indexing the home twice...", file=sys.stderr)
        built = index_home(home, scratch / "cache-built", scratch / "user-home", ["-m", "generator"])
        bare = index_home(home, scratch / "cache-no-sizes", scratch / "user-home", ["-c", _NO_SIZES])
        weights = ", ".join(str(weight) for weight in RANK_WEIGHTS)
        with sqlite3.connect(built) as first, sqlite3.connect(bare) as second:
            print(f"{args.documents:,} documents; each task's ranking on each of its full-text tables, ", end="")
            print(f"median of {args.rounds} rounds\n")
            print("| task | table | rows matched | as built ms | no sizes ms | count ms | as built µs/row | ", end="")
            print(f"no sizes µs/row | of the best {LIMIT}, differing |")
            print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
            totals = [0.0, 0.0, 0.0, 0]
            for task in TASKS:
                match = _match(_ranking_terms(task))
                for table in tables_of(first):
                    rank = (
                        f"SELECT -bm25({table}, {weights}) AS score, rowid FROM {table} WHERE {table} MATCH ? "
                        f"ORDER BY score DESC, rowid LIMIT {LIMIT}"
                    )
                    count = f"SELECT count(*) FROM {table} WHERE {table} MATCH ?"
                    as_built, best = timed(args.rounds, functools.partial(fetched, first, rank, match))
                    no_sizes, other = timed(args.rounds, functools.partial(fetched, second, rank, match))
                    counting, rows = timed(args.rounds, functools.partial(fetched, first, count, match))
                    matched = int(rows[0][0])
                    differing = len({row for _, row in best} - {row for _, row in other})
                    per_row = [1e6 * seconds / max(matched, 1) for seconds in (as_built, no_sizes)]
                    print(
                        f"| {task} | {table} | {matched:,} | {as_built * 1000:.1f} | {no_sizes * 1000:.1f} | "
                        f"{counting * 1000:.1f} | {per_row[0]:.2f} | {per_row[1]:.2f} | {differing} |"
                    )
                    totals = [totals[0] + as_built, totals[1] + no_sizes, totals[2] + counting, totals[3] + matched]
            matched_all = max(int(totals[3]), 1)  # a home whose words no task matches: no row to divide by
            print(
                f"| all | | {totals[3]:,} | {totals[0] * 1000:.1f} | {totals[1] * 1000:.1f} | {totals[2] * 1000:.1f} | "
                f"{1e6 * totals[0] / matched_all:.2f} | {1e6 * totals[1] / matched_all:.2f} | |"
            )
        print(f"\n{machine(load_before)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
