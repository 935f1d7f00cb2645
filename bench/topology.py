"""The production topology against the framework's floor, on the same data in the same run.

    .venv/bin/python bench/topology.py [--seconds 6] [--post-seconds 20] [--note '...']
    make bench-topology            # the same; about 6 minutes, not part of `make test`

Servers, all started at once on one copy of the seeded 1M-message database (bench/README.md) and
measured in turn, in interleaved rounds, so that other load on the machine falls on all alike:
- serve: `manage.py serve` with REDIS_URL set, measured on its public port (nginx; 2 gunicorn
  sync workers for HTTP, 1 uvicorn worker for /ws/; static files by nginx);
- serve-gthread: the same with gunicorn's gthread workers (2 workers x 4 threads);
- serve-4: the same with 4 sync workers (posting only);
- gunicorn: config.wsgi on `gunicorn -w 2` alone, no nginx (static files by WhiteNoise);
- floor: a bare Django + DRF + Simple JWT authenticated no-op on `gunicorn -w 2` (bench/floor/),
  what the framework costs before any of this service's code.
The five searches of `make bench` (a rare word, a common word, a prefix, two words, one thread)
run on serve and the floor, at 16 connections and one at a time. Files: the busiest thread's
first page before and after photos are put on half of its messages, and uploads of a photo,
beside the floor. Then 16 writers post through each serve variant for --post-seconds (every 201
must be a row), and WebSocket pairs time POST -> `message.created` on the other participant's
socket through serve's public port. Writes bench/data/topology.json and a Markdown report
(--output).
"""

import argparse
import asyncio
import json
import os
import platform
import shlex
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import run
import ws_fanout

from tests.servers import manage, redis_answers
from tests.stats import percentile

BIN = Path(sys.executable).parent
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
STATIC_FILE = "/static/web/app.js"
READS = ["me", "unread_count", "thread_list", "messages_first"]
SEARCHES = ["search_rare", "search_common", "search_prefix", "search_two_words", "search_thread"]
POSTING = ["serve", "serve-gthread", "serve-4"]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def start_servers(database: Path) -> dict:
    env = run.server_env(database) | {"STATIC_ROOT": str(run.DATA / "static")}
    manage("migrate", "--noinput", env=env)
    manage("collectstatic", "--noinput", env=env)
    serve = [sys.executable, "manage.py", "serve", "--port={port}", "--workers=2"]
    servers = {}

    def topology(name: str, *extra: str) -> run.BenchServer:
        return run.BenchServer(
            env | {"REDIS_URL": REDIS_URL, "CHANNEL_LAYER_PREFIX": f"bench-{uuid.uuid4().hex[:8]}"},
            command=[*serve, f"--run-dir={run.DATA / ('run-' + name)}", *extra],
            log=run.DATA / f"server-{name}.log",
            timeout=60,
        )

    gunicorn = [str(BIN / "gunicorn"), "--bind=127.0.0.1:{port}", "-w", "2", "--no-control-socket"]
    servers["serve"] = topology("serve")
    servers["serve-gthread"] = topology("serve-gthread", "--wsgi-threads=4")
    servers["serve-4"] = topology("serve-4", "--workers=4")  # posting only
    servers["gunicorn"] = run.BenchServer(
        env,
        command=[*gunicorn, "config.wsgi:application"],
        log=run.DATA / "server-gunicorn.log",
        timeout=60,
    )
    servers["floor"] = run.BenchServer(
        env | {"DJANGO_SETTINGS_MODULE": "floor_settings"},
        command=[*gunicorn, "--chdir", str(ROOT / "bench" / "floor"), "floor_app:application"],
        log=run.DATA / "server-floor.log",
        timeout=60,
    )
    return servers


def endpoints(fixtures: run.Fixtures, server: str, names: list[str]) -> dict:
    if server == "floor":
        return {"noop": ("GET", ["/noop/"], "bench_user_1")}
    chosen = {name: fixtures.endpoints()[name] for name in names}
    if names == READS:
        chosen["static"] = ("GET", [STATIC_FILE], None)
    return chosen


