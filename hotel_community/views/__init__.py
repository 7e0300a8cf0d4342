"""Blueprints: guest pages, staff pages and the PMS API. Thin: parse, call a service, answer."""
