"""Customer records: search, history counts, contact edits, merging, export and erase."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import String, Text, func, select

from pelubot_web.extensions import db
from pelubot_web.models import AuditEntry, Customer, Notification, Reservation
from pelubot_web.services import audit, customers, privacy
from pelubot_web.services.errors import Conflict, InvalidInput, NotFound
from tests import factories as f

ADMIN = audit.Actor(user_id=None, email="admin@salon.test")


def _names(query: str) -> list[str]:
    return [c.name for c in customers.search_customers(query)]


def test_search_ignores_accents_and_case_and_matches_word_starts(app: Flask) -> None:
    f.customer(name="Lucía Núñez Peña", phone="+34655443322")
    f.customer(name="Luis Ortega", phone="+34611222333")
    f.customer(name="Ángela Ruiz", phone="+34699000111")
    db.session.commit()
    assert _names("lucia") == ["Lucía Núñez Peña"]
    assert _names("NUNEZ") == ["Lucía Núñez Peña"]
    assert _names("núñ peñ") == ["Lucía Núñez Peña"]
    assert _names("angela") == ["Ángela Ruiz"]
    assert _names("lu") == ["Lucía Núñez Peña", "Luis Ortega"]
    assert _names("ucia") == []  # word starts only, not any substring
    assert _names("  ") == []
    assert _names("%") == []  # LIKE wildcards are not search syntax


def test_search_by_partial_phone_with_or_without_country_code(app: Flask) -> None:
    f.customer(name="Lucía Núñez", phone="+34655443322")
    f.customer(name="Otro", phone="+34611222333")
    db.session.commit()
    assert _names("655 44") == ["Lucía Núñez"]
    assert _names("+34 655") == ["Lucía Núñez"]
    assert _names("6") == []  # one digit matches too much to be useful
    assert _names("6") == []
    assert _names("34") == ["Lucía Núñez", "Otro"]


def test_history_splits_upcoming_and_past_and_counts_outcomes(app: Flask) -> None:
    salon = f.Salon()
    who = f.customer()
    day = f.next_weekday(1)
    past = f.next_weekday(1, weeks_ahead=-2)
    f.reservation(salon.ana, salon.cut, f.local(day, 10), customer_obj=who)
    f.reservation(salon.ana, salon.cut, f.local(past, 10), customer_obj=who, status="completed")
    f.reservation(salon.ana, salon.cut, f.local(past, 11), customer_obj=who, status="no_show")
    f.reservation(salon.ana, salon.cut, f.local(past, 12), customer_obj=who, status="no_show")
    f.reservation(salon.bea, salon.cut, f.local(day, 12), customer_obj=who, status="cancelled")
    db.session.commit()
    history = customers.history(who.id)
    assert [r.start_at.hour for r in history.upcoming] == [f.utc(f.local(day, 10)).hour]
    assert len(history.past) == 4
    assert history.counts == {"completed": 1, "cancelled": 1, "no_show": 2}


def test_contact_edit_normalises_refuses_a_taken_phone_and_is_audited(app: Flask) -> None:
    who = f.customer(name="Ana", phone="+34600000001")
    f.customer(name="Otra", phone="+34600000002")
    db.session.commit()
    with pytest.raises(Conflict, match="merge"):
        customers.update_contact(
            who.id, customers.ContactInput("Ana", "600 000 002", None), actor=ADMIN
        )
    with pytest.raises(InvalidInput, match="phone"):
        customers.update_contact(who.id, customers.ContactInput("Ana", "12", None), actor=ADMIN)
    changed = customers.update_contact(
        who.id, customers.ContactInput("  Ana  María ", "600 000 009", "A@X.es"), actor=ADMIN
    )
    assert (changed.name, changed.phone, changed.email) == ("Ana María", "+34600000009", "a@x.es")
    assert _names("maria") == ["Ana María"]
    assert [e.action for e in db.session.scalars(select(AuditEntry))] == ["customer.update"]


def test_merge_keeps_every_reservation_and_the_second_phone(app: Flask) -> None:
    salon = f.Salon()
    keep = f.customer(name="Marta Gil", phone="+34600000011", staff_notes="Tinte 6.1")
    dup = f.customer(name="Marta G.", phone="+34600000012", email="marta@x.es")
    day = f.next_weekday(2)
    mine = f.reservation(salon.ana, salon.cut, f.local(day, 10), customer_obj=keep)
    moved = [
        f.reservation(salon.ana, salon.cut, f.local(day, 11), customer_obj=dup),
        f.reservation(salon.bea, salon.cut, f.local(day, 12), customer_obj=dup, status="cancelled"),
    ]
    db.session.commit()
    customers.merge_customers(keep.id, dup.id, actor=ADMIN)
    db.session.rollback()
    assert db.session.get(Customer, dup.id) is None
    owners = {r.id: r.customer_id for r in db.session.scalars(select(Reservation))}
    assert owners == {mine.id: keep.id, moved[0].id: keep.id, moved[1].id: keep.id}
    kept = db.session.get(Customer, keep.id)
    assert kept is not None
    assert kept.email == "marta@x.es"
    assert kept.staff_notes == "Tinte 6.1\n+ +34600000012"
    entry = db.session.scalar(select(AuditEntry))
    assert entry is not None
    assert entry.action == "customer.merge"
    assert entry.target_id == keep.id
    with pytest.raises(NotFound):
        customers.merge_customers(keep.id, dup.id, actor=ADMIN)
    with pytest.raises(InvalidInput, match="different"):
        customers.merge_customers(keep.id, keep.id, actor=ADMIN)


def test_every_text_column_is_classified_as_personal_or_not(app: Flask) -> None:
    """A new column on customers or reservations must be added to privacy's lists."""
    for table_name in ("customers", "reservations", "notifications"):
        table = db.metadata.tables[table_name]
        text_columns = {c.name for c in table.columns if isinstance(c.type, String | Text)}
        known = set(privacy.PERSONAL_COLUMNS[table_name]) | set(privacy.NOT_PERSONAL[table_name])
        assert text_columns == known, table_name


