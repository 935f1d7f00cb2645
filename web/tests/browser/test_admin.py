"""The Django admin, driven in the browser: it lists threads and refuses a third participant."""

import re

from playwright.sync_api import expect

from web.tests.browser.harness import ADMIN


def choose_participant(page, username):
    page.locator(".field-participants .select2-selection").click()
    page.locator(".select2-search__field").fill(username)
    page.locator(".select2-results__option", has_text=re.compile(rf"^{username}$")).click()


def test_admin_lists_threads_and_rejects_a_third_participant(open_page, make_user, server):
    pat, quinn, rosa = make_user("pat"), make_user("quinn"), make_user("rosa")
    pat.send(pat.thread_with(quinn), "for the admin")
    page = open_page()
    page.goto(server.url + "/admin/")
    page.get_by_label("Username").fill(ADMIN[0])
    page.get_by_label("Password").fill(ADMIN[1])
    page.get_by_role("button", name="Log in").click()

    page.goto(server.url + "/admin/chat/thread/")
    expect(page.locator("#result_list")).to_contain_text(f"{pat.username} ↔ {quinn.username}")

    page.goto(server.url + "/admin/chat/thread/add/")
    for user in (pat, quinn, rosa):
        choose_participant(page, user.username)
    expect(page.locator(".select2-selection__choice")).to_have_count(3)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errorlist")).to_contain_text(
        "A thread has exactly two participants; you chose 3."
    )
    page.goto(server.url + "/admin/chat/thread/")
    expect(page.locator("#result_list")).not_to_contain_text(rosa.username)
