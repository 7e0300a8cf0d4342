"""Secrets kept encrypted at rest (API key secrets, PMS credentials).

Each purpose has its own key, derived from ``HOTEL_COMMUNITY_SECRET_KEY``:
changing that setting makes every stored secret unreadable.
"""
from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet

from hotel_community.settings import config_value


def fernet(purpose: str) -> Fernet:
    secret = str(config_value("SECRET_KEY")).encode()
    digest = hashlib.sha256(f"hotel-community.{purpose}:".encode() + secret).digest()
    return Fernet(base64.urlsafe_b64encode(digest))
