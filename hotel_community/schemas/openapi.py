"""The OpenAPI 3 document of the PMS API, generated from the marshmallow schemas."""
from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app

import hotel_community
from hotel_community.schemas.pms import (
    ErrorSchema, EventResultSchema, GroupMembersSchema, PmsEventSchema, StayOutSchema, StaySchema,
)

SIGNATURE_HELP = (
    "HMAC-SHA256 of `<t>.<raw body>` with the key's secret, hex: "
    "`t=<unix seconds>,v1=<hex>`; the timestamp must be within 300 s of server time."
)


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): {"description": "Error", "content": {
        "application/json": {"schema": "Error"}}} for status in statuses}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _paths() -> dict[str, dict[str, Any]]:
    return {
        "hotel_community.api.pms_event": {"post": {
            "summary": "Apply one normalized PMS event (a stay snapshot) exactly once",
            "requestBody": {"required": True, "content": {"application/json": {"schema": "PmsEvent"}}},
            "responses": {"200": _json("EventResult", "applied, duplicate or stale"),
                          **_errors(400, 401, 403, 422, 503)}}},
        "hotel_community.api.pms_vendor_webhook": {"post": {
            "summary": "A PMS vendor's own webhook (Mews, Apaleo, Cloudbeds, or a plugin's)",
            "description": "The body is the vendor's. Authenticated by the property's webhook "
                           "token (the URL on the staff PMS page), not by an API key. Answered "
                           "once the ids it names are stored; they are fetched from the PMS "
                           "and applied after the answer.",
            "security": [],
            "parameters": [
                {"in": "path", "name": "adapter_name", "required": True,
                 "schema": {"type": "string"}},
                {"in": "query", "name": "property", "required": True, "schema": {"type": "string"}},
                {"in": "query", "name": "token", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"type": "object"}}}},
            "responses": {"202": {"description": "Stored", "content": {"application/json": {
                "schema": {"type": "object", "properties": {
                    "received": {"type": "integer"},
                    "notifications": {"type": "array", "items": {"type": "integer"}}}}}}},
                **_errors(400, 401, 404)}}},
        "hotel_community.api.stay_detail": {"get": {
            "summary": "Read a stay back",
            "parameters": [
                {"in": "path", "name": "reservation_id", "required": True, "schema": {"type": "string"}},
                {"in": "query", "name": "property", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _json("Stay", "The stay"), **_errors(401, 403, 404, 422)}}},
        "hotel_community.api.stay_group_members": {"get": {
            "summary": "Who is in the property's stay group now",
            "parameters": [
                {"in": "path", "name": "code", "required": True, "schema": {"type": "string"}},
                {"in": "query", "name": "after", "schema": {"type": "integer"},
                 "description": "The `next` cursor of the previous page."},
                {"in": "query", "name": "limit", "schema": {"type": "integer", "default": 100,
                                                            "maximum": 500}}],
            "responses": {"200": _json("GroupMembers", "Open memberships"), **_errors(401, 403, 422)}}},
    }


def openapi_document() -> dict[str, Any]:
    spec = APISpec(
        title="hotel-community PMS API", version=hotel_community.__version__,
        openapi_version="3.0.3", plugins=[MarshmallowPlugin()],
        info={"description": "Stay events in, stay group out. Every error is "
                             "`{\"error\": {\"code\", \"message\", \"details\"}}`."})
    spec.components.security_scheme("key", {"type": "apiKey", "in": "header",
                                            "name": "X-Hotel-Community-Key"})
    spec.components.security_scheme("signature", {"type": "apiKey", "in": "header",
                                                  "name": "X-Hotel-Community-Signature",
                                                  "description": SIGNATURE_HELP})
    # Nested schemas are named before the schemas using them, or apispec would
    # register them again under a generated name ("Stay" for both stay schemas).
    for name, schema in [("StaySnapshot", StaySchema), ("PmsEvent", PmsEventSchema),
                         ("Stay", StayOutSchema), ("EventResult", EventResultSchema),
                         ("GroupMembers", GroupMembersSchema), ("Error", ErrorSchema)]:
        spec.components.schema(name, schema=schema)
    for endpoint, operations in _paths().items():
        for operation in operations.values():
            operation["security"] = [{"key": [], "signature": []}]
        spec.path(path=_openapi_path(endpoint), operations=operations)
    return spec.to_dict()


def _openapi_path(endpoint: str) -> str:
    """The route's URL with ``{param}`` placeholders, under the app's prefix."""
    rule = next(r for r in current_app.url_map.iter_rules() if r.endpoint == endpoint)
    return rule.rule.replace("<", "{").replace(">", "}")
