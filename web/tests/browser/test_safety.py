"""Safety in the web client: block and unblock (the other side gets the server's neutral refusal,
its text kept), report a message with a reason, mute a conversation (its bell in the list, after
a reload too)."""

import json
import re

from playwright.sync_api import expect

from tests.servers import manage
from web.tests.browser.test_changing_messages import choose, message, open_thread, thread_link


def message_box(page):
    return page.get_by_label("Message", exact=True)


def test_block_stops_both_sides_and_unblock_lets_them_write_again(open_page, make_user):
    ann, ben = make_user("ann"), make_user("ben")
    ann.send(ann.thread_with(ben), "hi Ben")
    ann_page, ben_page = open_page(ann), open_page(ben)
    open_thread(ann_page, ben)
    open_thread(ben_page, ann)

    ann_page.get_by_role("button", name=f"Block {ben.username}", exact=True).click()
    dialog = ann_page.get_by_role("dialog", name=f"Block {ben.username}?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Block", exact=True).click()
    # The bar in place of the composer (the announcer holds the same words for screen readers).
    notice = ann_page.locator("#block-bar").get_by_text(f"You blocked {ben.username}.")
    expect(notice).to_be_visible()
    expect(message_box(ann_page)).to_be_hidden()
    unblock = ann_page.get_by_role("button", name="Unblock", exact=True)
    # The focus goes back to the header's button, now the other way round.
    expect(ann_page.get_by_role("button", name=f"Unblock {ben.username}")).to_be_focused()

    # Nothing of mine reaches Ben meanwhile, edits included; deleting still works.
    message(ann_page, "hi Ben").get_by_role("button", name="Message actions").click()
    expect(ann_page.get_by_role("menuitem", name="Delete…")).to_be_focused()
    expect(ann_page.get_by_role("menuitem", name="Edit", exact=True)).to_be_hidden()
    ann_page.keyboard.press("Escape")

    # Ben is not told; his send is refused with the server's neutral words, and his text stays.
    box = message_box(ben_page)
    box.fill("are you there?")
    box.press("Enter")
    expect(ben_page.locator("#composer-error")).to_have_text("You cannot message this person.")
    expect(box).to_have_value("are you there?")
    expect(ben_page.locator(".message.pending")).to_have_count(0)
    expect(ben_page.locator(".message")).to_have_count(1)

    # Still blocked after a reload; the settings list Ben.
    ann_page.reload()
    expect(notice).to_be_visible()
    ann_page.get_by_role("button", name="Settings").click()
    settings = ann_page.get_by_role("dialog", name="Settings")
    expect(settings.get_by_role("list", name="Blocked people")).to_contain_text(ben.username)
    settings.get_by_role("button", name="Close").click()

    unblock.click()
    ann_page.get_by_role("dialog", name=f"Unblock {ben.username}?").get_by_role(
        "button", name="Unblock", exact=True
    ).click()
    expect(notice).to_be_hidden()
    expect(message_box(ann_page)).to_be_visible()
    expect(ann_page.get_by_role("button", name=f"Block {ben.username}", exact=True)).to_be_visible()

    box.press("Enter")
    expect(message(ann_page, "are you there?")).to_be_visible()
    expect(ben_page.locator("#composer-error")).to_have_text("")
    expect(box).to_have_value("")


def test_unblock_from_the_settings(open_page, make_user):
    cy, dee = make_user("cy"), make_user("dee")
    cy.thread_with(dee)
    cy.call("POST", f"/api/users/{dee.id}/block/")
    page = open_page(cy)
    page.get_by_role("button", name="Settings").click()
    settings = page.get_by_role("dialog", name="Settings")
    blocked = settings.get_by_role("list", name="Blocked people")
    expect(blocked.get_by_role("listitem")).to_have_count(1)
    settings.get_by_role("button", name=f"Unblock {dee.username}").click()
    expect(blocked.get_by_role("listitem")).to_have_count(0)
    expect(settings).to_contain_text("You have not blocked anyone.")
    assert cy.call("GET", "/api/users/blocked/")["count"] == 0


