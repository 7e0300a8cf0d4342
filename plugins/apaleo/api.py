"""HTTP to Apaleo: an OAuth2 client-credentials token, cached in process, then Bearer calls.

The token comes from ``<identity_url>/connect/token`` (grant ``client_credentials``, the
client id and secret as basic auth; https://apaleo.dev/guides/oauth-connection/simple-client).
It is kept until shortly before it expires, so a fetch costs one call, not two. A call
the API answers 401 (the token was revoked early) is tried once more with a new token.
"""
from __future__ import annotations

import hashlib
import threading
import time
from typing import Any, Mapping

from hotel_community.errors import PmsError
from hotel_community.pms_http import VendorApi

VENDOR = "Apaleo"
#: A token is renewed this long before Apaleo says it expires.
EXPIRY_MARGIN = 60.0

_tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()


def get(settings: Mapping[str, str], path: str, params: dict[str, Any] | None = None) -> Any:
    return _call(settings, "GET", path, params=params)


def post(settings: Mapping[str, str], path: str, json: Any, idempotency_key: str) -> Any:
    """A POST that Apaleo carries out once per ``Idempotency-Key`` (it answers a repeat
    with the first answer)."""
    return _call(settings, "POST", path, json=json, headers={"Idempotency-Key": idempotency_key})


def status_of(exc: PmsError) -> int | None:
    """The HTTP status of a refusal (a 4xx), ``None`` for anything else."""
    return exc.details.get("status") if isinstance(exc.details, dict) else None


def _call(settings: Mapping[str, str], method: str, path: str, **kwargs: Any) -> Any:
    api = _api(settings)
    try:
        return api.request(method, path, **kwargs)
    except PmsError as exc:
        if status_of(exc) != 401:
            raise
    _forget_token(settings)
    return _api(settings).request(method, path, **kwargs)


def _api(settings: Mapping[str, str]) -> VendorApi:
    return VendorApi(VENDOR, settings["base_url"],
                     headers={"Authorization": f"Bearer {_token(settings)}"})


def _cache_key(settings: Mapping[str, str]) -> tuple[str, str, str, str]:
    """Per identity server, API and client; the secret's digest too, so that a wrong secret
    saved over a right one is not hidden by the token the right one got, and a token is
    only ever sent to the API it was got for."""
    digest = hashlib.sha256(settings["client_secret"].encode()).hexdigest()
    return (settings["identity_url"].rstrip("/"), settings["base_url"].rstrip("/"),
            settings["client_id"], digest)


def _token(settings: Mapping[str, str]) -> str:
    key = _cache_key(settings)
    with _tokens_lock:
        cached = _tokens.get(key)
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    identity = VendorApi(VENDOR, settings["identity_url"],
                         auth=(settings["client_id"], settings["client_secret"]))
    answer = identity.post("/connect/token", data={"grant_type": "client_credentials"})
    if not isinstance(answer, dict) or not answer.get("access_token"):
        raise PmsError("Apaleo's identity server answered without an access token.")
    expires_at = time.monotonic() + float(answer.get("expires_in", 0)) - EXPIRY_MARGIN
    with _tokens_lock:
        _tokens[key] = (answer["access_token"], expires_at)
    return answer["access_token"]


def _forget_token(settings: Mapping[str, str]) -> None:
    with _tokens_lock:
        _tokens.pop(_cache_key(settings), None)