def measure(
    servers: dict,
    fixtures,
    *,
    seconds: float,
    rounds: int,
    names=READS,
    connections: int = run.CONNECTIONS,
) -> dict:
    token = servers["serve"].login("bench_user_1")  # the floor takes the same tokens
    plan = {name: endpoints(fixtures, name, names) for name in servers}
    runs = {(s, e): [] for s in servers for e in plan[s]}
    cpu = dict.fromkeys(runs, 0.0)
    for server_name, server in servers.items():  # warm-up
        for method, paths, user in plan[server_name].values():
            run.wrk(server, paths, token=token if user else None, method=method, seconds=1,
                    connections=connections)  # fmt: skip
    for number in range(rounds):
        run.log(f"round {number + 1}/{rounds} (load average {load_average()})")
        for server_name, server in servers.items():
            for endpoint, (method, paths, user) in plan[server_name].items():
                before = server.cpu_seconds()
                runs[server_name, endpoint].append(
                    run.wrk(
                        server, paths, token=token if user else None, method=method,
                        seconds=seconds / rounds, connections=connections,
                    )
                )  # fmt: skip
                cpu[server_name, endpoint] += server.cpu_seconds() - before
    results = {}
    for (server_name, endpoint), server_runs in runs.items():
        merged = run.merge_runs(server_runs)
        merged["cpu_us"] = cpu[server_name, endpoint] * 1e6 / max(merged["requests"], 1)
        results.setdefault(server_name, {})[endpoint] = merged
        run.log(
            f"  {server_name:<14} {endpoint:<15} {merged['rps']:7.0f} req/s  "
            f"p50 {merged['p50'] / 1000:5.1f} ms  p99 {merged['p99'] / 1000:6.1f} ms  "
            f"CPU {merged['cpu_us']:5.0f} us/req  errors {merged['errors']}"
        )
    return results


PHOTO_SIZE = (1600, 1200)  # 1.9 megapixels: a phone photo, scaled down as apps send them
FILES_ON_PAGE = 10  # of the 20 messages of the first page


def photo_upload_body() -> tuple[Path, str]:
    """A multipart body holding one JPEG photo (noise over a gradient, so it compresses like a
    photograph), written once into bench/data; and its Content-Type."""
    import io
    import random

    from PIL import Image

    width, height = PHOTO_SIZE
    image = Image.linear_gradient("L").resize(PHOTO_SIZE).convert("RGB")
    noise = Image.frombytes("RGB", PHOTO_SIZE, random.Random(7).randbytes(width * height * 3))
    photo = io.BytesIO()
    Image.blend(image, noise, 0.3).save(photo, "JPEG", quality=85)
    boundary = "bench-upload-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + photo.getvalue()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    path = run.DATA / "upload-body.bin"
    path.write_bytes(body)
    return path, f"multipart/form-data; boundary={boundary}"


