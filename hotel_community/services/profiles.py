"""Profiles: what a member shows other guests, and the interests the hotel curates.

A member edits only their own profile (views pass the signed-in member). The
"visible to other guests" switch is ``Member.visible``, the same one the stay
group page toggles, and stays off until the guest turns it on.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from sqlalchemy import delete, func, select
from werkzeug.datastructures import FileStorage

from hotel_community.database import insert_or_ignore, session, transaction
from hotel_community.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hotel_community.i18n import lazy_gettext as _l
from hotel_community.models import Interest, Member, MemberInterest, Profile
from hotel_community.services import storage

#: Languages a guest can say they speak, with their names in themselves.
LANGUAGES: dict[str, str] = {
    "en": "English", "zh": "中文", "ja": "日本語", "ko": "한국어", "fr": "Français",
    "de": "Deutsch", "es": "Español", "it": "Italiano", "ru": "Русский", "pt": "Português",
    "ar": "العربية", "th": "ไทย",
}

#: What a connection can be shown, in the order the form offers them.
CONTACT_KINDS: dict[str, object] = {
    "wechat": _l("WeChat ID"), "email": _l("E-mail"), "phone": _l("Phone"),
    "other": _l("Another handle"),
}

MAX_INTERESTS = 20
MAX_INTEREST_LENGTH = 50
MAX_DISPLAY_NAME = 60
MAX_HOME_CITY = 100
MAX_CONTACT = 200
#: The curated list is short by nature; this only bounds the query.
CURATED_LIMIT = 200

# WeChat IDs: 6-20 letters, digits, "_" or "-", starting with a letter.
_WECHAT = re.compile(r"[A-Za-z][-_A-Za-z0-9]{5,19}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9(][-0-9 ().]{4,30}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


class _Keep(enum.Enum):
    KEEP = "keep"


#: Default of every :func:`update_profile` argument: leave that part as it is.
KEEP = _Keep.KEEP


@dataclass
class ProfileView:
    """A member's profile as the form shows it."""

    display_name: str
    default_name: str
    photo: str | None
    home_city: str
    languages: list[str]
    curated_interests: list[str]  # slugs
    free_interests: list[str]  # names
    visible: bool
    contact_kind: str
    contact_value: str
    curated_choices: list[Interest] = field(default_factory=list)


def get_or_create_profile(member: Member) -> Profile:
    """The member's profile row, created empty on first use."""
    if member.profile is not None:
        return member.profile
    with transaction():
        profile = _profile_row(member)
    return profile


def default_display_name(member: Member) -> str:
    """First name and last initial: what others see unless the member chose a name."""
    initial = f" {member.last_name[:1]}." if member.last_name else ""
    return f"{member.first_name}{initial}".strip()


def profile_view(member: Member) -> ProfileView:
    """Everything the profile form needs, in a fixed number of queries."""
    profile = member.profile
    interests = member_interests(member.id)
    return ProfileView(
        display_name=(profile.display_name if profile else None) or "",
        default_name=default_display_name(member),
        photo=profile.photo if profile else None,
        home_city=(profile.home_city if profile else None) or "",
        languages=list(profile.languages or []) if profile else [],
        curated_interests=[i.slug for i in interests if i.curated],
        free_interests=[i.name for i in interests if not i.curated],
        visible=member.visible,
        contact_kind=(profile.contact_kind if profile else None) or "",
        contact_value=(profile.contact_value if profile else None) or "",
        curated_choices=curated_interests(),
    )


def member_interests(member_id: int) -> list[Interest]:
    return list(session.scalars(
        select(Interest).join(MemberInterest, MemberInterest.interest_id == Interest.id)
        .where(MemberInterest.member_id == member_id).order_by(Interest.slug)))


def update_profile(member: Member, *, display_name: str | None | _Keep = KEEP,
                   photo: FileStorage | None | _Keep = KEEP, home_city: str | None | _Keep = KEEP,
                   languages: Sequence[str] | _Keep = KEEP,
                   interests: Iterable[str] | _Keep = KEEP, visible: bool | _Keep = KEEP,
                   contact: tuple[str | None, str | None] | None | _Keep = KEEP) -> Profile:
    """Change the member's own profile; what is not given stays as it is.

    ``display_name`` empty or None: back to the default name. ``photo``: an
    upload replaces the photo (the old file is deleted), None removes it.
    ``interests``: names, curated or free, all the member's interests (at most
    20). ``contact``: (kind, value), or None / an empty kind to share nothing.
    Everything is checked before anything is stored: a refused field
    (:class:`ValidationFailed`, with ``details`` per field) changes nothing.
    """
    if member.deleted_at is not None:
        raise Forbidden(_l("This account was deleted."))
    changes = _checked_changes(display_name, home_city, languages, contact)
    slugs = normal_interests(interests) if interests is not KEEP else None
    new_photo = storage.save_photo(photo) if isinstance(photo, FileStorage) else None
    try:
        with transaction():
            profile = _profile_row(member)
            old_photo = profile.photo if photo is not KEEP else None
            for name, value in changes.items():
                setattr(profile, name, value)
            if photo is not KEEP:
                profile.photo = new_photo
            if visible is not KEEP:
                member.visible = bool(visible)
            if slugs is not None:
                _set_interests(member.id, slugs)
    except BaseException:
        storage.delete_photo(new_photo)
        raise
    storage.delete_photo(old_photo)  # only once the new key is stored
    return profile


