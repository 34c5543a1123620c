"""The web support center as its users use it: customers and the support team in their own
browser contexts, found by role and label as a person finds things on the page."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.harness import RunningStack
from tests.web.conftest import AXE

pytestmark = pytest.mark.integration

EMAILS = {"acme_user": "user@acme.test", "globex_user": "user@globex.test", "support": "agent@helpdesk.test"}
FIRST = (
    "Since 09:00 UTC new pods in cluster prod-eu stay Pending. kubectl describe pod says: "
    "0/3 nodes are available: 3 Insufficient cpu. The cluster autoscaler does not add nodes."
)
DRAFT = (
    "New pods in cluster prod-eu stay Pending again. kubectl describe pod shows "
    "0/3 nodes are available: 3 Insufficient cpu, and the cluster autoscaler adds no nodes."
)


class Person:
    """One user in their own browser context, with what went wrong on their page recorded."""

    def __init__(self, browser: Any, stack: RunningStack, user: str, artifacts: Path, viewport: dict[str, int]) -> None:
        self.context = browser.new_context(viewport=viewport, accept_downloads=True)
        self.context.set_default_timeout(15_000)
        self.context.add_init_script(path=str(AXE))  # through DevTools: the page's CSP stays as it is
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on(
            "console",
            lambda message: (
                self.problems.append(f"console: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )
        self.stack, self.user, self.artifacts = stack, user, artifacts

    def sign_in(self) -> Any:
        page = self.page
        page.goto(self.stack.url + "/")
        page.get_by_role("button", name=f"Sign in as {EMAILS[self.user]}").click()
        page.get_by_role("button", name=re.compile("account menu")).wait_for()
        return page

    def shot(self, name: str, full_page: bool = True) -> None:
        self.page.screenshot(path=str(self.artifacts / "screenshots" / f"{name}.png"), full_page=full_page)

    def close(self) -> None:
        self.page.screenshot(path=str(self.artifacts / f"last-page-{self.user}.png"), full_page=True)
        self.context.close()
        assert not self.problems, self.problems


@pytest.fixture
def people(browser: Any, stack: RunningStack, artifacts: Path) -> Iterator[Any]:
    opened: list[Person] = []

    def open_as(user: str, width: int = 1280, height: int = 900) -> Person:
        person = Person(browser, stack, user, artifacts, {"width": width, "height": height})
        opened.append(person)
        return person

    yield open_as
    for person in opened:
        person.close()


def reviewed_ticket(stack: RunningStack, user: str, subject: str, body: str) -> str:
    """A ticket filed over the API and reviewed (so that it is in the duplicate index)."""
    with stack.as_user(user) as client:
        created = client.post("/v1/tickets", json={"category": "technical", "subject": subject, "body": body})
        assert created.status_code == 201, created.text
        ticket_id = str(created.json()["id"])
        stack.wait_for(
            lambda: client.get(f"/v1/tickets/{ticket_id}").json()["status"] == "open", timeout=20, what="the review"
        )
    return ticket_id


def test_a_customer_and_the_support_team_work_a_ticket_through(
    stack: RunningStack, people: Any, tmp_path: Path
) -> None:
    subject = "Pods stuck in Pending on prod-eu"
    ticket_id = reviewed_ticket(stack, "acme_user", subject, FIRST)

    # Given the customer signed in: the list shows the ticket with its status and summary
    customer = people("acme_user")
    page = customer.sign_in()
    page.get_by_role("heading", name="Your tickets").wait_for()
    row = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=subject))
    row.get_by_text("Open", exact=True).wait_for()
    row.get_by_text("Waiting on support").wait_for()
    customer.shot("01-ticket-list")

    # When they file a similar ticket, the review step proposes the first one as a duplicate
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New ticket").click()
    page.get_by_label("Subject").fill("New pods Pending in prod-eu")
    page.get_by_label("Description").fill(DRAFT)
    page.get_by_label("Cluster ID").fill("prod-eu")
    page.get_by_role("button", name="Review my ticket").click()
    page.get_by_role("heading", name="What the review found").wait_for()
    duplicates = page.get_by_role("region", name="You may already have a ticket about this")
    duplicate = duplicates.get_by_role("listitem").filter(has=page.get_by_role("link", name=subject))
    duplicate.get_by_text(re.compile(r"\d+% match")).wait_for()
    assert duplicate.locator("mark").count() >= 1  # the evidence: matching phrases
    suggested = page.get_by_label("Category", exact=True).input_value()
    assert suggested in ("technical", "bug")  # the review's suggestion, preselected
    customer.shot("02-new-ticket-review")
    assert axe_violations(page) == []

    # ...and adding the text to that ticket instead of filing lands in its conversation
    duplicate.get_by_role("button", name="Add my text to this ticket instead").click()
    page.wait_for_url(f"**/tickets/{ticket_id}")
    page.get_by_text("New pods in cluster prod-eu stay Pending again").wait_for()
    with stack.as_user("acme_user") as client:
        listed = client.get("/v1/tickets", params={"limit": 100}).json()["items"]
    assert [t["subject"] for t in listed] == [subject]  # nothing else was filed

    # A file that is an executable, whatever its name, is refused before any upload
    fake = tmp_path / "setup.txt"
    fake.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200)
    page.get_by_label("Attach files").set_input_files(str(fake))
    refusal = page.get_by_role("alert").filter(has_text="setup.txt")
    refusal.get_by_text(re.compile(r"refused: it is a Windows executable")).wait_for()
    assert page.get_by_role("list", name="Files to send").count() == 0
    customer.shot("03-refused-executable")
    assert axe_violations(page) == []

    # They reply with a log attached (inline) and a large one (presigned upload to the bucket)
    log = tmp_path / "scheduler.log"
    log.write_text("I1206 09:00:01 scheduler: 0/3 nodes are available: 3 Insufficient cpu.\n" * 20)
    large = tmp_path / "autoscaler.log"
    large.write_text(("autoscaler: scale-up blocked: max node group size reached\n" * 80_000)[:4_600_000])
    page.get_by_role("button", name="Dismiss").click()
    page.get_by_label("Your reply (markdown)").fill("Logs attached. **Still** failing at `10:15`.")
    page.get_by_label("Attach files").set_input_files([str(log), str(large)])
    files = page.get_by_role("list", name="Files to send")
    files.get_by_text("direct upload").wait_for()
    page.get_by_role("button", name="Send reply").click()
    page.get_by_role("status").filter(has_text="Reply sent.").wait_for()
    page.get_by_role("button", name="Download scheduler.log").wait_for()
    page.get_by_role("button", name="Download autoscaler.log").wait_for(timeout=30_000)  # after the check
    assert page.locator(".message__body strong", has_text="Still").count() == 1  # markdown rendered
    with page.expect_download() as download:
        page.get_by_role("button", name="Download scheduler.log").click()
    saved = tmp_path / "downloaded.log"
    download.value.save_as(saved)
    assert saved.read_bytes() == log.read_bytes()

    # The support team (its own browser) finds it in the queue, writes an internal note and a reply
    support = people("support")
    desk = support.sign_in()
    desk.get_by_role("heading", name="Support queue").wait_for()
    queue_row = desk.get_by_role("listitem").filter(has=desk.get_by_role("link", name=subject))
    queue_row.get_by_text("Org acme").wait_for()
    support.shot("04-support-queue")
    queue_row.get_by_role("link", name=subject).click()
    desk.get_by_role("heading", name=subject).wait_for()
    desk.get_by_label("Internal note (only the support team sees it)").check()
    desk.get_by_label("Internal note (markdown)").fill("Customer is on the legacy node pool; check quota first.")
    desk.get_by_role("button", name="Add internal note").click()
    note = desk.get_by_role("article", name=re.compile("^Internal note from"))
    note.get_by_text("legacy node pool").wait_for()
    note.get_by_text("only support sees this").wait_for()
    desk.get_by_label("Your reply (markdown)").fill("We raised the node group limit; new pods should schedule now.")
    desk.get_by_role("button", name="Send reply").click()
    desk.get_by_role("article", name=re.compile(r"^Message from .*support")).get_by_text(
        "raised the node group limit"
    ).wait_for()
    desk.get_by_label("Severity", exact=True).select_option("high")
    desk.get_by_label("Assignee").fill("agent@helpdesk.test")
    desk.get_by_role("button", name="Save changes").click()
    desk.get_by_role("status").filter(has_text="Ticket updated.").wait_for()
    support.shot("05-support-conversation")

    # The customer sees the reply, and not the note
    page.reload()
    page.get_by_text("raised the node group limit").wait_for()
    page.get_by_role("heading", name=subject).wait_for()
    assert page.get_by_text("legacy node pool").count() == 0
    assert page.get_by_text("Internal note").count() == 0
    page.locator(".ticket-header").get_by_text("Waiting for you").wait_for()
    customer.shot("06-conversation")

    # They close it, after confirming
    page.get_by_role("button", name="Close ticket").click()
    dialog = page.get_by_role("dialog", name="Close this ticket?")
    dialog.get_by_role("button", name="Close ticket").click()
    page.get_by_text("This ticket is closed.").wait_for()
    assert page.get_by_label("Your reply (markdown)").count() == 0
    customer.shot("07-closed")

    # Another organisation's user sees none of it
    other = people("globex_user")
    theirs = other.sign_in()
    theirs.get_by_role("heading", name="Your tickets").wait_for()
    theirs.get_by_text("You have no tickets yet.").wait_for()
    assert theirs.get_by_text(subject).count() == 0
    theirs.goto(f"{stack.url}/tickets/{ticket_id}")
    theirs.get_by_role("heading", name="Ticket not found").wait_for()
    assert theirs.get_by_text("Pending").count() == 0


def test_filters_search_and_paging(stack: RunningStack, people: Any) -> None:
    with stack.as_user("acme_admin") as client:
        for n in range(27):
            body = (
                f"Invoice {n} shows a duplicate charge for the same month."
                if n % 9 == 0
                else f"Question {n} about quotas."
            )
            assert (
                client.post(
                    "/v1/tickets", json={"category": "billing" if n % 9 == 0 else "general", "body": body}
                ).status_code
                == 201
            )
        # the search index follows the table's stream (seconds behind the writes)
        stack.wait_for(
            lambda: client.get("/v1/tickets", params={"q": "invoice 18"}).json()["items"],
            timeout=60,
            what="the search index to hold the new tickets",
        )
    customer = people("acme_user", width=390, height=844)  # a phone
    page = customer.sign_in()
    tickets = page.get_by_role("list", name="Your tickets")
    tickets.get_by_role("listitem").nth(24).wait_for()
    assert tickets.get_by_role("listitem").count() == 25
    customer.shot("08-list-phone", full_page=False)
    page.get_by_role("button", name="Load more tickets").click()
    tickets.get_by_role("listitem").nth(26).wait_for()
    page.get_by_text("Filters", exact=True).click()  # folded on a phone
    page.get_by_label("Category", exact=True).select_option("billing")
    page.wait_for_url(re.compile(r"category=billing"))
    page.get_by_text("duplicate charge").first.wait_for()
    assert all("Billing" in text for text in tickets.get_by_role("listitem").all_inner_texts())
    page.get_by_role("searchbox", name="Search").fill("invoice 18")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r"q=invoice"))
    tickets.get_by_role("listitem").filter(has_text="Invoice 18").wait_for()
    page.get_by_role("searchbox", name="Search").fill("nothing-matches-this")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_text("No ticket matches these filters.").wait_for()


def test_the_email_notification_setting(stack: RunningStack, people: Any) -> None:
    customer = people("globex_user")
    page = customer.sign_in()
    page.get_by_role("button", name=re.compile("account menu")).click()
    switch = page.get_by_role("switch", name="Email notifications")
    assert switch.is_checked()
    switch.uncheck()
    stack.wait_for(
        lambda: stack.as_user("globex_user").get("/v1/me").json()["email_notifications"] is False, what="PATCH /v1/me"
    )
    page.keyboard.press("Escape")
    assert page.get_by_role("switch", name="Email notifications").count() == 0
    page.get_by_role("button", name=re.compile("account menu")).click()
    assert not page.get_by_role("switch", name="Email notifications").is_checked()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in to the support center").wait_for()


# ------------------------------------------------------------------------------ accessibility

SERIOUS = ("serious", "critical")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const result = await axe.run(document, { resultTypes: ["violations"] });
            return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
        }"""
    )
    return [violation for violation in found if violation["impact"] in SERIOUS]


