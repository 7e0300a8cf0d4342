"""The shop: products, their photos, and the placements that show them (room 1204, the lobby)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotel_community.database import Base, utcnow
from hotel_community.models.stays import Property


class Product(Base):
    """Something a guest can buy: the pillow, the pyjamas, the teacup."""

    __tablename__ = "hc_product"
    __table_args__ = (
        UniqueConstraint("property_id", "sku"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        Index("ix_hc_product_property_active", "property_id", "active", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("hc_property.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200), default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    #: In minor units of ``currency`` (fen, cents): money is never a float.
    price: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    #: Units that can still be sold; orders reserve them with a conditional UPDATE.
    stock: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    property: Mapped[Property] = relationship()
    photos: Mapped[list[ProductPhoto]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductPhoto.position")


class ProductPhoto(Base):
    __tablename__ = "hc_product_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("hc_product.id", ondelete="CASCADE"), index=True)
    #: Storage key (services/storage.py).
    photo: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="photos")


class Placement(Base):
    """Where a product is shown, with its own QR code: room 1204, the lobby, the spa."""

    __tablename__ = "hc_placement"
    __table_args__ = (
        UniqueConstraint("product_id", "location"),
        Index("ix_hc_placement_property_location", "property_id", "location"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short and unguessable: the QR code's URL is ``<prefix>/p/<code>``.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("hc_property.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("hc_product.id", ondelete="CASCADE"))
    #: A room number, or a named place ("Lobby").
    location: Mapped[str] = mapped_column(String(60))
    is_room: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    product: Mapped[Product] = relationship()
    property: Mapped[Property] = relationship()
