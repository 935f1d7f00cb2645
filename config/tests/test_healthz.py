"""GET /healthz: whether the service and its database answer."""

from django.db import DatabaseError

import config.urls


def test_healthz_answers_ok_without_auth(anon_client, db):
    response = anon_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_answers_503_when_the_database_does_not(anon_client, db, monkeypatch):
    class BrokenConnection:
        def cursor(self):
            raise DatabaseError("database is gone")

    monkeypatch.setattr(config.urls, "connection", BrokenConnection())

    response = anon_client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] != "ok"