def test_every_main_view_has_no_serious_accessibility_violation(
    stack: RunningStack, browser: Any, artifacts: Path
) -> None:
    ticket_id = reviewed_ticket(
        stack,
        "acme_user",
        "Dashboard shows 502 errors",
        "The dashboard answers 502 Bad Gateway since 08:00 UTC on every page.",
    )
    with stack.as_user("support") as client:
        client.post(f"/v1/tickets/{ticket_id}/messages", json={"body": "Looking into it.", "internal": False})
        client.post(f"/v1/tickets/{ticket_id}/messages", json={"body": "Edge pool exhausted.", "internal": True})
    report: dict[str, list[dict[str, Any]]] = {}

    def scan(user: str | None, path: str, name: str, ready: str, width: int = 1280) -> None:
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.add_init_script(path=str(AXE))  # through DevTools, so the page's CSP stays as it is
        page = context.new_page()
        page.goto(stack.url + "/")
        if user:
            page.get_by_role("button", name=f"Sign in as {EMAILS[user]}").click()
            page.get_by_role("button", name=re.compile("account menu")).wait_for()
            page.goto(stack.url + path)
        page.get_by_role("heading", name=re.compile(ready)).first.wait_for()
        page.wait_for_timeout(300)
        report[name] = axe_violations(page)
        page.screenshot(path=str(artifacts / "screenshots" / f"a11y-{name}.png"), full_page=True)
        context.close()

    scan(None, "/", "sign-in", "Sign in to the support center")
    scan("acme_user", "/tickets", "ticket-list", "Your tickets")
    scan("acme_user", "/tickets", "ticket-list-phone", "Your tickets", width=390)
    scan("acme_user", f"/tickets/{ticket_id}", "conversation", "Dashboard shows 502 errors")
    scan("acme_user", "/tickets/new", "new-ticket", "New ticket")
    scan("support", "/queue", "support-queue", "Support queue")
    scan("support", f"/tickets/{ticket_id}", "support-conversation", "Dashboard shows 502 errors")
    (artifacts / "axe-report.json").write_text(json.dumps(report, indent=2))
    assert report and not any(report.values()), json.dumps(report, indent=2)


