"""Profiles: display name, photo, city, languages, interests, visibility, the shared contact;
and the interest list staff curate."""
from __future__ import annotations

import io
import os

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from hotel_community.database import session
from hotel_community.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hotel_community.models import Interest, Member, MemberInterest, Profile
from hotel_community.services import community, privacy, profiles, storage
from tests.factories import check_in_by_hand


@pytest.fixture
def app_config(tmp_path) -> dict:
    return {"HOTEL_COMMUNITY_UPLOAD_FOLDER": str(tmp_path / "media"),
            "HOTEL_COMMUNITY_MAX_PHOTO_BYTES": 100_000}


@pytest.fixture
def mei(app, prop) -> Member:
    return check_in_by_hand(prop, "1204", ("Mei", "Chen")).guests[0].member


def image_upload(size=(60, 40), image_format="PNG", name="me.png") -> FileStorage:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 90)).save(buffer, format=image_format)
    return FileStorage(io.BytesIO(buffer.getvalue()), filename=name)


def noise_upload(side: int = 300) -> FileStorage:
    """A real PNG that cannot be compressed below the 100 kB limit of these tests."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, format="PNG")
    assert len(buffer.getvalue()) > 100_000
    return FileStorage(io.BytesIO(buffer.getvalue()), filename="big.png")


def fresh(member: Member) -> Member:
    session.expire_all()
    return session.get(Member, member.id)


def interest_names(member: Member) -> list[str]:
    return sorted(i.name for i in profiles.member_interests(member.id))


def stored_files(app_config: dict) -> list[str]:
    folder = app_config["HOTEL_COMMUNITY_UPLOAD_FOLDER"]
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


# --- basics ------------------------------------------------------------------------------

def test_a_new_member_is_invisible_and_has_no_profile_until_one_is_made(app, mei):
    assert mei.visible is False and mei.profile is None
    profile = profiles.get_or_create_profile(mei)
    assert profiles.get_or_create_profile(fresh(mei)).member_id == profile.member_id
    assert session.scalar(select(func.count()).select_from(Profile)) == 1
    assert fresh(mei).visible is False
    view = profiles.profile_view(fresh(mei))
    assert (view.visible, view.display_name, view.default_name) == (False, "", "Mei C.")


def test_display_name_defaults_to_first_name_and_last_initial(app, mei):
    assert mei.display_name == "Mei C."
    profiles.update_profile(mei, display_name="  Mei   from Lyon ")
    assert fresh(mei).display_name == "Mei from Lyon"
    profiles.update_profile(fresh(mei), display_name="")
    assert fresh(mei).profile.display_name is None and fresh(mei).display_name == "Mei C."


@pytest.mark.parametrize("name", ["x" * 61, "tab\there\x00"])
def test_a_display_name_too_long_or_with_control_characters_is_refused(app, mei, name):
    with pytest.raises(ValidationFailed) as refused:
        profiles.update_profile(mei, display_name=name)
    assert "display_name" in refused.value.details
    assert fresh(mei).display_name == "Mei C."


def test_home_city_and_languages(app, mei):
    profiles.update_profile(mei, home_city=" Lyon ", languages=["fr", "en", "fr"])
    profile = fresh(mei).profile
    assert profile.home_city == "Lyon"
    assert profile.languages == ["en", "fr"]  # the list's order, once each
    with pytest.raises(ValidationFailed) as refused:
        profiles.update_profile(fresh(mei), languages=["en", "xx"])
    assert "languages" in refused.value.details
    assert fresh(mei).profile.languages == ["en", "fr"]
    with pytest.raises(ValidationFailed):
        profiles.update_profile(fresh(mei), home_city="y" * 101)


def test_every_offered_language_has_a_label():
    assert set(profiles.LANGUAGES) == {"en", "zh", "ja", "ko", "fr", "de", "es", "it", "ru",
                                       "pt", "ar", "th"}
    assert all(profiles.LANGUAGES.values())


def test_what_is_not_given_is_left_alone(app, mei):
    profiles.update_profile(mei, home_city="Lyon", languages=["fr"], interests=["Jazz"],
                            contact=("email", "mei@example.com"))
    profiles.update_profile(fresh(mei), visible=True)
    member = fresh(mei)
    assert (member.profile.home_city, member.profile.languages) == ("Lyon", ["fr"])
    assert member.profile.contact_value == "mei@example.com"
    assert interest_names(member) == ["Jazz"]


# --- interests ---------------------------------------------------------------------------

def test_interests_are_normalized_curated_ones_reused_free_ones_created(app, mei):
    hiking = profiles.add_curated_interest("Hiking")
    profiles.update_profile(mei, interests=["hiking", "  Dim   Sum ", "dim sum", "JAZZ", ""])
    assert interest_names(fresh(mei)) == ["Dim Sum", "Hiking", "JAZZ"]
    rows = {i.slug: i for i in session.scalars(select(Interest))}
    assert set(rows) == {"hiking", "dim sum", "jazz"}
    assert rows["hiking"].id == hiking.id and rows["hiking"].curated is True
    assert rows["dim sum"].curated is False and rows["jazz"].curated is False


def test_a_second_member_typing_the_same_interest_shares_its_row(app, prop, mei):
    other = check_in_by_hand(prop, "1205", ("Ana", "Lopez")).guests[0].member
    profiles.update_profile(mei, interests=["Jazz"])
    profiles.update_profile(other, interests=["  jazz"])
    assert session.scalar(select(func.count()).select_from(Interest)) == 1
    assert session.scalar(select(func.count()).select_from(MemberInterest)) == 2


def test_changing_interests_replaces_the_set(app, mei):
    profiles.update_profile(mei, interests=["Jazz", "Tea"])
    profiles.update_profile(fresh(mei), interests=["Tea", "Surf"])
    assert interest_names(fresh(mei)) == ["Surf", "Tea"]
    profiles.update_profile(fresh(mei), interests=[])
    assert interest_names(fresh(mei)) == []


def test_at_most_20_interests_of_at_most_50_characters(app, mei):
    profiles.update_profile(mei, interests=[f"topic {n}" for n in range(20)])
    assert len(interest_names(fresh(mei))) == 20
    with pytest.raises(ValidationFailed) as refused:
        profiles.update_profile(fresh(mei), interests=[f"other {n}" for n in range(21)])
    assert "interests" in refused.value.details
    with pytest.raises(ValidationFailed):
        profiles.update_profile(fresh(mei), interests=["z" * 51])
    assert len(interest_names(fresh(mei))) == 20  # nothing changed
    profiles.update_profile(fresh(mei), interests=["z" * 50])
    assert interest_names(fresh(mei)) == ["z" * 50]


def test_split_interests_takes_latin_and_chinese_commas():
    assert [s.strip() for s in profiles.split_interests("jazz, 茶，hiking、 ,surf")] == [
        "jazz", "茶", "hiking", "surf"]
    assert profiles.split_interests("") == []


# --- the contact a connection sees ------------------------------------------------------

@pytest.mark.parametrize("kind, value", [
    ("wechat", "mei_chen-88"), ("email", "mei@example.com"), ("phone", "+86 138 0013 8000"),
    ("phone", "(415) 555-0100"), ("other", "Instagram @mei.chen"), ("other", "小红书 美美"),
])
def test_a_valid_contact_is_stored(app, mei, kind, value):
    profiles.update_profile(mei, contact=(kind, f"  {value} "))
    profile = fresh(mei).profile
    assert (profile.contact_kind, profile.contact_value) == (kind, value)


@pytest.mark.parametrize("kind, value, field", [
    ("wechat", "1234567", "contact_value"),        # must start with a letter
    ("wechat", "abc", "contact_value"),            # too short
    ("wechat", "mei chen", "contact_value"),
    ("wechat", "a" * 21, "contact_value"),
    ("email", "mei@example", "contact_value"),
    ("email", "mei example.com", "contact_value"),
    ("phone", "call me", "contact_value"),
    ("phone", "+12", "contact_value"),
    ("phone", "+1 234 567 890 123 456", "contact_value"),  # more than 15 digits
    ("other", "x" * 201, "contact_value"),
    ("other", "line\nbreak", "contact_value"),
    ("wechat", "", "contact_value"),
    ("fax", "12345678", "contact_kind"),
])
def test_an_invalid_contact_is_refused(app, mei, kind, value, field):
    profiles.update_profile(mei, contact=("email", "kept@example.com"))
    with pytest.raises(ValidationFailed) as refused:
        profiles.update_profile(fresh(mei), contact=(kind, value))
    assert field in refused.value.details
    assert fresh(mei).profile.contact_value == "kept@example.com"


def test_no_kind_shares_nothing(app, mei):
    profiles.update_profile(mei, contact=("wechat", "meichen88"))
    profiles.update_profile(fresh(mei), contact=("", "meichen88"))
    profile = fresh(mei).profile
    assert (profile.contact_kind, profile.contact_value) == (None, None)
    profiles.update_profile(fresh(mei), contact=("phone", "+86 138 0013 8000"))
    profiles.update_profile(fresh(mei), contact=None)
    assert fresh(mei).profile.contact_kind is None


# --- the photo ---------------------------------------------------------------------------

def test_a_photo_is_stored_replaced_and_removed_with_its_file(app, app_config, mei):
    profiles.update_profile(mei, photo=image_upload())
    first = fresh(mei).profile.photo
    assert storage.photo_path(first) is not None and stored_files(app_config) == [first]

    profiles.update_profile(fresh(mei), photo=image_upload(image_format="JPEG", name="x.jpg"))
    second = fresh(mei).profile.photo
    assert second != first and stored_files(app_config) == [second]

    profiles.update_profile(fresh(mei), home_city="Lyon")  # no photo given: kept
    assert fresh(mei).profile.photo == second

    profiles.update_profile(fresh(mei), photo=None)
    assert fresh(mei).profile.photo is None and stored_files(app_config) == []


@pytest.mark.parametrize("upload", [
    lambda: FileStorage(io.BytesIO(b"<svg onload=alert(1)>"), filename="me.png"),
    lambda: FileStorage(io.BytesIO(b"%PDF-1.4 not a photo"), filename="me.jpg"),
    noise_upload,
], ids=["script", "pdf", "too-large"])
def test_a_photo_that_is_not_an_image_or_too_large_is_refused(app, app_config, mei, upload):
    profiles.update_profile(mei, photo=image_upload())
    kept = fresh(mei).profile.photo
    with pytest.raises(ValidationFailed) as refused:
        profiles.update_profile(fresh(mei), photo=upload(), home_city="Changed")
    assert "photo" in refused.value.details
    assert fresh(mei).profile.photo == kept and stored_files(app_config) == [kept]
    assert fresh(mei).profile.home_city is None


def test_a_refused_field_stores_no_photo(app, app_config, mei):
    with pytest.raises(ValidationFailed):
        profiles.update_profile(mei, photo=image_upload(), contact=("email", "nope"))
    assert stored_files(app_config) == []
    assert fresh(mei).profile is None


# --- visibility --------------------------------------------------------------------------

def test_the_profile_switch_and_the_group_page_switch_are_one(app, mei):
    profiles.update_profile(mei, visible=True)
    assert fresh(mei).visible is True
    assert profiles.profile_view(fresh(mei)).visible is True
    community.set_visible(mei.id, False)
    assert profiles.profile_view(fresh(mei)).visible is False


def test_a_deleted_member_cannot_edit(app, mei):
    privacy.delete_account(mei)
    with pytest.raises(Forbidden):
        profiles.update_profile(fresh(mei), display_name="Back")
    assert fresh(mei).profile is None


# --- the curated list --------------------------------------------------------------------

def test_staff_add_rename_and_list_curated_interests(app):
    for name in ("Hiking", "  Food  ", "Business travel"):
        profiles.add_curated_interest(name)
    assert [i.name for i in profiles.curated_interests()] == ["Business travel", "Food", "Hiking"]
    with pytest.raises(Conflict):
        profiles.add_curated_interest("hiking")
    with pytest.raises(ValidationFailed):
        profiles.add_curated_interest("   ")

    food = next(i for i in profiles.curated_interests() if i.slug == "food")
    profiles.rename_curated_interest(food.id, "Food & drink")
    assert session.get(Interest, food.id).slug == "food & drink"
    with pytest.raises(Conflict):
        profiles.rename_curated_interest(food.id, "HIKING")
    profiles.rename_curated_interest(food.id, "FOOD & DRINK")  # its own name, other case
    assert session.get(Interest, food.id).name == "FOOD & DRINK"


def test_adding_an_interest_guests_typed_curates_that_row(app, mei):
    profiles.update_profile(mei, interests=["jazz"])
    free = session.scalar(select(Interest))
    assert free.curated is False
    assert [(i.name, n) for i, n in profiles.popular_free_interests()] == [("jazz", 1)]
    added = profiles.add_curated_interest("Jazz")
    assert added.id == free.id and added.curated is True and added.name == "Jazz"
    assert profiles.popular_free_interests() == []
    assert profiles.interest_counts([added.id]) == {added.id: 1}


def test_removing_a_curated_interest_keeps_it_for_those_who_chose_it(app, mei):
    chosen = profiles.add_curated_interest("Tea")
    unused = profiles.add_curated_interest("Golf")
    profiles.update_profile(mei, interests=["tea"])
    profiles.remove_curated_interest(chosen.id)
    profiles.remove_curated_interest(unused.id)
    session.expire_all()
    assert profiles.curated_interests() == []
    assert session.get(Interest, unused.id) is None
    assert session.get(Interest, chosen.id).curated is False
    assert interest_names(fresh(mei)) == ["Tea"]
    with pytest.raises(NotFound):
        profiles.remove_curated_interest(chosen.id)  # not on the list any more
    with pytest.raises(NotFound):
        profiles.rename_curated_interest(999_999, "x")


def test_popular_free_interests_come_most_chosen_first(app, prop, mei):
    ana = check_in_by_hand(prop, "1205", ("Ana", "Lopez")).guests[0].member
    profiles.update_profile(mei, interests=["surf", "chess"])
    profiles.update_profile(ana, interests=["chess"])
    assert [(i.slug, n) for i, n in profiles.popular_free_interests()] == [("chess", 2),
                                                                          ("surf", 1)]
