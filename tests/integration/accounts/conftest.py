"""Users over HTTP: helpers to register, log in and call with a JWT."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

PASSWORD = "Correct-Horse-Battery-42"


@dataclass
class UserAuth:
    id: str
    email: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def tokens_of(body: dict, email: str) -> UserAuth:
    return UserAuth(body["user"]["id"], email, body["access_token"], body["refresh_token"])


@pytest.fixture(autouse=True)
async def no_login_failures(container):
    """Every request here comes from one test address: start each test unthrottled."""
    keys = [key async for key in container.redis.scan_iter(match="fxp:login-failures:*")]
    if keys:
        await container.redis.delete(*keys)


@pytest.fixture
def register(client):
    async def register(merchant, email: str | None = None, password: str = PASSWORD) -> UserAuth:
        email = email or f"shopper-{uuid.uuid4().hex[:8]}@example.com"
        response = await client.post("/auth/register", json={"merchant_id": merchant.id, "email": email,
                                                              "password": password})
        assert response.status_code == 201, response.text
        return tokens_of(response.json(), email)

    return register


@pytest.fixture
def login(client):
    async def login(email: str, password: str = PASSWORD, merchant_id: str | None = None) -> UserAuth:
        body = {"email": email, "password": password}
        if merchant_id:
            body["merchant_id"] = merchant_id
        response = await client.post("/auth/login", json=body)
        assert response.status_code == 200, response.text
        return tokens_of(response.json(), email)

    return login
