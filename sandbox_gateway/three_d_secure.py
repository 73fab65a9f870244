"""The simulated 3-D Secure step: the page a shopper is sent to for a payment that requires
action (test card 4000000000003220, token tok_three_d_secure), and its two answers.

Approving or refusing settles the payment at once, sends the signed callback, and sends
the shopper's browser back to the payment's return_url (303, with `payment_id` and
`redirect_status` added, as Stripe adds `payment_intent` and `redirect_status`). These
routes are for browsers: they take no API credentials, only the unguessable payment id.
"""

from __future__ import annotations

import html
from pathlib import Path
from string import Template
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from litestar import MediaType, Response, get, post
from litestar.response import Redirect

from sandbox_gateway.ledger import PaymentRecord
from sandbox_gateway.service import Gateway

PAGE = Template(Path(__file__).with_name("three_d_secure.html").read_text())
ACTIONS = """<form method="post" action="/_sandbox/3ds/{id}/approve"><button class="approve" type="submit">
Approve</button></form><form method="post" action="/_sandbox/3ds/{id}/refuse"><button class="refuse"
type="submit">Refuse</button></form>"""
DONE = "<p>You can close this window.</p>"


def render(payment: PaymentRecord, heading: str, actions: str) -> Response[str]:
    method = payment.method
    page = PAGE.substitute(
        heading=html.escape(heading), amount=payment.amount, currency=html.escape(payment.currency),
        card=html.escape(f"{method.brand or method.type} •••• {method.last4 or ''}"),
        payment_id=html.escape(payment.id), status=html.escape(payment.status), actions=actions)
    return Response(page, status_code=200, media_type=MediaType.HTML, headers={"Cache-Control": "no-store"})


def back_to_merchant(payment: PaymentRecord) -> Response[str] | Redirect:
    """303 to the return_url with the outcome; without one, a page saying it is done."""
    if not payment.return_url:
        return render(payment, f"Authentication {'approved' if payment.status == 'succeeded' else 'refused'}", DONE)
    parts = urlsplit(payment.return_url)
    query = [*parse_qsl(parts.query, keep_blank_values=True),
             ("payment_id", payment.id), ("redirect_status", payment.status)]
    return Redirect(urlunsplit(parts._replace(query=urlencode(query))), status_code=303)


@get("/_sandbox/3ds/{payment_id:str}", include_in_schema=False)
async def three_d_secure_page(payment_id: str, gateway: Gateway) -> Response[str]:
    payment = gateway.ledger.payment(payment_id)
    if payment.status != "requires_action":
        return render(payment, "This payment needs no authentication any more", DONE)
    return render(payment, "Confirm this payment", ACTIONS.format(id=html.escape(payment.id)))


@post("/_sandbox/3ds/{payment_id:str}/approve", include_in_schema=False, status_code=303)
async def approve(payment_id: str, gateway: Gateway) -> Response[str] | Redirect:
    payment = gateway.ledger.payment(payment_id)
    gateway.settlement.authenticate(payment, approved=True)  # a repeat answer changes nothing
    return back_to_merchant(payment)


@post("/_sandbox/3ds/{payment_id:str}/refuse", include_in_schema=False, status_code=303)
async def refuse(payment_id: str, gateway: Gateway) -> Response[str] | Redirect:
    payment = gateway.ledger.payment(payment_id)
    gateway.settlement.authenticate(payment, approved=False)
    return back_to_merchant(payment)


THREE_D_SECURE_ROUTES = [three_d_secure_page, approve, refuse]
