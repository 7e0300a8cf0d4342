"""The guest's own profile, their data download and account deletion.

Always the signed-in member's: no member id is ever taken from the URL or
the form.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Response, flash, redirect, render_template, url_for

from hotel_community.errors import ValidationFailed
from hotel_community.forms import ActionForm, ProfileForm
from hotel_community.i18n import gettext as _
from hotel_community.services import privacy, profiles
from hotel_community.services.storage import photo_url
from hotel_community.settings import config_value
from hotel_community.views.guest_base import (
    current_member,
    guest_blueprint,
    member_required,
    sign_out,
)

bp = guest_blueprint("profile", __name__)


@bp.route("", methods=["GET", "POST"])
@member_required
def edit() -> Response | tuple[str, int]:
    member = current_member()
    view = profiles.profile_view(member)
    form = _form(view)
    errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        try:
            profiles.update_profile(member, **_changes(form))
        except ValidationFailed as refused:
            errors = {name: [str(refused.message)] for name in (refused.details or ["form"])}
        else:
            flash(_("Your profile is saved."), "success")
            return redirect(url_for(".edit"))
    errors = {**form.errors, **errors}
    return render_template("hotel_community/guest/profile.html", form=form, view=view,
                           member=member, photo=photo_url(view.photo), errors=errors,
                           max_photo_mb=f"{config_value('MAX_PHOTO_BYTES') / 2**20:.2g}",
                           max_interests=profiles.MAX_INTERESTS), 422 if errors else 200


@bp.get("/export")
@member_required
def export() -> Response:
    member = current_member()
    body = json.dumps(privacy.export_data(member), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="my-community-data.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/delete", methods=["GET", "POST"])
@member_required
def delete() -> Response | str:
    member = current_member()
    form = ActionForm()
    if form.validate_on_submit():
        privacy.delete_account(member)
        sign_out()
        flash(_("Your account is deleted. Thank you for staying with us."), "success")
        return redirect(url_for("hotel_community.guest.login"))
    return render_template("hotel_community/guest/profile_delete.html", form=form, member=member)


def _form(view: profiles.ProfileView) -> ProfileForm:
    form = ProfileForm(data={
        "display_name": view.display_name, "home_city": view.home_city,
        "languages": view.languages, "interests": view.curated_interests,
        "other_interests": ", ".join(view.free_interests), "visible": view.visible,
        "contact_kind": view.contact_kind, "contact_value": view.contact_value})
    form.languages.choices = list(profiles.LANGUAGES.items())
    form.interests.choices = [(i.slug, i.name) for i in view.curated_choices]
    form.contact_kind.choices = [("", _("Nothing: I share no contact"))] + [
        (kind, str(label)) for kind, label in profiles.CONTACT_KINDS.items()]
    form.display_name.render_kw = {"placeholder": view.default_name, "autocomplete": "nickname"}
    return form


def _changes(form: ProfileForm) -> dict[str, Any]:
    """The service's arguments from the posted form."""
    changes: dict[str, Any] = {
        "display_name": form.display_name.data, "home_city": form.home_city.data,
        "languages": form.languages.data or [], "visible": form.visible.data,
        "interests": (form.interests.data or [])
        + profiles.split_interests(form.other_interests.data),
        "contact": (form.contact_kind.data, form.contact_value.data)}
    upload = form.photo.data
    if form.remove_photo.data:
        changes["photo"] = None
    elif upload is not None and getattr(upload, "filename", None):
        changes["photo"] = upload
    return changes


