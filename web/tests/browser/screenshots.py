"""Takes the README's screenshots of the web client: `python -m web.tests.browser.screenshots`.

Starts its own server with a few users and conversations, drives two Chromium windows, and
writes PNGs to docs/screenshots/.
"""

import io
import sys

from PIL import Image, ImageDraw
from playwright.sync_api import expect, sync_playwright

from web.tests.browser.harness import CHROMIUM, ROOT, ChatServer, launch_chromium, log_in

OUT = ROOT / "docs" / "screenshots"
DESKTOP = {"viewport": {"width": 1200, "height": 760}}
PHONE = {"viewport": {"width": 390, "height": 760}, "is_mobile": True, "has_touch": True}


def photo() -> bytes:
    """A picture to send: a sunset over hills, 800 by 600 pixels."""
    width, height = 800, 600
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        mix = y / height
        draw.line(
            [(0, y), (width, y)],
            fill=(int(70 + 185 * mix), int(90 + 80 * mix), 170 - int(90 * mix)),
        )
    draw.ellipse([480, 300, 640, 460], fill=(255, 214, 102))
    draw.polygon(
        [(0, 600), (0, 430), (220, 360), (430, 450), (620, 380), (800, 440), (800, 600)],
        fill=(34, 60, 48),
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# A PDF of a plausible size: its header, and a comment as long as a few pages.
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%" + b"0" * 180_000 + b"\n%%EOF\n"


def seed(server):
    alice, bob, carol, dave = (server.user(name) for name in ("alice", "bob", "carol", "dave"))
    with_dave = dave.thread_with(alice)
    dave.send(with_dave, "Are we still on for Friday?")
    alice.send(with_dave, "Yes! 7 pm at the usual place.")
    dave.call("POST", f"/api/threads/{with_dave}/read/")
    alice.call("POST", f"/api/threads/{with_dave}/read/")
    with_bob = alice.thread_with(bob)
    script = [
        (bob, "Hi Alice! Did you get a chance to look at the release notes?"),
        (alice, "Morning! Yes, they read well."),
        (
            alice,
            "Two small things:\n1. the upgrade steps need the new variable\n2. a typo in the title",
        ),
        (bob, "Good catch, fixing both now."),
    ]
    for sender, text in script:
        sender.send(with_bob, text)
    alice.call("POST", f"/api/threads/{with_bob}/read/")
    bob.call("POST", f"/api/threads/{with_bob}/read/")
    alice.send(with_bob, "Thanks! Ping me when it's merged.")
    with_carol = carol.thread_with(alice)
    carol.send(with_carol, "Lunch tomorrow?")
    carol.send(with_carol, "The new place on Main Street has a terrace.")
    return alice, bob, carol, dave, with_bob


def main() -> None:
    if not CHROMIUM.exists():
        sys.exit(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    OUT.mkdir(parents=True, exist_ok=True)
    with ChatServer() as server, sync_playwright() as playwright:
        _alice, bob, _carol, _dave, with_bob = seed(server)
        browser = launch_chromium(playwright)

        page = browser.new_context(**DESKTOP).new_page()
        page.goto(server.url + "/")
        page.get_by_label("Username").fill("alice")
        page.screenshot(path=OUT / "login.png")

        log_in(page, server, "alice")
        bob.send(with_bob, "Merged, and the release is tagged.")
        expect(page.locator(".badge").first).to_be_visible()
        page.mouse.move(0, 0)
        page.screenshot(path=OUT / "threads.png")

        bob_page = browser.new_context(**DESKTOP).new_page()
        log_in(bob_page, server, "bob")
        page.get_by_role("link", name="bob").click()
        expect(page.locator(".message").last).to_contain_text("Merged")
        bob_page.get_by_role("link", name="alice").click()
        bob_page.get_by_label("Message", exact=True).press_sequentially("Release is out")
        expect(page.get_by_text("bob is typing…")).to_be_visible()
        page.get_by_label("Message", exact=True).fill("Great work, thank you!")
        page.screenshot(path=OUT / "conversation.png")

        phone = browser.new_context(**PHONE).new_page()
        log_in(phone, server, "alice")
        phone.screenshot(path=OUT / "phone-list.png")
        phone.get_by_role("link", name="bob").click()
        expect(phone.locator(".message").last).to_be_visible()
        phone.screenshot(path=OUT / "phone-conversation.png")

        # Messages changed: one edited (Up arrow), one deleted for everyone, a message's menu.
        box = page.get_by_label("Message", exact=True)
        box.press("Enter")
        expect(page.locator(".message.mine .text").last).to_have_text("Great work, thank you!")
        box.press("ArrowUp")
        box.fill("Great work, thanks a lot!")
        box.press("Enter")
        expect(page.locator(".message.mine .edited").last).to_be_visible()
        wrong = bob.send(with_bob, "Oops, that was meant for Carol")
        bob.call("DELETE", f"/api/messages/{wrong['id']}/")
        expect(page.locator(".message.deleted")).to_have_count(1)
        merged = page.locator(".message").filter(has_text="Merged, and")
        merged.get_by_role("button", name="Message actions").click()
        expect(page.get_by_role("menuitem", name="Mark unread")).to_be_focused()
        page.screenshot(path=OUT / "changes.png")
        page.keyboard.press("Escape")

        # Files: a photo and a PDF, chosen with the attach button and sent with a few words.
        with page.expect_file_chooser() as chooser:
            page.get_by_role("button", name="Attach files").click()
        chooser.value.set_files(
            [
                {"name": "sunset.png", "mimeType": "image/png", "buffer": photo()},
                {"name": "release-notes.pdf", "mimeType": "application/pdf", "buffer": PDF},
            ]
        )
        expect(page.locator('.upload[data-state="done"]')).to_have_count(2)
        page.get_by_label("Message", exact=True).fill("The view from the office, and the notes.")
        page.get_by_label("Message", exact=True).press("Enter")
        sent = page.locator(".message.mine").last
        expect(sent.locator(".receipt")).to_have_text("✓ Sent")
        expect(sent.locator(".thumbnail img")).to_have_js_property("complete", True)
        page.mouse.move(0, 0)
        page.screenshot(path=OUT / "attachments.png")

        # Safety: Carol's conversation muted, one of her messages reported.
        page.get_by_role("link", name="carol").click()
        expect(page.locator(".message")).to_have_count(2)
        page.get_by_role("button", name="Mute conversation", exact=True).click()
        page.get_by_role("menuitem", name="Until I unmute").click()
        expect(page.get_by_role("button", name="Unmute conversation", exact=True)).to_be_visible()
        terrace = page.locator(".message").filter(has_text="terrace")
        terrace.get_by_role("button", name="Message actions").click()
        page.get_by_role("menuitem", name="Report…").click()
        report = page.get_by_role("dialog", name="Report this message")
        report.get_by_role("radio", name="Spam").check()
        report.get_by_label("Comment").fill("Sends the same advert every day.")
        page.screenshot(path=OUT / "report.png")
        report.get_by_role("button", name="Cancel").click()

        # Dave blocked: the notice in place of the composer, and the settings.
        page.get_by_role("link", name="dave").click()
        page.get_by_role("button", name="Block dave", exact=True).click()
        page.get_by_role("dialog", name="Block dave?").get_by_role("button", name="Block").click()
        expect(page.locator("#block-bar").get_by_text("You blocked dave.")).to_be_visible()
        page.screenshot(path=OUT / "blocked.png")
        page.get_by_role("button", name="Settings").click()
        expect(page.get_by_role("dialog", name="Settings")).to_contain_text("dave")
        page.screenshot(path=OUT / "settings.png")

        browser.close()
    print(f"Screenshots written to {OUT}")


if __name__ == "__main__":
    main()