def test_export_lists_the_customer_and_every_reservation(app: Flask) -> None:
    salon = f.Salon()
    who = f.customer(name="Pilar Sanz", phone="+34600000021", email="p@x.es", staff_notes="6.1")
    day = f.next_weekday(2)
    f.reservation(salon.ana, salon.color, f.local(day, 10), customer_obj=who, notes="alergia")
    db.session.commit()
    data = privacy.export_customer(who.id, actor=ADMIN)
    assert data["customer"]["name"] == "Pilar Sanz"
    assert data["customer"]["staff_notes"] == "6.1"
    (res,) = data["reservations"]
    assert res["notes"] == "alergia"
    assert res["service"] == "Color"
    assert res["stylist"] == "Ana"
    assert res["start_at"] == f.utc(f.local(day, 10)).isoformat()
    assert db.session.scalar(select(AuditEntry.action)) == "customer.export"


def test_erase_leaves_no_personal_text_and_keeps_the_times(app: Flask) -> None:
    salon = f.Salon()
    who = f.customer(name="Pilar Sanz", phone="+34600000021", email="p@x.es", staff_notes="6.1")
    other = f.customer(name="Otra Persona")
    day = f.next_weekday(2)
    start = f.local(day, 10)
    mine = f.reservation(salon.ana, salon.cut, start, customer_obj=who, notes="alergia al tinte")
    f.reservation(salon.ana, salon.cut, start + timedelta(hours=2), customer_obj=other, notes="ok")
    db.session.add(
        Notification(
            reservation_id=mine.id,
            kind="confirmation",
            event_key="v1",
            channel="webhook",
            target="endpoint:1",
            payload='{"customer": {"name": "Pilar Sanz", "phone": "+34600000021"}}',
            last_error="550 <p@x.es> refused",
        )
    )
    db.session.commit()
    exported = privacy.export_customer(who.id, actor=ADMIN)
    assert [n["kind"] for n in exported["notifications"]] == ["confirmation"]

    privacy.erase_customer(who.id, actor=ADMIN)
    privacy.erase_customer(who.id, actor=ADMIN)  # twice: nothing more happens
    db.session.rollback()
    erased = db.session.get(Customer, who.id)
    assert erased is not None
    assert erased.erased_at is not None
    assert (erased.name, erased.email, erased.staff_notes) == (privacy.ERASED_NAME, None, None)
    kept = db.session.get(Reservation, mine.id)
    assert kept is not None
    assert kept.notes is None
    assert kept.start_at == f.utc(start)
    assert kept.version == 2  # its calendar event is re-synced without the name
    for secret in ("Pilar", "Sanz", "600000021", "p@x.es", "6.1", "alergia"):
        assert _rows_containing(secret) == [], secret
    assert _names("otra") == ["Otra Persona"]
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions == ["customer.export", "customer.erase"]


def _rows_containing(needle: str) -> list[str]:
    """Every (table.column) of the whole database whose text contains ``needle``."""
    hits = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String | Text):
                count = db.session.scalar(
                    select(func.count()).select_from(table).where(column.contains(needle))
                )
                if count:
                    hits.append(f"{table.name}.{column.name}")
    return hits