def normal_interest(name: str) -> tuple[str, str]:
    """(slug, name) of a typed interest: trimmed, spaces collapsed; the slug lower-case."""
    name = _SPACES.sub(" ", _CONTROL.sub("", name)).strip()
    if len(name) > MAX_INTEREST_LENGTH:
        raise ValidationFailed(
            _l("An interest can be at most %(num)d characters.", num=MAX_INTEREST_LENGTH),
            {"interests": [_l("Too long: %(name)s", name=name[:MAX_INTEREST_LENGTH] + "…")]})
    return name.lower(), name


def normal_interests(names: Iterable[str]) -> dict[str, str]:
    """Slug -> name of each distinct interest typed or chosen; at most 20."""
    result: dict[str, str] = {}
    for raw in names:
        slug, name = normal_interest(raw)
        if slug:
            result.setdefault(slug, name)
    if len(result) > MAX_INTERESTS:
        raise ValidationFailed(
            _l("Choose at most %(num)d interests.", num=MAX_INTERESTS),
            {"interests": [_l("Choose at most %(num)d interests.", num=MAX_INTERESTS)]})
    return result


def split_interests(text: str) -> list[str]:
    """The interests typed in one box, separated by commas (also Chinese ones)."""
    return [part for part in re.split(r"[,，、;；\n]", text or "") if part.strip()]


def check_contact(kind: str | None, value: str | None) -> tuple[str | None, str | None]:
    """The (kind, value) to store; refuses a value that is not what its kind says."""
    kind, value = (kind or "").strip(), (value or "").strip()
    if not kind:
        return None, None
    if kind not in CONTACT_KINDS:
        raise _invalid("contact_kind", _l("Choose what a connection will see."))
    if not value:
        raise _invalid("contact_value", _l("Enter what a connection will see."))
    if len(value) > MAX_CONTACT:
        raise _invalid("contact_value", _l("At most %(num)d characters.", num=MAX_CONTACT))
    if _CONTROL.search(value):
        raise _invalid("contact_value", _l("Please use ordinary text."))
    if kind == "wechat" and not _WECHAT.fullmatch(value):
        raise _invalid("contact_value", _l("A WeChat ID has 6 to 20 letters, digits, _ or -, "
                                           "and starts with a letter."))
    if kind == "email" and not (_EMAIL.fullmatch(value) and len(value) <= 254):
        raise _invalid("contact_value", _l("Enter a valid e-mail address."))
    if kind == "phone" and not (_PHONE.fullmatch(value) and 6 <= _digits(value) <= 15):
        raise _invalid("contact_value", _l("Enter a phone number with its country code, "
                                           "e.g. +86 138 0000 0000."))
    return kind, value


# --- the curated list (staff) ------------------------------------------------------------

def curated_interests() -> list[Interest]:
    return list(session.scalars(select(Interest).where(Interest.curated.is_(True))
                                .order_by(Interest.slug).limit(CURATED_LIMIT)))


def interest_counts(interest_ids: Sequence[int]) -> dict[int, int]:
    """How many members chose each of these interests (one grouped query)."""
    if not interest_ids:
        return {}
    return dict(session.execute(
        select(MemberInterest.interest_id, func.count())
        .where(MemberInterest.interest_id.in_(interest_ids))
        .group_by(MemberInterest.interest_id)).all())


def popular_free_interests(limit: int = 20) -> list[tuple[Interest, int]]:
    """Interests guests typed themselves, most chosen first: candidates for the list."""
    count = func.count(MemberInterest.member_id).label("members")
    rows = session.execute(
        select(Interest, count).join(MemberInterest, MemberInterest.interest_id == Interest.id)
        .where(Interest.curated.is_(False)).group_by(Interest.id)
        .order_by(count.desc(), Interest.slug).limit(limit)).all()
    return [(row.Interest, row.members) for row in rows]


def add_curated_interest(name: str) -> Interest:
    """Put an interest on the list; one guests already typed becomes curated."""
    slug, name = _required_interest(name)
    with transaction():
        interest = _interest_by_slug(slug)
        if interest is not None and interest.curated:
            raise Conflict(f"“{interest.name}” is already on the list.")
        if interest is None:
            interest = Interest(slug=slug, name=name, curated=True)
            session.add(interest)
        interest.curated, interest.name = True, name
    return interest


