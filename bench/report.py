"""Write bench/RESULTS.md and bench/latency_vs_size.png from bench/data/results.json.

    .venv/bin/python bench/report.py

The analysis (what was changed, the profiles, why a target is missed) is bench/ANALYSIS.md,
written by hand and included as it is.
"""

import json
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "data" / "results.json"
READS = [
    "unread_count",
    "thread_list",
    "messages_first",
    "messages_deep_offset",
    "messages_deep_before",
    "mark_thread_read",
    "search_rare",
    "search_common",
    "search_prefix",
    "search_two_words",
    "search_thread",
]
LABELS = {
    "healthz": "`GET /healthz` (ceiling, no auth)",
    "me": "`GET /api/users/me/` (ceiling, auth)",
    "unread_count": "`GET /api/messages/unread-count/`",
    "thread_list": "`GET /api/threads/` (bench_user_1, first page)",
    "messages_first": "`GET /api/threads/<busiest>/messages/` (first page)",
    "messages_deep_offset": "… `?offset=<half the thread>` (deep, offset)",
    "messages_deep_before": "… `?before=<id half way>` (deep, keyset)",
    "mark_thread_read": "`POST /api/threads/<id>/read/` (500 of bench_user_1's threads)",
    "search_rare": "`GET /api/messages/search/?q=zanzibar` (a rare word)",
    "search_common": "… `?q=hello` (a common word)",
    "search_prefix": "… `?q=tom` (a prefix)",
    "search_two_words": "… `?q=tomorrow later` (two words)",
    "search_thread": "… `?q=hello&thread=<busiest>` (one thread)",
}
# Endpoint: (minimum throughput as a share of /api/users/me/, or None).
TARGETS = {"unread_count": 0.8, "thread_list": 0.5, "messages_first": 0.6}
P99_TARGET_MS = 50


def ms(microseconds: float) -> str:
    return f"{microseconds / 1000:.1f}"


