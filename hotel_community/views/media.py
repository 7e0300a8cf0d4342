"""Uploaded photos, served by their random key."""
from __future__ import annotations

from flask import Blueprint, Response, abort, send_file

from hotel_community.services import storage

bp = Blueprint("media", __name__)


@bp.get("/media/<key>")
def photo(key: str) -> Response:
    path = storage.photo_path(key)
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=86400)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
