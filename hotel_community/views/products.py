"""Staff pages of the shop's catalogue: products, their photos and stock, and placements."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.wrappers import Response
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from hotel_community.errors import CommunityError
from hotel_community.services import products, properties, storage
from hotel_community.services.products import ProductFields
from hotel_community.views import id_arg
from hotel_community.views.staff_auth import staff_required
from hotel_community.views.staff_base import back_to, current_property, staff_blueprint

bp = staff_blueprint("products", __name__)


class ProductForm(FlaskForm):
    """The rules (price format, SKU unique per hotel) are checked by services.products."""

    sku = StringField("SKU", validators=[DataRequired(), Length(max=64)])
    name_en = StringField("Name (English)", validators=[DataRequired(), Length(max=200)])
    name_zh = StringField("Name (Chinese)", validators=[Optional(), Length(max=200)])
    description_en = TextAreaField("Description (English)", validators=[Length(max=5000)])
    description_zh = TextAreaField("Description (Chinese)", validators=[Length(max=5000)])
    price = StringField("Price", validators=[DataRequired(), Length(max=20)],
                        description="e.g. 129.00, without thousands separators")
    stock = IntegerField("Stock", default=0, validators=[InputRequired()])
    active = BooleanField("For sale", default=True)
    photo = FileField("Photo")


class StockForm(FlaskForm):
    mode = SelectField("Change", choices=[SelectChoice("add", "Add (or take away with −)"),
                                          SelectChoice("set", "Set to (after counting)")])
    amount = IntegerField("Units", validators=[InputRequired()])


class PlacementForm(FlaskForm):
    location = StringField("Room or place", validators=[DataRequired(), Length(max=60)])
    is_room = BooleanField("It is a room", default=True)


class RoomsForm(FlaskForm):
    rooms = TextAreaField("Rooms", validators=[DataRequired(), Length(max=20_000)],
                          description="e.g. 1201-1230, or 1201, 1203, 1301-1305 "
                                      f"(at most {products.MAX_BULK_PLACEMENTS} at a time)")


# --------------------------------------------------------------------------- products

@bp.get("")
@staff_required
def product_list() -> str:
    prop = current_property()
    page = products.list_products(prop, after=id_arg(request.args, "after"))
    return render_template("hotel_community/staff/products.html", property=prop, page=page,
                           properties=properties.list_properties(), price=products.format_price,
                           photo_url=storage.photo_url)


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new() -> str | Response:
    prop = current_property()
    form = ProductForm()
    if form.validate_on_submit():
        product = _attempt(lambda: products.create_product(prop, _fields(form)))
        if product is not None:
            _add_photo(product.id, form)
            flash(f"Added “{product.name_en}”.", "success")
            return redirect(url_for(".edit", product_id=product.id))
    return render_template("hotel_community/staff/product_form.html", form=form, product=None,
                           property=prop)


@bp.route("/<hc_id:product_id>", methods=["GET", "POST"])
@staff_required
def edit(product_id: int) -> str | Response:
    product = products.get_product(product_id)
    form = ProductForm(obj=None if request.method == "POST" else product)
    del form.stock  # changed with the stock form only: this page may be older than an order
    if request.method == "GET":
        form.price.data = str(products.minor_to_decimal(product.price, product.currency))
    if (form.validate_on_submit()
            and _attempt(lambda: products.update_product(product.id, _fields(form))) is not None):
        _add_photo(product.id, form)
        flash("Saved.", "success")
        return redirect(url_for(".edit", product_id=product.id))
    placements = products.list_placements(product.property, product_id=product.id,
                                          after=id_arg(request.args, "after"))
    return render_template("hotel_community/staff/product_form.html", form=form, product=product,
                           property=product.property, placements=placements,
                           stock_form=StockForm(formdata=None), placement_form=PlacementForm(
                               formdata=None), rooms_form=RoomsForm(formdata=None),
                           price=products.format_price, photo_url=storage.photo_url)


@bp.post("/<hc_id:product_id>/active")
@staff_required
def set_active(product_id: int) -> Response:
    active = request.form.get("active") == "1"
    if _attempt(lambda: products.set_product_active(product_id, active)) is not None:
        flash("Now for sale." if active else "Taken off sale: its QR codes show it as unavailable.",
              "success")
    return back_to(url_for(".edit", product_id=product_id))


@bp.post("/<hc_id:product_id>/stock")
@staff_required
def stock(product_id: int) -> Response:
    form = StockForm()
    if not form.validate_on_submit():
        flash("Enter a whole number of units.", "error")
    elif form.mode.data == "set":
        if _attempt(lambda: products.set_stock(product_id, form.amount.data)) is not None:
            flash(f"Stock set to {form.amount.data}.", "success")
    else:
        left = _attempt(lambda: products.adjust_stock(product_id, form.amount.data))
        if left is not None:
            flash(f"Stock is now {left}.", "success")
    return back_to(url_for(".edit", product_id=product_id))


# --------------------------------------------------------------------------- photos

@bp.post("/<hc_id:product_id>/photos")
@staff_required
def add_photo(product_id: int) -> Response:
    form = ProductForm()
    if not form.photo.data:
        flash("Choose a photo to upload.", "error")
    else:
        _add_photo(product_id, form)
    return redirect(url_for(".edit", product_id=product_id))


@bp.post("/<hc_id:product_id>/photos/<hc_id:photo_id>/first")
@staff_required
def photo_first(product_id: int, photo_id: int) -> Response:
    def move() -> Any:
        ids = [p.id for p in products.get_product(product_id).photos]
        ordered = [photo_id] + [i for i in ids if i != photo_id]
        return products.reorder_photos(product_id, ordered)
    if _attempt(move) is not None:
        flash("That photo is now the first one.", "success")
    return redirect(url_for(".edit", product_id=product_id))


@bp.post("/<hc_id:product_id>/photos/<hc_id:photo_id>/remove")
@staff_required
def photo_remove(product_id: int, photo_id: int) -> Response:
    product = products.get_product(product_id)
    if photo_id not in {p.id for p in product.photos}:
        flash("There is no such photo.", "error")
    elif _attempt(lambda: products.remove_photo(photo_id) or True):
        flash("Photo removed.", "success")
    return redirect(url_for(".edit", product_id=product_id))


# --------------------------------------------------------------------------- placements

@bp.post("/<hc_id:product_id>/placements")
@staff_required
def add_placement(product_id: int) -> Response:
    form = PlacementForm()
    if not form.validate_on_submit():
        flash("Enter the room or place (at most 60 characters).", "error")
    else:
        placement = _attempt(lambda: products.create_placement(
            product_id, form.location.data, form.is_room.data))
        if placement is not None:
            flash(f"Placed in {placement.location}.", "success")
    return redirect(url_for(".edit", product_id=product_id))


@bp.post("/<hc_id:product_id>/rooms")
@staff_required
def add_rooms(product_id: int) -> Response:
    form = RoomsForm()
    if not form.validate_on_submit():
        flash("Enter room numbers, e.g. 1201-1230.", "error")
    else:
        result = _attempt(lambda: products.create_room_placements(product_id, form.rooms.data))
        if result is not None:
            created, skipped = result
            flash(f"Placed in {created} room(s)"
                  + (f"; {skipped} already had it." if skipped else "."), "success")
    return redirect(url_for(".edit", product_id=product_id))


@bp.get("/placements")
@staff_required
def placement_list() -> str:
    prop = current_property()
    active = {"1": True, "0": False}.get(request.args.get("active", ""))
    is_room = {"1": True, "0": False}.get(request.args.get("is_room", ""))
    location = request.args.get("location", "").strip()[:60]
    page = products.list_placements(prop, product_id=id_arg(request.args, "product"),
                                    location=location, active=active, is_room=is_room,
                                    after=id_arg(request.args, "after"))
    filters = {k: v for k, v in request.args.items() if k in ("product", "location", "active",
                                                                "is_room") and v}
    return render_template("hotel_community/staff/placements.html", property=prop, page=page,
                           properties=properties.list_properties(), filters=filters,
                           price=products.format_price)


@bp.post("/placements/<hc_id:placement_id>/active")
@staff_required
def placement_active(placement_id: int) -> Response:
    active = request.form.get("active") == "1"
    if _attempt(lambda: products.set_placement_active(placement_id, active)) is not None:
        flash("Placement shown again." if active else "Placement deactivated: its QR code "
              "no longer sells.", "success")
    return back_to(url_for(".placement_list"))


@bp.post("/placements/<hc_id:placement_id>/delete")
@staff_required
def placement_delete(placement_id: int) -> Response:
    if _attempt(lambda: products.delete_placement(placement_id) or True):
        flash("Placement deleted: its printed QR code is now void.", "success")
    return back_to(url_for(".placement_list"))


# --------------------------------------------------------------------------- helpers

def _fields(form: ProductForm) -> ProductFields:
    return ProductFields(sku=form.sku.data or "", name_en=form.name_en.data or "",
                         name_zh=form.name_zh.data or "",
                         description_en=form.description_en.data or "",
                         description_zh=form.description_zh.data or "",
                         price=form.price.data or "",
                         stock=(form.stock.data or 0) if "stock" in form else 0,
                         active=form.active.data)


def _add_photo(product_id: int, form: ProductForm) -> None:
    if form.photo.data:
        _attempt(lambda: products.add_photo(product_id, form.photo.data))


def _attempt(change: Callable[[], Any]) -> Any:
    """Run a change; flash why it was refused and return None, else its result."""
    try:
        return change()
    except CommunityError as error:
        flash(str(error.message), "error")
        return None
