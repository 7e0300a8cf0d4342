"""Languages of the guest pages: English and Simplified Chinese.

The extension has its own translation catalog (a Flask-Babel ``Domain``), so
its strings never mix with the host app's. On the extension's own pages the
locale is: the guest's explicit choice (the switcher), then the language the
PMS gave for the guest, then the browser's ``Accept-Language``.
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from babel import Locale
from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, Domain

from hotel_community.settings import config_value

TRANSLATIONS = Path(__file__).parent / "translations"
CHOSEN_LANGUAGE_KEY = "hotel_community.language"

domain = Domain(translation_directories=[str(TRANSLATIONS)], domain="messages")
gettext = domain.gettext
lazy_gettext = domain.lazy_gettext
lazy_ngettext = domain.lazy_ngettext
_ = gettext


def init_app(app: Flask) -> None:
    """Make sure Flask-Babel is there; the host may have set it up already."""
    if "babel" not in app.extensions:
        Babel(app, locale_selector=_browser_locale)


def normalize(language: str | None) -> str | None:
    """Map ``zh-CN``, ``zh_Hans``, ``EN-us``... to one of the offered locales."""
    if not language:
        return None
    primary = language.replace("_", "-").split("-")[0].lower()
    return primary if primary in config_value("LOCALES") else None


def choose_locale(member_language: str | None = None) -> str:
    locales = config_value("LOCALES")
    return (normalize(session.get(CHOSEN_LANGUAGE_KEY))
            or normalize(member_language)
            or request.accept_languages.best_match(locales)
            or locales[0])


def activate(locale: str) -> None:
    """Use the extension's catalog and ``locale`` for the rest of this request."""
    # Flask-Babel keeps its per-request state on g._flask_babel.
    state = g.setdefault("_flask_babel", SimpleNamespace())
    state.babel_domain = domain
    state.babel_locale = Locale.parse(locale)


def _browser_locale() -> str | None:
    """Outside a request (the CLI, a worker) messages are in the default language."""
    if not has_request_context():
        return None
    return request.accept_languages.best_match(config_value("LOCALES"))
