"""Each property's link to its PMS: which adapter, its settings, its webhook URL.

Settings an adapter marks secret, and the token that authenticates the
vendor's webhooks, are stored encrypted (:mod:`hotel_community.crypto`);
staff see the other settings, never a saved secret.
"""
from __future__ import annotations

import hmac
import json
import secrets
from typing import Mapping

from cryptography.fernet import InvalidToken
from flask import current_app, url_for
from sqlalchemy import delete, select

from hotel_community.crypto import fernet
from hotel_community.database import release_connection, session, transaction, utcnow
from hotel_community.errors import AuthenticationFailed, NotFound, PmsError, ValidationFailed
from hotel_community.extension import state
from hotel_community.hookspecs import PmsConnection, PMSAdapter, PropertyInfo, SettingField
from hotel_community.models import PmsLink, Property

#: The key in the encrypted secrets that holds the webhook token.
WEBHOOK_TOKEN = "webhook_token"


def adapters() -> dict[str, PMSAdapter]:
    """The installed PMS adapters, by name."""
    return state().plugins.pms_adapters


def adapter_named(name: str) -> PMSAdapter:
    adapter = adapters().get(name)
    if adapter is None:
        raise NotFound(f"No PMS adapter named {name!r} is installed.")
    return adapter


def get_link(prop: Property) -> PmsLink | None:
    return session.scalar(select(PmsLink).where(PmsLink.property_id == prop.id))


def save_link(prop: Property, adapter_name: str, values: Mapping[str, str]) -> PmsLink:
    """Link ``prop`` to a PMS, or change its settings.

    A secret left blank keeps the one saved for the same adapter; the webhook
    token is made with the first link and kept (the vendor's webhook URL stays
    valid) until :func:`rotate_webhook_token`.
    """
    adapter = adapter_named(adapter_name)
    with transaction():
        link = session.scalar(select(PmsLink).where(PmsLink.property_id == prop.id)
                              .with_for_update())
        saved = _readable_secrets(link) if link is not None else {}
        # Saved secrets only go back to where they went: a changed address needs them again.
        keeps_secrets = link is not None and link.adapter == adapter.name and not any(
            (values.get(setting.name) or "").strip() != (link.settings.get(setting.name) or "")
            for setting in adapter.settings_fields if _is_address(setting))
        plain, hidden, errors = {}, {WEBHOOK_TOKEN: saved.get(WEBHOOK_TOKEN) or _new_token()}, {}
        for setting in adapter.settings_fields:
            value = (values.get(setting.name) or "").strip()
            if setting.secret and not value and keeps_secrets:
                value = saved.get(setting.name, "")
            if setting.required and not value:
                moved = (setting.secret and saved.get(setting.name) and not keeps_secrets
                         and link.adapter == adapter.name)
                errors[setting.name] = [f"Enter the {setting.label} again: the address changed."
                                        if moved else f"{setting.label} is required."]
            (hidden if setting.secret else plain)[setting.name] = value
        if errors:
            raise ValidationFailed("Some settings are missing.", errors)
        if link is None:
            link = PmsLink(property_id=prop.id)
            session.add(link)
        link.adapter, link.settings = adapter.name, plain
        link.secrets_encrypted = _encrypt(hidden)
        if not keeps_secrets:
            link.checked_at, link.check_ok, link.check_message = None, None, ""
    return link


def unlink(prop: Property) -> None:
    """Unlink the property: its webhooks are refused, its room charges go to the desk."""
    with transaction():
        if not session.execute(delete(PmsLink).where(PmsLink.property_id == prop.id)).rowcount:
            raise NotFound("This property is not linked to a PMS.")


def rotate_webhook_token(prop: Property) -> PmsLink:
    """A new webhook URL; the old one is refused from now on."""
    with transaction():
        link = _link_or_404(prop, lock=True)
        link.secrets_encrypted = _encrypt({**_secrets(link), WEBHOOK_TOKEN: _new_token()})
    return link


