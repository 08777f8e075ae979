"""Benchmark `scaffold mcp`: how fast the tools answer an assistant, cold and warm.

    python bench/mcp_bench.py [--runs 20] [--home DIR]

Starts `scaffold mcp --home HOME` (the `scaffold` beside this interpreter) with the SDK's own
stdio client, as an assistant does, in an isolated environment (an empty HOME, so an empty
cache; see _timing.isolated_env). HOME is a fresh `scaffold init` home unless --home names
one. Times are wall-clock per request, measured by the client, so they include the protocol
round trip:

- start: spawning the server until `initialize` has answered;
- cold: the first `get_context` of the session (index, BM25 ranker and redactions built);
- warm: the same `get_context` again (the issue's target: at most 0.1 s);
- new task: a `get_context` for tasks not asked before (index warm, ranking fresh);
- search, read: `search_knowledge` and `read_document` once warm.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import isolated_env, load_average, machine, tool
from mcp import ClientSession, StdioServerParameters, stdio_client

TASK = "add a /refunds endpoint to the billing API"
NEW_TASKS = [
    "rotate the database credentials of billing-api",
    "a Terraform module for the audit log bucket",
    "retry the payment provider calls without a retry storm",
    "roll back the 2.3 release of checkout",
]
TARGET_SECONDS = 0.1


async def session(home: Path, env: dict[str, str], runs: int) -> dict[str, list[float]]:
    params = StdioServerParameters(command=tool("scaffold"), args=["mcp", "--home", str(home)], env=env)
    times: dict[str, list[float]] = {}

    async def timed(row: str, name: str, arguments: dict[str, object]) -> None:
        start = time.perf_counter()
        result = await client.call_tool(name, arguments)
        times.setdefault(row, []).append(time.perf_counter() - start)
        if result.is_error:
            raise SystemExit(f"{name} failed: {result.content}")

    start = time.perf_counter()
    async with stdio_client(params, errlog=sys.stderr) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        times["start (spawn to initialize)"] = [time.perf_counter() - start]
        await timed("get_context, cold", "get_context", {"task": TASK})
        for _ in range(runs):
            await timed("get_context, warm (same task)", "get_context", {"task": TASK})
        for task in NEW_TASKS:
            await timed("get_context, warm (new task)", "get_context", {"task": task})
        await timed("search_knowledge, first", "search_knowledge", {"query": "connection pool"})
        for _ in range(runs):
            await timed("search_knowledge, warm", "search_knowledge", {"query": "connection pool"})
            await timed("read_document, warm", "read_document", {"path": "patterns.md"})
    return times


def row(name: str, samples: list[float]) -> str:
    if len(samples) == 1:
        return f"| {name} | 1 | {samples[0]:.3f} | | |"
    quartiles = statistics.quantiles(samples, n=4, method="inclusive")
    spread = f"{quartiles[0]:.3f}-{quartiles[2]:.3f}"
    return f"| {name} | {len(samples)} | {statistics.median(samples):.3f} | {spread} | {max(samples):.3f} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="warm requests of each kind (default 20)")
    parser.add_argument("--home", type=Path, help="knowledge home to serve (default: a fresh `scaffold init`)")
    args = parser.parse_args()
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="scaffold-mcp-bench-") as tmp:
        env = isolated_env(Path(tmp) / "user")
        home = args.home
        if home is None:
            home = Path(tmp) / "home"
            subprocess.run([tool("scaffold"), "init", str(home)], env=env, check=True, capture_output=True)
        times = asyncio.run(session(home.resolve(), env, args.runs))
    print("| request | n | median s | IQR s | max s |")
    print("|---|---|---|---|---|")
    for name, samples in times.items():
        print(row(name, samples))
    warm = statistics.median(times["get_context, warm (same task)"])
    verdict = "meets" if warm <= TARGET_SECONDS else "misses"
    print(f"\nwarm get_context: median {warm:.3f} s, {verdict} the {TARGET_SECONDS} s target")
    print(f"\n{machine(load_before)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
