"""Catalog aggregate: services, stylists and which services each stylist offers."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pelubot_web.extensions import db


class Service(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "services"
    __table_args__ = (
        CheckConstraint("duration_min > 0", name="duration_positive"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    duration_min: Mapped[int]
    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    active: Mapped[bool] = mapped_column(default=True)

    offerings: Mapped[list[StylistService]] = relationship(
        back_populates="service", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Service {self.slug}>"


class Stylist(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "stylists"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)
    # The Google calendar this stylist's reservations are mirrored into (None = not synced).
    calendar_id: Mapped[str | None] = mapped_column(String(255))
    # Domain-wide delegation: act as this Workspace account (None = calendar shared with
    # the service account).
    google_account: Mapped[str | None] = mapped_column(String(254))

    offerings: Mapped[list[StylistService]] = relationship(
        back_populates="stylist", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Stylist {self.slug}>"


class StylistService(db.Model):  # type: ignore[name-defined,misc]
    """A service a stylist offers, with optional per-stylist duration and price."""

    __tablename__ = "stylist_services"
    __table_args__ = (
        CheckConstraint(
            "duration_min IS NULL OR duration_min > 0", name="override_duration_positive"
        ),
        CheckConstraint(
            "price_cents IS NULL OR price_cents >= 0", name="override_price_not_negative"
        ),
    )

    stylist_id: Mapped[int] = mapped_column(
        ForeignKey("stylists.id", ondelete="CASCADE"), primary_key=True
    )
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    duration_min: Mapped[int | None]
    price_cents: Mapped[int | None]

    stylist: Mapped[Stylist] = relationship(back_populates="offerings")
    service: Mapped[Service] = relationship(back_populates="offerings")

    @property
    def effective_duration_min(self) -> int:
        return self.duration_min or self.service.duration_min

    @property
    def effective_price_cents(self) -> int:
        return self.price_cents if self.price_cents is not None else self.service.price_cents
