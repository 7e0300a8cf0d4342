"""Photos guests upload: checked, resized, stripped of metadata, stored under a random key.

Storage is a local folder (``HOTEL_COMMUNITY_UPLOAD_FOLDER``, by default the
app's instance folder); several workers on one machine share it. Keys are
random, so a photo's URL cannot be guessed from anything else.
"""
from __future__ import annotations

import io
import secrets
import struct
from pathlib import Path

from flask import current_app, url_for
from PIL import Image, ImageOps, UnidentifiedImageError
from werkzeug.datastructures import FileStorage

from hotel_community.errors import ValidationFailed
from hotel_community.i18n import lazy_gettext as _l
from hotel_community.settings import config_value

#: What Pillow must find inside the file, whatever its name or declared type says.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
#: A phone photo is 12-50 megapixels; a small file that decodes to more is a bomb.
MAX_PIXELS = 64_000_000


def upload_folder() -> Path:
    folder = config_value("UPLOAD_FOLDER") or Path(current_app.instance_path) / "hotel_community_media"
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_photo(upload: FileStorage) -> str:
    """Store an uploaded photo; returns its key. Refuses what is not a photo or too big."""
    data = upload.read(config_value("MAX_PHOTO_BYTES") + 1)
    if len(data) > config_value("MAX_PHOTO_BYTES"):
        raise ValidationFailed(_l("The photo is too large."), {"photo": ["Too large."]})
    image = _open_image(data)
    image = ImageOps.exif_transpose(image)  # keep it upright, then drop EXIF (location!)
    image.thumbnail((config_value("PHOTO_MAX_SIDE"),) * 2)
    key = f"{secrets.token_urlsafe(16)}.jpg"  # always re-encoded as JPEG
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=85, optimize=True)
    (upload_folder() / key).write_bytes(buffer.getvalue())
    return key


def photo_path(key: str) -> Path | None:
    """The stored file of ``key``, or None; never a path outside the folder."""
    if not key or "/" in key or "\\" in key or key.startswith("."):
        return None
    path = upload_folder() / key
    return path if path.is_file() else None


def delete_photo(key: str | None) -> None:
    path = photo_path(key) if key else None
    if path is not None:
        path.unlink(missing_ok=True)


def photo_url(key: str | None) -> str | None:
    return url_for("hotel_community.media.photo", key=key) if key else None


def _open_image(data: bytes) -> Image.Image:
    try:
        probe = Image.open(io.BytesIO(data))
        probe.verify()
        image = Image.open(io.BytesIO(data))
        if image.format not in ACCEPTED_FORMATS:
            raise ValueError(image.format)
        if image.width * image.height > MAX_PIXELS:  # checked before decoding it all
            raise ValueError(image.size)
        image.load()
    except (UnidentifiedImageError, ValueError, OSError, SyntaxError, EOFError, struct.error,
            Image.DecompressionBombError) as exc:
        raise ValidationFailed(_l("Please choose a JPEG, PNG or WebP photo."),
                               {"photo": ["Not a JPEG, PNG or WebP image."]}) from exc
    return image
