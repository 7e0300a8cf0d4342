"""Crowdfunding, the guest side: the property's campaigns, a campaign's page, and the
member's pledge (save a card with a Stripe SetupIntent, change, cancel, update the card).

Every rule is in services/campaigns.py; a refusal (not eligible, under the tier's
minimum, sold out, too late) is shown on the campaign's page with its status.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from hotel_community.errors import CommunityError, NotFound, ValidationFailed
from hotel_community.forms import ActionForm, PledgeForm
from hotel_community.i18n import gettext as _
from hotel_community.models import Campaign, CampaignStatus, Pledge, PledgeStatus, Property
from hotel_community.services import campaigns, community, products
from hotel_community.services.storage import photo_url
from hotel_community.settings import config_value
from hotel_community.views import campaign_words
from hotel_community.views.guest_base import (
    STAY_KEY, current_member, guest_blueprint, member_required,
)

#: Ids are 32-bit integers: a larger number names no tier.
MAX_ID = 2**31 - 1

bp = guest_blueprint("campaigns", __name__)


@dataclass(frozen=True)
class CardSetup:
    """What Stripe.js needs to save a card for ``pledge``."""

    pledge: Pledge
    client_secret: str
    publishable_key: str
    js_url: str
    return_url: str


@bp.get("/campaigns", endpoint="list")
@member_required
def campaign_list() -> str:
    """The campaigns of the property the member signed in at."""
    found = campaigns.visible_campaigns(_home_property())
    return render_template("hotel_community/guest/campaigns.html",
                           campaigns=[(one, campaigns.progress(one)) for one in found],
                           words=campaign_words)


@bp.get("/campaigns/<hc_id:campaign_id>")
@member_required
def page(campaign_id: int) -> tuple[str, int]:
    return _page(_campaign(campaign_id))


@bp.post("/campaigns/<hc_id:campaign_id>/pledge")
@member_required
def pledge(campaign_id: int) -> tuple[str, int]:
    """Start a pledge; the page comes back with the card form."""
    found = _campaign(campaign_id)
    form = PledgeForm()
    try:
        started, secret = campaigns.start_pledge(campaign_id, current_member(),
                                                 _amount(form, found), _tier_id(form))
    except CommunityError as refused:
        return _page(found, form, refused)
    return _page(found, setup=_card_setup(started, secret))


@bp.post("/campaigns/pledges/<hc_id:pledge_id>/confirm")
@member_required
def confirm(pledge_id: int) -> Response | tuple[str, int]:
    """After Stripe.js saved the card: Stripe is asked, the pledge becomes active."""
    found = _own_campaign(pledge_id)
    try:
        confirmed = campaigns.confirm_pledge(pledge_id, current_member())
    except CommunityError as refused:
        return _page(found, refused=refused)
    flash(_("Your new card is saved; we will try the payment again.")
          if confirmed.status == PledgeStatus.payment_failed
          else _("Thank you! Your pledge is saved. Nothing is charged unless the goal is reached."))
    return redirect(url_for(".page", campaign_id=found.id), 303)


@bp.post("/campaigns/pledges/<hc_id:pledge_id>/change")
@member_required
def change(pledge_id: int) -> Response | tuple[str, int]:
    found = _own_campaign(pledge_id)
    form = PledgeForm()
    try:
        campaigns.change_pledge(pledge_id, current_member(), _amount(form, found), _tier_id(form))
    except CommunityError as refused:
        return _page(found, refused=refused, change_form=form)
    flash(_("Your pledge is changed."))
    return redirect(url_for(".page", campaign_id=found.id), 303)


@bp.post("/campaigns/pledges/<hc_id:pledge_id>/cancel")
@member_required
def cancel(pledge_id: int) -> Response | tuple[str, int]:
    found = _own_campaign(pledge_id)
    try:
        campaigns.cancel_pledge(pledge_id, current_member())
    except CommunityError as refused:
        return _page(found, refused=refused)
    flash(_("Your pledge is cancelled; nothing will be charged."))
    return redirect(url_for(".page", campaign_id=found.id), 303)


@bp.post("/campaigns/pledges/<hc_id:pledge_id>/card")
@member_required
def update_card(pledge_id: int) -> tuple[str, int]:
    """A failed payment: the page comes back with the card form for a new card."""
    found = _own_campaign(pledge_id)
    try:
        secret = campaigns.update_card(pledge_id, current_member())
    except CommunityError as refused:
        return _page(found, refused=refused)
    mine = campaigns.own_pledge(pledge_id, current_member())
    return _page(found, setup=_card_setup(mine, secret))


# --------------------------------------------------------------------------- helpers

def _home_property() -> Property:
    home = community.guest_home(current_member(), session.get(STAY_KEY))
    if home is None:
        raise NotFound(_("This campaign is not available."))
    return home.property


def _campaign(campaign_id: int) -> Campaign:
    """A campaign of the member's property that guests may see (not a draft)."""
    found = campaigns.get_campaign(campaign_id, _home_property())
    if found.status == CampaignStatus.draft:
        raise NotFound(_("There is no such campaign."))
    return found


