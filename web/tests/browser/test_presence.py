"""Presence in the web client: the other person's online dot in the thread list and the
conversation's header, "online" then "last seen …" as their page opens and closes (the test server
has a one-second PRESENCE_GRACE), and the setting that hides one's own."""

from playwright.sync_api import expect

from web.tests.browser.test_changing_messages import open_thread, thread_link


def test_the_other_person_shows_online_then_last_seen(open_page, make_user):
    ivy, jon = make_user("ivy"), make_user("jon")
    ivy.thread_with(jon)
    ivy_page = open_page(ivy)
    open_thread(ivy_page, jon)
    link = thread_link(ivy_page, jon)
    status = ivy_page.locator("#conversation-presence")
    header_dot = ivy_page.locator(".conversation-header .presence-dot")
    expect(link.locator(".presence-dot")).to_have_count(0)
    expect(status).to_have_text("")  # never seen

    jon_page = open_page(jon)
    expect(link.locator(".presence-dot")).to_be_visible()
    expect(link).to_contain_text(f"{jon.username} (online)")
    expect(status).to_have_text("online")
    expect(header_dot).to_be_visible()

    jon_page.close()
    expect(status).to_have_text("last seen just now")
    expect(link.locator(".presence-dot")).to_have_count(0)
    expect(header_dot).to_have_count(0)
    presence = ivy.call("GET", f"/api/users/{jon.id}/presence/")
    assert presence["online"] is False
    assert presence["last_seen"] is not None


def patched_me(response):
    return response.request.method == "PATCH" and response.url.endswith("/api/users/me/")


def test_hiding_my_presence(open_page, make_user):
    kim, lou = make_user("kim"), make_user("lou")
    kim.thread_with(lou)
    lou_page = open_page(lou)
    lou_page.get_by_role("button", name="Settings").click()
    settings = lou_page.get_by_role("dialog", name="Settings")
    toggle = settings.get_by_role("checkbox", name="Show when I'm online")
    expect(toggle).to_be_checked()
    with lou_page.expect_response(patched_me):
        toggle.uncheck()
    expect(toggle).not_to_be_checked()
    settings.get_by_role("button", name="Close").click()
    expect(lou_page.get_by_role("button", name="Settings")).to_be_focused()
    assert lou.call("GET", "/api/users/me/")["show_presence"] is False

    # Lou's page is open, yet Kim sees neither a dot nor a time.
    kim_page = open_page(kim)
    open_thread(kim_page, lou)
    expect(kim_page.locator("#conversation-presence")).to_have_text("")
    expect(thread_link(kim_page, lou).locator(".presence-dot")).to_have_count(0)

    # After a reload, the setting is as saved.
    lou_page.reload()
    lou_page.get_by_role("button", name="Settings").click()
    expect(toggle).not_to_be_checked()
    with lou_page.expect_response(patched_me):
        toggle.check()
    expect(toggle).to_be_checked()
    assert lou.call("GET", "/api/users/me/")["show_presence"] is True
