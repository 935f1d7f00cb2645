"""The SQL behind each hot endpoint, with its query plan: run by bench/run.py in its own process.

    SQLITE_PATH=bench/data/run-1m.sqlite3 python bench/explain.py endpoints.json

endpoints.json lists {"name", "method", "path", "user"} and an optional JSON "body". Each
request goes through Django's test client with a real JWT (so the auth query is counted too)
inside a transaction that is rolled back; every SELECT/UPDATE/INSERT/DELETE it ran gets
`EXPLAIN QUERY PLAN`. Prints "BENCH_JSON {...}".
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["ALLOWED_HOSTS"] = "testserver"

import django

django.setup()

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.tokens import AccessToken


def plan_of(sql: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        rows = cursor.fetchall()
    depth = {0: 0}
    lines = []
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, 0) + 1
        lines.append("  " * (depth[node] - 1) + detail)
    return lines


def main() -> None:
    endpoints = json.loads(Path(sys.argv[1]).read_text())
    users = get_user_model().objects
    client = Client()
    report = []
    for endpoint in endpoints:
        token = AccessToken.for_user(users.get(username=endpoint["user"]))
        headers = {"Authorization": f"Bearer {token}"}
        with transaction.atomic(), CaptureQueriesContext(connection) as captured:
            response = client.generic(
                endpoint["method"],
                endpoint["path"],
                data=json.dumps(endpoint["body"]) if "body" in endpoint else "",
                content_type="application/json",
                headers=headers,
            )
            transaction.set_rollback(True)
        queries = []
        for query in captured.captured_queries:
            sql = query["sql"]
            verb = sql.split(None, 1)[0].upper()
            plan = plan_of(sql) if verb in {"SELECT", "UPDATE", "INSERT", "DELETE"} else []
            queries.append({"sql": sql, "plan": plan})
        report.append({**endpoint, "status": response.status_code, "queries": queries})
    print("BENCH_JSON " + json.dumps(report))


if __name__ == "__main__":
    main()
