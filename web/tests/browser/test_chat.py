"""The web client in headless Chromium against a real server: two people chatting live."""

import base64
import json
import re

from playwright.sync_api import expect

from web.tests.browser.harness import PASSWORD, log_in


def message_box(page):
    return page.get_by_label("Message", exact=True)


def thread_link(page, user):
    return page.get_by_role("link", name=re.compile(rf"^{user.username}\b"))


def test_register_log_out_and_log_in_again(open_page, server):
    page = open_page()
    response = page.goto(server.url + "/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy

    page.get_by_role("button", name="Create an account").click()
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Signed in as newcomer")).to_be_visible()
    expect(page).to_have_title("Chat")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("alert").filter(has_text="You have logged out.")).to_be_visible()
    page.get_by_role("button", name="Create an account").click()
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert").filter(has_text="already exists")).to_be_visible()
    page.get_by_role("button", name="Log in instead").click()
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Wrong username or password.")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Signed in as newcomer")).to_be_visible()


def test_two_people_chat_in_real_time(open_page, make_user):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    carol.send(carol.thread_with(bob), "An older conversation")
    alice_page, bob_page = open_page(alice), open_page(bob)
    expect(bob_page.locator(".thread")).to_have_count(1)

    alice_page.get_by_label("Find people").fill(bob.username)
    alice_page.get_by_role("button", name=f"Start a conversation with {bob.username}").click()
    expect(alice_page.get_by_role("heading", name=bob.username)).to_be_visible()
    message_box(alice_page).fill("Hello Bob")
    message_box(alice_page).press("Enter")
    expect(alice_page.locator(".message.mine .receipt")).to_have_text("✓ Sent")

    # Bob's list: the new thread on top, unread, and the total in the title.
    expect(bob_page.locator(".thread").first).to_contain_text(alice.username)
    expect(thread_link(bob_page, alice)).to_contain_text("Hello Bob")
    expect(thread_link(bob_page, alice).locator(".badge")).to_have_text("1 unread")
    expect(bob_page).to_have_title("(2) Chat")

    thread_link(bob_page, alice).click()
    expect(bob_page.locator(".message.theirs")).to_have_text(re.compile("Hello Bob"))
    expect(bob_page).to_have_title("(1) Chat")
    expect(thread_link(bob_page, alice).locator(".badge")).to_have_count(0)
    expect(alice_page.locator(".message.mine .receipt")).to_have_text("✓✓ Read")

    message_box(bob_page).press_sequentially("Hi Alice")
    expect(alice_page.get_by_text(f"{bob.username} is typing…")).to_be_visible()
    message_box(bob_page).press("Shift+Enter")
    message_box(bob_page).press_sequentially("two lines")
    message_box(bob_page).press("Enter")
    expect(message_box(bob_page)).to_have_value("")
    reply = alice_page.locator(".message.theirs .text")
    expect(reply).to_have_text("Hi Alice\ntwo lines")
    expect(alice_page.get_by_text(f"{bob.username} is typing…")).to_have_count(0)
    expect(bob_page.locator(".message.mine .receipt")).to_have_text("✓✓ Read")

    # User text is text, never markup.
    message_box(alice_page).fill("<img src=x onerror=alert(1)> <b>bold</b>")
    message_box(alice_page).press("Enter")
    expect(bob_page.locator(".message.theirs .text").last).to_have_text(
        "<img src=x onerror=alert(1)> <b>bold</b>"
    )
    expect(bob_page.locator(".messages img, .messages b")).to_have_count(0)


