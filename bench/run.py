"""The benchmark behind `make bench`: seed, serve, load each hot endpoint, write bench/RESULTS.md.

    .venv/bin/python bench/run.py             # everything (about 10 minutes on 2 cores)
    .venv/bin/python bench/run.py --quick     # shorter runs, for trying changes

Steps: seed (or reuse) one database per data size in bench/data/ with `manage.py seed_bench`;
for each size, copy it to a scratch file, start the production server on it, and drive each hot
endpoint with wrk (16 connections, a separate process) beside the two ceilings /healthz and
/api/users/me/; then 16 concurrent writers post for 30 s (bench/writers.py) and the messages are
counted afterwards. At the largest size the alternative servers are measured too. Results go to
bench/data/results.json, bench/RESULTS.md and bench/latency_vs_size.png.
"""

import argparse
import json
import os
import platform
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tests.servers
from tests.stats import weighted_percentile

BENCH = ROOT / "bench"
DATA = BENCH / "data"
BIN = Path(sys.executable).parent
CONNECTIONS = 16

# (users, threads, messages) per data size.
SIZES = {
    "10k": (100, 1_000, 10_000),
    "100k": (1_000, 10_000, 100_000),
    "1m": (10_000, 100_000, 1_000_000),
}

UVICORN = [str(BIN / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1"]
UVICORN_QUIET = ["--no-access-log", "--log-level", "warning"]
GUNICORN = [str(BIN / "gunicorn"), "--bind", "127.0.0.1:{port}", "--log-level", "warning"]
GRANIAN = [str(BIN / "granian"), "--host", "127.0.0.1", "--log-level", "warning", "--no-ws"]
SERVERS = {
    # The entry point the project documents (config.asgi: Django's HTTP handler with its sync
    # work on one lasting thread per worker, config/asgi_http.py).
    "uvicorn-2": [*UVICORN, "--port", "{port}", "--workers", "2", *UVICORN_QUIET],
    "uvicorn-3": [*UVICORN, "--port", "{port}", "--workers", "3", *UVICORN_QUIET],
    # Django's own ASGI handler, as config.asgi was before: a new thread and a new database
    # connection for every request.
    "uvicorn-2-plain-django": [
        *UVICORN[:1], "--factory", "django.core.asgi:get_asgi_application",
        *UVICORN[2:], "--port", "{port}", "--workers", "2", *UVICORN_QUIET,
    ],
    "gunicorn-uvicorn-worker-2": [
        *GUNICORN, "-w", "2", "-k", "uvicorn_worker.UvicornWorker", "config.asgi:application",
    ],
    "granian-asgi-2": [
        *GRANIAN, "--port", "{port}", "--interface", "asgi", "--workers", "2",
        "config.asgi:application",
    ],
    "granian-wsgi-2": [
        *GRANIAN, "--port", "{port}", "--interface", "wsgi", "--workers", "2",
        "--blocking-threads", "1", "config.wsgi:application",
    ],
    "gunicorn-sync-2": [*GUNICORN, "-w", "2", "config.wsgi:application"],
    "gunicorn-sync-4": [*GUNICORN, "-w", "4", "config.wsgi:application"],
    "gunicorn-gthread-2x4": [
        *GUNICORN, "-w", "2", "-k", "gthread", "--threads", "4", "config.wsgi:application",
    ],
}  # fmt: skip
DEFAULT_SERVER = "uvicorn-2"
# The endpoints that decide a server: the ceilings and the three targets.
SERVER_ENDPOINTS = ["healthz", "me", "unread_count", "thread_list", "messages_first"]
# The word seed_bench puts in one text of 4,096: search's rare case.
RARE_WORD = "zanzibar"


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)


def server_env(database: Path) -> dict:
    return tests.servers.server_env(
        SECRET_KEY_DJANGO_SETTINGS="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",  # noqa: S106
        SQLITE_PATH=str(database),
        JWT_ACCESS_MINUTES="600",
        THROTTLE_SEND="10000000/min",  # 16 writers as fast as the server answers
        THROTTLE_UPLOAD="10000000/min",
        MEDIA_ROOT=str(DATA / "media"),
        LOG_LEVEL="WARNING",
    )


def seed(size: str) -> Path:
    users, threads, messages = SIZES[size]
    path = DATA / f"seed-{size}.sqlite3"
    log(f"seed {size}: {users:,} users, {threads:,} threads, {messages:,} messages -> {path}")
    subprocess.run(
        [sys.executable, "manage.py", "seed_bench", "--db", str(path), "--users", str(users),
         "--threads", str(threads), "--messages", str(messages)],
        cwd=ROOT, env=server_env(path), check=True,
    )  # fmt: skip
    return path


def scratch_copy(seeded: Path, size: str) -> Path:
    """A fresh copy for one run: the writes of a run never reach the seeded file."""
    target = DATA / f"run-{size}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(seeded, target)
    return target


class BenchServer(tests.servers.Server):
    """A server of tests/servers.py that logs each user in once: a login costs a password hash,
    ~0.5 s of the server's CPU, which would otherwise count against the requests measured."""

    def login(self, username: str, password: str = "bench-pass") -> str:  # noqa: S107 - seeded
        tokens = vars(self).setdefault("tokens", {})
        if username not in tokens:
            tokens[username] = super().login(username, password)
        return tokens[username]


def start_server(name: str, database: Path) -> BenchServer:
    """One of SERVERS on `database`, in a process group of its own (stopped whole), its output
    in bench/data/server-<name>.log."""
    try:
        return BenchServer(
            server_env(database),
            command=SERVERS[name],
            log=DATA / f"server-{name}.log",
            new_session=True,
            timeout=60,
        )
    except RuntimeError:
        raise RuntimeError(f"{name} did not start; see bench/data/server-{name}.log") from None


def parse_bench_json(output: str) -> dict:
    for line in output.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON ") :])
    raise RuntimeError(f"no result in the output:\n{output[-2000:]}")


def wrk(
    server: BenchServer,
    paths: list[str],
    *,
    token: str | None,
    method: str,
    seconds: float,
    body: tuple[Path, str] | None = None,
    connections: int = CONNECTIONS,
):
    """`body`: a file holding each request's body, and its Content-Type."""
    env = {**os.environ, "BENCH_PATHS": ",".join(paths), "BENCH_METHOD": method}
    if token:
        env["BENCH_TOKEN"] = token
    if body:
        env["BENCH_BODY_FILE"], env["BENCH_CONTENT_TYPE"] = str(body[0]), body[1]
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}",
               f"-d{max(1, round(seconds))}s", "--timeout", "10s",
               "-s", str(BENCH / "load.lua"), server.url("/")]  # fmt: skip
    return parse_bench_json(
        subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    )


