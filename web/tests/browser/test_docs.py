"""The API docs, Swagger UI at /api/docs/, with no network: everything the page loads comes from
the service itself.

The page is opened under a public host name (`PUBLIC_HOST`) that the test answers from the
test server, as a reader would see it: Swagger UI treats 127.0.0.1 and localhost specially (it
never loads its validator badge, an image from validator.swagger.io, for them).
"""

from urllib.parse import urlsplit

from playwright.sync_api import expect

PUBLIC_HOST = "chat.example.com"


def serve_only_the_service(page, server) -> tuple[list[str], list[str]]:
    """Answers the page's requests to `PUBLIC_HOST` from the test server and aborts every other
    one. Returns the lists it fills: the aborted URLs, and the requests that failed or got an
    error status."""
    served_by = urlsplit(server.url).netloc
    aborted, failed = [], []

    def route(route):
        url = urlsplit(route.request.url)
        if url.hostname != PUBLIC_HOST:
            aborted.append(route.request.url)
            route.abort()
            return
        response = route.fetch(url=url._replace(netloc=served_by).geturl())
        if response.status >= 400:
            failed.append(f"{response.status} {route.request.url}")
        route.fulfill(response=response)

    page.route("**/*", route)
    page.on("requestfailed", lambda request: failed.append(f"failed: {request.url}"))
    return aborted, failed


def operation_count(server) -> int:
    schema = server.request("GET", "/api/schema/?format=json")
    return sum(len(operations) for operations in schema["paths"].values())


def test_swagger_ui_lists_every_operation_with_nothing_from_outside(open_page, server):
    page = open_page()
    aborted, failed = serve_only_the_service(page, server)

    page.goto(f"http://{PUBLIC_HOST}/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Chat service API")
    expect(page.locator(".opblock-summary-path[data-path='/api/threads/']").first).to_be_visible()
    expect(page.locator(".opblock")).to_have_count(operation_count(server))
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert aborted == []
    assert failed == []
