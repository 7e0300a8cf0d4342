"""Staff pages of crowdfunding campaigns: the list, create and edit with reward tiers,
publish and cancel, and one campaign's pledges, totals by tier, chart, CSV, updates to
backers and settlement report."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup
from werkzeug.utils import secure_filename
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from hotel_community.errors import CommunityError, NotFound, ValidationFailed
from hotel_community.models import Property
from hotel_community.models.campaigns import Campaign, CampaignEligibility, CampaignStatus
from hotel_community.services import campaigns, charts, properties, settlement, staff_campaigns
from hotel_community.services.products import format_price, minor_to_decimal, price_to_minor
from hotel_community.services.staff_orders import local_time, whole_units
from hotel_community.views.staff_auth import staff_required
from hotel_community.views.staff_base import current_property, staff_blueprint, staff_name

bp = staff_blueprint("staff_campaigns", __name__)

#: The service's names of fields the form splits (a date and a time).
FORM_FIELDS = {"starts_local": "start_date", "deadline_local": "deadline_date"}
ELIGIBILITY = [SelectChoice(CampaignEligibility.stayed.value, "Members who have stayed"),
               SelectChoice(CampaignEligibility.members.value, "All members")]


class CampaignForm(FlaskForm):
    """The rules (deadline after the start, goal above zero) are checked by services.campaigns."""

    title_en = StringField("Title (English)", validators=[DataRequired(), Length(max=200)])
    title_zh = StringField("Title (Chinese)", validators=[Optional(), Length(max=200)])
    story_en = TextAreaField("Story (English)", validators=[Length(max=20_000)])
    story_zh = TextAreaField("Story (Chinese)", validators=[Length(max=20_000)])
    disclaimer_en = TextAreaField("Disclaimer (English)", validators=[Length(max=5000)],
                                  description="Shown before pledging: what a pledge means, "
                                              "the risks, the refund policy.")
    disclaimer_zh = TextAreaField("Disclaimer (Chinese)", validators=[Length(max=5000)])
    goal = StringField("Goal", validators=[DataRequired(), Length(max=20)],
                       description="e.g. 500000.00, without thousands separators")
    start_date = DateField("Starts on", validators=[InputRequired()])
    start_time = TimeField("at", validators=[InputRequired()])
    deadline_date = DateField("Deadline", validators=[InputRequired()])
    deadline_time = TimeField("at", validators=[InputRequired()])
    eligibility = SelectField("Who may pledge", choices=ELIGIBILITY)
    cover = FileField("Cover image")


class TierForm(FlaskForm):
    minimum = StringField("Minimum pledge", validators=[DataRequired(), Length(max=20)],
                          description="e.g. 800.00")
    description_en = TextAreaField("Reward (English)",
                                   validators=[DataRequired(), Length(max=2000)])
    description_zh = TextAreaField("Reward (Chinese)", validators=[Length(max=2000)])
    quantity = IntegerField("How many", validators=[Optional(), NumberRange(min=1)],
                            description="Empty for no limit")


class UpdateForm(FlaskForm):
    body_en = TextAreaField("Update (English)", validators=[DataRequired(), Length(max=10_000)])
    body_zh = TextAreaField("Update (Chinese)", validators=[Length(max=10_000)])


# --------------------------------------------------------------------------- the list

@bp.get("", endpoint="list")
@staff_required
def campaign_list() -> str:
    prop = current_property()
    shown = campaigns.campaigns_of(prop)
    figures = staff_campaigns.campaigns_with_figures(shown)
    return render_template(
        "hotel_community/staff/campaigns.html", property=prop, campaigns=shown,
        figures=figures, rings={c.id: _ring(c, figures.get(c.id)) for c in shown},
        statuses=staff_campaigns.CAMPAIGN_STATUS_TEXT, properties=properties.list_properties(),
        **_readers(prop))


# --------------------------------------------------------------------------- create and edit

@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new() -> str | Response:
    prop = current_property()
    form = CampaignForm()
    if form.validate_on_submit():
        campaign = _attempt(lambda: campaigns.create_campaign(prop, _fields(form, prop),
                                                              _actor()), form)
        if campaign is not None:
            _set_cover(campaign.id, form)
            flash(f"Created the draft “{campaign.title_en}”: add reward tiers, then publish it.",
                  "success")
            return redirect(url_for(".edit", campaign_id=campaign.id))
    return render_template("hotel_community/staff/campaign_form.html", form=form, campaign=None,
                           property=prop)


@bp.route("/<hc_id:campaign_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(campaign_id: int) -> str | Response:
    prop = current_property()
    campaign = campaigns.get_campaign(campaign_id, prop)
    form = CampaignForm(obj=None if request.method == "POST" else campaign)
    if request.method == "GET":
        _show_stored(form, prop, campaign)
    if form.validate_on_submit() and _attempt(
            lambda: campaigns.update_campaign(campaign.id, _fields(form, prop)), form):
        _set_cover(campaign.id, form)
        flash("Saved.", "success")
        return redirect(url_for(".edit", campaign_id=campaign.id))
    return render_template("hotel_community/staff/campaign_form.html", form=form,
                           campaign=campaign, property=prop, tier_form=TierForm(formdata=None),
                           **_readers(prop))


@bp.post("/<hc_id:campaign_id>/tiers")
@staff_required
def add_tier(campaign_id: int) -> Response:
    prop = current_property()
    campaigns.get_campaign(campaign_id, prop)
    form = TierForm()
    if not form.validate_on_submit():
        flash("Enter the minimum pledge and the reward (and a limit of 1 or more, or none).",
              "error")
    elif _attempt(lambda: campaigns.add_tier(campaign_id, _tier_fields(form, prop))):
        flash("Reward tier added.", "success")
    return redirect(url_for(".edit", campaign_id=campaign_id))


@bp.post("/<hc_id:campaign_id>/tiers/<hc_id:tier_id>/remove")
@staff_required
def remove_tier(campaign_id: int, tier_id: int) -> Response:
    campaign = campaigns.get_campaign(campaign_id, current_property())
    if tier_id not in {tier.id for tier in campaign.tiers}:
        raise NotFound("There is no such reward tier in this campaign.")
    if _attempt(lambda: campaigns.remove_tier(tier_id) or True):
        flash("Reward tier removed.", "success")
    return redirect(url_for(".edit", campaign_id=campaign_id))


@bp.post("/<hc_id:campaign_id>/publish")
@staff_required
def publish(campaign_id: int) -> Response:
    campaigns.get_campaign(campaign_id, current_property())
    if _attempt(lambda: campaigns.publish(campaign_id)):
        flash("Published: members can pledge from its start.", "success")
    return redirect(url_for(".detail", campaign_id=campaign_id))


@bp.post("/<hc_id:campaign_id>/cancel")
@staff_required
def cancel(campaign_id: int) -> Response:
    campaigns.get_campaign(campaign_id, current_property())
    if _attempt(lambda: campaigns.cancel_campaign(campaign_id, _actor())):
        flash("Campaign cancelled: no one is charged and saved cards are released.", "success")
    return redirect(url_for(".detail", campaign_id=campaign_id))


# --------------------------------------------------------------------------- one campaign

@bp.get("/<hc_id:campaign_id>")
@staff_required
def detail(campaign_id: int) -> str:
    prop = current_property()
    campaign = campaigns.get_campaign(campaign_id, prop)
    progress = campaigns.progress(campaign)
    return render_template(
        "hotel_community/staff/campaign_detail.html", property=prop, campaign=campaign,
        progress=progress, ring=_ring(campaign, progress), chart=_pledges_chart(prop, campaign),
        pledges=staff_campaigns.pledges(campaign.id),
        tier_totals=staff_campaigns.totals_by_tier(campaign),
        report=settlement.report(campaign), reported=staff_campaigns.SETTLEMENT_STATUSES,
        updates=campaigns.updates_of(campaign.id),
        update_form=UpdateForm(formdata=None), statuses=staff_campaigns.CAMPAIGN_STATUS_TEXT,
        pledge_statuses=staff_campaigns.PLEDGE_STATUS_TEXT, **_readers(prop))


@bp.get("/<hc_id:campaign_id>/pledges.csv")
@staff_required
def pledges_csv(campaign_id: int) -> Response:
    prop = current_property()
    campaign = campaigns.get_campaign(campaign_id, prop)
    name = secure_filename(f"pledges-{prop.code}-{campaign.id}.csv")
    return Response(staff_campaigns.pledges_csv(prop, campaign), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/<hc_id:campaign_id>/updates")
@staff_required
def post_update(campaign_id: int) -> Response:
    campaigns.get_campaign(campaign_id, current_property())
    form = UpdateForm()
    if not form.validate_on_submit():
        flash("Write the update in English (Chinese is optional).", "error")
    elif _attempt(lambda: campaigns.post_update(campaign_id, form.body_en.data,
                                                form.body_zh.data or "", _actor())):
        flash("Update posted: every backer is told.", "success")
    return redirect(url_for(".detail", campaign_id=campaign_id))


# --------------------------------------------------------------------------- helpers

def _fields(form: CampaignForm, prop: Property) -> campaigns.CampaignFields:
    return campaigns.CampaignFields(
        title_en=form.title_en.data or "", title_zh=form.title_zh.data or "",
        story_en=form.story_en.data or "", story_zh=form.story_zh.data or "",
        disclaimer_en=form.disclaimer_en.data or "", disclaimer_zh=form.disclaimer_zh.data or "",
        goal=_minor(form.goal.data, prop, "goal"),
        starts_local=datetime.combine(form.start_date.data, form.start_time.data),
        deadline_local=datetime.combine(form.deadline_date.data, form.deadline_time.data),
        eligibility=CampaignEligibility(form.eligibility.data))


def _tier_fields(form: TierForm, prop: Property) -> campaigns.TierFields:
    return campaigns.TierFields(
        minimum=_minor(form.minimum.data, prop, "minimum"),
        description_en=form.description_en.data or "",
        description_zh=form.description_zh.data or "", quantity=form.quantity.data)


def _minor(text: str | None, prop: Property, field: str) -> int:
    """An amount typed in the property's currency; its error names the form's field."""
    try:
        return price_to_minor(text or "", prop.currency)
    except ValidationFailed as error:
        raise ValidationFailed(error.message, {field: ["Not an amount: e.g. 800.00"]}) from error


def _show_stored(form: CampaignForm, prop: Property, campaign: Campaign) -> None:
    """The fields stored otherwise than typed: local date and time, goal as text."""
    starts, deadline = local_time(prop, campaign.starts_at), local_time(prop, campaign.deadline)
    form.start_date.data, form.start_time.data = starts.date(), starts.time()
    form.deadline_date.data, form.deadline_time.data = deadline.date(), deadline.time()
    form.goal.data = str(minor_to_decimal(campaign.goal, campaign.currency))
    form.eligibility.data = campaign.eligibility.value


def _set_cover(campaign_id: int, form: CampaignForm) -> None:
    if form.cover.data:
        _attempt(lambda: campaigns.set_cover(campaign_id, form.cover.data) or True)


def _ring(campaign: Campaign, figures: Any) -> Markup:
    """How far toward its goal a campaign is (``figures`` has ``total`` and ``backers``)."""
    total, backers = (figures.total, figures.backers) if figures else (0, 0)
    detail = (f"{format_price(total, campaign.currency)} of "
              f"{format_price(campaign.goal, campaign.currency)} from {backers} backer"
              f"{'' if backers == 1 else 's'}")
    return charts.progress_ring(total / campaign.goal, chart_id=f"ring-{campaign.id}",
                                title=f"{campaign.title_en}: progress", detail=detail)


def _pledges_chart(prop: Property, campaign: Campaign) -> Markup:
    pledged = staff_campaigns.pledged_over_time(prop, campaign)
    labels = [day.strftime("%d %b") for day in pledged.days]
    units = campaign.currency
    return charts.bar_and_line_chart(
        labels, [whole_units(v, units) for v in pledged.per_day],
        [whole_units(v, units) for v in pledged.cumulative], chart_id="chart-pledges",
        title=f"Pledged per day and in all ({units})",
        names=(f"pledged that day ({units})", f"pledged in all ({units})"))


def _readers(prop: Property) -> dict[str, Callable[..., Any]]:
    """How the templates write times and money, and the campaign statuses they compare."""
    def when(moment: datetime | None) -> str:
        local = local_time(prop, moment)
        return local.strftime("%a %d %b %Y %H:%M") if local else ""
    return {"when": when, "price": format_price, "Status": CampaignStatus}


def _actor() -> str:
    return f"staff:{staff_name()}"


def _attempt(change: Callable[[], Any], form: FlaskForm | None = None) -> Any:
    """Run a change; flash why it was refused (and mark the form's fields) and return None.
    Another property's campaign stays a 404 (NotFound is not caught)."""
    try:
        return change()
    except NotFound:
        raise
    except CommunityError as error:
        flash(str(error.message), "error")
        if form is not None and isinstance(error.details, dict):
            for name, messages in error.details.items():
                name = FORM_FIELDS.get(name, name)
                if name in form:
                    form[name].errors = [*form[name].errors, *messages]
        return None