def test_unread_badges_and_title_follow_new_and_read_messages(open_page, make_user):
    dave, erin, frank = make_user("dave"), make_user("erin"), make_user("frank")
    erin_thread, frank_thread = erin.thread_with(dave), frank.thread_with(dave)
    erin.send(erin_thread, "one")
    page = open_page(dave)
    expect(thread_link(page, erin).locator(".badge")).to_have_text("1 unread")
    expect(page).to_have_title("(1) Chat")

    erin.send(erin_thread, "two")
    frank.send(frank_thread, "from frank")
    expect(thread_link(page, erin).locator(".badge")).to_have_text("2 unread")
    expect(thread_link(page, frank).locator(".badge")).to_have_text("1 unread")
    expect(page).to_have_title("(3) Chat")
    expect(page.locator(".thread").first).to_contain_text(frank.username)

    thread_link(page, erin).focus()  # keyboard only: the thread list is a list of links
    marked_read = f"/api/threads/{erin_thread}/read/"
    with page.expect_response(lambda response: response.url.endswith(marked_read)) as read:
        page.keyboard.press("Enter")
    assert read.value.status == 200
    expect(page.get_by_role("heading", name=erin.username)).to_be_visible()
    expect(message_box(page)).to_be_focused()
    expect(page).to_have_title("(1) Chat")
    expect(thread_link(page, erin).locator(".badge")).to_have_count(0)
    expect(thread_link(page, frank).locator(".badge")).to_have_text("1 unread")
    assert erin.call("GET", f"/api/threads/{erin_thread}/messages/")["results"][0]["is_read"]

    # A message into the open, focused conversation is read at once.
    erin.send(erin_thread, "three")
    expect(page.locator(".message.theirs").last).to_contain_text("three")
    expect(page).to_have_title("(1) Chat")
    expect(thread_link(page, erin).locator(".badge")).to_have_count(0)


def test_history_scrolls_back_through_keyset_pages(open_page, make_user):
    gina, hank = make_user("gina"), make_user("hank")
    thread = gina.thread_with(hank)
    for number in range(1, 46):
        (gina if number % 2 else hank).send(thread, f"message {number}")
    page = open_page(gina)
    thread_link(page, hank).click()
    messages = page.locator(".message")
    expect(messages).to_have_count(30)
    expect(messages.last).to_contain_text("message 45")
    expect(messages.first).to_contain_text("message 16")

    with page.expect_request(re.compile(r"/messages/\?before=\d+")):
        page.locator("#scroller").evaluate("scroller => { scroller.scrollTop = 0; }")
    expect(messages).to_have_count(45)
    expect(messages.first).to_contain_text("message 1")
    expect(page.get_by_text(f"This is the beginning of your conversation with {hank.username}"))
    # The reader stays where they were: the older page went in above.
    expect(page.get_by_text("message 16", exact=True)).to_be_in_viewport()


