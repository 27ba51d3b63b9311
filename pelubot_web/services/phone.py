"""Phone numbers: customers are identified by their number in E.164 form."""

from __future__ import annotations

import phonenumbers

from pelubot_web.services.errors import InvalidPhone

DEFAULT_REGION = "ES"


def normalize_phone(raw: str, *, region: str = DEFAULT_REGION, field: str = "phone") -> str:
    """Return ``raw`` as E.164 (``+34600123456``); national numbers are read in ``region``.

    Raises ``InvalidPhone`` unless the number is a valid, dialable number.
    """
    text = (raw or "").strip()
    if not text or len(text) > 32:
        raise InvalidPhone("phone number is required (at most 32 characters)", field=field)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(f"not a phone number: {text!r}", field=field) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"not a valid phone number: {text!r}", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
