"""Marshmallow schemas of the API; the OpenAPI document is generated from them."""
