"""The wheel is the product: build it, install it into a clean virtualenv, serve pages.

A non-editable install must carry everything a page needs: templates, plugins
(and their entry points), migrations and translations. Nothing here comes from
the repository at run time: the script runs outside it, in a fresh virtualenv
with the dependencies from the package index.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", "instance",
    ".pytest_cache", "tmp", "*.sqlite3")

EXPECTED_IN_WHEEL = [
    "hotel_community/templates/hotel_community/guest/login.html",
    "hotel_community/templates/hotel_community/guest/stay_group.html",
    "hotel_community/templates/hotel_community/staff/login.html",
    "hotel_community/plugins/pay_at_desk/__init__.py",
    "hotel_community/plugins/room_charge/__init__.py",
    "hotel_community/plugins/stripe/stripe_api.py",
    "hotel_community/plugins/mews/__init__.py",
    "hotel_community/plugins/apaleo/__init__.py",
    "hotel_community/plugins/cloudbeds/__init__.py",
    "hotel_community/static/vendor/jsQR.js",
    "hotel_community/migrations/env.py",
    "hotel_community/migrations/script.py.mako",
    "hotel_community/migrations/versions/0001_spine.py",
]

# Runs inside the fresh virtualenv, in a directory outside the repository.
SCRIPT = textwrap.dedent('''
    from datetime import timedelta
    from pathlib import Path

    import hotel_community
    assert "site-packages" in hotel_community.__file__, hotel_community.__file__
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy

    from hotel_community import HotelCommunity, migrations
    from hotel_community.models import StayStatus
    from hotel_community.services import access, checkin, properties, staff
    from hotel_community.services.checkin import GuestSnapshot, StaySnapshot

    here = Path(__file__).parent
    app = Flask("wheel_host", root_path=str(here))
    app.config.update(
        SECRET_KEY="wheel-flask-secret",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{here / 'wheel.sqlite3'}",
        HOTEL_COMMUNITY_SECRET_KEY="wheel-community-secret",
    )
    db = SQLAlchemy()
    db.init_app(app)
    HotelCommunity(app, db=db)

    with app.app_context():
        migrations.upgrade()
        assert migrations.current_revision() == migrations.head_revision()
        prop = properties.create_property("WHL", "Wheel Harbour Hotel", "Asia/Shanghai", "CNY")
        staff.create_staff("desk", "desk-password", "Front Desk")
        today = access.today_at(prop)
        outcome = checkin.apply_staff_change(prop, StaySnapshot(
            reservation_id="W-1", status=StayStatus.in_house, room="808",
            arrival=today, departure=today + timedelta(days=2),
            guests=(GuestSnapshot("Wen", "Zhou", pms_guest_id="G-1", primary=True),)))
        with app.test_request_context():
            link = access.access_url(outcome.stay.guests[0].member, outcome.stay)

    def page(client, url, *expected, **kwargs):
        response = client.get(url, follow_redirects=True, **kwargs)
        text = response.get_data(as_text=True)
        assert response.status_code == 200, (url, response.status_code, text[:2000])
        for snippet in expected:
            assert snippet in text, (url, snippet, text[:2000])
        return text

    page(app.test_client(), "/community/login", "Join the guests staying with us", "Room number")
    page(app.test_client(), "/community/staff/login", "Staff sign-in", "csrf_token")
    page(app.test_client(), link, "Wheel Harbour Hotel", "Welcome, Wen", "Room 808")
    page(app.test_client(), "/community/api/v1/openapi.json", '"openapi"', "/pms/events")
    # The translations ship in the wheel and are found there.
    chinese = page(app.test_client(), link, 'lang="zh-Hans"',
                   headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "Welcome, Wen" not in chinese, chinese[:2000]
    print("WHEEL PAGES OK")
''')


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: int = 300) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} failed ({result.returncode}):\n"
        f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result.stdout


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
           and not k.startswith(("HOTEL_COMMUNITY_", "FLASK_"))}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def build_wheel(tmp_path: Path) -> Path:
    """Build from a copy of the working tree, so the repository gets no build/ or stale files."""
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    dist = tmp_path / "dist"
    command = [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(source)]
    result = subprocess.run(command, cwd=tmp_path, env=clean_env(), capture_output=True, text=True,
                            timeout=300)
    if result.returncode != 0:
        # No index for an isolated build environment: build with this environment's
        # setuptools and wheel (the `test` extra installs them).
        fallback = command[:3] + ["--no-isolation"] + command[3:]
        retry = subprocess.run(fallback, cwd=tmp_path, env=clean_env(), capture_output=True,
                               text=True, timeout=300)
        assert retry.returncode == 0, (
            f"isolated build failed:\n{result.stderr[-3000:]}\n"
            f"--no-isolation build failed:\n{retry.stdout[-2000:]}\n{retry.stderr[-2000:]}")
    wheels = list(dist.glob("hotel_community-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_installs_into_a_fresh_virtualenv_and_serves_pages(tmp_path: Path):
    wheel = build_wheel(tmp_path)

    names = zipfile.ZipFile(wheel).namelist()
    missing = [name for name in EXPECTED_IN_WHEEL if name not in names]
    assert not missing, f"not in the wheel: {missing}"
    mo_files = [n for n in names if n.startswith("hotel_community/translations/")
                and n.endswith("/LC_MESSAGES/messages.mo")]
    assert any("/zh" in n for n in mo_files), f"no compiled Chinese catalog in the wheel: {mo_files}"
    assert not any(n.startswith(("tests/", "plugins/", "templates/")) for n in names), (
        "repository folders leaked into the wheel as top-level packages")
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "pay_at_desk = hotel_community.plugins.pay_at_desk" in (
        zipfile.ZipFile(wheel).read(entry_points).decode())

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp_path, clean_env())
    python = venv / "bin" / "python"
    env = clean_env(PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    run([str(python), "-m", "pip", "install", "-q", str(wheel)], tmp_path, env, timeout=600)
    installed = run([str(python), "-m", "pip", "show", "-f", "hotel-community"], tmp_path, env)
    assert "Editable project location" not in installed

    work = tmp_path / "host"
    work.mkdir()
    (work / "check_pages.py").write_text(SCRIPT, encoding="utf-8")
    output = run([str(python), "check_pages.py"], work, env)
    assert "WHEEL PAGES OK" in output

    demo_env = dict(env, FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{work / 'demo.sqlite3'}")
    output = run([str(venv / "bin" / "flask"), "--app", "hotel_community.demo", "community",
                  "plugins"], work, demo_env)
    assert "pay_at_desk" in output
