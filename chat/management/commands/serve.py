"""`manage.py serve`: the production server.

With `REDIS_URL` set, the production topology under one supervisor (`config/supervisor.py`):
nginx on the public HOST:PORT sends `/ws/` to uvicorn processes (ASGI) and everything else to
gunicorn's WSGI workers, and serves the static files itself. The application servers (gunicorn,
and one uvicorn per ASGI worker, so that the supervisor restarts and names each) listen on Unix
sockets in the run directory, where nginx also keeps its configuration (rendered from
`deploy/nginx/`), temporary files, pid and access log. Beside them run the notification worker
(`manage.py notify`) and, hourly, `purge_attachments`. bench/TOPOLOGY.md has the measurements
behind each choice.

Without `REDIS_URL`, one uvicorn process serves HTTP and WebSocket, as before: with the in-memory
channel layer an event reaches only the sockets of the process that sent it, so several processes
would lose events. The worker and the purge run beside it, under the same supervisor (they
publish no live event).

Metrics (config/metrics.py): with the topology, every worker writes its figures into
`metrics/` in the run directory (`PROMETHEUS_MULTIPROC_DIR`, emptied at each start) and `/metrics`
sums them; the supervisor drops the open-socket gauge of a uvicorn that died. nginx lets only
`METRICS_ALLOWED` read `/metrics`. The one uvicorn process without Redis shows its own figures.
"""

import getpass
import os
import shutil
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import BaseCommand, CommandError
from prometheus_client import multiprocess

from chat.files import MULTIPART_OVERHEAD
from config.supervisor import Program, Supervisor

IN_MEMORY_LAYER = "channels.layers.InMemoryChannelLayer"
TEMPLATES = settings.BASE_DIR / "deploy" / "nginx"
# Where Debian, Fedora and source builds put nginx, often outside a normal user's PATH.
NGINX_DIRS = ["/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin"]
NGINX_MISSING = (
    "nginx is not installed; with REDIS_URL set, `make serve` puts it in front of the workers. "
    "Install it with `sudo apt-get install nginx` (Debian/Ubuntu), `sudo dnf install nginx` "
    "(Fedora) or `brew install nginx` (macOS); it runs as your user, and nothing in /etc/nginx "
    "is used. Or unset REDIS_URL to serve from one process."
)
# The longest Unix socket path the kernel takes (sun_path, 108 bytes on Linux, 104 on macOS).
MAX_SOCKET_PATH = 100
PURGE_EVERY = 3600  # seconds between runs of purge_attachments


def find_nginx() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path=os.pathsep.join(NGINX_DIRS))


def render(template: str, values: dict) -> str:
    """The template with each `{{name}}` replaced; an unknown name is an error."""
    text = (TEMPLATES / template).read_text()
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", str(value))
    if "{{" in text:
        raise CommandError(f"{template}: no value for {text[text.index('{{') :].split()[0]}")
    return text


def asgi_socket(run_dir: Path, number: int) -> Path:
    return run_dir / f"asgi-{number}.sock"


def metrics_access() -> str:
    """nginx's access rules for /metrics: METRICS_ALLOWED (parsed by the settings, so only
    addresses and networks reach the file), then everyone else refused."""
    rules = [f"allow {network};" for network in settings.METRICS_ALLOWED] + ["deny all;"]
    return "\n".join(f"    {rule}" for rule in rules)


def fresh_metrics_dir(run_dir: Path) -> Path:
    """The multiprocess directory of one run: files left by an earlier run would be summed in."""
    directory = run_dir / "metrics"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


