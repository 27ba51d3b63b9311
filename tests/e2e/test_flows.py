"""Real-browser flows: public booking, the stylist portal, the ops dashboard, languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from pelubot_web.extensions import db
from pelubot_web.gcal.emulator import EmulatorControl
from pelubot_web.models import CalendarSyncJob, Reservation
from pelubot_web.services import booking
from tests import factories
from tests.e2e.conftest import PHONE, Screens, log_in
from tests.sync.conftest import wait_until
from tests.web.conftest import PASSWORD, Salon, book, fresh


def _htmx_idle(page: Page) -> None:
    """Wait until no htmx request is in flight or settling (a late swap would replace
    the element we are about to type into)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def _pick_day(page: Page, salon: Salon) -> None:
    _htmx_idle(page)
    day = page.locator("#day")
    day.fill(salon.day.isoformat())
    # Changing the day must load that day's slots even while another day's slot list
    # (whose radios once blocked the form as "required") is on screen.
    with page.expect_response(lambda r: f"day={salon.day.isoformat()}" in r.url):
        day.press("Enter")


def test_customer_books_on_the_phone_and_the_stylist_sees_it(
    screens: Screens, salon: Salon
) -> None:
    customer = screens.open(viewport=PHONE)
    customer.goto("/book/")
    expect(customer.get_by_role("heading", name="Reserva tu cita")).to_be_visible()
    customer.locator("label.choice", has_text="Corte mujer").click()
    _htmx_idle(customer)
    with customer.expect_response(lambda r: "stylist=" in r.url):
        customer.locator("label.choice", has_text="Lucía Fernández").click()
    expect(customer.locator("#day")).to_be_visible()
    _pick_day(customer, salon)
    # The 11:00 of the chosen day, not of today's list still on screen before the swap
    # (which has an 11:00 too when the test runs early in the salon's day).
    of_the_day = customer.locator(f'input[value*="{salon.day.isoformat()}T"]')
    slot = customer.locator("label.slot", has_text="11:00").filter(has=of_the_day)
    expect(slot).to_be_visible()
    slot.click()
    customer.get_by_label("Tu nombre").fill("Elena Prieto")
    customer.get_by_label("Teléfono móvil").fill("655 443 322")
    screens.shot(customer, "1-details")
    customer.get_by_role("button", name="Confirmar reserva").click()
    customer.wait_for_url(re.compile(r"/book/manage/[A-Za-z0-9_-]{40,}$"))
    expect(customer.get_by_text("Tu reserva está confirmada")).to_be_visible()
    expect(customer.get_by_text("Lucía Fernández")).to_be_visible()
    screens.shot(customer, "2-confirmed")
    # Nothing on the page is wider than the phone.
    width = customer.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width

    stylist = screens.open()
    log_in(stylist, "lucia@salon.test", PASSWORD)
    stylist.goto(f"/pro/?date={salon.day}")
    row = stylist.locator("li.appt", has_text="Elena Prieto")
    expect(row).to_contain_text("11:00–11:45")
    expect(row).to_contain_text("Corte mujer")
    expect(row).to_contain_text("Confirmada")
    screens.shot(stylist, "3-agenda")


def test_stylist_reschedules_and_cancels_in_place_with_htmx(screens: Screens, salon: Salon) -> None:
    reservation = book(salon, salon.lucia, 10, customer_obj=factories.customer(name="Rosa Vidal"))
    db.session.commit()
    page = screens.open(viewport=PHONE)
    log_in(page, "lucia@salon.test", PASSWORD)
    page.goto(f"/pro/?date={salon.day}")
    page.evaluate("window.__noReload = true")
    row = page.locator(f"#r-{reservation.uuid}")
    expect(row).to_contain_text("10:00–10:45")

    row.get_by_role("link", name="Cambiar hora").click()
    expect(row.locator("label.slot").first).to_be_visible()
    row.locator("label.slot", has_text="16:00").click()
    screens.shot(page, "1-picking")
    # The move swaps the row, then the agenda refreshes itself (order may change).
    with page.expect_response(lambda r: "/pro/?view=day" in r.url):
        row.get_by_role("button", name="Mover aquí").click()
    expect(row).to_contain_text("16:00–16:45")
    expect(page.locator("#toast")).to_contain_text("Reserva movida")

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Cancelar").click()
    expect(row).to_contain_text("Cancelada")
    screens.shot(page, "2-cancelled")
    assert page.evaluate("window.__noReload") is True  # all in place, no page load
    fresh()
    after = db.session.get(Reservation, reservation.id)
    assert after is not None
    assert after.status == "cancelled"
    assert after.start_at == factories.local(salon.day, 16)
    assert after.version == 3