def endpoint_table(reads: dict) -> list[str]:
    me = reads["me"]["rps"]
    lines = [
        "| endpoint | req/s | p50 ms | p95 ms | p99 ms | errors | ratio to /me | server CPU "
        "µs/request | CPU ratio (/me CPU ÷ its CPU) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ["healthz", "me", *READS]:
        if name not in reads:
            continue
        r = reads[name]
        lines.append(
            f"| {LABELS[name]} | {r['rps']:.0f} | {ms(r['p50'])} | {ms(r['p95'])} | "
            f"{ms(r['p99'])} | {r['errors']} | {r['rps'] / me:.2f} | {r['cpu_us']:.0f} | "
            f"{reads['me']['cpu_us'] / r['cpu_us']:.2f} |"
        )
    return lines


def targets_table(reads: dict, post: dict | None) -> list[str]:
    me = reads["me"]["rps"]
    lines = ["| target | measured | verdict |", "|---|---:|---|"]
    for name, share in TARGETS.items():
        ratio = reads[name]["rps"] / me
        cpu_ratio = reads["me"]["cpu_us"] / reads[name]["cpu_us"]
        verdict = (
            "met" if ratio >= share else f"missed by {share - ratio:.2f} ({ratio / share:.0%})"
        )
        lines.append(
            f"| {name} ≥ {share} x /me throughput | {ratio:.2f} (by server CPU per request: "
            f"{cpu_ratio:.2f}) | {verdict} |"
        )
    for name in ["me", *READS]:
        p99 = reads[name]["p99"] / 1000
        verdict = "met" if p99 < P99_TARGET_MS else f"missed by {p99 - P99_TARGET_MS:.1f} ms"
        lines.append(f"| {name} p99 < {P99_TARGET_MS} ms | {p99:.1f} ms | {verdict} |")
    if post:
        ok = post["errors"] == 0 and post["lost"] == 0 and post["rows_added"] == post["created"]
        lines.append(
            f"| posting, 16 writers: 0 errors, 0 lost | {post['errors']} errors, "
            f"{post['lost']} lost, {post['created']} answered 201 = {post['rows_added']} rows "
            f"added | {'met' if ok else 'missed'} |"
        )
    return lines


def flatness_table(sizes: dict) -> list[str]:
    names = list(sizes)
    header = "| endpoint | " + " | ".join(
        f"{sizes[s]['fixtures']['messages']:,} msgs: p50 / p99 ms (req/s)" for s in names
    )
    lines = [header + " |", "|---|" + "---:|" * len(names)]
    for endpoint in ["me", *READS]:
        cells = []
        for size in names:
            r = sizes[size]["reads"].get(endpoint)
            cells.append(f"{ms(r['p50'])} / {ms(r['p99'])} ({r['rps']:.0f})" if r else "-")
        lines.append(f"| {endpoint} | " + " | ".join(cells) + " |")
    return lines


def fixtures_table(sizes: dict) -> list[str]:
    lines = [
        "| data | users | threads | messages | bench_user_1's threads | its unread | "
        "busiest thread's messages |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for size, entry in sizes.items():
        f = entry["fixtures"]
        lines.append(
            f"| {size} | {f['users']:,} | {f['threads']:,} | {f['messages']:,} | "
            f"{f['user1_threads_count']:,} | {f['user1_unread']:,} | {f['deep_count']:,} |"
        )
    return lines


def servers_table(servers: dict, default: str) -> list[str]:
    columns = ["healthz", "me", "unread_count", "thread_list", "messages_first"]
    lines = [
        "| server | "
        + " | ".join(f"{c} req/s (p99 ms; server CPU/request)" for c in columns)
        + " | ratios unread / list / page |",
        "|---|" + "---:|" * (len(columns) + 1),
    ]
    for name, reads in servers.items():
        if "error" in reads:
            lines.append(f"| {name} | failed to start: {reads['error']} |")
            continue
        cells = [
            f"{reads[c]['rps']:.0f} ({ms(reads[c]['p99'])}; {reads[c]['cpu_us']:.0f} µs)"
            for c in columns
        ]
        me = reads["me"]["rps"]
        ratios = " / ".join(
            f"{reads[c]['rps'] / me:.2f}" for c in ["unread_count", "thread_list", "messages_first"]
        )
        marker = " (main run)" if name == default else ""
        lines.append(f"| {name}{marker} | " + " | ".join(cells) + f" | {ratios} |")
    return lines


def query_plans(explain: list) -> list[str]:
    lines = []
    for endpoint in explain:
        lines.append(
            f"**{endpoint['name']}** `{endpoint['method']} {endpoint['path']}` → "
            f"{endpoint['status']}, {len(endpoint['queries'])} queries"
        )
        lines.append("")
        lines.append("```")
        for number, query in enumerate(endpoint["queries"], start=1):
            sql = " ".join(query["sql"].split())
            if len(sql) > 600:
                sql = sql[:600] + " …"
            lines.append(f"{number}. {sql}")
            lines.extend(f"     {line}" for line in query["plan"])
        lines.append("```")
        lines.append("")
    return lines


def query_counts(sizes: dict) -> list[str]:
    names = list(sizes)
    lines = ["| endpoint | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    endpoints = [e["name"] for e in sizes[names[0]]["explain"]]
    for endpoint in endpoints:
        counts = []
        for size in names:
            match = [e for e in sizes[size]["explain"] if e["name"] == endpoint]
            counts.append(str(len(match[0]["queries"])) if match else "-")
        lines.append(f"| {endpoint} | " + " | ".join(counts) + " |")
    return lines


def plot(sizes: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = [sizes[s]["fixtures"]["messages"] for s in sizes]
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    for endpoint in ["me", *READS]:
        for axis, key in zip(axes, ["p50", "p99"], strict=True):
            values = [sizes[s]["reads"][endpoint][key] / 1000 for s in sizes]
            axis.plot(counts, values, marker="o", label=endpoint)
    for axis, key in zip(axes, ["p50", "p99"], strict=True):
        axis.set_xscale("log")
        axis.set_ylim(bottom=0)
        axis.set_xlabel("messages in the database")
        axis.set_ylabel(f"{key} latency, ms (16 concurrent clients)")
        axis.set_title(f"{key} latency against data size")
        axis.grid(True, which="both", alpha=0.3)
    axes[1].axhline(P99_TARGET_MS, color="red", linestyle="--", linewidth=1, label="p99 target")
    axes[1].legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    results = json.loads(RESULTS.read_text())
    sizes = results["sizes"]
    largest = list(sizes)[-1]
    main_reads = sizes[largest]["reads"]
    post = sizes[largest].get("post")
    versions = results["versions"]
    lines = [
        "# Benchmark results",
        "",
        "Generated by `make bench` (bench/run.py, then bench/report.py); the analysis at the end",
        "is bench/ANALYSIS.md. Reproduce with `make bench` (about 10 minutes).",
        "",
        f"- Run: {results['started']}, {results['elapsed_s']} s in all; command "
        f"`{results['command']}`",
        f"- Machine: {versions['cpus']} cores ({versions['cpu_model']}), {versions['platform']}",
        f"- Python {versions['python']}, SQLite {versions['sqlite']}, Django "
        f"{versions['Django']}, DRF {versions['djangorestframework']}, Simple JWT "
        f"{versions['djangorestframework-simplejwt']}, uvicorn {versions['uvicorn']} "
        f"(uvloop {versions['uvloop']}, httptools {versions['httptools']}), gunicorn "
        f"{versions['gunicorn']}, uvicorn-worker {versions['uvicorn-worker']}, granian "
        f"{versions['granian']}; load: {versions['wrk']}",
        f"- Load: wrk, {results['connections']} connections (2 threads), in its own process on "
        f"the same 2 cores as the server; {results['seconds']} s per endpoint "
        f"({results['server_seconds']} s in the server comparison) after a warm-up, in "
        f"{results['rounds']} interleaved rounds (every endpoint in turn, so that other load on "
        "the machine falls on all alike); percentiles of the merged rounds. Posting: "
        f"bench/writers.py, 16 keep-alive connections, {results['post_seconds']} s.",
        f"- Server of the main run: `{results['server']}` (see 'Choosing the production server').",
        "",
    ]
    if results.get("note"):
        lines += [f"> {results['note']}", ""]
    lines += [
        f"## At {sizes[largest]['fixtures']['messages']:,} messages",
        "",
        *endpoint_table(main_reads),
        "",
    ]
    if post:
        lines += [
            f"**Posting**, 16 concurrent writers for {results['post_seconds']} s: "
            f"**{post['rps']:.0f} messages/s**, {post['created']} created (201), "
            f"{post['errors']} errors, rows {post['rows_before']:,} → {post['rows_after']:,} "
            f"(+{post['rows_added']}), {post['lost']} answered ids missing from the database; "
            f"latency p50 {ms(post['p50'])} ms, p95 {ms(post['p95'])} ms, p99 "
            f"{ms(post['p99'])} ms.",
            "",
        ]
    lines += [
        "## Targets",
        "",
        *targets_table(main_reads, post),
        "",
        "## Latency against data size",
        "",
        "The same endpoints on 10k, 100k and 1M messages (users and threads scaled alike):",
        "",
        *fixtures_table(sizes),
        "",
        *flatness_table(sizes),
        "",
        "![latency against data size](latency_vs_size.png)",
        "",
        "Query counts per request (from the EXPLAIN run, JWT user query included):",
        "",
        *query_counts(sizes),
        "",
        "## Choosing the production server",
        "",
        "Superseded for `make serve` with `REDIS_URL`: nginx in front of gunicorn sync workers "
        "(REST) and uvicorn (WebSocket), measured against a bare Django + DRF + Simple JWT no-op "
        "in [TOPOLOGY.md](TOPOLOGY.md). This table compares single servers; without `REDIS_URL`, "
        "`make serve` still runs one uvicorn process.",
        "",
        f"All on the {largest} data, same load:",
        "",
        *servers_table(results["servers"], results["server"]),
        "",
        f"## EXPLAIN QUERY PLAN of each hot query ({largest})",
        "",
        *query_plans(sizes[largest]["explain"]),
    ]
    for part in ("ANALYSIS.md", "WEBSOCKET.md"):  # written by hand, and by `make bench-ws`
        if (BENCH / part).exists():
            lines += [(BENCH / part).read_text()]
    (BENCH / "RESULTS.md").write_text("\n".join(lines) + "\n")
    plot(sizes, BENCH / "latency_vs_size.png")
    print("wrote bench/RESULTS.md and bench/latency_vs_size.png")


if __name__ == "__main__":
    main()
