"""The Flask extension: ``HotelCommunity(app)`` or ``community.init_app(app)``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import Blueprint, Flask, current_app, request
from flask_babel import get_locale
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_sqlalchemy import SQLAlchemy

from hotel_community import i18n, settings
from hotel_community.plugin_manager import Plugins

EXTENSION_KEY = "hotel_community"

StaffLoader = Callable[[], Any]


@dataclass
class AppState:
    """What the extension keeps per app, in ``app.extensions["hotel_community"]``."""

    extension: HotelCommunity
    db: SQLAlchemy
    plugins: Plugins
    limiter: Limiter


class HotelCommunity:
    """Drops the community into a Flask app.

    :param app: the host app; or call :meth:`init_app` later.
    :param db: the host's Flask-SQLAlchemy object. Without it the extension uses
        the app's registered one, or sets up its own from ``SQLALCHEMY_DATABASE_URI``.
    """

    def __init__(self, app: Flask | None = None, db: SQLAlchemy | None = None) -> None:
        self.db = db
        self._staff_loader: StaffLoader | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError("HotelCommunity is already registered on this app.")
        settings.load(app)
        db = self._database_for(app)
        limiter = Limiter(get_remote_address, app=app,
                          storage_uri=app.config["HOTEL_COMMUNITY_RATELIMIT_STORAGE_URI"])
        limiter.request_filter(_outside_the_extension)
        plugins = Plugins(tuple(app.config["HOTEL_COMMUNITY_DISABLED_PLUGINS"]))
        app.extensions[EXTENSION_KEY] = AppState(self, db, plugins, limiter)
        i18n.init_app(app)
        from hotel_community.views import IdConverter

        app.url_map.converters["hc_id"] = IdConverter
        app.register_blueprint(_blueprint(), url_prefix=app.config["HOTEL_COMMUNITY_URL_PREFIX"])
        _rate_limit_sign_ins(app, limiter)
        from hotel_community.views.feed import rate_limit_posting
        rate_limit_posting(app, limiter)
        from hotel_community.cli import community_cli
        app.cli.add_command(community_cli)
        from hotel_community.services import events, room_charges
        room_charges.init_app(app)
        events.init_app(app)

    def staff_loader(self, loader: StaffLoader) -> StaffLoader:
        """Decorate a function that returns the signed-in staff user, or None.

        For a host app with its own login: ``return current_user if
        current_user.is_authenticated and current_user.is_staff else None``.
        The object returned needs a ``display_name``. Without a loader the
        built-in staff accounts (``flask community staff create``) are used.
        """
        self._staff_loader = loader
        return loader

    def load_staff(self) -> Any:
        if self._staff_loader is not None:
            return self._staff_loader()
        from hotel_community.views.staff_auth import load_builtin_staff
        return load_builtin_staff()

    def _database_for(self, app: Flask) -> SQLAlchemy:
        if self.db is not None:
            if app.extensions.get("sqlalchemy") is not self.db:
                raise settings.ConfigurationError(
                    "The db given to HotelCommunity is not set up on this app: call "
                    "db.init_app(app) before community.init_app(app).")
            return self.db
        if "sqlalchemy" in app.extensions:
            return app.extensions["sqlalchemy"]
        db = SQLAlchemy()
        db.init_app(app)
        return db


def state(app: Flask | None = None) -> AppState:
    return (app or current_app).extensions[EXTENSION_KEY]


def _outside_the_extension() -> bool:
    """The extension's limiter leaves the host's own routes to the host."""
    return not (request.blueprint or "").startswith(EXTENSION_KEY)


def _rate_limit_sign_ins(app: Flask, limiter: Limiter) -> None:
    """Sign-in forms: limited per client address and per account tried."""
    from hotel_community.views.guest import room_login_key
    from hotel_community.views.staff import username_key

    for endpoint, setting, account_key in (
        ("hotel_community.guest.login", "GUEST_LOGIN_RATE_LIMIT", room_login_key),
        ("hotel_community.staff.login", "STAFF_LOGIN_RATE_LIMIT", username_key),
    ):
        limit = app.config[settings.PREFIX + setting]
        view = app.view_functions[endpoint]
        view = limiter.limit(limit, key_func=account_key, methods=["POST"],
                             scope=f"{endpoint}:account")(view)
        view = limiter.limit(limit, key_func=get_remote_address, methods=["POST"],
                             scope=f"{endpoint}:address")(view)
        app.view_functions[endpoint] = view


def _blueprint() -> Blueprint:
    """The extension's routes: guest pages, staff pages and the API, under one prefix."""
    from hotel_community.views import api, guest, health, media, moderation, staff
    from hotel_community.views import profile, staff_interests
    from hotel_community.templates import FOLDER

    root = Blueprint("hotel_community", __name__, template_folder=str(FOLDER))
    root.context_processor(lambda: {"current_locale": str(get_locale() or "en")})
    root.register_blueprint(guest.bp)
    root.register_blueprint(media.bp)
    root.register_blueprint(staff.bp, url_prefix="/staff")
    root.register_blueprint(profile.bp, url_prefix="/profile")
    root.register_blueprint(staff_interests.bp, url_prefix="/staff/interests")
    root.register_blueprint(api.bp, url_prefix="/api/v1")
    from hotel_community.views import feed, staff_feed
    root.register_blueprint(feed.bp, url_prefix="/groups")
    root.register_blueprint(staff_feed.bp, url_prefix="/staff/feed")
    root.register_blueprint(moderation.reports, url_prefix="/report")
    root.register_blueprint(moderation.bp, url_prefix="/staff/moderation")
    root.register_blueprint(health.bp, url_prefix="/staff/health")
    from hotel_community.views import people
    root.register_blueprint(people.bp, url_prefix="/people")
    from hotel_community.views import products
    root.register_blueprint(products.bp, url_prefix="/staff/products")
    from hotel_community.views import shop; root.register_blueprint(shop.bp)  # noqa: E702
    from hotel_community.views import labels; root.register_blueprint(labels.bp, url_prefix="/staff/labels")  # noqa: E702,E501
    from hotel_community.views import orders; root.register_blueprint(orders.bp)  # noqa: E702
    from hotel_community.views import staff_orders; root.register_blueprint(staff_orders.bp, url_prefix="/staff/orders")  # noqa: E702,E501
    from hotel_community.views import staff_room_charges; root.register_blueprint(staff_room_charges.bp, url_prefix="/staff/room-charges")  # noqa: E702,E501
    from hotel_community.views import staff_events; root.register_blueprint(staff_events.bp, url_prefix="/staff/events")  # noqa: E702,E501
    from hotel_community.views import door; root.register_blueprint(door.bp, url_prefix="/staff/door")  # noqa: E702,E501
    from hotel_community.views import events; root.register_blueprint(events.bp)  # noqa: E702
    from hotel_community.views import campaigns; root.register_blueprint(campaigns.bp)  # noqa: E702
    from hotel_community.views import staff_campaigns; root.register_blueprint(staff_campaigns.bp, url_prefix="/staff/campaigns")  # noqa: E702,E501
    from hotel_community.views import staff_pms; root.register_blueprint(staff_pms.bp, url_prefix="/staff/pms")  # noqa: E702,E501
    return root