def test_ops_retries_a_failed_job_and_watches_it_turn_synced(
    screens: Screens,
    salon: Salon,
    emulator: EmulatorControl,
    start_worker: Callable[..., Any],
) -> None:
    emulator.add_fault(status=403, reason="forbidden")
    created = booking.create_reservation(
        service_id=salon.service.id,
        stylist_id=salon.lucia.id,
        start=factories.local(salon.day, 12),
        customer=booking.CustomerInput(name="Pilar Soto", phone="+34622333444"),
        notes=None,
        source="portal",
    )
    start_worker()

    def job() -> CalendarSyncJob:
        reservation = db.session.get(Reservation, created.id)
        assert reservation is not None
        assert reservation.sync_job_id is not None
        found = db.session.get(CalendarSyncJob, reservation.sync_job_id)
        assert found is not None
        return found

    wait_until(lambda: job().status == "failed", what="the job to fail")
    job_id = job().id

    page = screens.open()
    log_in(page, "ops@salon.test", PASSWORD)
    expect(page).to_have_url(re.compile(r"/admin/calendar-jobs/$"))
    row = page.locator(f"#job-{job_id}")
    expect(row).to_contain_text("Fallido")
    expect(row).to_contain_text("forbidden")
    expect(page.locator('[data-worker="ok"]')).to_be_visible()
    screens.shot(page, "1-failed")

    emulator.clear_faults()  # the calendar was shared again
    row.get_by_role("button", name="Reintentar").click()
    expect(page.locator("#toast")).to_contain_text("devuelto a la cola")
    # The 5 s poll brings the new state without reloading the page.
    expect(page.locator(f"#job-{job_id}")).to_contain_text("Completado", timeout=20_000)
    expect(page.locator('[data-status="failed"] b')).to_have_text("0")
    screens.shot(page, "2-synced")
    page.locator(f"#job-{job_id} a").first.click()
    expect(page.locator("#job-detail")).to_contain_text("Sincronizada")
    fresh()
    assert job().status == "succeeded"
    assert db.session.get(Reservation, created.id).sync_status == "synced"  # type: ignore[union-attr]
    assert len(emulator.events()) == 1


def test_spanish_and_english_pages(screens: Screens, salon: Salon) -> None:
    spanish = screens.open(locale="es-ES", viewport=PHONE)
    spanish.goto("/book/")
    expect(spanish.locator("html")).to_have_attribute("lang", "es")
    expect(spanish.get_by_text("32,00 €")).to_be_visible()
    screens.shot(spanish, "1-es")
    spanish.get_by_role("button", name="EN").click()
    expect(spanish.get_by_role("heading", name="Book an appointment")).to_be_visible()
    expect(spanish.get_by_text("€32.00")).to_be_visible()
    screens.shot(spanish, "2-en-switched")

    english = screens.open(locale="en-GB")
    english.goto("/login")
    expect(english.locator("html")).to_have_attribute("lang", "en")
    expect(english.get_by_role("heading", name="Staff login")).to_be_visible()
    english.goto("/missing-page")
    expect(english.get_by_role("heading", name="Page not found")).to_be_visible()
    screens.shot(english, "3-en-404")
