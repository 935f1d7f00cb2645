"""Time or profile one endpoint in-process, without a server: the quick loop for finding costs.

    SQLITE_PATH=bench/data/run-1m.sqlite3 python bench/profile.py thread_list [--profile]

Requests go through the WSGI application as gunicorn calls it (middleware, JWT auth,
view, renderer, connection handling) with the production settings, as bench_user_1 against the
deep thread of the bench data. Times are CPU time, the best of five rounds. With --profile,
pyinstrument shows where the time goes (and writes bench/data/profile-<endpoint>.html).
"""

import argparse
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["ALLOWED_HOSTS"] = "testserver"
os.environ["DEBUG"] = "False"  # the production settings: DEBUG would log every query

import django

django.setup()

from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import AccessToken

from chat.models import Message, Thread


def paths() -> dict:
    user1 = get_user_model().objects.get(username="bench_user_1")
    user2 = get_user_model().objects.get(username="bench_user_2")
    low, high = sorted((user1.pk, user2.pk))
    deep = Thread.objects.get(user_low_id=low, user_high_id=high).pk
    count = Message.objects.filter(thread_id=deep).count()
    before = (
        Message.objects.filter(thread_id=deep)
        .order_by("-id")
        .values_list("id", flat=True)[count // 2]
    )
    base = f"/api/threads/{deep}/messages/"
    return {
        "healthz": "/healthz",
        "me": "/api/users/me/",
        "unread_count": "/api/messages/unread-count/",
        "thread_list": "/api/threads/",
        "messages_first": base,
        "messages_deep_offset": f"{base}?offset={count // 2}",
        "messages_deep_before": f"{base}?before={before}",
        "search_rare": "/api/messages/search/?q=zanzibar",
        "search_common": "/api/messages/search/?q=hello",
        "search_prefix": "/api/messages/search/?q=tom",
        "search_two_words": "/api/messages/search/?q=tomorrow%20later",
        "search_thread": f"/api/messages/search/?q=hello&thread={deep}",
        # A send to the deep thread, as bench_user_1 (the writers of bench/topology.py post the
        # same text to threads of their own).
        "post": f"POST {base}",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("endpoints", nargs="*")
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--profile", action="store_true", help="pyinstrument, flat")
    parser.add_argument("--tree", action="store_true", help="with --profile: the call tree")
    args = parser.parse_args()
    user = get_user_model().objects.get(username="bench_user_1")
    from config.wsgi import application as handler  # as gunicorn loads it

    token = f"Bearer {AccessToken.for_user(user)}"

    def get(path: str) -> str:
        method, _, path = path.rpartition(" ")
        route, _, query = path.partition("?")
        body = b'{"text": "bench message"}' if method == "POST" else b""
        environ = {
            "REQUEST_METHOD": method or "GET", "PATH_INFO": route, "QUERY_STRING": query,
            "SERVER_NAME": "testserver", "SERVER_PORT": "80", "HTTP_HOST": "testserver",
            "HTTP_AUTHORIZATION": token, "wsgi.url_scheme": "http",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }  # fmt: skip
        statuses = []
        body = b"".join(handler(environ, lambda status, headers: statuses.append(status)))
        assert statuses[0][:3] in ("200", "201"), (statuses, body)
        return body

    table = paths()
    for name in args.endpoints or list(table):
        path = table[name]
        for _ in range(20):
            get(path)
        profiler = None
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
            profiler.start()
        # CPU time, best of five rounds: other processes on a busy 2-core machine only add to it.
        rounds = []
        for _ in range(5):
            started = time.process_time()
            for _ in range(args.n // 5):
                get(path)
            rounds.append((time.process_time() - started) / (args.n // 5))
        if profiler:
            profiler.stop()
            from pyinstrument.renderers import ConsoleRenderer

            if args.tree:
                print(profiler.output_text(unicode=True, color=False))
            else:
                flat = ConsoleRenderer(unicode=True, color=False, flat=True, show_all=True)
                print("\n".join(profiler.output(flat).splitlines()[:40]))
            out = Path(__file__).parent / "data" / f"profile-{name}.html"
            out.write_text(profiler.output_html())
        print(f"{name:<22} {min(rounds) * 1e6:8.0f} us CPU/request  (best of 5 rounds)")


if __name__ == "__main__":
    main()
