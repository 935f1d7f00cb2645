"""The reports queue of the admin, driven in the browser: an operator finds a report, reads it
in its thread's context, and deactivates the sender, who is logged out at once."""

import pytest
from playwright.sync_api import expect

from web.tests.browser.harness import ADMIN, ApiFailed


def log_in_to_admin(page, server):
    page.goto(server.url + "/admin/")
    page.get_by_label("Username").fill(ADMIN[0])
    page.get_by_label("Password").fill(ADMIN[1])
    page.get_by_role("button", name="Log in").click()


def test_an_operator_works_a_report_through_the_queue(open_page, make_user, server):
    pat, quinn = make_user("pat"), make_user("quinn")
    thread = pat.thread_with(quinn)
    pat.send(thread, "first, harmless")
    reported = pat.send(thread, "a threat worth reporting")
    pat.send(thread, "and one after")
    quinn.call("POST", f"/api/messages/{reported['id']}/report/", {"reason": "harassment"})
    page = open_page()
    log_in_to_admin(page, server)

    page.goto(server.url + "/admin/chat/report/")
    page.get_by_role("link", name="harassment").first.click()  # the reason filter
    rows = page.locator("#result_list tbody tr")
    expect(rows.filter(has_text="a threat worth reporting")).to_have_count(1)

    rows.filter(has_text="a threat worth reporting").locator("th a").click()
    context = page.locator(".field-in_context")
    expect(context.locator("tr.reported")).to_contain_text("a threat worth reporting")
    expect(context).to_contain_text("first, harmless")
    expect(context).to_contain_text("and one after")

    page.go_back()
    rows.filter(has_text="a threat worth reporting").locator("input.action-select").check()
    page.locator("select[name=action]").select_option("deactivate_senders")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text("1 account(s) deactivated.")

    with pytest.raises(ApiFailed) as refused:
        pat.send(thread, "still here?")
    assert refused.value.status == 401
    page.goto(server.url + "/admin/chat/report/?state=actioned")
    expect(page.locator("#result_list")).to_contain_text("a threat worth reporting")
