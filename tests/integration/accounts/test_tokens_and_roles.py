"""Access tokens that must be refused, and who may call what (403 for a wrong role or
credential, 404 for another customer's order), over HTTP."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from tests.integration.accounts.conftest import PASSWORD

ORDER = {"amount": 2500, "currency": "USD", "items": [{"name": "Mug", "quantity": 1, "unit_amount": 2500}]}


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def forged(container, user_token: str, algorithm: str = "HS256", **changes) -> str:
    claims = {**claims_of(user_token), **changes}
    return jwt.encode(claims, container.access_tokens._secret, algorithm=algorithm)


@pytest.mark.parametrize("case", ["tampered", "expired", "alg_none", "hs512", "wrong_audience", "other_secret",
                                  "no_session", "garbage"])
async def test_bad_access_tokens_are_401(client, container, merchant, register, case):
    user = await register(merchant)
    token = user.access_token
    header, payload, signature = token.split(".")
    if case == "tampered":  # a customer making itself an admin
        token = f"{header}.{b64({**claims_of(token), 'extras': {**claims_of(token)['extras'], 'role': 'admin'}})}" \
                f".{signature}"
    elif case == "expired":
        token = forged(container, token, exp=int((datetime.now(UTC) - timedelta(minutes=1)).timestamp()))
    elif case == "alg_none":
        token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."
    elif case == "hs512":
        token = forged(container, token, algorithm="HS512")
    elif case == "wrong_audience":
        token = forged(container, token, aud="someone-else")
    elif case == "other_secret":
        token = jwt.encode(claims_of(token), "x" * 48, algorithm="HS256")
    elif case == "no_session":
        claims = claims_of(token)
        claims["extras"] = {key: value for key, value in claims["extras"].items() if key != "sid"}
        token = forged(container, token, extras=claims["extras"])
    else:
        token = "not.a.jwt"
    response = await client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.json()["code"] == "invalid_token", response.text
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_customer_sees_and_pays_only_its_own_orders(client, merchant, register):
    ada, bob = await register(merchant), await register(merchant)
    created = await client.post("/orders", json=ORDER, headers=ada.headers)
    assert created.status_code == 201
    order_id = created.json()["id"]
    assert (await client.get(f"/orders/{order_id}", headers=ada.headers)).status_code == 200
    assert (await client.get(f"/orders/{order_id}", headers=merchant.headers)).status_code == 200
    for request in (client.get(f"/orders/{order_id}", headers=bob.headers),
                    client.post(f"/orders/{order_id}/cancel", headers=bob.headers),
                    client.post("/payments", headers=bob.headers, json={
                        "order_id": order_id, "payment_method": {"type": "card", "number": "4242424242424242",
                                                                 "exp_month": 12, "exp_year": 2035, "cvc": "123"}})):
        response = await request
        assert response.status_code == 404 and response.json()["code"] == "not_found", response.text
    listed = (await client.get("/orders", headers=bob.headers)).json()["data"]
    assert order_id not in [order["id"] for order in listed]
    assert order_id in [o["id"] for o in (await client.get("/orders", headers=ada.headers)).json()["data"]]


async def test_a_customer_of_one_merchant_sees_nothing_of_another(client, merchant, other_merchant, register):
    shopper = await register(merchant)
    foreign = (await client.post("/orders", json=ORDER, headers=other_merchant.headers)).json()
    assert (await client.get(f"/orders/{foreign['id']}", headers=shopper.headers)).status_code == 404


NEW_USER = {"email": "someone@example.com", "password": PASSWORD}


@pytest.mark.parametrize(("method", "path", "body", "who", "code"), [
    ("PUT", "/orders/{order}", {"description": "gift"}, "customer", "role_not_allowed"),
    ("POST", "/products", {"sku": "MUG-9", "name": "Mug", "unit_amount": 900, "currency": "USD"}, "customer",
     "role_not_allowed"),
    ("POST", "/staff", NEW_USER, "customer", "role_not_allowed"),
    ("POST", "/admin/users", NEW_USER, "customer", "role_not_allowed"),
    ("GET", "/admin/dead-letters", None, "merchant", "credential_not_accepted"),
    ("GET", "/me", None, "merchant", "credential_not_accepted"),
    ("GET", "/orders", None, "admin", "role_not_allowed"),
])
async def test_wrong_role_or_credential_is_403(client, container, merchant, register, method, path, body, who,
                                               code):
    customer = await register(merchant)
    order = (await client.post("/orders", json=ORDER, headers=merchant.headers)).json()
    headers = {"customer": customer.headers, "merchant": merchant.headers,
               "admin": {"Authorization": f"Bearer {await admin_token(client, container)}"}}[who]
    response = await client.request(method, path.format(order=order["id"]), headers=headers, json=body)
    assert response.status_code == 403 and response.json()["code"] == code, response.text


async def admin_token(client, container) -> str:
    """An admin user (made directly by the use case), logged in over HTTP."""
    from app.domain.model.principal import Credential, Principal
    from app.domain.model.user import Role

    email = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    await container.accounts.create_user(Principal(Role.ADMIN, Credential.ADMIN_KEY), email, PASSWORD, Role.ADMIN, None)
    login = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200 and login.json()["user"]["role"] == "admin"
    return login.json()["access_token"]


async def test_the_static_admin_key_bootstraps_the_first_admin(container):
    import dataclasses

    import httpx
    import msgspec

    from app.entrypoints.http.app import create_app

    settings = msgspec.structs.replace(container.settings, api=msgspec.structs.replace(
        container.settings.api, admin_api_key="bootstrap-key-for-tests"))
    app = create_app(dataclasses.replace(container, settings=settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://admin.test") as client:
        email = f"first-{uuid.uuid4().hex[:8]}@example.com"
        created = await client.post("/admin/users", headers={"Authorization": "Bearer bootstrap-key-for-tests"},
                                    json={"email": email, "password": PASSWORD, "role": "admin"})
        assert created.status_code == 201 and created.json()["role"] == "admin", created.text
        login = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
        token = login.json()["access_token"]
        second = await client.post("/admin/users", headers={"Authorization": f"Bearer {token}"},
                                   json={"email": f"second-{email}", "password": PASSWORD, "role": "admin"})
        assert second.status_code == 201 and second.json()["merchant_id"] is None


async def test_admin_jwt_uses_the_admin_api(client, container):
    token = await admin_token(client, container)
    second = await client.post("/admin/users", headers={"Authorization": f"Bearer {token}"},
                               json={"email": f"ops2-{uuid.uuid4().hex[:6]}@example.com", "password": PASSWORD,
                                     "role": "admin"})
    assert second.status_code == 201 and second.json()["merchant_id"] is None


async def test_merchant_staff_see_what_the_api_key_sees(client, merchant, login):
    email = f"staff-{uuid.uuid4().hex[:8]}@example.com"
    staff = await client.post("/staff", headers=merchant.headers, json={"email": email, "password": PASSWORD})
    assert staff.status_code == 201 and staff.json()["role"] == "merchant"
    order = (await client.post("/orders", json=ORDER, headers=merchant.headers)).json()
    user = await login(email, merchant_id=merchant.id)
    seen = await client.get(f"/orders/{order['id']}", headers=user.headers)
    assert seen.status_code == 200 and seen.json()["id"] == order["id"]
    assert (await client.put(f"/orders/{order['id']}", headers=user.headers, json={"description": "gift"})
            ).status_code == 200


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"email": "not-an-email", "password": PASSWORD}, 422, "invalid_email"),
    ({"email": "ada@example.com", "password": "short"}, 422, "weak_password"),
    ({"email": "ada@example.com", "password": "password123"}, 422, "weak_password"),
    ({"email": "ada@example.com", "password": "p" * 60 + "Q" * 69}, 422, "password_too_long"),
    ({"email": "ada@example.com", "password": "x" * 2000}, 400, "validation_failed"),
    ({"email": "ada@example.com", "password": PASSWORD, "role": "admin"}, 400, "validation_failed"),
])
async def test_bad_registrations_are_refused_and_nothing_is_written(client, merchant, body, status, code):
    from app.adapters.db.tables import UserTable

    before = await UserTable.count().where(UserTable.merchant_id == merchant.id).run()
    response = await client.post("/auth/register", json={"merchant_id": merchant.id, **body})
    assert response.status_code == status and response.json()["code"] == code, response.text
    assert await UserTable.count().where(UserTable.merchant_id == merchant.id).run() == before


async def test_duplicate_registration_is_409(client, merchant, register):
    user = await register(merchant)
    again = await client.post("/auth/register", json={"merchant_id": merchant.id, "email": user.email.upper(),
                                                      "password": "Different-Passphrase-9"})
    assert again.status_code == 409 and again.json()["code"] == "email_taken"


async def test_registering_with_an_unknown_merchant_is_422(client):
    response = await client.post("/auth/register", json={"merchant_id": str(uuid.uuid4()),
                                                         "email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 422 and response.json()["code"] == "unknown_merchant"


def test_every_operation_states_its_roles_and_credentials(app):
    from litestar.routes import HTTPRoute

    from app.entrypoints.http.access import Access, Public

    schema = app.openapi_schema.to_schema()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            documented = re.sub(r":[a-z]+}", "}", route.path)
            if handler.handler_name == "options_handler" or documented not in schema["paths"]:
                continue  # Litestar's own OPTIONS answers; undocumented (/metrics has its own token)
            rule = handler.opt.get("access")
            assert isinstance(rule, (Access, Public)), f"{route.path} {handler.http_methods} has no access rule"
            for method in handler.http_methods:
                operation = schema["paths"][documented][method.lower()]
                expected = rule.route()["security"]
                assert operation.get("security", []) == expected, (route.path, method)
                assert operation["description"].startswith(("Roles:", "Public:")), (route.path, method)
