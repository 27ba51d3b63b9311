"""The front desk in Chromium: a busy day with four stylists, a booking from the chatbot
API appearing without reload, booking a free cell, moving to another stylist, no-show."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from pelubot_web.extensions import db
from pelubot_web.models import Reservation, Stylist
from pelubot_web.services import accounts
from tests import factories
from tests.e2e.conftest import PHONE, Screens, log_in
from tests.web.conftest import ALL_WEEK, PASSWORD, Salon, book

DESK = "desk@salon.test"
TALL = {"width": 1280, "height": 1700}
NAMES = [
    "Marta Gil",
    "Rocío Sanz",
    "Elena Prieto",
    "Pilar Vega",
    "Ana Torres",
    "Inés Mora",
    "Julia Ramos",
    "Sara Díaz",
    "Nuria Pons",
    "Alba León",
    "Clara Soler",
    "Irene Cano",
]


@dataclass
class BusyDay:
    salon: Salon
    stylists: list[Stylist]


@pytest.fixture
def busy_day(app: Flask, salon: Salon) -> BusyDay:
    """Four stylists and a dozen bookings on the salon's test day; a reception user."""
    more = [
        factories.stylist([salon.service], hours=ALL_WEEK, slug=slug, name=name)
        for slug, name in (("paula", "Paula Martín"), ("sofia", "Sofía Navarro"))
    ]
    db.session.commit()
    stylists = [salon.lucia, salon.carmen, *more]
    times = [(10, 0), (11, 0), (12, 30), (16, 0), (17, 15), (18, 30)]
    for n, name in enumerate(NAMES):
        hour, minute = times[n % len(times)]
        who = factories.customer(name=name, phone=f"+3466100{n:04d}")
        book(salon, stylists[n % 4], hour, minute, customer_obj=who)
    factories.time_off(
        more[1], factories.local(salon.day, 15), factories.local(salon.day, 16), "Formación"
    )
    accounts.create_user(DESK, PASSWORD, "reception")
    db.session.commit()
    return BusyDay(salon, stylists)


def _open_desk(screens: Screens, busy: BusyDay, **viewport: int) -> Page:
    page = screens.open(viewport=viewport or None)  # type: ignore[arg-type]
    log_in(page, DESK, PASSWORD)
    page.goto(f"/desk/?date={busy.salon.day}")
    expect(page.locator(".desk-col")).to_have_count(4)
    return page


def _column(page: Page, name: str) -> Locator:
    return page.locator("section.desk-col", has=page.locator("h2", has_text=name))


def test_a_chatbot_booking_appears_on_the_open_desk_without_reload(
    screens: Screens, busy_day: BusyDay
) -> None:
    page = _open_desk(screens, busy_day, **TALL)  # tall enough to show the whole day
    expect(page.locator(".block")).to_have_count(12)
    screens.shot(page, "1-day-4-stylists")
    page.evaluate("window.__sameDocument = true")

    key = accounts.create_api_key("chatbot", ["booking"]).secret
    start = factories.local(busy_day.salon.day, 13)
    response = page.request.post(
        "/api/v1/reservations",
        headers={"X-API-Key": key},
        data={
            "service_id": busy_day.salon.service.id,
            "professional_id": busy_day.salon.carmen.id,
            "start": start.isoformat(),
            "customer": {"name": "Lola Chatbot", "phone": "+34 699 111 222"},
        },
    )
    assert response.status == 201, response.text()
    block = page.locator(".block", has_text="Lola Chatbot")
    expect(block).to_be_visible(timeout=15_000)
    expect(_column(page, "Carmen Ruiz").locator(".block", has_text="Lola")).to_have_count(1)
    assert page.evaluate("window.__sameDocument") is True  # no full reload happened

    phone = _open_desk(screens, busy_day, **PHONE)
    expect(phone.locator(".block", has_text="Lola Chatbot")).to_have_count(1)
    screens.shot(phone, "2-phone")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width  # the grid scrolls inside its own box


def test_booking_a_free_cell_for_a_regular_customer(screens: Screens, busy_day: BusyDay) -> None:
    regular = factories.customer(name="Begoña Ibáñez", phone="+34622333444")
    db.session.commit()
    page = _open_desk(screens, busy_day)
    start = factories.local(busy_day.salon.day, 13, 15).isoformat()
    cell = _column(page, "Sofía Navarro").locator(f'a.cell[data-start="{start}"]')
    cell.focus()
    cell.press("Enter")  # keyboard works as well as a click
    panel = page.locator("#desk-panel")
    expect(panel).to_contain_text("Nueva reserva")
    panel.get_by_label("Buscar por nombre o teléfono").fill("begona")
    option = panel.locator("label.choice", has_text="Begoña Ibáñez")
    expect(option).to_be_visible()
    option.click()
    panel.get_by_role("button", name="Reservar").click()
    expect(panel).to_contain_text("Reserva creada")
    new_block = _column(page, "Sofía Navarro").locator(".block", has_text="Begoña")
    expect(new_block).to_be_visible()
    screens.shot(page, "booked")
    db.session.rollback()
    made = db.session.query(Reservation).filter_by(customer_id=regular.id).one()
    assert made.stylist.name == "Sofía Navarro"


def test_moving_a_reservation_to_another_stylist(screens: Screens, busy_day: BusyDay) -> None:
    page = _open_desk(screens, busy_day)
    block = _column(page, "Lucía Fernández").locator(".block", has_text="Marta Gil")
    block.click()
    panel = page.locator("#desk-panel")
    panel.get_by_role("link", name="Mover").click()
    target = f"{busy_day.stylists[3].id}|{factories.local(busy_day.salon.day, 13).isoformat()}"
    chip = panel.locator("label.slot", has=page.locator(f'input[value="{target}"]'))
    chip.click()
    panel.get_by_role("button", name="Mover aquí").click()
    expect(panel).to_contain_text("Reserva movida")
    moved = _column(page, "Sofía Navarro").locator(".block", has_text="Marta Gil")
    expect(moved).to_be_visible()
    expect(_column(page, "Lucía Fernández").locator(".block", has_text="Marta Gil")).to_have_count(
        0
    )


def test_marking_a_no_show_updates_the_customers_counts(
    screens: Screens, busy_day: BusyDay
) -> None:
    earlier = datetime.now(factories.MADRID).date() - timedelta(days=2)
    who = factories.customer(name="Olga Ausente", phone="+34633222111")
    past = factories.reservation(
        busy_day.salon.carmen,
        busy_day.salon.service,
        factories.local(earlier, 11),
        customer_obj=who,
    )
    db.session.commit()
    page = screens.open()
    log_in(page, DESK, PASSWORD)
    page.goto(f"/customers/{who.id}")
    expect(page.locator('[data-count="no_show"] b')).to_have_text("0")
    page.goto(f"/desk/?date={earlier}")
    page.locator(f"#b-{past.uuid}").click()
    panel = page.locator("#desk-panel")
    panel.get_by_role("button", name="No presentado").click()
    expect(panel).to_contain_text("Marcada como no presentada")
    expect(page.locator(f"#b-{past.uuid}")).to_have_class(re.compile(r"\bis-no_show\b"))
    panel.get_by_role("link", name="Olga Ausente").click()
    expect(page.locator('[data-count="no_show"] b')).to_have_text("1")
