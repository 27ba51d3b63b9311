"""With domain-wide delegation each stylist's calendar is written as that stylist."""

from __future__ import annotations

from flask import Flask

from pelubot_web.extensions import db
from pelubot_web.tasks.runtime import gateway_for_calendar, gateway_for_stylist
from tests import factories


def test_a_moved_booking_is_deleted_as_its_old_stylist(app: Flask) -> None:
    ana = factories.stylist(slug="ana", calendar_id="ana@cal.test", google_account="ana@salon.es")
    bea = factories.stylist(slug="bea", calendar_id="bea@cal.test", google_account="bea@salon.es")
    db.session.commit()

    old_calendar = gateway_for_calendar("ana@cal.test", fallback=bea)
    assert old_calendar is gateway_for_stylist(ana)
    assert old_calendar is not gateway_for_stylist(bea)
    # A calendar no stylist has any more (the stylist changed theirs): their own account.
    assert gateway_for_calendar("old-bea@cal.test", fallback=bea) is gateway_for_stylist(bea)
