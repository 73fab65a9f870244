"""Users (seed 003's User Service): shoppers, merchant staff and operators.

Password policy (NIST SP 800-63B, no composition rules): 10 to 128 characters; not one
character repeated; not containing the email's local part; not a well-known password.
Overlong input is refused rather than truncated, so what is hashed is what was typed."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.domain.errors import ValidationFailed

PASSWORD_MIN = 10
PASSWORD_MAX = 128
EMAIL_MAX = 254
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
# The most used passwords that the length rule alone would let through.
COMMON_PASSWORDS = frozenset({
    "1234567890", "12345678910", "0123456789", "1q2w3e4r5t", "qwertyuiop", "1qaz2wsx3edc", "password12",
    "password123", "password1234", "passw0rd123", "iloveyou12", "qwerty1234", "qwerty12345", "abcdefghij",
    "abc1234567", "letmein123", "welcome123", "administrator", "changeme123", "football123", "monkey1234",
    "sunshine12", "princess12", "trustno1234", "baseball123", "superman123", "starwars123", "qazwsxedcrfv",
    "zaq12wsxcde", "asdfghjkl1", "1234qwerasdf", "fusionxpay1", "fusionxpay123",
})


class Role(StrEnum):
    CUSTOMER = "customer"  # a shopper of one merchant: its own orders and cards
    MERCHANT = "merchant"  # staff of one merchant: what the merchant's API key sees
    ADMIN = "admin"  # an operator: every merchant, the admin API


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > EMAIL_MAX or not _EMAIL.match(email):
        raise ValidationFailed("email is not a valid address", field="email", code="invalid_email")
    return email


def check_password(password: str, email: str) -> str:
    """The password as it will be hashed (NFKC-normalised), or ValidationFailed."""
    password = unicodedata.normalize("NFKC", password)
    if len(password) > PASSWORD_MAX:
        raise ValidationFailed(f"password must be at most {PASSWORD_MAX} characters", field="password",
                               code="password_too_long")
    if len(password) < PASSWORD_MIN:
        raise ValidationFailed(f"password must be at least {PASSWORD_MIN} characters", field="password",
                               code="weak_password")
    local_part = email.partition("@")[0]
    lowered = password.lower()
    if len(set(password)) == 1 or lowered in COMMON_PASSWORDS or (len(local_part) >= 4 and local_part in lowered):
        raise ValidationFailed("password is too easy to guess (a common password, one repeated character, "
                               "or containing the email)", field="password", code="weak_password")
    return password


@dataclass(eq=False, slots=True)
class User:
    id: uuid.UUID
    email: str
    role: Role
    password_hash: str
    created_at: datetime
    password_changed_at: datetime
    merchant_id: uuid.UUID | None = None  # None only for admins

    def __post_init__(self) -> None:
        if (self.role is Role.ADMIN) != (self.merchant_id is None):
            raise ValidationFailed("admins belong to no merchant; everyone else to exactly one",
                                   field="merchant_id")

    def __repr__(self) -> str:  # the hash stays out of logs too
        return f"User({self.id} {self.role} merchant={self.merchant_id})"