def _own_campaign(pledge_id: int) -> Campaign:
    """The campaign of the member's own pledge; someone else's pledge is not found."""
    return _campaign(campaigns.own_pledge(pledge_id, current_member()).campaign_id)


def _amount(form: PledgeForm, campaign: Campaign) -> int:
    """The typed amount in minor units; left empty with a tier chosen, the tier's minimum."""
    text = (form.amount.data or "").strip()
    tier_id = _tier_id(form)
    if not text and tier_id is not None:
        tier = next((tier for tier in campaign.tiers if tier.id == tier_id), None)
        if tier is not None:
            return tier.minimum
    try:
        return products.price_to_minor(text, campaign.currency)
    except ValidationFailed as wrong:
        raise ValidationFailed(_("Enter the amount as a number, e.g. %(example)s.",
                                 example="500.00"), {"amount": wrong.details}) from wrong


def _tier_id(form: PledgeForm) -> int | None:
    value = form.tier.data or ""
    if not value:
        return None
    if not re.fullmatch(r"[0-9]{1,10}", value) or int(value) > MAX_ID:
        raise ValidationFailed(_("Please choose a reward again."), {"tier": ["Not a tier."]})
    return int(value)


def _card_setup(pledge: Pledge, secret: str) -> CardSetup:
    return CardSetup(pledge, secret, config_value("STRIPE_PUBLISHABLE_KEY") or "",
                     config_value("STRIPE_JS_URL"),
                     url_for(".page", campaign_id=pledge.campaign_id, _external=True))


def _page(found: Campaign, form: PledgeForm | None = None, refused: CommunityError | None = None,
          setup: CardSetup | None = None, change_form: PledgeForm | None = None,
          ) -> tuple[str, int]:
    """The campaign's page: story, progress, tiers, updates, and the pledge form or the
    member's own pledge."""
    member = current_member()
    mine = campaigns.pledge_of(member, found.id)
    # A pledge whose card was never saved may start again (start_pledge replaces it).
    may_start = mine is None or mine.status == PledgeStatus.pending_setup
    context = {"campaign": found, "progress": campaigns.progress(found), "mine": mine,
               "updates": campaigns.updates_of(found.id), "setup": setup, "words": campaign_words,
               "cover": photo_url(found.cover), "action": ActionForm(),
               "error": refused.message if refused else None,
               # Real Stripe.js came back from saving the card: confirm it with the server.
               "returned": request.method == "GET" and "setup_intent" in request.args}
    if may_start and setup is None and campaigns.may_pledge(member, found):
        context["form"] = form or PledgeForm()
    if mine is not None and mine.status == PledgeStatus.active:
        context["change_form"] = change_form or _filled(mine)
    return (render_template("hotel_community/guest/campaign.html", **context),
            refused.status if refused else 200)


def _filled(mine: Pledge) -> PledgeForm:
    """The change form, showing the pledge as it stands."""
    form = PledgeForm(formdata=None)
    form.tier.data = str(mine.tier_id or "")
    form.amount.data = str(products.minor_to_decimal(mine.amount, mine.campaign.currency))
    return form
