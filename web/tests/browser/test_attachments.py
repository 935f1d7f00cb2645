"""Files in messages, in Chromium against a real server: chosen with the attach button, dropped on
the conversation or pasted into the composer, each uploaded at once with its progress; images as
thumbnails that open a viewer of the full image, other files as download links; a file too large
refused before it is sent, one of a type the server refuses shown with the server's reason."""

import base64
import io
import pathlib
import re

from PIL import Image
from playwright.sync_api import expect

from web.tests.browser.harness import ATTACHMENT_MAX_BYTES

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

# Files made in the page, then dropped on the conversation (`dragover` alone: only dragged over
# it) or pasted into the composer, as the browser does with files from the desktop or clipboard.
DRAG = """([events, files]) => {
  const data = new DataTransfer();
  for (const { name, type, base64 } of files) {
    const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
    data.items.add(new File([bytes], name, { type }));
  }
  const target = document.getElementById("scroller");
  for (const type of events) {
    const init = { dataTransfer: data, bubbles: true, cancelable: true };
    target.dispatchEvent(new DragEvent(type, init));
  }
}"""
PASTE = """([name, type, base64]) => {
  const data = new DataTransfer();
  const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  data.items.add(new File([bytes], name, { type }));
  const input = document.getElementById("message-input");
  const init = { clipboardData: data, bubbles: true, cancelable: true };
  input.dispatchEvent(new ClipboardEvent("paste", init));
}"""


def png(width: int, height: int) -> bytes:
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def payload(name: str, mime_type: str, content: bytes) -> dict:
    return {"name": name, "mimeType": mime_type, "buffer": content}


def in_page(name: str, mime_type: str, content: bytes) -> dict:
    return {"name": name, "type": mime_type, "base64": base64.b64encode(content).decode()}


def thread_link(page, user):
    return page.get_by_role("link", name=re.compile(rf"^{user.username}\b"))


def open_thread(page, other) -> None:
    thread_link(page, other).click()
    expect(page.get_by_role("heading", name=other.username)).to_be_visible()


def choose(page, *files: dict) -> None:
    """Chooses `files` with the composer's attach button, as a person would."""
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach files").click()
    chooser.value.set_files(list(files))


def chip(page, name: str):
    return page.locator(".upload").filter(has_text=name)