def put_files_on_the_first_page(server, fixtures, body: tuple[Path, str]) -> None:
    """Half the messages of the busiest thread's first page carry a photo, sent through the API
    as a client sends them: upload, then send with the id."""
    import urllib.request

    token = server.login("bench_user_1")
    path = f"/api/threads/{fixtures.deep_thread}/messages/"
    for number in range(FILES_ON_PAGE):
        request = urllib.request.Request(
            server.url("/api/attachments/"),
            data=body[0].read_bytes(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": body[1]},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            attachment = json.loads(response.read())
        status, _ = server.call(
            "POST", path, {"text": f"photo {number}", "attachments": [attachment["id"]]}, token
        )
        assert status == 201
        assert server.call("POST", path, {"text": f"about photo {number}"}, token)[0] == 201


def measure_files(servers: dict, fixtures, *, seconds: float, rounds: int) -> dict:
    """The busiest thread's first page without files, then with photos on half its messages,
    and uploads of a photo (16 connections, as bench_user_1), each beside the floor, in
    interleaved rounds."""
    body = photo_upload_body()
    serve, floor = servers["serve"], servers["floor"]
    token = serve.login("bench_user_1")
    page = [f"/api/threads/{fixtures.deep_thread}/messages/"]
    results = wrk_rounds(
        {"floor": (floor, "GET", ["/noop/"], None), "page": (serve, "GET", page, None)},
        token,
        seconds=seconds,
        rounds=rounds,
    )
    put_files_on_the_first_page(serve, fixtures, body)
    with_files = wrk_rounds(
        {
            "floor": (floor, "GET", ["/noop/"], None),
            "page": (serve, "GET", page, None),
            "upload": (serve, "POST", ["/api/attachments/"], body),
        },
        token,
        seconds=seconds,
        rounds=rounds,
    )
    return {
        "without_files": results,
        "with_files": with_files,
        "photo_bytes": body[0].stat().st_size,
    }


def wrk_rounds(jobs: dict, token: str, *, seconds: float, rounds: int) -> dict:
    """Each job (server, method, paths, body) under wrk for `seconds` in all, in rounds."""
    runs = {name: [] for name in jobs}
    cpu = dict.fromkeys(jobs, 0.0)
    for number in range(rounds):
        run.log(f"files, round {number + 1}/{rounds} (load average {load_average()})")
        for name, (server, method, paths, body) in jobs.items():
            before = server.cpu_seconds()
            runs[name].append(
                run.wrk(
                    server, paths, token=token, method=method, seconds=seconds / rounds, body=body
                )
            )
            cpu[name] += server.cpu_seconds() - before
    results = {}
    for name, name_runs in runs.items():
        merged = run.merge_runs(name_runs)
        merged["cpu_us"] = cpu[name] * 1e6 / max(merged["requests"], 1)
        results[name] = merged
        run.log(
            f"  {name:<30} {merged['rps']:7.0f} req/s  p50 {merged['p50'] / 1000:6.1f} ms  "
            f"p99 {merged['p99'] / 1000:6.1f} ms  CPU {merged['cpu_us']:6.0f} us  "
            f"errors {merged['errors']}"
        )
    return results


def measure_posting(servers: dict, fixtures, database, *, seconds: float, rounds: int) -> dict:
    """16 writers through each server for `seconds` in all, in interleaved rounds."""
    runs = {name: [] for name in servers}
    for server in servers.values():
        for number in range(1, run.CONNECTIONS + 1):
            server.login(f"bench_user_{number}")
    for number in range(rounds):
        for name, server in servers.items():
            run.log(f"posting through {name}, round {number + 1}/{rounds} ({load_average()})")
            before = server.cpu_seconds()
            posted = run.measure_posting(server, fixtures, database, seconds=seconds / rounds)
            posted["cpu_s"] = server.cpu_seconds() - before
            runs[name].append(posted)
    merged = {}
    for name, server_runs in runs.items():
        created = sum(r["created"] for r in server_runs)
        requests = sum(r["requests"] for r in server_runs)
        merged[name] = {
            "rps": created / (sum(r["duration_us"] for r in server_runs) / 1e6),
            "created": created,
            "errors": sum(r["errors"] for r in server_runs),
            "lost": sum(r["lost"] for r in server_runs),
            "cpu_us": sum(r["cpu_s"] for r in server_runs) * 1e6 / max(requests, 1),
            # Percentiles of the rounds: the median of their p50s, the worst of their p99s.
            "p50": sorted(r["p50"] for r in server_runs)[len(server_runs) // 2],
            "p99": max(r["p99"] for r in server_runs),
        }
    return merged


READ_TITLES = {
    "me": "`GET /api/users/me/`",
    "unread_count": "`GET /api/messages/unread-count/`",
    "thread_list": "`GET /api/threads/` (bench_user_1)",
    "messages_first": "`GET /api/threads/<busiest>/messages/` (first page)",
    "static": f"`GET {STATIC_FILE}` (23 KB)",
}


def report(results: dict) -> str:
    lines = [
        f"- Run: {results['started']}, {results['elapsed_s']} s; command `{results['command']}`",
        f"- Machine: {results['cpus']} cores, Python {results['python']}, nginx "
        f"{results['nginx']}; load average (1/5/15 min) before {results['load_before']}, after "
        f"{results['load_after']}",
        f"- Data: the 1M-message seed; wrk, {run.CONNECTIONS} connections, {results['seconds']} s "
        f"per endpoint in {results['rounds']} interleaved rounds; ratio = req/s ÷ the floor's.",
        *([f"- Note: {results['note']}"] if results["note"] else []),
    ]
    floor = results["reads"]["floor"]["noop"] if "reads" in results else None
    if floor and "serve" in results["reads"]:
        lines += read_tables(results["reads"], floor)
    if floor and results.get("search"):
        lines += search_table(results, floor)
    if "post" in results:
        lines += [
            "",
            f"**Posting**, 16 writers through each for {results['post_seconds']} s in all, in "
            f"{results['rounds']} interleaved rounds (serve-4: 4 sync workers; p50 the median "
            "of the rounds', p99 the worst):",
            "",
            "| server | messages/s | ratio to floor | server CPU µs/message (CPU ratio) "
            "| p50 / p99 ms | errors | lost |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for server, r in results["post"].items():
            ratios = (
                (f"{r['rps'] / floor['rps']:.2f}", f" ({floor['cpu_us'] / r['cpu_us']:.2f})")
                if floor
                else ("n/a", "")
            )
            lines.append(
                f"| {server} | {r['rps']:.0f} | {ratios[0]} | {r['cpu_us']:.0f}{ratios[1]} | "
                f"{r['p50'] / 1000:.1f} / {r['p99'] / 1000:.1f} | {r['errors']} | {r['lost']} |"
            )
    if results.get("files"):
        lines += files_table(results["files"])
    if results.get("websocket"):
        lines += [
            "",
            "**WebSocket**, POST (through nginx to gunicorn) → `message.created` on the other "
            "participant's socket (through nginx to uvicorn), serve's public port:",
            "",
            "| pairs | messages | p50 / p95 / p99 ms |",
            "|---:|---:|---:|",
            *(
                f"| {row['pairs']} | {row['messages']} | {row['p50']:.1f} / {row['p95']:.1f} / "
                f"{row['p99']:.1f} |"
                for row in results["websocket"]
            ),
        ]
    return "\n".join(lines)


def read_tables(reads: dict, floor: dict) -> list[str]:
    servers = ["serve", "serve-gthread", "gunicorn"]
    lines = [
        "",
        "**Reads** (req/s, p50 / p99 in ms, ratio to the floor):",
        "",
        "| endpoint | " + " | ".join(f"{s}: req/s (p50 / p99 ms) ratio" for s in servers) + " |",
        "|---|" + "---:|" * len(servers),
        f"| floor: bare Django + DRF + Simple JWT no-op, `gunicorn -w 2` | {floor['rps']:.0f} "
        f"({floor['p50'] / 1000:.1f} / {floor['p99'] / 1000:.1f}) 1.00 | | |",
    ]
    for endpoint, title in READ_TITLES.items():
        cells = [
            f"{r['rps']:.0f} ({r['p50'] / 1000:.1f} / {r['p99'] / 1000:.1f}) "
            f"{r['rps'] / floor['rps']:.2f}"
            for r in (reads[server][endpoint] for server in servers)
        ]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "**Server CPU per request** (µs, all the server's processes, nginx included; CPU ratio "
        "= the floor's CPU per request ÷ this one's, which other load on the machine distorts "
        "far less than req/s):",
        "",
        "| endpoint | " + " | ".join(f"{s}: µs (CPU ratio)" for s in servers) + " |",
        "|---|" + "---:|" * len(servers),
        f"| floor no-op | {floor['cpu_us']:.0f} (1.00) | | |",
    ]
    for endpoint, title in READ_TITLES.items():
        cells = [
            f"{r['cpu_us']:.0f} ({floor['cpu_us'] / r['cpu_us']:.2f})"
            for r in (reads[server][endpoint] for server in servers)
        ]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return lines


SEARCH_TITLES = {
    "search_rare": f"`?q={run.RARE_WORD}` (a rare word)",
    "search_common": "`?q=hello` (a common word)",
    "search_prefix": "`?q=tom` (a prefix)",
    "search_two_words": "`?q=tomorrow later` (two words)",
    "search_thread": "`?q=hello&thread=<busiest>` (one thread)",
}


def search_table(results: dict, floor: dict) -> list[str]:
    """Search at 16 connections (req/s, ratio to the floor's, CPU) and one at a time (latency,
    beside the floor's own at one connection)."""
    searches, alone = results["search"]["serve"], results["search_alone"]
    floor_alone = alone["floor"]["noop"]
    lines = [
        "",
        "**Search** as bench_user_1 (58,176 messages in 3,741 threads), `GET "
        "/api/messages/search/` through serve's public port: at 16 connections (req/s, p50 / p99 "
        "ms, ratio to the floor, server CPU µs a request) and one search at a time (p50 / p99 ms; "
        f"the floor's own at one connection: {floor_alone['p50'] / 1000:.1f} / "
        f"{floor_alone['p99'] / 1000:.1f} ms):",
        "",
        "| query | req/s | p50 / p99 ms | ratio | CPU µs | one at a time: p50 / p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for endpoint, title in SEARCH_TITLES.items():
        r, one = searches[endpoint], alone["serve"][endpoint]
        lines.append(
            f"| {title} | {r['rps']:.0f} | {r['p50'] / 1000:.1f} / {r['p99'] / 1000:.1f} | "
            f"{r['rps'] / floor['rps']:.2f} | {r['cpu_us']:.0f} | "
            f"{one['p50'] / 1000:.1f} / {one['p99'] / 1000:.1f} |"
        )
    return lines


def files_table(files: dict) -> list[str]:
    rows = [
        ("first message page, no files", files["without_files"]["page"],
         files["without_files"]["floor"]),
        (f"first message page, {FILES_ON_PAGE} of its 20 messages with a photo",
         files["with_files"]["page"], files["with_files"]["floor"]),
        (f"`POST /api/attachments/`: a {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} JPEG "
         f"({files['photo_bytes'] / 1024:.0f} KB)", files["with_files"]["upload"],
         files["with_files"]["floor"]),
    ]  # fmt: skip
    lines = [
        "",
        "**Files** through serve's public port, each beside the floor measured in the same rounds "
        "(req/s, p50 / p99 ms, ratio to the floor, server CPU µs a request):",
        "",
        "| request | req/s | p50 / p99 ms | ratio | CPU µs | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for title, r, floor in rows:
        lines.append(
            f"| {title} | {r['rps']:.0f} | {r['p50'] / 1000:.1f} / {r['p99'] / 1000:.1f} | "
            f"{r['rps'] / floor['rps']:.2f} | {r['cpu_us']:.0f} | {r['errors']} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6, help="per endpoint and server")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--post-seconds", type=float, default=20)
    parser.add_argument("--ws-messages", type=int, default=30, help="per pair, 16 pairs")
    parser.add_argument(
        "--parts",
        default="reads,search,files,post,ws",
        help="what to measure, of reads, search, files, post and ws",
    )
    parser.add_argument("--note", default="")
    parser.add_argument("--output", type=Path, help="write the Markdown report here")
    args = parser.parse_args()
    if not redis_answers():
        sys.exit("Redis does not answer on 127.0.0.1:6379; the topology needs it.")
    started = time.time()
    results = {
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": shlex.join(["python", "bench/topology.py", *sys.argv[1:]]),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "nginx": os.popen("nginx -v 2>&1").read().strip().split("/")[-1],  # noqa: S605
        "seconds": args.seconds,
        "rounds": args.rounds,
        "post_seconds": args.post_seconds,
        "note": args.note,
        "load_before": load_average(),
    }
    run.DATA.mkdir(parents=True, exist_ok=True)
    seeded = run.DATA / "seed-1m.sqlite3"
    if not seeded.exists():
        run.seed("1m")
    database = run.scratch_copy(seeded, "1m")
    fixtures = run.Fixtures(database)
    if not fixtures.user1_rare:
        sys.exit(f"{seeded} predates search's rare word ('{run.RARE_WORD}'): delete it and run "
                 "again to seed it anew (about 3 minutes).")  # fmt: skip
    servers = start_servers(database)
    try:
        parts = args.parts.split(",")
        if "reads" in parts:
            readers = {name: server for name, server in servers.items() if name != "serve-4"}
            results["reads"] = measure(readers, fixtures, seconds=args.seconds, rounds=args.rounds)
        if "search" in parts:
            searchers = {name: servers[name] for name in ("serve", "floor")}
            results["search"] = measure(
                searchers, fixtures, seconds=args.seconds, rounds=args.rounds, names=SEARCHES
            )
            # And one search at a time, as a person searching meets it (the floor likewise).
            results["search_alone"] = measure(
                searchers, fixtures, seconds=args.seconds, rounds=args.rounds, names=SEARCHES,
                connections=1,
            )  # fmt: skip
            results.setdefault("reads", {"floor": results["search"]["floor"]})
        if "files" in parts:
            results["files"] = measure_files(
                servers, fixtures, seconds=args.seconds, rounds=args.rounds
            )
        if "post" in parts:
            results["post"] = measure_posting(
                {name: servers[name] for name in POSTING},
                fixtures,
                database,
                seconds=args.post_seconds,
                rounds=args.rounds,
            )
        results["websocket"] = []
        for pairs, messages in ((1, 50), (16, args.ws_messages)) if "ws" in parts else ():
            run.log(f"WebSocket: {pairs} pair(s)")
            latencies = [
                1000 * s
                for s in asyncio.run(ws_fanout.latency_run(servers["serve"], pairs, messages))
            ]
            results["websocket"].append(
                {
                    "pairs": pairs,
                    "messages": len(latencies),
                    **{f"p{q}": percentile(latencies, q / 100) for q in (50, 95, 99)},
                }
            )
            run.log(f"  {results['websocket'][-1]}")
    finally:
        for server in servers.values():
            server.stop()
    results["load_after"] = load_average()
    results["elapsed_s"] = round(time.time() - started)
    (run.DATA / "topology.json").write_text(json.dumps(results, indent=1))
    text = report(results)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