def tab_to(page: Any, label: str, limit: int = 60) -> None:
    """Press Tab until the focused element is the one named `label` (its text or aria-label)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " const label = e.labels && e.labels.length ? e.labels[0].textContent : '';"
            " return (e.getAttribute('aria-label') || label || e.innerText || e.value || '').trim(); }"
        )
        if focused.startswith(label):
            return
    raise AssertionError(f"{label!r} is not reachable with the Tab key")


def test_keyboard_only(stack: RunningStack, people: Any) -> None:
    subject = "Keyboard user cannot reach the console"
    reviewed_ticket(stack, "acme_user", subject, "The web console login button does nothing since 07:00 UTC.")
    person = people("acme_user")
    page = person.page
    page.goto(stack.url + "/")
    page.get_by_role("heading", name="Sign in to the support center").wait_for()
    page.get_by_role("button", name="Sign in as user@acme.test").wait_for()  # the tenants are fetched after the page
    tab_to(page, "Sign in as user@acme.test")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Your tickets").wait_for()

    assert page.evaluate("() => document.activeElement.innerText") == "Your tickets"  # the page's title has focus
    tab_to(page, subject)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=subject).wait_for()
    assert page.evaluate("() => document.activeElement.tagName") == "H1"  # focus moved to the new page

    tab_to(page, "Your reply")
    page.keyboard.type("Typed without a mouse.")
    tab_to(page, "Send reply")
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Reply sent.").wait_for()

    tab_to(page, "Close ticket")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Close this ticket?")
    dialog.wait_for()
    page.keyboard.press("Escape")  # changed my mind
    dialog.wait_for(state="hidden")
    assert page.get_by_text("This ticket is closed.").count() == 0
    page.get_by_role("button", name="Close ticket").focus()
    page.keyboard.press("Enter")
    dialog.wait_for()
    tab_to(page, "Close ticket", limit=4)  # focus stays in the dialog: Cancel, then Close ticket
    page.keyboard.press("Enter")
    page.get_by_text("This ticket is closed.").wait_for()
