"""Erasing a customer rewrites their Google events without the name or phone."""

from __future__ import annotations

import json

from flask import Flask

from pelubot_web.extensions import db
from pelubot_web.gcal.emulator import EmulatorControl
from pelubot_web.services import audit, privacy
from tests import factories as f
from tests.sync.changes import book, run_open_jobs


def test_erase_leaves_no_personal_text_in_the_emulators_events(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    svc = f.service(name="Corte")
    ana = f.stylist([svc], name="Ana", calendar_id="ana@calendar.test")
    who = f.customer(name="Remedios Vázquez", phone="+34677888999")
    other = f.customer(name="Otra Clienta", phone="+34677000111")
    db.session.commit()
    day = f.next_weekday(1)
    book(ana, svc, f.local(day, 10), customer_obj=who, notes="Alergia PPD")
    book(ana, svc, f.local(day, 12), customer_obj=who, status="completed")
    book(ana, svc, f.local(day, 13), customer_obj=other)
    run_open_jobs()
    assert "Remedios" in json.dumps(emulator.events(), ensure_ascii=False)

    privacy.erase_customer(who.id, actor=audit.Actor(user_id=None, email="admin@salon.test"))
    run_open_jobs()
    events = json.dumps(emulator.events(), ensure_ascii=False)
    for secret in ("Remedios", "Vázquez", "677888999", "Alergia"):
        assert secret not in events, secret
    assert events.count(privacy.ERASED_NAME) >= 2
    assert "Otra" in events
    assert len(emulator.events()) == 3  # the times stay in the calendar
