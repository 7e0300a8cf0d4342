"""Settings: every key is ``HOTEL_COMMUNITY_<NAME>`` in the host app's config.

Each default below is documented with a ``#:`` comment (the README's settings
table is generated from the same names). :func:`load` fills in defaults at
``init_app`` time and fails loudly on a missing required key or on an unknown
``HOTEL_COMMUNITY_*`` key, so a typo never silently falls back to a default.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, current_app

PREFIX = "HOTEL_COMMUNITY_"

#: Required. Secret used to sign guest access links and to encrypt API key
#: secrets at rest. Keep it stable: changing it invalidates every guest link
#: and every PMS API key.
SECRET_KEY = None

#: Where every page and API route of the extension is mounted.
URL_PREFIX = "/community"

#: Languages offered to guests, first one is the fallback.
LOCALES = ("en", "zh")

#: How long a guest access link keeps working after the stay's departure date.
ACCESS_LINK_GRACE = timedelta(days=2)

#: Flask-Limiter rate limit for the room number + last name sign-in, applied
#: per client address and, separately, per property and room.
GUEST_LOGIN_RATE_LIMIT = "10 per hour"

#: Flask-Limiter rate limit for the staff sign-in, per client address and,
#: separately, per username tried.
STAFF_LOGIN_RATE_LIMIT = "20 per hour"

#: Flask-Limiter storage, e.g. ``redis://127.0.0.1:6379/0`` when several
#: workers serve the app. The default keeps counters in process memory.
RATELIMIT_STORAGE_URI = "memory://"

#: Seconds a signed PMS API request's timestamp may differ from server time.
SIGNATURE_TOLERANCE = 300

#: Names of plugins (entry point names) not to load.
DISABLED_PLUGINS: tuple[str, ...] = ()

#: Folder for photos guests upload; empty means ``<instance folder>/hotel_community_media``.
UPLOAD_FOLDER: str | None = None

#: Largest photo upload accepted, in bytes.
MAX_PHOTO_BYTES = 8 * 1024 * 1024

#: Uploaded photos are resized to fit this many pixels a side.
PHOTO_MAX_SIDE = 1200

#: How far back before joining a guest reads the stay group's feed: the posts of
#: the guests staying with them, not of another stay period. (The alumni
#: community keeps its whole history.)
STAY_FEED_LOOKBACK = timedelta(days=1)

#: Size of a page of staff list views.
PAGE_SIZE = 50

#: Posts per page of a group's feed (older ones come with "load older").
FEED_PAGE_SIZE = 20

#: Seconds between two checks of the feed page for new posts (polling, read-only).
FEED_POLL_SECONDS = 5

#: Flask-Limiter rate limit of posts and replies, per member (shared by the
#: workers through ``RATELIMIT_STORAGE_URI``).
POST_RATE_LIMIT = "10 per minute"

#: Words and phrases guests may not post, e.g. ``("spam", "bad phrase")``;
#: matched as whole words, whatever the case.
WORD_FILTER: tuple[str, ...] = ()

#: Flask-Limiter style limit on the "say hello" requests a member sends,
#: counted from the stored requests so every worker agrees.
HELLO_RATE_LIMIT = "20 per day"

#: How long an order waiting for an online payment holds its stock (a payment
#: provider may set its own hold, e.g. pay at the desk holds for a day).
ORDER_HOLD = timedelta(minutes=30)

#: Stripe secret key (``sk_...``). Without it the Stripe payment provider is not offered.
STRIPE_SECRET_KEY: str | None = None

#: Stripe publishable key (``pk_...``), used by Stripe.js on the payment page.
STRIPE_PUBLISHABLE_KEY: str | None = None

#: Signing secret of the Stripe webhook endpoint (``whsec_...``); webhooks
#: whose ``Stripe-Signature`` does not verify with it are refused.
STRIPE_WEBHOOK_SECRET: str | None = None

#: Base URL of the Stripe API (tests point it at a local fake Stripe server).
STRIPE_API_BASE = "https://api.stripe.com"

#: URL of Stripe.js loaded by the payment page.
STRIPE_JS_URL = "https://js.stripe.com/v3/"

#: Payment method types offered through Stripe.
STRIPE_PAYMENT_METHOD_TYPES: tuple[str, ...] = ("card", "wechat_pay", "alipay")

#: Send ``off_session=true`` when confirming the charge of a saved card (campaign
#: settlement), as Stripe expects for charges made while the customer is away.
#: Only a test server that refuses the parameter (localstripe) wants False.
STRIPE_CONFIRM_OFF_SESSION = True

#: Attempts to post a room charge to the PMS folio before it goes to the front desk's queue.
ROOM_CHARGE_MAX_ATTEMPTS = 5

#: Wait before the first retry of a failed room charge; it doubles with each attempt.
ROOM_CHARGE_RETRY_DELAY = timedelta(minutes=1)

#: Seconds to wait for a PMS's API before the call counts as failed (and is retried).
PMS_TIMEOUT = 10

#: Wait before the first retry of a PMS notification whose fetch failed; it doubles
#: with each attempt.
PMS_RETRY_DELAY = timedelta(minutes=1)

#: Fetches of a PMS notification before it is marked failed (``flask community
#: pms-sync`` still reconciles its stay against the PMS's in-house list).
PMS_MAX_ATTEMPTS = 8

#: Fetch and apply what a PMS webhook reported right after its answer is sent. Off,
#: only ``flask community pms-notifications`` (cron) does it.
PMS_PROCESS_AFTER_RESPONSE = True

#: How long a place freed from a paid event's waitlist is kept for the member offered it.
EVENT_OFFER_HOLD = timedelta(hours=2)

#: How long a backer whose card was declined at settlement may update it before the
#: pledge is given up as uncollected.
CAMPAIGN_RETRY_GRACE = timedelta(days=7)

REQUIRED = ("SECRET_KEY",)
DEFAULTS: dict[str, Any] = {
    name: value
    for name, value in dict(globals()).items()
    if name.isupper() and name not in ("PREFIX", "REQUIRED", "DEFAULTS")
}


class ConfigurationError(RuntimeError):
    """A HOTEL_COMMUNITY_* setting is missing, unknown or invalid."""


def load(app: Flask) -> None:
    """Apply defaults to ``app.config`` and reject unknown or missing keys."""
    unknown = sorted(
        key for key in app.config
        if key.startswith(PREFIX) and key[len(PREFIX):] not in DEFAULTS
    )
    if unknown:
        raise ConfigurationError(
            f"Unknown setting(s) {', '.join(unknown)}; known settings are "
            f"{', '.join(PREFIX + name for name in sorted(DEFAULTS))}."
        )
    for name, default in DEFAULTS.items():
        app.config.setdefault(PREFIX + name, default)
    missing = [PREFIX + name for name in REQUIRED if not app.config[PREFIX + name]]
    if missing:
        raise ConfigurationError(f"Missing required setting(s): {', '.join(missing)}.")
    if not app.config[PREFIX + "URL_PREFIX"].startswith("/"):
        raise ConfigurationError(f"{PREFIX}URL_PREFIX must start with '/'.")


def config_value(name: str, app: Flask | None = None) -> Any:
    """The value of ``HOTEL_COMMUNITY_<name>``; raises KeyError for an unknown name."""
    if name not in DEFAULTS:
        raise KeyError(f"Unknown hotel-community setting {name!r}")
    return (app or current_app).config[PREFIX + name]