def test_deleting_a_conversation_removes_it_for_both(open_page, make_user):
    ivan, judy = make_user("ivan"), make_user("judy")
    ivan.send(ivan.thread_with(judy), "soon gone")
    ivan_page, judy_page = open_page(ivan), open_page(judy)
    thread_link(ivan_page, judy).click()
    thread_link(judy_page, ivan).click()
    expect(judy_page.locator(".message")).to_have_count(1)

    ivan_page.get_by_role("button", name="Delete conversation").click()
    dialog = ivan_page.get_by_role("dialog", name="Delete this conversation?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(ivan_page.locator(".thread")).to_have_count(1)

    ivan_page.get_by_role("button", name="Delete conversation").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(ivan_page.locator(".thread")).to_have_count(0)
    # In place of the conversation (the screen readers' announcer holds the same words).
    placeholder = {"name": "No conversation open"}
    expect(ivan_page.get_by_role("region", **placeholder)).to_have_text("Conversation deleted.")
    expect(judy_page.locator(".thread")).to_have_count(0)
    deleted = f"The conversation with {ivan.username} was deleted."
    expect(judy_page.get_by_role("region", **placeholder)).to_have_text(deleted)
    assert ivan.call("GET", "/api/threads/")["count"] == 0


def test_phone_sized_screen_shows_one_pane_at_a_time(open_page, make_user):
    kate, leo = make_user("kate"), make_user("leo")
    leo.send(leo.thread_with(kate), "on the phone")
    page = open_page(kate, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    conversations = page.get_by_role("navigation", name="Conversations")
    expect(conversations).to_be_visible()
    thread_link(page, leo).click()
    expect(page.locator(".message")).to_have_text(re.compile("on the phone"))
    expect(conversations).to_be_hidden()
    page.get_by_role("button", name="Back to conversations").click()
    expect(conversations).to_be_visible()
    expect(page.locator("#conversation")).to_be_hidden()
    no_sideways_scroll = "document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_sideways_scroll)


def test_offline_shows_a_banner_and_catches_up_on_reconnect(open_page, make_user):
    mia, ned = make_user("mia"), make_user("ned")
    thread = ned.thread_with(mia)
    ned.send(thread, "before")
    page = open_page(mia)
    thread_link(page, ned).click()
    expect(page.locator(".message")).to_have_count(1)

    page.context.set_offline(True)
    expect(page.get_by_role("status").filter(has_text="You are offline")).to_be_visible()
    ned.send(thread, "while you were away")
    page.context.set_offline(False)
    expect(page.get_by_text("You are offline")).to_be_hidden()
    expect(page.locator(".message").last).to_contain_text("while you were away")


def test_server_down_shows_a_banner_and_recovers(open_page, make_user, server):
    sam, tia = make_user("sam"), make_user("tia")
    thread = tia.thread_with(sam)
    tia.send(thread, "first")
    page = open_page(sam)
    thread_link(page, tia).click()
    expect(page.locator(".message")).to_have_count(1)

    server.stop_serving(crash=True)
    try:
        banner = page.get_by_role("status").filter(has_text="The server is not responding")
        expect(banner).to_be_visible()
        message_box(page).fill("are you there?")
        message_box(page).press("Enter")
        expect(page.locator(".message.mine .receipt")).to_contain_text("Not sent")
        expect(page.get_by_role("alert").filter(has_text="cannot be reached")).to_be_visible()
    finally:
        server.serve()
    tia.send(thread, "back again")
    expect(banner).to_be_hidden(timeout=20_000)
    expect(page.locator(".message.theirs").last).to_contain_text("back again")
    page.get_by_role("button", name="Retry").click()
    expect(page.locator(".message.mine .receipt")).to_have_text("✓ Sent")
    assert tia.call("GET", f"/api/threads/{thread}/messages/")["count"] == 3


def test_a_refused_refresh_token_ends_the_session(open_page, make_user, server):
    olga = make_user("olga")
    page = open_page(olga)
    tokens = json.loads(page.evaluate("localStorage.getItem('chat.tokens')"))
    server.request("POST", "/api/auth/logout/", {"refresh": tokens["refresh"]}, tokens["access"])
    expired_claims = base64.urlsafe_b64encode(b'{"exp": 1, "iat": 0}').decode().rstrip("=")
    tokens["access"] = f"e30.{expired_claims}.signature"
    page.evaluate("tokens => localStorage.setItem('chat.tokens', tokens)", json.dumps(tokens))
    page.reload()
    expect(page.get_by_text("Your session has expired. Please log in again.")).to_be_visible()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert page.evaluate("localStorage.getItem('chat.tokens')") is None


class LiveSwitch:
    """Routes the page's WebSockets through the test, which can cut them and refuse new ones
    while REST keeps working: whatever reaches the page meanwhile came through REST."""

    def __init__(self, page):
        self.up = True
        self.open = []
        page.route_web_socket(re.compile(r"/ws/chat/"), self.connect)

    def connect(self, page_side):
        if not self.up:
            page_side.close(code=1011, reason="cut by the test")
            return
        self.open.append((page_side, page_side.connect_to_server()))

    def cut(self):
        self.up = False
        for page_side, server_side in self.open:
            page_side.close(code=1011, reason="cut by the test")
            server_side.close()
        self.open.clear()

    def restore(self):
        self.up = True


def test_what_happens_while_the_socket_is_down_arrives_after_reconnect(
    open_page, make_user, server
):
    uma, vic, wes = make_user("uma"), make_user("vic"), make_user("wes")
    with_vic, with_wes = vic.thread_with(uma), wes.thread_with(uma)
    vic.send(with_vic, "before")
    wes.send(with_wes, "old news")
    uma.call("POST", f"/api/threads/{with_wes}/read/")
    page = open_page()
    live = LiveSwitch(page)
    log_in(page, server, uma.username)
    thread_link(page, vic).click()
    expect(page.locator(".message")).to_have_count(1)
    message_box(page).fill("are you reading?")
    message_box(page).press("Enter")
    expect(page.locator(".message.mine .receipt")).to_have_text("✓ Sent")
    expect(page).to_have_title("Chat")

    live.cut()
    interrupted = page.get_by_role("status").filter(has_text="Live updates are interrupted")
    expect(interrupted).to_be_visible()
    vic.call("POST", f"/api/threads/{with_vic}/read/")
    vic.send(with_vic, "sent while your socket was down")
    wes.send(with_wes, "you missed this")
    live.restore()

    expect(interrupted).to_be_hidden()
    expect(page.locator(".message.theirs").last).to_have_text(
        re.compile("sent while your socket was down")
    )
    expect(page.locator(".message.mine .receipt")).to_have_text("✓✓ Read")
    expect(thread_link(page, wes)).to_contain_text("you missed this")
    expect(thread_link(page, wes).locator(".badge")).to_have_text("1 unread")
    expect(page).to_have_title("(1) Chat")
    expect(page.locator(".thread").first).to_contain_text(wes.username)


def test_the_open_conversation_deleted_while_the_socket_is_down_closes_after_reconnect(
    open_page, make_user, server
):
    xena, yuri = make_user("xena"), make_user("yuri")
    thread = yuri.thread_with(xena)
    yuri.send(thread, "soon gone")
    page = open_page()
    live = LiveSwitch(page)
    log_in(page, server, xena.username)
    thread_link(page, yuri).click()
    expect(page.locator(".message")).to_have_count(1)

    live.cut()
    interrupted = page.get_by_role("status").filter(has_text="Live updates are interrupted")
    expect(interrupted).to_be_visible()
    yuri.call("DELETE", f"/api/threads/{thread}/")
    live.restore()

    expect(interrupted).to_be_hidden()
    deleted = f"The conversation with {yuri.username} was deleted."
    expect(page.get_by_role("region", name="No conversation open")).to_have_text(deleted)
    expect(page.locator("#conversation")).to_be_hidden()
    expect(page.locator(".thread")).to_have_count(0)
    assert page.evaluate("window.location.hash") == "#/"
    # No error either: one would show for six seconds.
    expect(page.get_by_role("status")).to_be_hidden(timeout=3000)


class DeafSocket:
    """Routes the page's WebSockets through the test, which drops the server's events while
    `deaf` (pongs still pass): what a cut between the server and its event channel does, the
    socket staying open."""

    def __init__(self, page):
        self.deaf = False
        self.connections = 0
        page.route_web_socket(re.compile(r"/ws/chat/"), self.connect)

    def connect(self, page_side):
        self.connections += 1
        server_side = page_side.connect_to_server()
        server_side.on_message(lambda frame: self.forward(page_side, frame))

    def forward(self, page_side, frame):
        if not self.deaf or json.loads(frame)["type"] == "pong":
            page_side.send(frame)


def set_visibility(page, state):
    page.evaluate(
        """state => {
            Object.defineProperty(document, "visibilityState", {value: state, configurable: true});
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )


def test_back_from_the_background_the_page_catches_up_on_what_its_open_socket_missed(
    open_page, make_user, server
):
    xia, yan = make_user("xia"), make_user("yan")
    thread = yan.thread_with(xia)
    yan.send(thread, "before")
    page = open_page()
    page.clock.install()
    socket = DeafSocket(page)
    log_in(page, server, xia.username)
    thread_link(page, yan).click()
    expect(page.locator(".message")).to_have_count(1)

    socket.deaf = True
    set_visibility(page, "hidden")
    yan.send(thread, "while you were away")
    page.clock.fast_forward(20_000)
    set_visibility(page, "visible")  # a short absence: no catching up
    page.wait_for_timeout(1_000)
    expect(page.locator(".message")).to_have_count(1)

    set_visibility(page, "hidden")
    page.clock.fast_forward(31_000)
    set_visibility(page, "visible")
    expect(page.locator(".message.theirs").last).to_have_text(re.compile("while you were away"))
    assert socket.connections == 1  # caught up through REST, not by reconnecting


def test_a_conversation_opens_when_the_list_changes_while_its_link_is_pressed(open_page, make_user):
    zoe, abe = make_user("zoe"), make_user("abe")
    thread = abe.thread_with(zoe)
    abe.send(thread, "first")
    page = open_page(zoe)
    link = thread_link(page, abe)
    link.hover()
    page.mouse.down()
    abe.send(thread, "second, while the link is pressed")
    expect(page).to_have_title("(2) Chat")  # the event is in; the list would be drawn anew now
    page.mouse.up()
    expect(page.get_by_role("heading", name=abe.username)).to_be_visible()
    expect(link).to_contain_text("second, while the link is pressed")