def connection_for(prop: Property) -> tuple[PMSAdapter, PmsConnection] | None:
    """The property's adapter and connection, or ``None``: not linked, or the adapter
    is no longer installed."""
    link = get_link(prop)
    adapter = adapters().get(link.adapter) if link is not None else None
    if adapter is None:
        return None
    return adapter, connection_of(adapter, prop, link)


def connection_of(adapter: PMSAdapter, prop: Property, link: PmsLink) -> PmsConnection:
    hidden = _secrets(link)
    values = {setting.name: ((hidden if setting.secret else link.settings).get(setting.name)
                             or setting.default)
              for setting in adapter.settings_fields}
    info = PropertyInfo(id=prop.id, code=prop.code, name=prop.name, timezone=prop.timezone,
                        currency=prop.currency)
    return PmsConnection(property=info, settings=values)


def authenticate_webhook(prop: Property, adapter_name: str,
                         token: str | None) -> tuple[PMSAdapter, PmsConnection]:
    """The webhook URL's token must be the property's, for this adapter."""
    link = get_link(prop)
    expected = _secrets(link).get(WEBHOOK_TOKEN, "") if link is not None else _new_token()
    matches = hmac.compare_digest(expected.encode(), (token or "").encode())
    if link is None or link.adapter != adapter_name or not matches:
        raise AuthenticationFailed("This webhook URL is not valid for this property.")
    adapter = adapter_named(adapter_name)
    return adapter, connection_of(adapter, prop, link)


def webhook_url(prop: Property, link: PmsLink) -> str:
    """The URL to give the vendor: the property's code and its secret token in the query."""
    return url_for("hotel_community.api.pms_vendor_webhook", adapter_name=link.adapter,
                   property=prop.code, token=_secrets(link)[WEBHOOK_TOKEN], _external=True)


def check_connection(prop: Property) -> PmsLink:
    """Call the PMS with the saved settings and record whether it worked, and what it said."""
    link = _link_or_404(prop)
    adapter = adapter_named(link.adapter)
    connection = connection_of(adapter, prop, link)
    release_connection()
    try:
        ok, message = True, adapter.check_connection(connection)
    except PmsError as exc:
        ok, message = False, exc.message
    except Exception as exc:  # noqa: BLE001 - an adapter surprised by the answer: say so
        current_app.logger.warning("PMS connection check of %s failed", prop.code, exc_info=True)
        ok, message = False, (f"The {adapter.label} adapter could not read the answer "
                              f"({type(exc).__name__}).")
    with transaction():
        link = _link_or_404(prop, lock=True)
        link.checked_at, link.check_ok, link.check_message = utcnow(), ok, message[:2000]
    return link


def linked_properties() -> list[Property]:
    """Every property linked to a PMS, by code."""
    return list(session.scalars(select(Property).join(PmsLink, PmsLink.property_id == Property.id)
                                .order_by(Property.code)))


def _is_address(setting: SettingField) -> bool:
    """A setting naming where the PMS is (``base_url``, ``identity_url``): secrets are sent there."""
    return not setting.secret and setting.name.endswith("url")


def _link_or_404(prop: Property, lock: bool = False) -> PmsLink:
    query = select(PmsLink).where(PmsLink.property_id == prop.id)
    link = session.scalar(query.with_for_update() if lock else query)
    if link is None:
        raise NotFound("This property is not linked to a PMS.")
    return link


def _new_token() -> str:
    return secrets.token_urlsafe(24)


def _encrypt(values: dict[str, str]) -> str:
    return fernet("pms-settings").encrypt(json.dumps(values).encode()).decode()


def _secrets(link: PmsLink) -> dict[str, str]:
    try:
        return json.loads(fernet("pms-settings").decrypt(link.secrets_encrypted.encode()))
    except InvalidToken as exc:
        raise PmsError("The saved PMS settings cannot be read (was HOTEL_COMMUNITY_SECRET_KEY "
                       "changed?): enter the secrets again and save.") from exc


def _readable_secrets(link: PmsLink) -> dict[str, str]:
    """The saved secrets; none when they cannot be read (they are then entered again)."""
    try:
        return _secrets(link)
    except PmsError:
        return {}
