"""Notifications in the web client (docs/API.md, "Notifications for people who are not looking").

Headless Chromium reaches no push service offline, so the page's PushManager is stood in for by
`FAKE_PUSH_MANAGER`, which hands out subscriptions of a stand-in push service on 127.0.0.1
(tests/push_service.py, which decrypts what the server pushes): what is tested is what the page
asks the browser and tells the server. The service worker is the real one, given push messages
through the DevTools protocol as a push service would give them. The `view` frame is checked
where the server records it, in its database.
"""

import base64
import json
import sqlite3
import time
from contextlib import closing
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from chat.models import PresenceSocket
from tests.push_service import PushService
from web.tests.browser.harness import log_in
from web.tests.browser.test_changing_messages import open_thread, thread_link
from web.tests.browser.test_chat import LiveSwitch

WAIT_SECONDS = 15

# The browser's PushManager, stood in for: its subscriptions come from `newPushSubscription()`
# (the push service's, exposed by the test) and last while the tab does, reloads too.
# `window.pushManagerCalls` counts the permission asked and the subscriptions made and taken back.
FAKE_PUSH_MANAGER = """
(() => {
  const calls = { asked: 0, subscribed: [], unsubscribed: 0, current: null };
  window.pushManagerCalls = calls;
  const ask = Notification.requestPermission.bind(Notification);
  Notification.requestPermission = () => {
    calls.asked += 1;
    return ask();
  };
  const make = ({ json, key }) => ({
    endpoint: json.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true, applicationServerKey: new Uint8Array(key).buffer },
    toJSON: () => json,
    unsubscribe: async () => {
      calls.current = null;
      calls.unsubscribed += 1;
      sessionStorage.removeItem("fake-push-subscription");
      return true;
    },
  });
  const kept = sessionStorage.getItem("fake-push-subscription");
  if (kept) calls.current = make(JSON.parse(kept));
  PushManager.prototype.subscribe = async function (options) {
    const key = Array.from(new Uint8Array(options.applicationServerKey));
    calls.subscribed.push({ userVisibleOnly: options.userVisibleOnly, key });
    const made = { json: await window.newPushSubscription(), key };
    sessionStorage.setItem("fake-push-subscription", JSON.stringify(made));
    calls.current = make(made);
    return calls.current;
  };
  PushManager.prototype.getSubscription = async () => calls.current;
})();
"""


@pytest.fixture(scope="module")
def push_service():
    with PushService() as service:
        yield service


def eventually(page, check, what):
    """Waits until `check()` is true, letting the page run meanwhile."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        assert time.monotonic() < deadline, f"not within {WAIT_SECONDS} s: {what}"
        page.wait_for_timeout(50)


def key_bytes(base64url):
    return list(base64.urlsafe_b64decode(base64url + "=" * (-len(base64url) % 4)))


def push_page(open_page, server, push_service, user):
    """A page logged in as `user`, notifications allowed by the browser, its PushManager fake."""
    page = open_page(permissions=["notifications"])
    page.expose_function("newPushSubscription", push_service.subscribe)
    page.add_init_script(FAKE_PUSH_MANAGER)
    log_in(page, server, user.username)
    return page


def notify_setting(page):
    """Opens the settings; their notifications checkbox."""
    page.get_by_role("button", name="Settings").click()
    return page.get_by_role("dialog", name="Settings").get_by_role(
        "checkbox", name="Notify me of new messages in this browser"
    )


def close_settings(page):
    page.get_by_role("dialog", name="Settings").get_by_role("button", name="Close").click()


def subscriptions_call(method):
    return lambda response: (
        response.request.method == method
        and urlsplit(response.url).path == "/api/push/subscriptions/"
    )


def endpoint_named(request):
    return parse_qs(urlsplit(request.url).query)["endpoint"]


def turn_on(page):
    """Turns notifications on in the settings; the POST of the subscription."""
    toggle = notify_setting(page)
    with page.expect_response(subscriptions_call("POST")) as posted:
        toggle.check()
    expect(toggle).to_be_checked()
    close_settings(page)
    return posted.value.request


def service_worker(page):
    workers = page.context.service_workers
    return workers[0] if workers else page.context.wait_for_event("serviceworker")


def shown_notifications(page):
    """The notifications shown, as `[title, body, tag, data]`, by tag."""
    return service_worker(page).evaluate(
        """async () => (await self.registration.getNotifications())
            .map((shown) => [shown.title, shown.body, shown.tag, shown.data])
            .sort((a, b) => a[2].localeCompare(b[2]))"""
    )


def deliver(page, server, data):
    """Gives `data` (text) to the service worker as a push message, decrypted, as the browser
    would (through DevTools, as its Push button does)."""
    session = page.context.new_cdp_session(page)
    registrations = []
    session.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    session.send("ServiceWorker.enable")
    eventually(page, lambda: registrations, "the service worker's registration")
    session.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": server.url,
            "registrationId": registrations[0]["registrationId"],
            "data": data,
        },
    )
    session.detach()


def click_notification(page, tag):
    """Clicks the notification `tag`: its `notificationclick` event, dispatched in the service
    worker (a browser without a screen has no notification to click)."""
    service_worker(page).evaluate(
        """async (tag) => {
            const [shown] = await self.registration.getNotifications({ tag });
            self.dispatchEvent(new NotificationEvent("notificationclick", { notification: shown }));
        }""",
        tag,
    )


def payload(thread, sender, count, preview):
    """A push message of the server's."""
    return {
        "thread": thread,
        "sender": {"id": sender.id, "username": sender.username},
        "count": count,
        "preview": preview,
    }


