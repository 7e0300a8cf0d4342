"""Every call to Stripe, and the only module that imports the Stripe SDK.

Objects come back as plain dicts (``PaymentIntent.to_dict()``), so the
provider never handles SDK objects; Stripe's errors become
:class:`~hotel_community.errors.PaymentProviderError` (or
:class:`~hotel_community.errors.AuthenticationFailed` for a webhook whose
signature does not verify).
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Iterator

import stripe

from hotel_community.errors import AuthenticationFailed, MalformedRequest, PaymentProviderError
from hotel_community.settings import config_value

#: PaymentIntent statuses that cannot be cancelled any more (nor need to be).
FINAL_STATUSES = ("succeeded", "canceled")


@lru_cache(maxsize=4)
def _client_for(api_key: str, api_base: str) -> stripe.StripeClient:
    return stripe.StripeClient(api_key, base_addresses={"api": api_base})


def _client() -> stripe.StripeClient:
    """A client for the app's settings (kept: it holds the HTTP connection pool)."""
    api_key = config_value("STRIPE_SECRET_KEY")
    if not api_key:
        raise PaymentProviderError("Stripe is not configured (HOTEL_COMMUNITY_STRIPE_SECRET_KEY).")
    return _client_for(api_key, config_value("STRIPE_API_BASE"))


@contextmanager
def _calling_stripe() -> Iterator[None]:
    try:
        yield
    except stripe.APIConnectionError as exc:
        raise PaymentProviderError("Stripe could not be reached; please try again.") from exc
    except stripe.StripeError as exc:
        raise PaymentProviderError(f"Stripe: {exc.user_message or type(exc).__name__}") from exc


def create_intent(amount: int, currency: str, metadata: dict[str, str],
                  idempotency_key: str) -> dict[str, Any]:
    params = {"amount": amount, "currency": currency.lower(), "metadata": metadata,
              "payment_method_types": list(config_value("STRIPE_PAYMENT_METHOD_TYPES"))}
    with _calling_stripe():
        intent = _client().v1.payment_intents.create(
            params=params, options={"idempotency_key": idempotency_key})
    return intent.to_dict()


def retrieve_intent(intent_id: str) -> dict[str, Any]:
    with _calling_stripe():
        return _client().v1.payment_intents.retrieve(intent_id).to_dict()


def pay_with_token(intent_id: str, token_id: str) -> dict[str, Any]:
    """Confirm the PaymentIntent server side with the card of a Stripe.js token.

    A declined card is an answer, not an error: the intent comes back with
    its ``last_payment_error``.
    """
    client = _client()
    with _calling_stripe():
        card = client.v1.tokens.retrieve(token_id).to_dict().get("card") or {}
        if not card.get("id"):
            raise PaymentProviderError("Stripe: that token holds no card.")
        client.v1.payment_intents.update(
            intent_id, params={"payment_method": card["id"]},
            options={"idempotency_key": f"hc-attach-{intent_id}-{token_id}"})
        try:
            intent = client.v1.payment_intents.confirm(
                intent_id, options={"idempotency_key": f"hc-confirm-{intent_id}-{token_id}"})
        except stripe.CardError:
            intent = client.v1.payment_intents.retrieve(intent_id)
    return intent.to_dict()


def cancel_intent(intent_id: str) -> None:
    """Cancel a PaymentIntent; one that already succeeded or was cancelled is left alone."""
    client = _client()
    with _calling_stripe():
        try:
            client.v1.payment_intents.cancel(intent_id)
        except stripe.InvalidRequestError:
            if client.v1.payment_intents.retrieve(intent_id).status not in FINAL_STATUSES:
                raise


def create_refund(intent_id: str, amount: int, idempotency_key: str) -> str:
    with _calling_stripe():
        refund = _client().v1.refunds.create(
            params={"payment_intent": intent_id, "amount": amount},
            options={"idempotency_key": idempotency_key})
    return refund.id


def verified_event(payload: bytes, signature: str | None) -> tuple[str, dict[str, Any]]:
    """The type and object of a webhook event, once its ``Stripe-Signature`` verifies."""
    try:
        event = stripe.Webhook.construct_event(payload, signature,
                                               config_value("STRIPE_WEBHOOK_SECRET"))
    except stripe.SignatureVerificationError as exc:
        raise AuthenticationFailed(f"The Stripe-Signature header does not verify: "
                                   f"{exc.user_message}") from exc
    except (ValueError, AttributeError) as exc:  # not UTF-8 or JSON, or not a JSON object
        raise MalformedRequest("The webhook body is not a Stripe event.") from exc
    data = event.to_dict()
    return str(data.get("type", "")), (data.get("data") or {}).get("object") or {}


def create_customer(metadata: dict[str, str]) -> str:
    with _calling_stripe():
        return _client().v1.customers.create(params={"metadata": metadata}).id


def create_setup_intent(customer_id: str, metadata: dict[str, str]) -> dict[str, Any]:
    """A SetupIntent that saves a card on the customer to charge later, off session."""
    params = {"customer": customer_id, "usage": "off_session", "metadata": metadata,
              "payment_method_types": ["card"]}
    with _calling_stripe():
        return _client().v1.setup_intents.create(params=params).to_dict()


def retrieve_setup_intent(setup_intent_id: str) -> dict[str, Any]:
    with _calling_stripe():
        return _client().v1.setup_intents.retrieve(setup_intent_id).to_dict()


def detach_payment_method(payment_method_id: str) -> None:
    with _calling_stripe():
        _client().v1.payment_methods.detach(payment_method_id)


def create_off_session_intent(amount: int, currency: str, customer_id: str,
                              payment_method_id: str, metadata: dict[str, str],
                              idempotency_key: str) -> dict[str, Any]:
    """A PaymentIntent charging a saved card, NOT confirmed: the caller stores its id first."""
    params = {"amount": amount, "currency": currency.lower(), "customer": customer_id,
              "payment_method": payment_method_id, "payment_method_types": ["card"],
              "metadata": metadata}
    with _calling_stripe():
        intent = _client().v1.payment_intents.create(
            params=params, options={"idempotency_key": idempotency_key})
    return intent.to_dict()


def confirm_off_session(intent_id: str) -> dict[str, Any]:
    """Confirm a saved-card PaymentIntent while the customer is away.

    A declined card is an answer, not an error: the intent comes back with its
    ``last_payment_error``. So is an intent another run confirmed meanwhile.
    """
    client = _client()
    with _calling_stripe():
        try:
            intent = client.v1.payment_intents.confirm(intent_id, params=_off_session())
        except stripe.CardError:
            intent = client.v1.payment_intents.retrieve(intent_id)
        except stripe.InvalidRequestError:
            intent = client.v1.payment_intents.retrieve(intent_id)
            if intent.status == "requires_confirmation":
                raise
    return intent.to_dict()


def _off_session() -> dict[str, Any]:
    """``off_session`` on confirm: the customer is not there to pass 3-D Secure, and Stripe
    applies the exemptions for merchant-initiated charges (HOTEL_COMMUNITY_STRIPE_CONFIRM_OFF_SESSION)."""
    return {"off_session": True} if config_value("STRIPE_CONFIRM_OFF_SESSION") else {}