def merge_runs(runs: list[dict]) -> dict:
    """One result from several wrk runs of an endpoint: totals, and percentiles of the merged
    latency distribution (each run's 1000 quantiles weighted by its request count)."""
    requests = sum(run["requests"] for run in runs)
    seconds = sum(run["duration_us"] for run in runs) / 1_000_000
    samples = [(quantile, run["requests"] / 1000) for run in runs for quantile in run["quantiles"]]
    return {
        "requests": requests,
        "duration_us": int(seconds * 1_000_000),
        "rps": requests / seconds,
        "errors": sum(run["errors"] for run in runs),
        "p50": weighted_percentile(samples, 0.50),
        "p95": weighted_percentile(samples, 0.95),
        "p99": weighted_percentile(samples, 0.99),
        "max": max(run["max"] for run in runs),
        "rounds": len(runs),
    }


class Fixtures:
    """Ids the load needs, read from the database before the server starts."""

    def __init__(self, database: Path) -> None:
        with sqlite3.connect(database) as db:
            q = db.execute
            names = [f"bench_user_{n}" for n in range(1, CONNECTIONS + 1)]
            self.user_ids = dict(
                q(
                    "SELECT username, id FROM auth_user WHERE username IN "
                    "(SELECT value FROM json_each(?))",
                    (json.dumps(names),),
                ).fetchall()
            )
            user1, user2 = self.user_ids["bench_user_1"], self.user_ids["bench_user_2"]
            self.deep_thread = q(
                "SELECT id FROM chat_thread WHERE user_low_id = ? AND user_high_id = ?",
                (min(user1, user2), max(user1, user2)),
            ).fetchone()[0]
            self.deep_count = q(
                "SELECT count(*) FROM chat_message WHERE thread_id = ?", (self.deep_thread,)
            ).fetchone()[0]
            # "Deep history": halfway back through the busiest thread, by offset and by keyset.
            self.deep_offset = self.deep_count // 2
            self.deep_before = q(
                "SELECT id FROM chat_message WHERE thread_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
                (self.deep_thread, self.deep_offset - 1),
            ).fetchone()[0]
            self.user1_threads = [
                row[0]
                for row in q(
                    "SELECT thread_id FROM chat_participant WHERE user_id = ? ORDER BY thread_id",
                    (user1,),
                )
            ]
            self.writer_threads = []
            for n in range(1, CONNECTIONS + 1):
                user = self.user_ids[f"bench_user_{n}"]
                threads = [
                    row[0]
                    for row in q(
                        "SELECT thread_id FROM chat_participant WHERE user_id = ? "
                        "ORDER BY thread_id LIMIT 40",
                        (user,),
                    )
                ]
                taken = set(self.writer_threads)
                self.writer_threads.append(next(t for t in threads if t not in taken))
            self.user1_threads_count = len(self.user1_threads)
            self.user1_rare = q(
                "SELECT count(*) FROM chat_message_fts WHERE chat_message_fts MATCH ?",
                (f'who : "u{user1}" AND text : "{RARE_WORD}"',),
            ).fetchone()[0]
            self.user1_unread = q(
                "SELECT count(*) FROM chat_message WHERE recipient_id = ? AND is_read = 0",
                (user1,),
            ).fetchone()[0]

    def endpoints(self) -> dict:
        deep = f"/api/threads/{self.deep_thread}/messages/"
        return {
            "healthz": ("GET", ["/healthz"], None),
            "me": ("GET", ["/api/users/me/"], "bench_user_1"),
            "unread_count": ("GET", ["/api/messages/unread-count/"], "bench_user_1"),
            "thread_list": ("GET", ["/api/threads/"], "bench_user_1"),
            "messages_first": ("GET", [deep], "bench_user_1"),
            "messages_deep_offset": ("GET", [f"{deep}?offset={self.deep_offset}"], "bench_user_1"),
            "messages_deep_before": ("GET", [f"{deep}?before={self.deep_before}"], "bench_user_1"),
            # Search at this size: a rare word, a common word, a prefix, two words together,
            # one thread.
            "search_rare": ("GET", [f"/api/messages/search/?q={RARE_WORD}"], "bench_user_1"),
            "search_common": ("GET", ["/api/messages/search/?q=hello"], "bench_user_1"),
            "search_prefix": ("GET", ["/api/messages/search/?q=tom"], "bench_user_1"),
            "search_two_words": (
                "GET",
                ["/api/messages/search/?q=tomorrow%20later"],
                "bench_user_1",
            ),
            "search_thread": (
                "GET",
                [f"/api/messages/search/?q=hello&thread={self.deep_thread}"],
                "bench_user_1",
            ),
            "mark_thread_read": (
                "POST",
                [f"/api/threads/{thread}/read/" for thread in self.user1_threads[:500]],
                "bench_user_1",
            ),
        }


