"""GET /api/docs/: Swagger UI for the schema, from the service's own static files."""

import re

from django.contrib.staticfiles import finders


def test_the_docs_page_is_served(anon_client, db):
    response = anon_client.get("/api/docs/")

    assert response.status_code == 200
    assert "swagger" in response.content.decode().lower()


def test_the_docs_page_loads_only_the_services_own_static_files(anon_client, db):
    page = anon_client.get("/api/docs/").content.decode()

    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert len(sources) == 4  # favicon, stylesheet, two scripts
    for source in sources:
        assert source.startswith("/static/drf_spectacular_sidecar/swagger-ui-dist/"), source
        assert finders.find(source.removeprefix("/static/")), source