def pushed(thread, sender, count, preview):
    return json.dumps(payload(thread, sender, count, preview))


def viewing(server, user):
    """Socket id → the thread in view, for `user`'s sockets, as the server recorded their `view`
    frames (read from its database file: the ORM is for the other tests, see conftest.py)."""
    meta = PresenceSocket._meta
    socket, thread, owner = (
        meta.get_field(name).column for name in ("id", "viewing_thread", "user")
    )
    # The names come from the model, the user's id is a parameter.
    query = f"SELECT {socket}, {thread} FROM {meta.db_table} WHERE {owner} = ?"  # noqa: S608
    with closing(sqlite3.connect(server.workdir / "db.sqlite3")) as db:
        return dict(db.execute(query, (user.id,)).fetchall())


def expect_viewing(page, server, user, thread):
    eventually(
        page,
        lambda: list(viewing(server, user).values()) == [thread],
        f"the server records thread {thread} in view for {user.username}",
    )


def test_turning_notifications_on_and_off(open_page, make_user, server, push_service):
    ann = make_user("ann")
    page = push_page(open_page, server, push_service, ann)
    toggle = notify_setting(page)
    status = page.locator("#notify-status")
    expect(toggle).not_to_be_checked()
    expect(toggle).to_be_enabled()
    expect(status).to_contain_text("When this is on")
    # Nothing is asked of the browser before the user's click.
    assert page.evaluate("[pushManagerCalls.asked, pushManagerCalls.subscribed]") == [0, []]

    with page.expect_response(subscriptions_call("POST")) as posted:
        toggle.check()
    expect(toggle).to_be_checked()
    expect(status).to_have_text(
        "This browser tells you of new messages while Chat is not in view (not of muted ones)."
    )
    assert posted.value.status == 201
    subscription = page.evaluate("pushManagerCalls.current.toJSON()")
    assert subscription["endpoint"].startswith(push_service.origin)
    assert posted.value.request.post_data_json == subscription
    endpoint = subscription["endpoint"]
    server_key = ann.call("GET", "/api/push/key/")["public_key"]
    assert page.evaluate("[pushManagerCalls.asked, pushManagerCalls.subscribed]") == [
        1,
        [{"userVisibleOnly": True, "key": key_bytes(server_key)}],
    ]
    registration = "navigator.serviceWorker.ready.then((r) => [r.scope, r.active.scriptURL])"
    assert page.evaluate(registration) == [f"{server.url}/", f"{server.url}/sw.js"]

    # Each time the page opens, the server is sent the subscription again (the push service may
    # have changed it); one made with another key than the server's is made anew.
    with page.expect_response(subscriptions_call("POST")) as posted:
        page.reload()
    assert posted.value.status == 200
    assert posted.value.request.post_data_json["endpoint"] == endpoint
    expect(notify_setting(page)).to_be_checked()
    close_settings(page)
    page.evaluate(
        """const kept = JSON.parse(sessionStorage.getItem("fake-push-subscription"));
        kept.key[1] ^= 1;
        sessionStorage.setItem("fake-push-subscription", JSON.stringify(kept))"""
    )
    with (
        page.expect_response(subscriptions_call("DELETE")) as deleted,
        page.expect_response(subscriptions_call("POST")) as posted,
    ):
        page.reload()
    assert endpoint_named(deleted.value.request) == [endpoint]
    assert posted.value.status == 201
    endpoint = posted.value.request.post_data_json["endpoint"]
    assert page.evaluate(
        "[pushManagerCalls.asked, pushManagerCalls.subscribed, pushManagerCalls.unsubscribed]"
    ) == [
        0,
        [{"userVisibleOnly": True, "key": key_bytes(server_key)}],
        1,
    ]

    toggle = notify_setting(page)
    expect(toggle).to_be_checked()
    with page.expect_response(subscriptions_call("DELETE")) as deleted:
        toggle.uncheck()
    expect(toggle).not_to_be_checked()
    expect(status).to_contain_text("When this is on")
    assert deleted.value.status == 204
    assert endpoint_named(deleted.value.request) == [endpoint]
    assert page.evaluate("[pushManagerCalls.unsubscribed, pushManagerCalls.current]") == [2, None]


