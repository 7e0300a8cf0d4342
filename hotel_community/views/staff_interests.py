"""Staff pages: the list of interests guests choose from on their profile."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, url_for

from hotel_community.errors import CommunityError
from hotel_community.forms import InterestForm
from hotel_community.services import profiles
from hotel_community.views.staff_auth import staff_required
from hotel_community.views.staff_base import staff_blueprint

bp = staff_blueprint("staff_interests", __name__)


@bp.get("")
@staff_required
def interest_list() -> str:
    curated = profiles.curated_interests()
    return render_template("hotel_community/staff/interests.html", form=InterestForm(),
                           curated=curated,
                           counts=profiles.interest_counts([i.id for i in curated]),
                           popular=profiles.popular_free_interests())


@bp.post("")
@staff_required
def add() -> Response:
    form = InterestForm()
    if not form.validate_on_submit():
        flash("Enter the interest's name (at most 50 characters).", "error")
    else:
        _try(lambda: profiles.add_curated_interest(form.name.data),
             lambda i: f"Added “{i.name}”.")
    return redirect(url_for(".interest_list"))


@bp.post("/<hc_id:interest_id>/rename")
@staff_required
def rename(interest_id: int) -> Response:
    form = InterestForm()
    if not form.validate_on_submit():
        flash("Enter the new name (at most 50 characters).", "error")
    else:
        _try(lambda: profiles.rename_curated_interest(interest_id, form.name.data),
             lambda i: f"Renamed to “{i.name}”.")
    return redirect(url_for(".interest_list"))


@bp.post("/<hc_id:interest_id>/remove")
@staff_required
def remove(interest_id: int) -> Response:
    _try(lambda: profiles.remove_curated_interest(interest_id),
         lambda _: "Removed from the list; guests who chose it keep it as their own.")
    return redirect(url_for(".interest_list"))


def _try(change, success) -> None:
    """Run a change; flash what happened, or why it was refused."""
    try:
        result = change()
    except CommunityError as error:
        flash(str(error.message), "error")
    else:
        flash(success(result), "success")