def render_nginx(
    run_dir: Path, *, listen: str, asgi_workers: int = 1, worker_processes: int | str = 1
) -> Path:
    """Writes nginx.conf, chat-locations.conf and mime.types into `run_dir`; returns nginx.conf."""
    (run_dir / "tmp").mkdir(parents=True, exist_ok=True)
    values = {
        "run_dir": run_dir,
        "asgi_servers": "\n".join(
            f"        server unix:{asgi_socket(run_dir, number)};"
            for number in range(1, asgi_workers + 1)
        ),
        "listen": listen,
        # One nginx worker serves thousands of requests a second: the cores are for Python.
        "worker_processes": worker_processes,
        # Running as root, nginx would hand its workers to `nobody`, who may not enter the run
        # directory: they run as the user who started it, like every other process here.
        "user_directive": f"user {getpass.getuser()};" if os.geteuid() == 0 else "",
        "access_log": run_dir / "access.log",
        "static_root": Path(settings.STATIC_ROOT).resolve(),
        "client_max_body_size": settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
        "upload_max_body_size": settings.ATTACHMENT_MAX_BYTES + MULTIPART_OVERHEAD,
        "metrics_access": metrics_access(),
    }
    (run_dir / "chat-locations.conf").write_text(render("chat-locations.conf.template", values))
    shutil.copyfile(TEMPLATES / "mime.types", run_dir / "mime.types")
    conf = run_dir / "nginx.conf"
    conf.write_text(render("serve.conf.template", values))
    return conf


