"""Django's HTTP application for ASGI servers, its sync work on one lasting thread per process.

Django's `ASGIHandler` runs the sync part of each request (middleware, DRF views, the ORM) in a
`ThreadSensitiveContext` of its own: a new thread for every request, so a new database
connection for every request (connections belong to a thread), and `CONN_MAX_AGE` cannot keep
one. Opening a SQLite connection (connect, pragmas, function registration, schema, a cold page
cache) cost more than the queries of most requests. Entering a context with one shared
single-thread executor first makes every request's sync code run on the same thread, as in a
WSGI worker, and the connection lasts. bench/RESULTS.md has the numbers.

The trade is the WSGI one: a worker runs one request's sync code at a time (the GIL allowed
little more); run as many workers as cores. Only HTTP goes through it; other scopes pass as
they are.
"""

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from django.core.asgi import get_asgi_application


def get_http_application():
    django_application = get_asgi_application()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="django-http")

    async def application(scope, receive, send):
        if scope["type"] != "http":
            return await django_application(scope, receive, send)
        async with ThreadSensitiveContext(executor=executor):
            return await django_application(scope, receive, send)

    return application