def test_logging_out_takes_this_browsers_subscription_back(
    open_page, make_user, server, push_service
):
    bea, cal = make_user("bea"), make_user("cal")
    page = push_page(open_page, server, push_service, bea)
    endpoint = turn_on(page).post_data_json["endpoint"]

    # The server is told before the tokens go, and the browser's subscription goes too.
    with page.expect_response(subscriptions_call("DELETE")) as deleted:
        page.get_by_role("button", name="Log out").click()
    assert deleted.value.status == 204
    assert endpoint_named(deleted.value.request) == [endpoint]
    expect(page.get_by_role("heading", name="Log in to Chat")).to_be_visible()
    assert page.evaluate("[pushManagerCalls.unsubscribed, pushManagerCalls.current]") == [1, None]

    # The next person on this browser starts with notifications off.
    log_in(page, server, cal.username)
    expect(notify_setting(page)).not_to_be_checked()
    expect(page.locator("#notify-status")).to_contain_text("When this is on")


def set_notification_permission(page, server, setting):
    """Sets the browser's notification permission for the site ("denied": as a user can in the
    site settings). The setting lasts while the DevTools session does, the page's."""
    session = page.context.new_cdp_session(page)
    context_id = session.send("Target.getTargetInfo")["targetInfo"]["browserContextId"]
    session.send(
        "Browser.setPermission",
        {
            "permission": {"name": "notifications"},
            "setting": setting,
            "origin": server.url,
            "browserContextId": context_id,
        },
    )


def test_what_the_settings_say_when_notifications_cannot_be_on(open_page, make_user, server):
    dot = make_user("dot")
    page = open_page(dot)
    notify_setting(page)
    expect(page.locator("#notify-status")).to_contain_text("When this is on")
    close_settings(page)
    # Blocked in the browser's settings while the page is open: the dialog says so when opened.
    set_notification_permission(page, server, "denied")
    toggle = notify_setting(page)
    expect(page.locator("#notify-status")).to_have_text(
        "Your browser blocks notifications from this site: allow them in its site settings first."
    )
    expect(toggle).to_be_disabled()

    # A server without a VAPID key answers 503.
    set_notification_permission(page, server, "granted")
    page.route(
        "**/api/push/key/",
        lambda route: route.fulfill(status=503, json={"detail": "Push is not configured."}),
    )
    page.reload()
    toggle = notify_setting(page)
    expect(page.locator("#notify-status")).to_have_text("This server does not send notifications.")
    expect(toggle).to_be_disabled()


def test_a_push_shows_a_notification_per_conversation(open_page, make_user, server, push_service):
    eve, fay, gil = make_user("eve"), make_user("fay"), make_user("gil")
    with_fay, with_gil = fay.thread_with(eve), gil.thread_with(eve)
    page = push_page(open_page, server, push_service, eve)
    turn_on(page)

    deliver(page, server, pushed(with_fay, fay, 1, "Lunch?"))
    eventually(page, lambda: shown_notifications(page), "a notification")
    assert shown_notifications(page) == [
        [fay.username, "Lunch?", f"thread-{with_fay}", {"thread": with_fay}]
    ]

    # A newer one of the same conversation takes its place.
    deliver(page, server, pushed(with_fay, fay, 3, "Noon at the usual place"))
    deliver(page, server, pushed(with_gil, gil, 1, ""))
    eventually(page, lambda: len(shown_notifications(page)) == 2, "two notifications")
    assert shown_notifications(page) == [
        [
            fay.username,
            "3 new messages\nNoon at the usual place",
            f"thread-{with_fay}",
            {"thread": with_fay},
        ],
        [gil.username, "Sent a file", f"thread-{with_gil}", {"thread": with_gil}],
    ]

    # Something else than the server's push message still shows something, once.
    deliver(page, server, '{"unexpected": true}')
    eventually(page, lambda: len(shown_notifications(page)) == 3, "three notifications")
    assert shown_notifications(page)[0] == ["Chat", "You have new messages.", "chat", None]


