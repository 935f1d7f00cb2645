"""Reading a whole thread through the API, page by page, as a client would."""


def page_through(client, first_url: str, *, limit: int = 3) -> tuple[list[dict], set[int]]:
    """Follow `next` from the first page; returns every message listed and the `count`s seen.

    Fails if a page is empty before the end or if `next` is missing before the last page.
    """
    separator = "&" if "?" in first_url else "?"
    url, listed, counts = f"{first_url}{separator}limit={limit}", [], set()
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        counts.add(body["count"])
        assert body["results"] or not listed, f"an empty page before the end: {url}"
        listed.extend(body["results"])
        url = body["next"]
    return listed, counts


def assert_pages_match(client, thread_id: int, expected_ids: list[int]) -> None:
    """By offset and by keyset (`?before=` from the newest), the pages list exactly the
    thread's messages, newest first, once each, and every page's `count` says how many."""
    messages = f"/api/threads/{thread_id}/messages/"
    newest_first = sorted(expected_ids, reverse=True)
    by_offset, offset_counts = page_through(client, messages)
    assert [m["id"] for m in by_offset] == newest_first
    assert offset_counts == {len(expected_ids)}
    if not expected_ids:
        return
    by_keyset, keyset_counts = page_through(client, f"{messages}?before={newest_first[0] + 1}")
    assert [m["id"] for m in by_keyset] == newest_first
    assert keyset_counts == {len(expected_ids)}
