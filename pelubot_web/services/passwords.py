"""The password policy, applied wherever a password is set (CLI, admin, account page).

Long enough (10+ characters), not only whitespace, not one character repeated and not
among the passwords attackers try first. Deliberately small: length does the real work.
"""

from __future__ import annotations

from werkzeug.security import generate_password_hash

from pelubot_web.services.errors import InvalidInput

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "WeakPassword",
    "hash_new_password",
    "hash_password",
]

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
# werkzeug's method string. A hash records its method, so checking works whatever the
# method was when it was made; the test suite lowers the cost (tests/conftest.py).
PASSWORD_HASH_METHOD = "scrypt"

# The most common passwords of 10+ characters in public breach lists, plus the obvious
# local ones; compared case-insensitively.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "0123456789",
        "0987654321",
        "12345678910",
        "123456789a",
        "1234567890a",
        "a123456789",
        "1q2w3e4r5t",
        "1q2w3e4r5t6y",
        "q1w2e3r4t5",
        "qwertyuiop",
        "qwerty1234",
        "qwerty12345",
        "qwerty123456",
        "asdfghjkl1",
        "zxcvbnm123",
        "password12",
        "password123",
        "password1234",
        "passw0rd123",
        "iloveyou12",
        "iloveyou123",
        "welcome123",
        "letmein123",
        "changeme123",
        "administrator",
        "admin12345",
        "admin123456",
        "abcdefghij",
        "abcd123456",
        "abc1234567",
        "contraseña",
        "contraseña1",
        "contraseña123",
        "contrasena",
        "contrasena123",
        "peluqueria",
        "peluqueria1",
        "peluqueria123",
        "pelubot123",
        "pelubot1234",
        "superman123",
        "football123",
        "baseball123",
        "princess123",
    }
)


class WeakPassword(InvalidInput):
    """The password is too short, blank, repetitive or too common."""

    code = "weak_password"


def check_password(password: str, *, field: str = "password") -> None:
    """Raise ``WeakPassword`` (naming ``field``) unless ``password`` meets the policy."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters", field=field
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(
            f"password must be at most {MAX_PASSWORD_LENGTH} characters", field=field
        )
    if not password.strip():
        raise WeakPassword("password must not be only whitespace", field=field)
    if len(set(password)) == 1:
        raise WeakPassword("password must not be one character repeated", field=field)
    if password.strip().lower() in COMMON_PASSWORDS:
        raise WeakPassword("password is one of the most common ones", field=field)


def hash_password(password: str) -> str:
    """The stored form of a password (no policy check: see ``hash_new_password``)."""
    return generate_password_hash(password, method=PASSWORD_HASH_METHOD)


def hash_new_password(password: str, *, field: str = "password") -> str:
    """Check the policy, then hash (the only way a new password gets stored)."""
    check_password(password, field=field)
    return hash_password(password)