def test_report_a_message_with_a_reason_and_a_comment(open_page, make_user, server):
    eve, finn = make_user("eve"), make_user("finn")
    thread = eve.thread_with(finn)
    sent = eve.send(thread, "buy cheap watches")
    finn.send(thread, "no thanks")
    finn_page = open_page(finn)
    open_thread(finn_page, eve)

    # Not offered on one's own messages.
    message(finn_page, "no thanks").get_by_role("button", name="Message actions").click()
    expect(finn_page.get_by_role("menuitem", name="Report…")).to_be_hidden()
    finn_page.keyboard.press("Escape")

    choose(finn_page, "buy cheap watches", "Report…")
    dialog = finn_page.get_by_role("dialog", name="Report this message")
    expect(dialog.locator("blockquote")).to_have_text("buy cheap watches")
    expect(dialog.get_by_role("radio", name="Spam")).to_be_focused()
    dialog.get_by_role("radio", name="Spam").check()
    comment = dialog.get_by_label("Comment")
    comment.fill("third time today")
    expect(dialog.get_by_text("16 / 1000")).to_be_visible()
    dialog.get_by_role("button", name="Report", exact=True).click()
    done = finn_page.get_by_role("dialog", name="Reported")
    expect(done.get_by_role("heading", name="Reported")).to_be_visible()
    expect(done.get_by_role("button", name="Close")).to_be_focused()
    done.get_by_role("button", name="Close").click()
    expect(done).to_be_hidden()

    output = manage(
        "shell",
        "-c",
        "import json; from chat.models import Report; print(json.dumps(list("
        f"Report.objects.filter(reporter_id={finn.id})"
        ".values('message_id', 'reporter__username', 'reason', 'comment'))))",
        env=server.env,
    )
    reports = json.loads(output.strip().splitlines()[-1])
    assert reports == [
        {
            "message_id": sent["id"],
            "reporter__username": finn.username,
            "reason": "spam",
            "comment": "third time today",
        }
    ]


def test_mute_shows_in_the_list_and_survives_a_reload(open_page, make_user):
    gil, hal = make_user("gil"), make_user("hal")
    gil.thread_with(hal)
    page = open_page(gil)
    open_thread(page, hal)
    link = thread_link(page, hal)
    expect(link.locator(".muted-icon")).to_have_count(0)

    mute = page.get_by_role("button", name="Mute conversation", exact=True)
    mute.press("Enter")
    expect(mute).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("menuitem", name="For 1 hour")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("menuitem", name="Until I unmute")).to_be_focused()
    page.keyboard.press("Enter")
    expect(link.locator(".muted-icon")).to_be_visible()
    expect(link).to_contain_text("Muted")
    expect(page.get_by_role("button", name="Unmute conversation", exact=True)).to_be_visible()
    assert gil.call("GET", "/api/threads/")["results"][0]["muted"] is True

    page.reload()
    expect(thread_link(page, hal).locator(".muted-icon")).to_be_visible()
    open_thread(page, hal)
    page.get_by_role("button", name="Unmute conversation", exact=True).click()
    expect(thread_link(page, hal).locator(".muted-icon")).to_have_count(0)
    expect(page.get_by_role("button", name="Mute conversation", exact=True)).to_be_visible()

    # For 8 hours: the tooltip says until when.
    page.get_by_role("button", name="Mute conversation", exact=True).click()
    page.get_by_role("menuitem", name="For 8 hours").click()
    unmute = page.get_by_role("button", name="Unmute conversation", exact=True)
    expect(unmute).to_have_attribute("title", re.compile(r"^Muted until "))
    thread = gil.call("GET", "/api/threads/")["results"][0]
    assert thread["muted"] is True
    assert thread["muted_until"] is not None