def test_an_image_uploads_with_its_progress_and_the_other_opens_it_full_size(open_page, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    alice.send(alice.thread_with(bob), "Wait till you see this")
    alice_page, bob_page = open_page(alice), open_page(bob)
    open_thread(alice_page, bob)
    open_thread(bob_page, alice)
    send = alice_page.get_by_role("button", name="Send")
    expect(send).to_be_disabled()

    # The upload is held on its way, to see it in progress.
    held = []
    alice_page.route("**/api/attachments/", lambda route: held.append(route))
    choose(alice_page, payload("cat.png", "image/png", png(800, 600)))
    expect(alice_page.get_by_role("progressbar", name="Uploading cat.png")).to_be_visible()
    expect(chip(alice_page, "cat.png")).to_have_attribute("data-state", "uploading")
    expect(send).to_be_disabled()
    while not held:
        alice_page.wait_for_timeout(50)
    held[0].continue_()
    expect(chip(alice_page, "cat.png")).to_have_attribute("data-state", "done")
    expect(chip(alice_page, "cat.png").locator("img")).to_be_visible()
    expect(send).to_be_enabled()
    send.click()
    expect(alice_page.locator(".upload")).to_have_count(0)
    expect(thread_link(alice_page, bob).locator(".preview")).to_have_text("You: cat.png")

    # Live on Bob's page: a thumbnail sized from the image's proportions, and no empty text.
    thumbnail = bob_page.get_by_role("button", name="View image cat.png")
    expect(thumbnail).to_be_visible()
    expect(thumbnail.locator("img")).to_have_attribute("width", "240")
    expect(thumbnail.locator("img")).to_have_attribute("height", "180")
    expect(thumbnail.locator("img")).to_have_js_property("complete", True)
    expect(bob_page.locator(".message").last.locator(".text")).to_have_count(0)
    expect(thread_link(bob_page, alice).locator(".preview")).to_have_text("cat.png")

    thumbnail.click()
    viewer = bob_page.get_by_role("dialog", name="cat.png")
    expect(viewer).to_be_visible()
    expect(viewer.get_by_role("img", name="cat.png")).to_have_js_property("naturalWidth", 800)
    expect(viewer.get_by_role("link", name="Download")).to_have_attribute("download", "cat.png")
    bob_page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(thumbnail).to_be_focused()


def test_files_dropped_or_pasted_are_sent_as_download_links_and_images(open_page, make_user):
    carol, dave = make_user("carol"), make_user("dave")
    carol.send(carol.thread_with(dave), "The papers for Monday")
    carol_page, dave_page = open_page(carol), open_page(dave)
    open_thread(carol_page, dave)
    open_thread(dave_page, carol)

    files = [
        in_page("report.pdf", "application/pdf", PDF),
        in_page("minutes.txt", "text/plain", b"Minutes of the meeting\n"),
    ]
    carol_page.evaluate(DRAG, [["dragenter", "dragover"], files])
    expect(carol_page.get_by_text("Drop files to attach them")).to_be_visible()
    expect(carol_page.locator("#drop-zone")).to_contain_text("Files can be up to 1 MB.")
    carol_page.evaluate(DRAG, [["drop"], files])
    expect(carol_page.locator("#drop-zone")).to_be_hidden()
    expect(carol_page.locator('.upload[data-state="done"]')).to_have_count(2)
    carol_page.get_by_label("Message", exact=True).fill("Both attached")
    carol_page.get_by_label("Message", exact=True).press("Enter")

    message = dave_page.locator(".message.theirs").last
    expect(message.locator(".text")).to_have_text("Both attached")
    report = message.get_by_role("link", name=re.compile(r"^report\.pdf"))
    expect(report).to_have_attribute("download", "report.pdf")
    expect(report).to_contain_text(f"{len(PDF)} bytes")
    expect(message.get_by_role("link", name=re.compile(r"^minutes\.txt"))).to_be_visible()
    # A plain link: signed, it needs no token, and the file comes as a download.
    answer = dave_page.request.get(report.evaluate("link => link.href"))
    assert answer.status == 200
    assert answer.headers["content-disposition"].startswith("attachment")
    assert answer.body() == PDF

    # An image pasted into the composer, sent alone with Enter.
    box = carol_page.get_by_label("Message", exact=True)
    box.focus()
    carol_page.evaluate(PASTE, ["image.png", "image/png", base64.b64encode(png(300, 400)).decode()])
    expect(chip(carol_page, "image.png")).to_have_attribute("data-state", "done")
    box.press("Enter")
    pasted = dave_page.get_by_role("button", name="View image image.png")
    expect(pasted.locator("img")).to_have_attribute("width", "180")
    expect(pasted.locator("img")).to_have_attribute("height", "240")


# Two hours from now, as the page sees the time: the links it holds (signed for an hour) ran out.
LATER = "() => { const now = Date.now; Date.now = () => now() + 2 * 3600 * 1000; }"


def test_links_that_ran_out_in_a_page_left_open_are_signed_again(open_page, make_user):
    ivan, judy = make_user("ivan"), make_user("judy")
    ivan.send(ivan.thread_with(judy), "Here they are")
    ivan_page, judy_page = open_page(ivan), open_page(judy)
    open_thread(ivan_page, judy)
    open_thread(judy_page, ivan)
    choose(ivan_page, payload("view.png", "image/png", png(400, 300)))
    choose(ivan_page, payload("notes.txt", "text/plain", b"The notes\n"))
    expect(ivan_page.locator('.upload[data-state="done"]')).to_have_count(2)
    ivan_page.get_by_role("button", name="Send").click()
    thumbnail = judy_page.get_by_role("button", name="View image view.png")
    expect(thumbnail.locator("img")).to_have_js_property("complete", True)

    judy_page.evaluate(LATER)
    again = re.compile(r"/messages/\?before=\d+&limit=1$")
    with judy_page.expect_response(again) as answer:
        thumbnail.click()
    assert answer.value.ok
    viewer = judy_page.get_by_role("dialog", name="view.png")
    expect(viewer.get_by_role("img", name="view.png")).to_have_js_property("naturalWidth", 400)
    judy_page.keyboard.press("Escape")

    notes = judy_page.get_by_role("link", name=re.compile(r"^notes\.txt"))
    with judy_page.expect_response(again), judy_page.expect_download() as download:
        notes.click()
    assert download.value.suggested_filename == "notes.txt"
    assert pathlib.Path(download.value.path()).read_bytes() == b"The notes\n"


def test_a_file_too_large_or_of_a_type_refused_says_why_and_can_be_removed(open_page, make_user):
    erin, frank = make_user("erin"), make_user("frank")
    erin.send(erin.thread_with(frank), "Files follow")
    page = open_page(erin)
    open_thread(page, frank)
    uploads = []
    page.on("request", lambda request: uploads.append(request.url))
    attach = page.get_by_role("button", name="Attach files")
    expect(attach).to_have_accessible_description(re.compile("Files can be up to 1 MB."))

    # Too large: refused here, nothing sent.
    choose(page, payload("big.pdf", "application/pdf", PDF + b"0" * ATTACHMENT_MAX_BYTES))
    expect(chip(page, "big.pdf")).to_have_attribute("data-state", "failed")
    expect(chip(page, "big.pdf")).to_contain_text("Files can be up to 1 MB.")
    assert not [url for url in uploads if "/api/attachments/" in url]

    # Markup named as an image: the server judges the content, and says why it refuses it.
    with page.expect_response(re.compile(r"/api/attachments/$")) as answer:
        choose(page, payload("evil.png", "image/png", b"<html><script>alert(1)</script></html>"))
    assert answer.value.status == 415
    expect(chip(page, "evil.png")).to_contain_text(answer.value.json()["detail"])
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    page.get_by_role("button", name="Remove evil.png").click()
    expect(chip(page, "evil.png")).to_have_count(0)
    expect(page.get_by_label("Message", exact=True)).to_be_focused()
    page.get_by_role("button", name="Remove big.pdf").click()
    expect(page.locator(".upload")).to_have_count(0)

    # Uploaded, then removed: taken back from the server, so it holds no quota for a day.
    with page.expect_response(re.compile(r"/api/attachments/$")) as answer:
        choose(page, payload("draft.txt", "text/plain", b"second thoughts\n"))
    expect(chip(page, "draft.txt")).to_have_attribute("data-state", "done")
    draft = answer.value.json()["id"]
    with page.expect_response(re.compile(rf"/api/attachments/{draft}/$")) as taken_back:
        page.get_by_role("button", name="Remove draft.txt").click()
    assert (taken_back.value.request.method, taken_back.value.status) == ("DELETE", 204)
    expect(page.locator(".upload")).to_have_count(0)

    # Eleven chosen: ten taken, the most one message carries, and the eleventh said so.
    notes = [payload(f"note{n}.txt", "text/plain", f"note {n}".encode()) for n in range(11)]
    choose(page, *notes)
    expect(page.get_by_text("A message can carry up to 10 files.")).to_be_visible()
    expect(page.locator('.upload[data-state="done"]')).to_have_count(10)
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".message.mine").last.locator(".file-link")).to_have_count(10)
    expect(page.locator(".message.mine").last.locator(".receipt")).to_have_text("✓ Sent")


def test_an_upload_refused_for_its_token_renews_the_token_once_and_goes_on(open_page, make_user):
    gina, hal = make_user("gina"), make_user("hal")
    gina.send(gina.thread_with(hal), "One more")
    page = open_page(gina)
    open_thread(page, hal)
    refused = []

    def refuse_the_first(route):
        if refused:
            route.continue_()
        else:
            refused.append(route.request.headers["authorization"])
            route.fulfill(status=401, json={"detail": "Given token not valid for any token type"})

    page.route("**/api/attachments/", refuse_the_first)
    with page.expect_response(re.compile(r"/api/auth/token/refresh/$")) as renewed:
        choose(page, payload("late.txt", "text/plain", b"Sent after all\n"))
    assert renewed.value.ok
    expect(chip(page, "late.txt")).to_have_attribute("data-state", "done")
    assert len(refused) == 1
