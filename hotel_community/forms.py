"""The extension's forms (Flask-WTF: every form carries a CSRF token)."""
from __future__ import annotations

from datetime import date, timedelta

from flask import current_app, request
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, validate_csrf
from flask_wtf.file import FileField
from wtforms import (
    BooleanField, DateField, EmailField, FieldList, Form, FormField, HiddenField, PasswordField,
    RadioField, SelectField, SelectMultipleField, StringField, TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired, InputRequired, Length, Optional, Regexp, ValidationError,
)

from hotel_community.i18n import lazy_gettext as _l

LANGUAGE_CHOICES = [SelectChoice("", "-"), SelectChoice("en", "English"), SelectChoice("zh", "中文")]


def check_csrf() -> None:
    """``before_request`` of the guest and staff pages: refuse a POST without a valid token.

    Every form already validates its token; this makes the rule hold for every
    POST route, whatever its form does, answering 400 (``CSRFError``). The API
    blueprint is signed with HMAC instead and does not use this.
    """
    if request.method != "POST" or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    try:
        validate_csrf(request.form.get(field))
    except ValidationError as exc:
        raise CSRFError(exc.args[0]) from exc


class ActionForm(FlaskForm):
    """A button that changes something: just the CSRF token."""


class RoomLoginForm(FlaskForm):
    property = HiddenField()
    room = StringField(_l("Room number"), validators=[DataRequired(), Length(max=20)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])


class StaffLoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=100)])
    password = PasswordField("Password", validators=[DataRequired()])


class GuestForm(Form):
    first_name = StringField("First name", validators=[Optional(), Length(max=100)])
    last_name = StringField("Last name", validators=[Optional(), Length(max=100)])
    email = EmailField("E-mail", validators=[
        Optional(), Length(max=254),
        # A light check; WTForms' Email() would need the email_validator package.
        Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter a valid e-mail address.")])
    language = SelectField("Language", choices=LANGUAGE_CHOICES, validators=[Optional()])


class CheckInForm(FlaskForm):
    reservation_id = StringField("Reservation number", validators=[Optional(), Length(max=100)],
                                 description="Leave empty for a walk-in.")
    room = StringField("Room", validators=[DataRequired(), Length(max=20)])
    arrival = DateField("Arrival", default=date.today, validators=[DataRequired()])
    departure = DateField("Departure", default=lambda: date.today() + timedelta(days=1),
                          validators=[DataRequired()])
    guests = FieldList(FormField(GuestForm), min_entries=3, max_entries=6)

    def validate_departure(self, field: DateField) -> None:
        if self.arrival.data and field.data and field.data < self.arrival.data:
            raise ValidationError("Departure must not be before arrival.")

    def validate_guests(self, field: FieldList) -> None:
        named = [g for g in field.entries if g.first_name.data or g.last_name.data]
        if not named:
            raise ValidationError("Enter at least one guest.")
        if any(not (g.first_name.data and g.last_name.data) for g in named):
            raise ValidationError("Every guest needs a first and a last name.")


class RoomMoveForm(FlaskForm):
    room = StringField("New room", validators=[DataRequired(), Length(max=20)])


class ApiKeyForm(FlaskForm):
    label = StringField("What is it for?", validators=[Optional(), Length(max=200)],
                        description="e.g. the PMS's name")


class AnnouncementForm(FlaskForm):
    """Staff post to a property's stay group or alumni community."""

    group = SelectField("To", choices=[SelectChoice("stay", "Guests staying now (stay group)"),
                                       SelectChoice("alumni", "Former guests (alumni community)")])
    body = TextAreaField("Announcement", validators=[DataRequired(), Length(max=2000)])
    pinned = BooleanField("Pin it to the top of the feed")


class ProfileForm(FlaskForm):
    """A guest's own profile. The rules (lengths, contact formats, at most 20 interests) are
    checked by services.profiles, whose messages are translated."""

    display_name = StringField(_l("Name shown to other guests"))
    photo = FileField(_l("Photo"))
    remove_photo = BooleanField(_l("Remove my photo"))
    home_city = StringField(_l("Home city"))
    languages = SelectMultipleField(_l("Languages I speak"), choices=[], validate_choice=False)
    interests = SelectMultipleField(_l("Interests"), choices=[], validate_choice=False)
    other_interests = StringField(_l("Other interests"))
    visible = BooleanField(_l("Show me to other guests"))
    contact_kind = SelectField(_l("What a connection will see"), validate_choice=False)
    contact_value = StringField(_l("Your WeChat ID, e-mail, phone or handle"))


class InterestForm(FlaskForm):
    name = StringField("Interest", validators=[DataRequired(), Length(max=50)])


class ReportForm(FlaskForm):
    """A guest reports a post or a member; the service checks the reason's length again."""

    reason = TextAreaField(_l("What is wrong?"),
                           validators=[DataRequired(), Length(min=3, max=500)])


class ShopOrderForm(FlaskForm):
    """Scan to buy: quantity, delivery, way to pay and, for shipping home, the address.

    The view sets the choices the product and the guest allow. They are not
    checked here: the stock or the guest's stay may have changed since the
    page was shown, and ``services.orders.place_order`` judges every choice
    (sold out, not available, address missing) with a message of its own.
    """

    quantity = SelectField(_l("Quantity"), coerce=int, validate_choice=False,
                           validators=[InputRequired()])
    delivery = RadioField(_l("How would you like to get it?"), validate_choice=False,
                          validators=[DataRequired()])
    provider = RadioField(_l("How would you like to pay?"), validate_choice=False,
                          validators=[DataRequired()])
    ship_name = StringField(_l("Recipient's name"), validators=[Optional(), Length(max=200)])
    ship_phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    ship_address = TextAreaField(_l("Street address"), validators=[Optional(), Length(max=500)])
    ship_city = StringField(_l("City"), validators=[Optional(), Length(max=100)])
    ship_postcode = StringField(_l("Postcode"), validators=[Optional(), Length(max=20)])
    ship_country = StringField(_l("Country"), validators=[Optional(), Length(max=100)])


class TicketPaymentForm(FlaskForm):
    """How a member pays for an event place; ``services.events`` judges the choice."""

    provider = RadioField(_l("How would you like to pay?"), validate_choice=False)


class RsvpForm(TicketPaymentForm):
    plus_one = BooleanField(_l("I am bringing a guest (+1)"))


class PledgeForm(FlaskForm):
    """A pledge: a reward tier (or none) and an amount typed in the campaign's currency.

    ``services.campaigns`` judges both (the tier's minimum, places left, the deadline).
    """

    tier = RadioField(_l("Reward"), validate_choice=False)
    amount = StringField(_l("Amount"))
