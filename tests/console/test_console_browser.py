"""The console in a real browser: a person takes a conversation over from the bot and back."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.console.browser import chromium
from tests.console.conftest import TENANT_A, ConsolePlatform, StaffLogin
from tests.console.handoffs import handed_off, status_of
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact

pytestmark = pytest.mark.browser
LIVE = 10_000  # ms a live update may take on a busy machine before the test gives up
VOUCHER = b"\x89PNG\r\n\x1a\n a voucher for a free pizza"
# Set to docs/images to refresh the screenshots of docs/console.md from the story test.
SCREENSHOTS = os.environ.get("WTA_CONSOLE_SCREENSHOTS")


async def screenshot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        await page.screenshot(path=str(Path(SCREENSHOTS) / f"console-{name}.png"), full_page=True)


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    async with chromium(tmp_path / "profile") as context:
        yield context


async def logged_in(context: BrowserContext, url: str, staff: StaffLogin) -> Page:
    page = await context.new_page()
    await page.goto(url + "/console")
    await page.fill("input[name=tenant]", staff.tenant)
    await page.fill("input[name=email]", staff.email)
    await page.fill("input[name=password]", staff.password)
    await page.click("button[type=submit]")
    await expect(page.locator("h1")).to_have_text("Waiting for a person")
    return page


async def test_an_agent_takes_over_replies_and_hands_back_to_the_bot(
    console_platform: ConsolePlatform,
    browser: BrowserContext,
    make_staff: Any,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    twilio = console_platform.twilio
    staff = await make_staff()
    queue = await logged_in(browser, console_platform.url, staff)
    await expect(queue.locator("#queue")).to_be_visible()

    conversation, contact = await handed_off(
        console_platform, sessions, TENANT_A, name="Joana", body="can I talk to a human?"
    )
    row = queue.locator(f"tr[data-conversation='{conversation}']")
    await expect(row).to_contain_text("Joana", timeout=LIVE)  # no reload: the queue is live
    await expect(row).to_contain_text("nobody")
    await screenshot(queue, "queue")
    await row.get_by_role("button", name="Assign to me").click()

    await expect(queue.locator(".state")).to_contain_text(f"assigned to {staff.email}")
    await queue.fill("form.reply textarea[name=text]", "Hi Joana, I am Ana from the shop.")
    picture = {"name": "voucher.png", "mimeType": "image/png", "buffer": VOUCHER}
    await queue.set_input_files("form.reply input[name=file]", files=[picture])
    await screenshot(queue, "reply-form")
    await queue.click("form.reply button[type=submit]")
    reply = await eventually(
        lambda: [m for m in twilio.sent_to(contact) if m.body.startswith("Hi Joana")],
        until=bool,
    )
    sent = queue.locator("li.message.support").last
    await expect(sent).to_contain_text("Hi Joana, I am Ana from the shop.")
    await expect(sent).to_contain_text(f"{staff.email} (person)")
    await expect(sent.locator(".tick")).to_have_text("read", timeout=LIVE)
    await screenshot(queue, "conversation")

    await queue.click("text=Release to the bot")
    await expect(queue.locator("h1")).to_have_text("Waiting for a person")
    await console_platform.contact_writes(TENANT_A, contact, "do you deliver?", "Joana")
    answers = await eventually(
        lambda: [m.body for m in twilio.sent_to(contact)],
        until=lambda bodies: any("we deliver" in b for b in bodies),
    )

    assert reply[0].from_ == "whatsapp:+14155550301"
    assert len(reply) == 1
    async with httpx.AsyncClient() as twilio_fetch:  # Twilio fetches the picture by its link
        [link] = reply[0].media_urls
        assert (await twilio_fetch.get(link)).content == VOUCHER
    assert len([b for b in answers if "we deliver" in b]) == 1
    stored = await status_of(sessions, TENANT_A, contact)
    assert stored is not None
    assert stored.status == "progress"
    assert stored.assigned_to is None


async def test_a_contact_cannot_run_script_in_the_console(
    console_platform: ConsolePlatform,
    browser: BrowserContext,
    make_staff: Any,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dialogs: list[str] = []
    browser.on("page", lambda p: p.on("dialog", lambda d: dialogs.append(d.message)))
    attack = "<img src=x onerror=alert(1)>"
    page = await logged_in(browser, console_platform.url, await make_staff())
    conversation, _ = await handed_off(
        console_platform,
        sessions,
        TENANT_A,
        contact=new_contact(),
        body=f"a human please {attack}",
        name="<b onmouseover=alert(2)>Eve</b>",
    )

    row = page.locator(f"tr[data-conversation='{conversation}']")
    await expect(row).to_contain_text("<b onmouseover=alert(2)>Eve</b>", timeout=LIVE)
    await page.goto(f"{console_platform.url}/console/conversations/{conversation}")
    body = page.locator("li.message.inbound .body").first

    await expect(body).to_have_text(f"a human please {attack}")
    assert await page.locator("#thread img").count() == 0
    assert await page.locator("h1 b").count() == 0
    assert dialogs == []
