"""The PMS API, ``<prefix>/api/v1``: signed requests in, JSON out, JSON errors."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException

from hotel_community.errors import (
    CommunityError,
    Forbidden,
    MalformedRequest,
    NotFound,
    ValidationFailed,
)
from hotel_community.extension import state
from hotel_community.models import Property
from hotel_community.schemas.pms import (
    EventResultSchema,
    GroupMembersSchema,
    PageQuerySchema,
    PmsEventSchema,
    StayOutSchema,
)
from hotel_community.services import api_keys, checkin, orders, pms_inbox, properties

bp = Blueprint("api", __name__)

# Schema instances keep no state between calls, and building one copies all
# its fields: each is built once, not per request.
EVENT, EVENT_RESULT = PmsEventSchema(), EventResultSchema()
EVENT_RESULTS, STAY = EventResultSchema(many=True), StayOutSchema()
PAGE_QUERY, GROUP_MEMBERS = PageQuerySchema(), GroupMembersSchema()


@bp.errorhandler(CommunityError)
def community_error(error: CommunityError) -> tuple[Response, int]:
    return jsonify(error.to_json()), error.status


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> tuple[Response, int]:
    body = {"error": {"code": error.name.lower().replace(" ", "_"),
                      "message": error.description, "details": {}}}
    return jsonify(body), error.code or 500


def authenticated_property() -> Property:
    return api_keys.authenticate(request.headers.get(api_keys.KEY_HEADER),
                                 request.headers.get(api_keys.SIGNATURE_HEADER),
                                 request.get_data(cache=True))


def load_body(schema: Schema) -> Any:
    payload = request.get_json(silent=True)
    if payload is None:
        raise MalformedRequest("The body must be a JSON document (Content-Type: application/json).")
    try:
        return schema.load(payload)
    except ValidationError as exc:
        raise ValidationFailed("Some fields are not valid.", exc.messages) from exc


def load_query(schema: Schema) -> Any:
    try:
        return schema.load(request.args)
    except ValidationError as exc:
        raise ValidationFailed("Some query parameters are not valid.", exc.messages) from exc


def property_for(prop: Property, code: str, field: str = "property") -> Property:
    """``code`` must name a property, and the one the API key belongs to."""
    if code == prop.code:
        return prop
    try:
        properties.get_property(code)
    except NotFound as exc:
        raise ValidationFailed("Unknown property.", {field: [f"No property {code!r}."]}) from exc
    raise Forbidden("This API key belongs to another property.")


@bp.post("/pms/events")
def pms_event() -> Response:
    """Apply one normalized PMS event (a stay snapshot), exactly once."""
    prop = authenticated_property()
    data = load_body(EVENT)
    prop = property_for(prop, data["property"])
    outcome = checkin.apply_event(prop, data["event"], request.get_json())
    return jsonify(EVENT_RESULT.dump(outcome))


@bp.post("/pms/<adapter_name>/webhook")
def pms_vendor_webhook(adapter_name: str) -> tuple[Response, int]:
    """A PMS vendor's own webhook: ``?property=<code>&token=<the property's webhook token>``.

    Answered once the ids it names are stored (202); they are fetched from the
    PMS and applied after the answer is sent, and retried from cron.
    """
    prop = properties.get_property(request.args.get("property", ""))
    stored = pms_inbox.receive(prop, adapter_name, request.args.get("token"), request)
    response = jsonify({"received": len(stored), "notifications": stored})
    return pms_inbox.process_after(response, stored), 202


@bp.post("/payments/<provider_name>/webhook")
def payment_webhook(provider_name: str) -> Response:
    """A payment provider's webhook (Stripe's ``payment_intent.*`` events).

    The provider verifies the signature; each update is applied exactly once,
    so the provider may deliver it as often as it likes.
    """
    provider = state().plugins.payment_providers.get(provider_name)
    if provider is None:
        raise NotFound(f"No payment provider named {provider_name!r} is installed.")
    try:
        updates = provider.webhook_updates(request)
    except NotImplementedError:
        raise NotFound(f"The payment provider {provider_name!r} has no webhook.") from None
    applied = [orders.apply_payment_update(provider_name, update) for update in updates]
    return jsonify({"received": len(updates),
                    "orders": [order.id for order in applied if order is not None]})


@bp.get("/stays/<reservation_id>")
def stay_detail(reservation_id: str) -> Response:
    prop = property_for(authenticated_property(), request.args.get("property", ""))
    stay = checkin.find_stay(prop, reservation_id)
    if stay is None:
        raise NotFound(f"No stay with reservation id {reservation_id!r}.")
    return jsonify(STAY.dump(checkin.record_of(prop, stay)))


@bp.get("/properties/<code>/stay-group/members")
def stay_group_members(code: str) -> Response:
    """Who is in the stay group now, a page at a time (``?after=<cursor>&limit=``)."""
    prop = property_for(authenticated_property(), code, field="code")
    page = load_query(PAGE_QUERY)
    members = checkin.stay_group_members(prop, page["after"], page["limit"])
    cursor = members[-1].id if len(members) == page["limit"] else None
    body = {"property": prop.code, "group": "stay", "members": members, "next": cursor}
    return jsonify(GROUP_MEMBERS.dump(body))


@bp.get("/openapi.json")
def openapi() -> Response:
    from hotel_community.schemas.openapi import openapi_document

    return jsonify(openapi_document())


@bp.route("/<path:anything>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown_route(anything: str) -> Response:
    raise NotFound(f"No API route /{anything}.")
