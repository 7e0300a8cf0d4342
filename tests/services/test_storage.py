"""Photo uploads: only real images, resized, without their metadata, under random keys."""
from __future__ import annotations

import io
import os

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from hotel_community.errors import ValidationFailed
from hotel_community.services import storage


@pytest.fixture
def app_config(tmp_path) -> dict:
    return {"HOTEL_COMMUNITY_UPLOAD_FOLDER": str(tmp_path / "media"),
            "HOTEL_COMMUNITY_MAX_PHOTO_BYTES": 200_000, "HOTEL_COMMUNITY_PHOTO_MAX_SIDE": 300}


def upload(data: bytes, name: str = "photo.jpg") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type="image/jpeg")


def image_bytes(size=(1000, 500), image_format="JPEG", exif: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    buffer = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "SpyCam"  # Make
        image.save(buffer, format=image_format, exif=tags)
    else:
        image.save(buffer, format=image_format)
    return buffer.getvalue()


def test_a_photo_is_resized_and_loses_its_metadata(app):
    key = storage.save_photo(upload(image_bytes(exif=True)))
    stored = Image.open(storage.photo_path(key))
    assert stored.format == "JPEG"
    assert max(stored.size) == 300 and stored.size == (300, 150)
    assert b"SpyCam" not in storage.photo_path(key).read_bytes()


def test_png_and_webp_are_accepted_and_stored_as_jpeg(app):
    for image_format in ("PNG", "WEBP"):
        key = storage.save_photo(upload(image_bytes((40, 40), image_format), "x.png"))
        assert Image.open(storage.photo_path(key)).format == "JPEG"


@pytest.mark.parametrize("data", [b"<script>alert(1)</script>", b"GIF89a" + b"\0" * 100, b""])
def test_what_is_not_a_photo_is_refused(app, data):
    with pytest.raises(ValidationFailed) as refused:
        storage.save_photo(upload(data))
    assert "photo" in refused.value.details


def test_a_photo_over_the_size_limit_is_refused(app):
    noisy = Image.frombytes("RGB", (400, 400), os.urandom(400 * 400 * 3))
    buffer = io.BytesIO()
    noisy.save(buffer, format="PNG")
    assert len(buffer.getvalue()) > 200_000
    with pytest.raises(ValidationFailed):
        storage.save_photo(upload(buffer.getvalue()))


def test_keys_are_random_and_paths_stay_in_the_folder(app):
    first, second = (storage.save_photo(upload(image_bytes((20, 20)))) for _ in range(2))
    assert first != second and len(first) > 20
    for key in ("../secret", "..", "a/b.jpg", ".hidden", ""):
        assert storage.photo_path(key) is None


def test_the_media_route_serves_a_stored_photo(app, client):
    key = storage.save_photo(upload(image_bytes((20, 20))))
    response = client.get(f"/community/media/{key}")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/community/media/nope.jpg").status_code == 404
    storage.delete_photo(key)
    assert client.get(f"/community/media/{key}").status_code == 404


def test_a_corrupt_png_is_refused_not_a_crash(app):
    data = bytearray(image_bytes((10, 10), "PNG"))
    checksum_at = data.index(b"IDAT") + 4 + int.from_bytes(data[data.index(b"IDAT") - 4:data.index(b"IDAT")], "big")
    data[checksum_at] ^= 0xFF
    with pytest.raises(ValidationFailed):
        storage.save_photo(upload(bytes(data)))


def test_a_small_file_that_decodes_to_a_huge_image_is_refused(app):
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buffer, format="PNG")  # 81 megapixels, a few kB
    assert len(buffer.getvalue()) < 200_000
    with pytest.raises(ValidationFailed):
        storage.save_photo(upload(buffer.getvalue()))