def test_clicking_a_notification_opens_its_conversation(open_page, make_user, server, push_service):
    hal, ida, jay = make_user("hal"), make_user("ida"), make_user("jay")
    with_ida, with_jay = ida.thread_with(hal), jay.thread_with(hal)
    ida.send(with_ida, "Are you there?")
    page = push_page(open_page, server, push_service, hal)
    turn_on(page)
    deliver(page, server, pushed(with_ida, ida, 1, "Are you there?"))
    deliver(page, server, pushed(with_jay, jay, 2, "Call me"))
    eventually(page, lambda: len(shown_notifications(page)) == 2, "two notifications")

    click_notification(page, f"thread-{with_ida}")
    expect(page.get_by_role("heading", name=ida.username)).to_be_visible()
    expect(page.locator(".message .text")).to_have_text(["Are you there?"])
    assert page.evaluate("location.hash") == f"#/threads/{with_ida}"
    eventually(page, lambda: len(shown_notifications(page)) == 1, "the clicked one closed")

    # Opened in the page, a conversation's notification goes too: it is read now.
    open_thread(page, jay)
    eventually(page, lambda: shown_notifications(page) == [], "the other one closed")


def test_the_server_is_told_which_conversation_is_in_view(open_page, make_user, server):
    kai, lea, max_ = make_user("kai"), make_user("lea"), make_user("max")
    with_lea, with_max = lea.thread_with(kai), max_.thread_with(kai)
    page = open_page()
    live = LiveSwitch(page)
    log_in(page, server, kai.username)
    expect_viewing(page, server, kai, None)

    open_thread(page, lea)
    expect_viewing(page, server, kai, with_lea)
    thread_link(page, max_).click()
    expect_viewing(page, server, kai, with_max)

    # The window loses the focus, then gets it back; it is hidden, then shown. Headless Chromium
    # keeps every page focused and visible, so the page is told otherwise, as a browser tells it.
    page.evaluate("document.hasFocus = () => false; window.dispatchEvent(new Event('blur'))")
    expect_viewing(page, server, kai, None)
    page.evaluate("delete document.hasFocus; window.dispatchEvent(new Event('focus'))")
    expect_viewing(page, server, kai, with_max)
    page.evaluate(
        """Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: 1 });
        document.dispatchEvent(new Event("visibilitychange"))"""
    )
    expect_viewing(page, server, kai, None)
    page.evaluate(
        'delete document.visibilityState; document.dispatchEvent(new Event("visibilitychange"))'
    )
    expect_viewing(page, server, kai, with_max)

    # A new socket is told again.
    before = set(viewing(server, kai))
    live.cut()
    live.restore()
    eventually(
        page,
        lambda: (sockets := viewing(server, kai)) and not set(sockets) & before,
        "a new socket",
    )
    expect_viewing(page, server, kai, with_max)

    # No conversation open.
    page.evaluate("location.hash = '#/'")
    expect(page.get_by_role("heading", name=max_.username)).to_be_hidden()
    expect_viewing(page, server, kai, None)


def test_a_message_to_someone_not_looking_reaches_their_browser(
    open_page, make_user, server, push_service
):
    pia, quinn = make_user("pia"), make_user("quinn")
    thread = quinn.thread_with(pia)
    page = push_page(open_page, server, push_service, pia)
    endpoint = turn_on(page).post_data_json["endpoint"]

    with server.notification_worker():
        quinn.send(thread, "Are we still on for tonight?")
        [push] = push_service.wait_for(1, endpoint, timeout=WAIT_SECONDS)
    assert push_service.failures == []
    assert push.payload == payload(thread, quinn, 1, "Are we still on for tonight?")
    assert push.vapid_key == pia.call("GET", "/api/push/key/")["public_key"]

    deliver(page, server, push.plaintext.decode())
    eventually(page, lambda: shown_notifications(page), "a notification")
    assert shown_notifications(page) == [
        [quinn.username, "Are we still on for tonight?", f"thread-{thread}", {"thread": thread}]
    ]
