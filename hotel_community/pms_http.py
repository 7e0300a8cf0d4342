"""HTTP to a PMS vendor's API, for adapters: JSON in and out, errors as the core expects.

A timeout, a refused connection or a 5xx answer raises
:class:`~hotel_community.errors.PmsUnavailable` (the core retries later); any
other 4xx raises :class:`~hotel_community.errors.PmsError`. Every call has the
``HOTEL_COMMUNITY_PMS_TIMEOUT``, so a slow PMS never holds a worker for long.
"""
from __future__ import annotations

from typing import Any

import requests

from hotel_community.errors import PmsError, PmsUnavailable
from hotel_community.settings import config_value


class VendorApi:
    """One vendor's API at ``base_url``, with the headers (or basic auth) every call carries."""

    def __init__(self, vendor: str, base_url: str, *, headers: dict[str, str] | None = None,
                 auth: tuple[str, str] | None = None) -> None:
        self.vendor = vendor
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", **(headers or {})})
        self.session.auth = auth

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, json: Any = None, *, data: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None, params: dict[str, Any] | None = None) -> Any:
        return self.request("POST", path, json=json, data=data, headers=headers, params=params)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The answer's JSON (``None`` for an empty body)."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        timeout = float(config_value("PMS_TIMEOUT"))
        try:
            response = self.session.request(method, url, timeout=timeout, **kwargs)
        except requests.Timeout as exc:
            raise PmsUnavailable(f"{self.vendor} did not answer {method} {path} "
                                 f"within {timeout:g} s.") from exc
        except requests.RequestException as exc:
            raise PmsUnavailable(f"{self.vendor} could not be reached ({method} {path}): "
                                 f"{type(exc).__name__}.") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise PmsUnavailable(f"{self.vendor} answered {response.status_code} to "
                                 f"{method} {path}: {_excerpt(response)}")
        if response.status_code >= 400:
            raise PmsError(f"{self.vendor} refused {method} {path} "
                           f"({response.status_code}): {_excerpt(response)}",
                           {"status": response.status_code})
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise PmsError(f"{self.vendor} answered {method} {path} with something "
                           f"that is not JSON: {_excerpt(response)}") from exc


def _excerpt(response: requests.Response) -> str:
    return response.text[:300].strip() or "(empty body)"