def rename_curated_interest(interest_id: int, name: str) -> Interest:
    """Rename a curated interest; the members who chose it keep it."""
    slug, name = _required_interest(name)
    with transaction():
        interest = _curated(interest_id)
        other = _interest_by_slug(slug)
        if other is not None and other.id != interest.id:
            raise Conflict(f"There is already an interest called “{other.name}”.")
        interest.slug, interest.name = slug, name
    return interest


def remove_curated_interest(interest_id: int) -> None:
    """Take an interest off the list.

    Members who chose it keep it as one of their own (free) interests; one
    nobody chose is deleted.
    """
    with transaction():
        interest = _curated(interest_id)
        if interest_counts([interest.id]):
            interest.curated = False
        else:
            session.delete(interest)


# --- helpers -------------------------------------------------------------------------------

def _profile_row(member: Member) -> Profile:
    """The member's profile, inserted if missing (two tabs saving at once get one row)."""
    if member.profile is None:
        session.execute(insert_or_ignore(Profile, "member_id")
                        .values(member_id=member.id, languages=[]))
        session.expire(member, ["profile"])
    return member.profile


def _checked_changes(display_name: str | None | _Keep, home_city: str | None | _Keep,
                     languages: Sequence[str] | _Keep,
                     contact: tuple[str | None, str | None] | None | _Keep) -> dict[str, object]:
    """The profile columns to set, every value checked."""
    changes: dict[str, object] = {}
    if display_name is not KEEP:
        changes["display_name"] = _short_text("display_name", display_name, MAX_DISPLAY_NAME)
    if home_city is not KEEP:
        changes["home_city"] = _short_text("home_city", home_city, MAX_HOME_CITY)
    if languages is not KEEP:
        unknown = [code for code in languages if code not in LANGUAGES]
        if unknown:
            raise _invalid("languages", _l("Choose languages from the list."))
        changes["languages"] = [code for code in LANGUAGES if code in set(languages)]
    if contact is not KEEP:
        changes["contact_kind"], changes["contact_value"] = check_contact(*(contact or ("", "")))
    return changes


def _short_text(field_name: str, value: str | None, limit: int) -> str | None:
    value = _SPACES.sub(" ", value or "").strip()
    if len(value) > limit:
        raise _invalid(field_name, _l("At most %(num)d characters.", num=limit))
    if _CONTROL.search(value):
        raise _invalid(field_name, _l("Please use ordinary text."))
    return value or None


def _set_interests(member_id: int, wanted: dict[str, str]) -> None:
    """Make the member's interests exactly ``wanted``, creating free ones as needed."""
    by_slug = _interests_for(wanted)
    have = set(session.scalars(select(MemberInterest.interest_id)
                               .where(MemberInterest.member_id == member_id)))
    keep = {interest.id for interest in by_slug.values()}
    if have - keep:
        session.execute(delete(MemberInterest).where(MemberInterest.member_id == member_id,
                                                     MemberInterest.interest_id.in_(have - keep)))
    session.add_all(MemberInterest(member_id=member_id, interest_id=interest_id)
                    for interest_id in sorted(keep - have))
    session.flush()


def _interests_for(wanted: dict[str, str]) -> dict[str, Interest]:
    """The Interest row of each slug; missing ones inserted as free interests.

    INSERT ... ON CONFLICT DO NOTHING: two guests typing the same new interest
    at once both end up with the one row.
    """
    if not wanted:
        return {}
    found = {i.slug: i for i in session.scalars(select(Interest).where(
        Interest.slug.in_(list(wanted))))}
    missing = [{"slug": slug, "name": wanted[slug], "curated": False}
               for slug in wanted if slug not in found]
    if missing:
        session.execute(insert_or_ignore(Interest, "slug").values(missing))
        found.update({i.slug: i for i in session.scalars(select(Interest).where(
            Interest.slug.in_([row["slug"] for row in missing])))})
    return found


def _required_interest(name: str) -> tuple[str, str]:
    slug, name = normal_interest(name or "")
    if not slug:
        raise ValidationFailed("Enter the interest's name.", {"name": ["Required."]})
    return slug, name


def _interest_by_slug(slug: str) -> Interest | None:
    return session.scalar(select(Interest).where(Interest.slug == slug))


def _curated(interest_id: int) -> Interest:
    interest = session.get(Interest, interest_id)
    if interest is None or not interest.curated:
        raise NotFound("No such interest on the list.")
    return interest


def _digits(value: str) -> int:
    return sum(ch.isdigit() for ch in value)


def _invalid(field_name: str, message: Any) -> ValidationFailed:
    """A refusal of one field; ``message`` is a lazy translation, shown in the guest's language."""
    return ValidationFailed(message, {field_name: [message]})