class Command(BaseCommand):
    help = "Run the production server: nginx, gunicorn and uvicorn with REDIS_URL, else uvicorn."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="WSGI worker processes (default: one per core); without REDIS_URL, 1.",
        )
        parser.add_argument(
            "--asgi-workers",
            type=int,
            default=None,
            help="uvicorn processes for the WebSockets (default: one per two cores).",
        )
        parser.add_argument(
            "--wsgi-threads",
            type=int,
            default=1,
            help="Threads per WSGI worker (default 1: sync workers; more: gthread workers).",
        )
        parser.add_argument(
            "--run-dir",
            type=Path,
            default=None,
            help="Where nginx's configuration, the sockets and the logs go (default: .run/<port>).",
        )
        parser.add_argument(
            "--nginx-config-only",
            action="store_true",
            help="Only write nginx's configuration into the run directory (for a deployment).",
        )

    def handle(self, *args, host, port, workers, asgi_workers, wsgi_threads, run_dir, **options):
        cores = os.cpu_count() or 1
        asgi_workers = asgi_workers or max(1, cores // 2)
        run_dir = (run_dir or settings.BASE_DIR / ".run" / str(port)).resolve()
        listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if options["nginx_config_only"]:
            conf = render_nginx(run_dir, listen=listen, asgi_workers=asgi_workers)
            self.stdout.write(f"Wrote {conf}, {conf.parent / 'chat-locations.conf'}, mime.types.")
            return
        if settings.DEBUG:
            raise CommandError("DEBUG is on; the production server runs with DEBUG=False.")
        if settings.CHANNEL_LAYERS["default"]["BACKEND"] == IN_MEMORY_LAYER:
            self.serve_one_process(host, port, workers)
        workers = workers or cores
        if min(workers, asgi_workers, wsgi_threads) < 1:
            raise CommandError("--workers, --asgi-workers and --wsgi-threads must be 1 or more.")
        nginx = find_nginx()
        if nginx is None:
            raise CommandError(NGINX_MISSING)
        if len(str(run_dir / "wsgi.sock")) > MAX_SOCKET_PATH:
            raise CommandError(f"--run-dir {run_dir} is too long a path for a Unix socket.")
        if not Path(settings.STATIC_ROOT).is_dir():
            raise CommandError("No static files: run `manage.py collectstatic` first.")
        conf = render_nginx(run_dir, listen=listen, asgi_workers=asgi_workers)
        # Sync workers by measurement (bench/TOPOLOGY.md): nginx buffers requests and responses,
        # so no slow client holds one. --wsgi-threads makes them gthread workers.
        wsgi = (
            ["--worker-class=sync"]
            if wsgi_threads == 1
            else ["--worker-class=gthread", f"--threads={wsgi_threads}"]
        )
        metrics_dir = fresh_metrics_dir(run_dir)
        supervisor = Supervisor(
            self.programs(nginx, conf, run_dir, workers, wsgi, asgi_workers, metrics_dir),
            # A uvicorn that died: its open-socket gauge goes, its counts stay in the sums.
            on_exit=lambda pid: multiprocess.mark_process_dead(pid, str(metrics_dir)),
        )
        self.stdout.write(
            f"Serving on http://{listen}/: nginx in front, {workers} gunicorn "
            f"{wsgi[0].split('=')[1]} worker(s) for HTTP, {asgi_workers} uvicorn process(es) for "
            f"/ws/, Redis channel layer, "
            f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} database; run "
            f"directory {run_dir} (access log: access.log). Ctrl-C stops it all."
        )
        self.stdout.flush()
        sys.exit(supervisor.run())

    def programs(
        self, nginx, conf, run_dir, workers, wsgi, asgi_workers, metrics_dir
    ) -> list[Program]:
        bin_dir = Path(sys.executable).parent
        # Each worker process writes its metrics there; /metrics sums them (config/metrics.py).
        env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
        if int(env.get("NUM_PROXIES") or "0") < 1:
            # The workers see every request from nginx: the client's address is the one nginx
            # appends to X-Forwarded-For (per-IP rate limits count by it).
            env["NUM_PROXIES"] = "1"
        wsgi_socket = str(run_dir / "wsgi.sock")
        return [
            Program(
                "nginx",
                [nginx, "-p", str(run_dir), "-c", str(conf), "-e", "stderr"],
                env=env,
            ),
            Program(
                "wsgi",
                [
                    str(bin_dir / "gunicorn"),
                    "config.wsgi:application",
                    f"--bind=unix:{wsgi_socket}",
                    f"--workers={workers}",
                    *wsgi,
                    "--graceful-timeout=10",
                    "--no-control-socket",
                ],
                env=env,
                socket=wsgi_socket,
            ),
            *self.beside_the_servers(env),
            *(
                Program(
                    f"asgi-{number}",
                    [
                        str(bin_dir / "uvicorn"),
                        "config.asgi:application",
                        f"--uds={asgi_socket(run_dir, number)}",
                        "--no-access-log",
                        # At info, uvicorn logs each socket's path, and with it the access token.
                        "--log-level=warning",
                        "--proxy-headers",
                        "--forwarded-allow-ips=*",
                        "--timeout-graceful-shutdown=5",
                    ],
                    env=env,
                    socket=str(asgi_socket(run_dir, number)),
                )
                for number in range(1, asgi_workers + 1)
            ),
        ]

    def serve_one_process(self, host, port, workers):
        if workers and workers > 1:
            raise CommandError(
                f"Refusing to start {workers} workers on the in-memory channel layer: live "
                "events would only reach sockets of the worker that sent them. Set REDIS_URL "
                "(for example redis://127.0.0.1:6379/0) or run one worker (WORKERS=1)."
            )
        self.stdout.write(
            "REDIS_URL is not set: one uvicorn process serves HTTP and WebSocket, since with the "
            "in-memory channel layer an event reaches only the sockets of its own process. "
            "Beside it, the notification worker and the hourly purge of attachments."
        )
        self.stdout.write(
            f"Serving on http://{host}:{port}/ with the in-memory channel layer, "
            f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} database. "
            "Ctrl-C stops it all."
        )
        self.stdout.flush()
        # One process: /metrics shows its own figures, kept in its memory.
        env = dict(os.environ)
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        server = Program(
            "asgi",
            [
                str(Path(sys.executable).parent / "uvicorn"),
                "config.asgi:application",
                f"--host={host}",
                f"--port={port}",
                "--no-access-log",
                # At info, uvicorn logs each socket's path, and with it the access token.
                "--log-level=warning",
                "--proxy-headers",
            ],
            env=env,
        )
        sys.exit(Supervisor([server, *self.beside_the_servers(env)]).run())

    def beside_the_servers(self, env) -> list[Program]:
        """The programs that serve no request: the notification worker (notifications/), and the
        purge of uploads never sent and of files a crash left without a row (chat/files.py)."""
        return [
            Program("notify", [sys.executable, "manage.py", "notify"], env=env),
            Program(
                "purge",
                [sys.executable, "manage.py", "purge_attachments", f"--every={PURGE_EVERY}"],
                env=env,
            ),
        ]
