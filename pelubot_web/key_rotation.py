"""Secret key rotation: cookies and CSRF tokens signed with an old key keep working.

Flask 3.1 verifies its session cookie with ``SECRET_KEY`` and then each key in
``SECRET_KEY_FALLBACKS``, but signs with ``SECRET_KEY`` only. Flask-WTF 1.3 (CSRF tokens)
and Flask-Login 0.6 (remember-me cookie) read ``SECRET_KEY`` alone, so without this module a
key change would log every "remember me" stylist out and fail every form opened before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import current_app
from flask_login import LoginManager
from flask_login.utils import decode_cookie, encode_cookie


def signing_settings(secret_key: str | None, fallbacks: Sequence[str]) -> dict[str, Any]:
    """Flask config entries for the current key and the old ones still accepted."""
    return {
        "SECRET_KEY": secret_key,
        "SECRET_KEY_FALLBACKS": list(fallbacks),
        # itsdangerous signs with the last key of a list and verifies with any of them.
        "WTF_CSRF_SECRET_KEY": [*fallbacks, secret_key],
    }


class RotatingLoginManager(LoginManager):  # type: ignore[misc]
    """Flask-Login whose remember-me cookie also verifies with ``SECRET_KEY_FALLBACKS``."""

    def _load_user_from_remember_cookie(self, cookie: str) -> Any:
        user = super()._load_user_from_remember_cookie(cookie)
        if user is not None:
            return user
        for key in current_app.config.get("SECRET_KEY_FALLBACKS") or ():
            user_id = decode_cookie(cookie, key=key)
            if user_id is not None:
                # Same path as a cookie signed with the current key (session, signal).
                return super()._load_user_from_remember_cookie(encode_cookie(user_id))
        return None
