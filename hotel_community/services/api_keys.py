"""PMS API keys and the signature every API request carries.

A request is signed like a Stripe webhook::

    X-Hotel-Community-Key: <key id>
    X-Hotel-Community-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

The secret is shown once, when the key is created, and stored encrypted with a
key derived from ``HOTEL_COMMUNITY_SECRET_KEY`` (HMAC needs the secret itself,
so a one-way hash cannot verify it).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

from cryptography.fernet import Fernet
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from hotel_community.crypto import fernet
from hotel_community.database import session, transaction, utcnow
from hotel_community.errors import AuthenticationFailed, NotFound
from hotel_community.models import ApiKey, Property
from hotel_community.settings import config_value

KEY_HEADER = "X-Hotel-Community-Key"
SIGNATURE_HEADER = "X-Hotel-Community-Signature"


def _fernet() -> Fernet:
    return fernet("api-key-secrets")


def create_api_key(prop: Property, label: str = "") -> tuple[ApiKey, str]:
    """A new key for ``prop``; returns it and its secret, which is never shown again."""
    secret = "hcs_" + secrets.token_urlsafe(32)
    with transaction():
        key = ApiKey(property_id=prop.id, key_id="hck_" + secrets.token_hex(12), label=label,
                     secret_encrypted=_fernet().encrypt(secret.encode()).decode())
        session.add(key)
    return key, secret


def revoke_api_key(prop: Property, key_id: str) -> None:
    with transaction():
        result = session.execute(
            update(ApiKey).where(ApiKey.property_id == prop.id, ApiKey.key_id == key_id,
                                 ApiKey.revoked_at.is_(None)).values(revoked_at=utcnow()))
        if result.rowcount == 0:
            raise NotFound("No active API key with that id.")


def list_api_keys(prop: Property) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).where(ApiKey.property_id == prop.id)
                                .order_by(ApiKey.created_at.desc())))


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header value for ``body``: what a PMS (or a test) sends."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def authenticate(key_id: str | None, signature: str | None, body: bytes) -> Property:
    """The property whose key signed this request; :class:`AuthenticationFailed` otherwise."""
    if not key_id or not signature:
        raise AuthenticationFailed(f"Send {KEY_HEADER} and {SIGNATURE_HEADER} headers.")
    timestamp, macs = _parse_signature(signature)
    if abs(time.time() - timestamp) > config_value("SIGNATURE_TOLERANCE"):
        raise AuthenticationFailed("The signature's timestamp is too old or in the future.")
    # With its property, and the property's groups that check-ins work on: one SELECT.
    key = session.scalars(select(ApiKey)
                          .options(joinedload(ApiKey.property).joinedload(Property.groups))
                          .where(ApiKey.key_id == key_id, ApiKey.revoked_at.is_(None))
                          ).unique().first()
    secret = _fernet().decrypt(key.secret_encrypted.encode()).decode() if key else secrets.token_hex()
    expected = sign(secret, body, timestamp).split("v1=")[1]
    # As bytes: compare_digest refuses str holding non-ASCII characters (a 500, not a 401).
    if not any(hmac.compare_digest(expected.encode(), mac.encode("utf-8", "replace"))
               for mac in macs) or key is None:
        raise AuthenticationFailed("Unknown key or wrong signature.")
    return key.property


def _parse_signature(header: str) -> tuple[int, list[str]]:
    parts = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for name, value in parts if name.strip() == "t"]
    macs = [value.strip() for name, value in parts if name.strip() == "v1"]
    # ASCII digits, and few enough to be a time: "²".isdigit() is true, int() refuses it.
    if len(timestamps) != 1 or not re.fullmatch(r"[0-9]{1,15}", timestamps[0].strip()) or not macs:
        raise AuthenticationFailed("Malformed signature header; expected t=<unix seconds>,v1=<hex>.")
    return int(timestamps[0]), macs