def count_messages(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT count(*) FROM chat_message").fetchone()[0]


def measure_reads(server, fixtures, names, *, seconds: float, warmup: float, rounds: int) -> dict:
    """Each endpoint for `seconds` in all, in `rounds` interleaved rounds: whatever else the
    machine does meanwhile falls on every endpoint alike, so the ratios to /me hold."""
    token = server.login("bench_user_1")
    endpoints = fixtures.endpoints()
    runs = {name: [] for name in names}
    for name in names:
        method, paths, user = endpoints[name]
        wrk(server, paths, token=token if user else None, method=method, seconds=warmup)
    cpu = dict.fromkeys(names, 0.0)
    for _ in range(rounds):
        for name in names:
            method, paths, user = endpoints[name]
            before = server.cpu_seconds()
            runs[name].append(
                wrk(server, paths, token=token if user else None, method=method,
                    seconds=seconds / rounds)
            )  # fmt: skip
            cpu[name] += server.cpu_seconds() - before
    results = {}
    for name in names:
        r = results[name] = merge_runs(runs[name])
        r["cpu_us"] = cpu[name] * 1_000_000 / max(r["requests"], 1)
        log(
            f"  {name:<22} {r['rps']:8.0f} req/s  p50 {r['p50'] / 1000:6.1f} ms  "
            f"p95 {r['p95'] / 1000:6.1f} ms  p99 {r['p99'] / 1000:6.1f} ms  "
            f"server CPU {r['cpu_us']:5.0f} us/req  errors {r['errors']}"
        )
    return results


def measure_posting(server, fixtures, database: Path, *, seconds: float) -> dict:
    jobs = [
        {"token": server.login(f"bench_user_{n}"), "thread": thread}
        for n, thread in enumerate(fixtures.writer_threads, start=1)
    ]
    jobs_file = DATA / "writers.json"
    jobs_file.write_text(json.dumps(jobs))
    before = count_messages(database)
    output = subprocess.run(
        [sys.executable, str(BENCH / "writers.py"), "--port", str(server.port),
         "--seconds", str(seconds), "--jobs", str(jobs_file)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    result = parse_bench_json(output)
    after = count_messages(database)
    ids = result.pop("ids")
    with sqlite3.connect(database) as db:
        stored = db.execute(
            "SELECT count(*) FROM chat_message WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),),
        ).fetchone()[0]
    result.update(
        rows_before=before,
        rows_after=after,
        rows_added=after - before,
        answered_ids_stored=stored,
        lost=result["created"] - stored,
        rps=result["created"] / (result["duration_us"] / 1_000_000),
    )
    log(f"  post_message {result['rps']:.0f} msg/s, {result['created']} created, "
        f"{result['rows_added']} rows added, {result['errors']} errors, {result['lost']} lost, "
        f"p50 {result['p50'] / 1000:.1f} ms p99 {result['p99'] / 1000:.1f} ms")  # fmt: skip
    return result


def explain(database: Path, fixtures: Fixtures) -> list:
    specs = [
        {"name": name, "method": method, "path": paths[0], "user": user or "bench_user_1"}
        for name, (method, paths, user) in fixtures.endpoints().items()
        if name != "healthz"
    ]
    specs.append({"name": "post_message", "method": "POST", "user": "bench_user_1",
                  "path": f"/api/threads/{fixtures.deep_thread}/messages/",
                  "body": {"text": "explain"}})  # fmt: skip
    spec_file = DATA / "explain.json"
    spec_file.write_text(json.dumps(specs))
    output = subprocess.run(
        [sys.executable, str(BENCH / "explain.py"), str(spec_file)],
        cwd=ROOT, env=server_env(database), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return parse_bench_json(output)


def versions() -> dict:
    def version_of(package: str) -> str:
        try:
            from importlib.metadata import version

            return version(package)
        except Exception:
            return "not installed"

    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "cpu_model": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        ),
        "platform": platform.platform(),
        "wrk": wrk_version.splitlines()[0] if wrk_version else "?",
        **{
            package: version_of(package)
            for package in [
                "Django",
                "djangorestframework",
                "djangorestframework-simplejwt",
                "uvicorn",
                "gunicorn",
                "uvicorn-worker",
                "granian",
                "uvloop",
                "httptools",
            ]
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs (trying changes)")
    parser.add_argument("--sizes", default=",".join(SIZES), help="data sizes, e.g. 1m")
    parser.add_argument("--servers", default=",".join(SERVERS), help="servers compared at 1m")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="server for the main run")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per endpoint")
    parser.add_argument("--post-seconds", type=float, default=None)
    parser.add_argument(
        "--server-seconds", type=float, default=None, help="seconds per endpoint, other servers"
    )
    parser.add_argument("--note", default="", help="a line for RESULTS.md (e.g. busy machine)")
    parser.add_argument("--no-report", action="store_true", help="skip RESULTS.md and the plot")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (Debian/Ubuntu) or brew install wrk.")
    seconds = args.seconds or (3 if args.quick else 10)
    warmup = 1 if args.quick else 2
    post_seconds = args.post_seconds or (5 if args.quick else 30)
    server_seconds = args.server_seconds or (3 if args.quick else 6)
    rounds = 1 if args.quick else 3
    DATA.mkdir(parents=True, exist_ok=True)
    sizes = [size for size in args.sizes.split(",") if size]
    servers = [name for name in args.servers.split(",") if name]
    started = time.time()
    results = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "command": shlex.join(["python", "bench/run.py", *sys.argv[1:]]),
        "versions": versions(),
        "server": args.server,
        "seconds": seconds,
        "server_seconds": server_seconds,
        "rounds": rounds,
        "note": args.note,
        "post_seconds": post_seconds,
        "connections": CONNECTIONS,
        "sizes": {},
        "servers": {},
    }
    seeded = {size: seed(size) for size in sizes}
    for size in sizes:
        database = scratch_copy(seeded[size], size)
        fixtures = Fixtures(database)
        log(f"size {size}: bench_user_1 has {fixtures.user1_threads_count} threads, "
            f"{fixtures.user1_unread} unread; deep thread {fixtures.deep_thread} has "
            f"{fixtures.deep_count} messages")  # fmt: skip
        entry = {"fixtures": {k: v for k, v in vars(fixtures).items() if not k.endswith("s")}}
        entry["fixtures"].update(users=SIZES[size][0], threads=SIZES[size][1],
                                 messages=SIZES[size][2])  # fmt: skip
        entry["explain"] = explain(database, fixtures)
        server = start_server(args.server, database)
        try:
            log(f"size {size}: {args.server} on port {server.port}")
            entry["reads"] = measure_reads(
                server, fixtures, list(fixtures.endpoints()), seconds=seconds, warmup=warmup,
                rounds=rounds,
            )  # fmt: skip
            if size == sizes[-1]:
                entry["post"] = measure_posting(server, fixtures, database, seconds=post_seconds)
        finally:
            server.stop()
        results["sizes"][size] = entry
    largest = sizes[-1]
    for name in servers:
        if name == args.server:
            continue
        database = scratch_copy(seeded[largest], largest)
        fixtures = Fixtures(database)
        log(f"server {name} at {largest}")
        try:
            server = start_server(name, database)
        except RuntimeError as error:
            log(f"  {error}")
            results["servers"][name] = {"error": str(error)}
            continue
        try:
            results["servers"][name] = measure_reads(
                server, fixtures, SERVER_ENDPOINTS, seconds=server_seconds, warmup=1,
                rounds=rounds,
            )  # fmt: skip
        finally:
            server.stop()
    results["servers"][args.server] = {
        name: results["sizes"][largest]["reads"][name] for name in SERVER_ENDPOINTS
    }
    results["elapsed_s"] = round(time.time() - started)
    (DATA / "results.json").write_text(json.dumps(results, indent=1))
    log(f"done in {results['elapsed_s']} s; results in bench/data/results.json")
    if not args.no_report:
        subprocess.run([sys.executable, str(BENCH / "report.py")], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
