"""Schedule aggregate: weekly working hours, time off, salon closures, booking rules."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pelubot_web.extensions import db
from pelubot_web.models.catalog import Stylist
from pelubot_web.models.types import UTCDateTime, utcnow


class WorkingHours(db.Model):  # type: ignore[name-defined,misc]
    """One working interval on a weekday (0 = Monday), in the salon's local time.

    Several rows per day make breaks: 10:00-14:00 and 15:00-20:00 leave lunch free.
    """

    __tablename__ = "working_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_time < end_time", name="start_before_end"),
        Index("ix_working_hours_stylist_weekday", "stylist_id", "weekday"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stylist_id: Mapped[int] = mapped_column(ForeignKey("stylists.id", ondelete="CASCADE"))
    weekday: Mapped[int]
    start_time: Mapped[time]
    end_time: Mapped[time]

    stylist: Mapped[Stylist] = relationship()


class TimeOff(db.Model):  # type: ignore[name-defined,misc]
    """A stylist's absence, as a UTC range ``[start_at, end_at)``."""

    __tablename__ = "time_off"
    __table_args__ = (
        CheckConstraint("start_at < end_at", name="start_before_end"),
        Index("ix_time_off_stylist_start", "stylist_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stylist_id: Mapped[int] = mapped_column(ForeignKey("stylists.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    stylist: Mapped[Stylist] = relationship()


class SalonClosure(db.Model):  # type: ignore[name-defined,misc]
    """Whole days (salon local dates, inclusive) when nobody works: holidays, works."""

    __tablename__ = "salon_closures"
    __table_args__ = (CheckConstraint("start_date <= end_date", name="start_before_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    start_date: Mapped[date] = mapped_column(index=True)
    end_date: Mapped[date]
    reason: Mapped[str | None] = mapped_column(String(200))


class BookingRules(db.Model):  # type: ignore[name-defined,misc]
    """Salon-wide booking rules (a single row, id 1), editable by admins."""

    __tablename__ = "booking_rules"
    __table_args__ = (
        CheckConstraint("slot_granularity_min > 0", name="granularity_positive"),
        CheckConstraint("buffer_after_min >= 0", name="buffer_not_negative"),
        CheckConstraint("min_notice_min >= 0", name="notice_not_negative"),
        CheckConstraint("max_advance_days > 0", name="advance_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_granularity_min: Mapped[int] = mapped_column(default=15)
    buffer_after_min: Mapped[int] = mapped_column(default=0)
    min_notice_min: Mapped[int] = mapped_column(default=60)
    max_advance_days: Mapped[int] = mapped_column(default=60)
