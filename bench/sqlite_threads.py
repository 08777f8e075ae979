"""Two connections ranking side by side in threads, with SQLite's memory statistics on and off.

    python bench/sqlite_threads.py [--documents 10000] [--rounds 5] [--keep DIR]

Builds the synthetic home of `context_bench.py` (10,000 documents: 53 MB, indexed in two full-text
tables), indexes it with `scaffold context` under a private cache, then ranks one task's words
(`index._ranking_terms`, `_match`: as a new task ranks them) in a fresh interpreter for each
setting: one table alone, both one after the other, and both side by side, the second in a
thread on its own connection (what `beside` does). SQLite as built by default counts every
allocation under one process-wide lock (its memory statistics): with it on, two threads wait on
each other there; `beside.allow_parallel_reads` turns it off, as `scaffold context` and `scaffold
mcp` do. Times are the median of `--rounds`, after one round that warms SQLite's page cache.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from _timing import REPO, isolated_env, load_average, machine
from context_bench import add_home_arguments, synthetic_home

TASK = "terraform module for a replicated postgres database with backups"

# Run in a fresh interpreter per setting: the statistics are turned off for the whole process, once.
_PROBE = """
import json, statistics, sqlite3, sys, threading, time
from pathlib import Path
from generator.context import beside
from generator.context.documents import _ranking_terms
from generator.context.index import RANK_WEIGHTS, _match
database, task, rounds, off = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "off"
turned_off = beside.allow_parallel_reads() if off else False
match = _match(_ranking_terms(task))
weights = ", ".join(str(weight) for weight in RANK_WEIGHTS)
first, second = (sqlite3.connect(database, check_same_thread=False) for _ in range(2))
tables = [name for (name,) in first.execute(
    "SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name")]
assert len(tables) == 2, tables
def rank(db, table):
    query = (f"SELECT -bm25({table}, {weights}) AS score, rowid FROM {table} WHERE {table} MATCH ? "
             "ORDER BY score DESC, rowid LIMIT 600")
    return db.execute(query, (match,)).fetchall()
def alone():
    rank(first, tables[0])
def in_turn():
    rank(first, tables[0]); rank(first, tables[1])
def side_by_side():
    beside_it = threading.Thread(target=rank, args=(second, tables[1]))
    beside_it.start(); rank(first, tables[0]); beside_it.join()
found = {}
for name, work in (("one table", alone), ("both, one after the other", in_turn), ("both, side by side", side_by_side)):
    work()  # SQLite's page cache
    times = []
    for _ in range(rounds):
        start = time.perf_counter(); work(); times.append(time.perf_counter() - start)
    found[name] = statistics.median(times)
print(json.dumps({"turned_off": turned_off, "times": found}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_home_arguments(parser)
    args = parser.parse_args(argv)
    load_before = load_average()
    with synthetic_home(args.documents, args.keep, "scaffold-sqlite-threads-") as (scratch, home):
        env = isolated_env(scratch / "user-home")
        env.update(XDG_CACHE_HOME=str(scratch / "cache"), SCAFFOLD_HOME=str(home))
        print("indexing the home...", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "generator", "context", TASK],
            cwd=REPO,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        (database,) = (scratch / "cache" / "scaffold" / "context-index").glob("*.sqlite3")
        results = {}
        for setting in ("on", "off"):
            probe = [sys.executable, "-c", _PROBE, str(database), TASK, str(args.rounds), setting]
            found = subprocess.run(probe, cwd=REPO, env=env, check=True, capture_output=True, text=True)
            results[setting] = json.loads(found.stdout)
        print(f"{args.documents:,} documents; task {TASK!r}; median of {args.rounds} rounds (ms)\n")
        print("| ranking | statistics on | statistics off |")
        print("|---|---:|---:|")
        for name in results["on"]["times"]:
            on, off = (results[setting]["times"][name] * 1000 for setting in ("on", "off"))
            print(f"| {name} | {on:.1f} | {off:.1f} |")
        if not results["off"]["turned_off"]:
            print("\n(SQLite's library could not be reached here: the statistics stayed on on both sides)")
        print(f"\n{machine(load_before)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
