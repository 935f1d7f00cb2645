"""Changing messages in the web client: edit (Up arrow too), delete for everyone or for me, mark
unread, clear a conversation; live between the two participants and across one person's tabs."""

import json
import re

from playwright.sync_api import expect

from web.tests.browser.harness import log_in
from web.tests.browser.test_chat import LiveSwitch


def message_box(page):
    return page.get_by_label("Message", exact=True)


def thread_link(page, user):
    return page.get_by_role("link", name=re.compile(rf"^{user.username}\b"))


def message(page, text):
    return page.locator(".message").filter(has=page.locator(".text", has_text=text))


def choose(page, text, action):
    """Opens the menu of the message that says `text` and chooses `action`."""
    message(page, text).get_by_role("button", name="Message actions").click()
    page.get_by_role("menuitem", name=action).click()


def open_thread(page, other):
    thread_link(page, other).click()
    expect(page.get_by_role("heading", name=other.username)).to_be_visible()


def another_tab(page, server, thread_id):
    """A second tab of the same browser context: the same session, a socket of its own."""
    tab = page.context.new_page()
    tab.goto(f"{server.url}/#/threads/{thread_id}")
    expect(tab.get_by_role("heading", level=2).first).to_be_visible()
    return tab


def test_up_arrow_edits_the_last_message_and_the_other_sees_it_edited(open_page, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    alice.thread_with(bob)
    alice_page, bob_page = open_page(alice), open_page(bob)
    open_thread(alice_page, bob)
    open_thread(bob_page, alice)
    box = message_box(alice_page)
    for text in ("See you at noon", "Lets go"):
        box.fill(text)
        box.press("Enter")
    expect(bob_page.locator(".message")).to_have_count(2)
    edit_bar = alice_page.get_by_text("Editing message")

    # Escape gives the composer back as it was.
    box.press("ArrowUp")
    expect(box).to_have_value("Lets go")
    expect(edit_bar).to_be_visible()
    expect(message(alice_page, "Lets go")).to_have_class(re.compile(r"\bediting\b"))
    box.press("Escape")
    expect(box).to_have_value("")
    expect(edit_bar).to_be_hidden()

    # Up arrow in a composer with text in it only moves the caret.
    box.fill("a draft")
    box.press("ArrowUp")
    expect(box).to_have_value("a draft")
    box.fill("")

    box.press("ArrowUp")
    expect(alice_page.get_by_role("button", name="Save")).to_be_visible()
    box.fill("Let's go")
    box.press("Enter")
    expect(edit_bar).to_be_hidden()
    expect(box).to_have_value("")
    expect(message(alice_page, "Let's go").locator(".edited")).to_have_text("edited")

    edited = message(bob_page, "Let's go")
    expect(edited.locator(".edited")).to_have_text("edited")
    expect(edited.locator(".edited")).to_have_attribute("title", re.compile(r"^Edited "))
    expect(bob_page.locator(".message")).to_have_count(2)
    expect(thread_link(bob_page, alice)).to_contain_text("Let's go")

    # The earlier texts, from the message's menu.
    choose(bob_page, "Let's go", "Edit history")
    history = bob_page.get_by_role("dialog", name="Edit history")
    expect(history.locator("li")).to_have_count(2)
    expect(history.locator("li").first).to_contain_text("Lets go")
    expect(history.locator("li").last).to_contain_text("Let's go")
    history.get_by_role("button", name="Close").click()
    expect(history).to_be_hidden()


def test_a_message_menu_opens_though_a_receipt_redraws_the_message_while_it_is_pressed(
    open_page, make_user
):
    cleo, dan, eve = make_user("cleo"), make_user("dan"), make_user("eve")
    thread = cleo.thread_with(dan)
    cleo.send(thread, "did you see it?")
    page = open_page(cleo)
    open_thread(page, dan)
    mine = message(page, "did you see it?")
    mine.get_by_role("button", name="Message actions").hover()
    page.mouse.down()
    dan.call("POST", f"/api/threads/{thread}/read/")  # the receipt redraws Cleo's message
    eve.send(eve.thread_with(cleo), "a later event")  # in order after it, and seen in the title
    expect(page).to_have_title("(1) Chat")
    page.mouse.up()
    expect(page.get_by_role("menuitem", name="Edit", exact=True)).to_be_visible()
    expect(mine).to_contain_text("Read")


def test_delete_for_everyone_leaves_a_tombstone_on_both(open_page, make_user):
    carl, dina = make_user("carl"), make_user("dina")
    thread = carl.thread_with(dina)
    carl.send(thread, "keep this")
    carl.send(thread, "oops, wrong chat")
    carl_page, dina_page = open_page(carl), open_page(dina)
    open_thread(carl_page, dina)
    open_thread(dina_page, carl)
    expect(dina_page.locator(".message")).to_have_count(2)
    # Dina's page has read them: wait for the receipt, which redraws Carl's messages.
    expect(message(carl_page, "oops")).to_contain_text("Read")

    # By keyboard: the message's menu button, its menu, the dialog. `press` focuses the button
    # as it is when the key goes down: a list redrawn meanwhile (a read receipt arriving on a
    # loaded machine) cannot take the focus away between the two.
    menu_button = message(carl_page, "oops").get_by_role("button", name="Message actions")
    menu_button.press("Enter")
    expect(menu_button).to_have_attribute("aria-expanded", "true")
    expect(carl_page.get_by_role("menuitem", name="Edit")).to_be_focused()
    expect(carl_page.get_by_role("menuitem", name="Mark unread")).to_be_hidden()
    carl_page.keyboard.press("Escape")
    expect(carl_page.get_by_role("menu")).to_be_hidden()
    expect(menu_button).to_be_focused()
    expect(menu_button).to_have_attribute("aria-expanded", "false")
    carl_page.keyboard.press("Enter")
    carl_page.keyboard.press("ArrowDown")
    expect(carl_page.get_by_role("menuitem", name="Delete…")).to_be_focused()
    carl_page.keyboard.press("Enter")
    dialog = carl_page.get_by_role("dialog", name="Delete this message?")
    dialog.get_by_role("button", name="Delete for everyone").click()

    for page in (carl_page, dina_page):
        expect(page.locator(".message")).to_have_count(2)
        expect(page.locator(".message").last).to_have_class(re.compile(r"\bdeleted\b"))
        expect(page.locator(".message").last.locator(".text")).to_have_text("Message deleted")
    expect(dina_page.get_by_text("oops")).to_have_count(0)
    expect(thread_link(dina_page, carl)).to_contain_text("Message deleted")
    expect(thread_link(carl_page, dina)).to_contain_text("Message deleted")

    # Dina may delete Carl's messages for herself only; a tombstone offers nothing else.
    dina_page.locator(".message.deleted").get_by_role("button", name="Message actions").click()
    expect(dina_page.get_by_role("menuitem")).to_have_text(["Delete…"])
    dina_page.keyboard.press("Escape")
    choose(dina_page, "keep this", "Delete…")
    dina_dialog = dina_page.get_by_role("dialog", name="Delete this message?")
    expect(dina_dialog.get_by_role("button", name="Delete for me")).to_be_visible()
    expect(dina_dialog.get_by_role("button", name="Delete for everyone")).to_be_hidden()
    dina_dialog.get_by_role("button", name="Cancel").click()

    # Past the edit window the server refuses, and the page says what it said.
    detail = "The time to delete this message for everyone has passed."

    def refuse(route):
        if route.request.method != "DELETE":
            return route.fallback()
        return route.fulfill(
            status=403, content_type="application/json", body=json.dumps({"detail": detail})
        )

    carl_page.route(re.compile(r"/api/messages/\d+/$"), refuse)
    choose(carl_page, "keep this", "Delete…")
    dialog.get_by_role("button", name="Delete for everyone").click()
    expect(carl_page.get_by_role("alert").filter(has_text=detail)).to_be_visible()
    expect(message(carl_page, "keep this")).to_have_count(1)
    assert [
        m["deleted"] for m in carl.call("GET", f"/api/threads/{thread}/messages/")["results"]
    ] == [
        True,
        False,
    ]


def test_delete_for_me_hides_it_on_mine_only_and_in_my_other_tab(open_page, make_user, server):
    emma, fred = make_user("emma"), make_user("fred")
    thread = fred.thread_with(emma)
    fred.send(thread, "one")
    fred.send(thread, "two")
    emma_page, fred_page = open_page(emma), open_page(fred)
    open_thread(emma_page, fred)
    open_thread(fred_page, emma)
    other_tab = another_tab(emma_page, server, thread)
    expect(other_tab.locator(".message")).to_have_count(2)

    choose(emma_page, "two", "Delete…")
    dialog = emma_page.get_by_role("dialog", name="Delete this message?")
    expect(dialog.get_by_role("button", name="Delete for everyone")).to_be_hidden()
    dialog.get_by_role("button", name="Delete for me").click()

    for page in (emma_page, other_tab):
        expect(page.locator(".message")).to_have_count(1)
        expect(page.locator(".message .text")).to_have_text(["one"])
        # It was the last message: the list shows the one before it.
        expect(thread_link(page, fred)).to_contain_text("one")
    expect(fred_page.locator(".message .text")).to_have_text(["one", "two"])
    expect(fred_page.locator(".message.deleted")).to_have_count(0)


def test_mark_unread_raises_the_badge_and_the_title_count(open_page, make_user):
    gail, hugo = make_user("gail"), make_user("hugo")
    thread = hugo.thread_with(gail)
    for text in ("first", "second", "third"):
        hugo.send(thread, text)
    gail_page, hugo_page = open_page(gail), open_page(hugo)
    open_thread(gail_page, hugo)
    open_thread(hugo_page, gail)
    expect(gail_page).to_have_title("Chat")
    expect(hugo_page.locator(".receipt")).to_have_text(["✓✓ Read"] * 3)

    choose(gail_page, "second", "Mark unread")
    expect(thread_link(gail_page, hugo).locator(".badge")).to_have_text("2 unread")
    expect(gail_page).to_have_title("(2) Chat")
    expect(hugo_page.locator(".receipt")).to_have_text(["✓✓ Read", "✓ Sent", "✓ Sent"])
    # Not read again while it stays open: that is what marking it unread asked for.
    gail_page.wait_for_timeout(1000)
    expect(gail_page).to_have_title("(2) Chat")

    # Opened again, it is read.
    gail_page.evaluate("window.location.hash = '#/'")
    expect(gail_page.locator("#conversation")).to_be_hidden()
    open_thread(gail_page, hugo)
    expect(gail_page).to_have_title("Chat")
    expect(thread_link(gail_page, hugo).locator(".badge")).to_have_count(0)
    expect(hugo_page.locator(".receipt")).to_have_text(["✓✓ Read"] * 3)


def test_clear_empties_my_view_but_not_theirs_and_my_other_tab_too(open_page, make_user, server):
    iris, jack = make_user("iris"), make_user("jack")
    thread = iris.thread_with(jack)
    iris.send(thread, "hello")
    jack.send(thread, "hi there")
    iris_page, jack_page = open_page(iris), open_page(jack)
    open_thread(iris_page, jack)
    open_thread(jack_page, iris)
    other_tab = another_tab(iris_page, server, thread)
    expect(other_tab.locator(".message")).to_have_count(2)

    clear = iris_page.get_by_role("button", name="Clear conversation")
    dialog = iris_page.get_by_role("dialog", name="Clear this conversation?")
    clear.click()
    expect(dialog).to_contain_text(f"{jack.username} still sees them")
    dialog.get_by_role("button", name="Cancel").click()
    expect(iris_page.locator(".message")).to_have_count(2)
    clear.click()
    dialog.get_by_role("button", name="Clear").click()

    for page in (iris_page, other_tab):
        expect(page.locator(".message")).to_have_count(0)
        expect(thread_link(page, jack)).to_contain_text("No messages yet")
        expect(page.get_by_text(f"This is the beginning of your conversation with {jack.username}"))
    expect(jack_page.locator(".message .text")).to_have_text(["hello", "hi there"])

    jack_page.get_by_label("Message", exact=True).fill("after the clear")
    jack_page.get_by_label("Message", exact=True).press("Enter")
    for page in (iris_page, other_tab):
        expect(page.locator(".message .text")).to_have_text(["after the clear"])
    iris_page.reload()
    expect(iris_page.locator(".message .text")).to_have_text(["after the clear"])


def test_changes_while_the_socket_is_down_arrive_after_reconnect(open_page, make_user, server):
    kim, lou = make_user("kim"), make_user("lou")
    thread = lou.thread_with(kim)
    typo, gone, hidden, kept = (
        lou.send(thread, text) for text in ("teh typo", "soon a tombstone", "hide me", "kept")
    )
    kim.call("POST", f"/api/threads/{thread}/read/")
    page = open_page()
    live = LiveSwitch(page)
    log_in(page, server, kim.username)
    open_thread(page, lou)
    expect(page.locator(".message")).to_have_count(4)
    expect(page).to_have_title("Chat")

    live.cut()
    interrupted = page.get_by_role("status").filter(has_text="Live updates are interrupted")
    expect(interrupted).to_be_visible()
    lou.call("PATCH", f"/api/messages/{typo['id']}/", {"text": "the typo"})
    lou.call("DELETE", f"/api/messages/{gone['id']}/")
    kim.call("DELETE", f"/api/messages/{hidden['id']}/?scope=me")
    kim.call("POST", f"/api/messages/{kept['id']}/unread/")
    live.restore()

    expect(interrupted).to_be_hidden()
    expect(page.locator(".message .text")).to_have_text(["the typo", "Message deleted", "kept"])
    expect(message(page, "the typo").locator(".edited")).to_be_visible()
    expect(page).to_have_title("(1) Chat")
