from __future__ import annotations

from pelubot_web.web.forms import BaseForm


class ConfirmForm(BaseForm):
    """CSRF only: retry one job, retry all failed."""
