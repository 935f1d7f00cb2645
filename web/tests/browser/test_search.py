"""Searching one's own messages in the web client, against the real server: the box over the
thread list, results with their matched words marked, and a result opening its conversation at
that message."""

import os
import re

from playwright.sync_api import expect

# A folder to save screenshots of the results and of an opened result in, to look at them.
SCREENSHOTS = os.environ.get("CHAT_SEARCH_SCREENSHOTS")


def search_box(page):
    return page.get_by_label("Search your messages")


def results(page):
    return page.locator("#search-results > li")


def test_words_are_found_by_prefix_ignoring_case_and_accents_and_marked(open_page, make_user):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    with_bob = alice.thread_with(bob)
    # A character outside the BMP before the words: offsets count code points, not UTF-16 units.
    bob.send(with_bob, "🎉 Meet me at the Café Crème, 12 Rue de l'Église")
    alice.send(with_bob, "See you there")
    alice.send(alice.thread_with(carol), "Lunch at the cafeteria?")
    # An outsider's words: Carol and Bob's thread is not Alice's.
    carol.send(carol.thread_with(bob), "cafe creme secret between carol and bob")

    page = open_page(alice)
    search_box(page).fill("CAFE cre")
    expect(results(page)).to_have_count(1)
    expect(page.locator("#thread-list")).to_be_hidden()
    result = results(page).first
    expect(result).to_contain_text(bob.username)
    expect(result.locator("mark")).to_have_text(["Café", "Crème"])
    expect(result.locator(".result-text")).to_have_text(
        "🎉 Meet me at the Café Crème, 12 Rue de l'Église"
    )
    expect(page.locator("#search-status")).to_have_text("1 message found.")
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/search-results.png")

    # Prefixes of several words, folded: one of them is Alice's own message to Carol.
    search_box(page).fill("eglise")
    expect(results(page)).to_have_count(1)
    expect(results(page).first.locator("mark")).to_have_text(["Église"])
    search_box(page).fill("caf")
    expect(results(page)).to_have_count(2)
    expect(results(page).first).to_contain_text(carol.username)
    expect(results(page).first).to_contain_text("You: Lunch at the cafeteria?")
    expect(results(page).locator("mark")).to_have_text(["cafeteria", "Café"])
    expect(page.locator("#search-results")).not_to_contain_text("secret")

    # Every word must match; HTML-looking and operator-looking words are plain text.
    search_box(page).fill('secret "cafe" OR <b>')
    expect(page.locator("#search-status")).to_have_text(re.compile("^No messages match"))
    expect(results(page)).to_have_count(0)


def test_escape_and_the_clear_button_go_back_to_the_thread_list(open_page, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    bob.send(alice.thread_with(bob), "Where is the key?")
    page = open_page(alice)
    expect(page.locator(".thread")).to_have_count(1)

    search_box(page).fill("key")
    expect(results(page)).to_have_count(1)
    expect(page.locator("#threads-pane")).to_be_hidden()
    search_box(page).press("Escape")
    expect(page.locator("#threads-pane")).to_be_visible()
    expect(page.locator("#search-view")).to_be_hidden()
    expect(search_box(page)).to_have_value("")
    expect(search_box(page)).to_be_focused()

    # From the results, by keyboard: Tab reaches them, Escape leaves the search.
    search_box(page).fill("where")
    expect(results(page)).to_have_count(1)
    page.keyboard.press("Tab")  # the clear button
    expect(page.get_by_role("button", name="Clear search")).to_be_focused()
    page.keyboard.press("Tab")
    expect(results(page).first.get_by_role("link")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#threads-pane")).to_be_visible()
    expect(search_box(page)).to_be_focused()

    search_box(page).fill("where")
    expect(results(page)).to_have_count(1)
    page.get_by_role("button", name="Clear search").click()
    expect(page.locator(".thread")).to_have_count(1)
    expect(search_box(page)).to_have_value("")


def test_an_old_result_opens_its_long_conversation_at_that_message(open_page, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    thread = alice.thread_with(bob)
    for number in range(60):
        sender = bob if number % 2 else alice
        words = "the rendezvous is at the lighthouse" if number == 2 else "just chatting"
        sender.send(thread, f"note {number}: {words}")

    page = open_page(alice, viewport={"width": 1100, "height": 700})
    search_box(page).fill("lightho")
    expect(results(page)).to_have_count(1)
    results(page).first.get_by_role("link").click()

    found = page.locator(".message", has_text="note 2: the rendezvous is at the lighthouse")
    expect(found).to_have_class(re.compile(r"\bfound\b"))  # highlighted for a moment
    expect(found).to_be_in_viewport()
    expect(found).to_be_focused()
    expect(page).to_have_url(re.compile(rf"#/threads/{thread}$"))
    # The pages around it: the oldest messages, not yet the newest.
    expect(page.locator("#history-status")).to_contain_text("This is the beginning")
    expect(page.locator("#message-list").get_by_text("note 59")).to_have_count(0)
    expect(page.get_by_role("button", name="Latest messages ↓")).to_be_visible()
    expect(results(page).first.get_by_role("link")).to_have_attribute("aria-current", "true")
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/search-opened.png")

    # Scrolling down loads the newer pages, up to the newest.
    scroller = page.locator("#scroller")
    newest = page.locator("#message-list").get_by_text("note 59: just chatting")
    for _ in range(20):
        if newest.count():
            break
        scroller.evaluate("element => { element.scrollTop = element.scrollHeight; }")
        page.wait_for_timeout(300)
    expect(newest).to_be_visible()
    expect(page.locator("#message-list > li")).to_have_count(60)
    expect(page.get_by_role("button", name=re.compile("messages ↓"))).to_be_hidden()

    # The same result again, after scrolling away; then straight to the latest messages.
    results(page).first.get_by_role("link").click()
    expect(found).to_be_in_viewport()
    expect(newest).not_to_be_in_viewport()
    page.get_by_role("button", name="Latest messages ↓").click()
    expect(newest).to_be_in_viewport()


def test_many_results_come_in_pages_and_can_be_kept_to_the_open_conversation(open_page, make_user):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    with_bob, with_carol = alice.thread_with(bob), alice.thread_with(carol)
    for number in range(25):
        bob.send(with_bob, f"budget line {number}")
    carol.send(with_carol, "the budget is fine")

    page = open_page(alice)
    page.locator(f'.thread[data-thread-id="{with_carol}"]').click()
    search_box(page).fill("budget")
    expect(page.locator("#search-status")).to_have_text("26 messages found.")
    expect(results(page)).to_have_count(20)
    expect(results(page).first).to_contain_text("the budget is fine")
    page.get_by_role("button", name="Show older results").click()
    expect(results(page)).to_have_count(26)
    expect(results(page).last).to_contain_text("budget line 0")
    expect(page.get_by_role("button", name="Show older results")).to_be_hidden()

    page.get_by_label(f"Only with {carol.username}").check()
    expect(page.locator("#search-status")).to_have_text(f"1 message with {carol.username} found.")
    expect(results(page)).to_have_count(1)
