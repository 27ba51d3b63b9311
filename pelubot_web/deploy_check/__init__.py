"""``flask deploy-check``: the deployment checklist, run against the live settings and services.

Modelled on Django's ``check --deploy``: every check yields findings with a severity; the
command prints one line per finding and exits non-zero when any is an error, so a deploy
pipeline can stop before customers reach a misconfigured release. Nothing here calls
Google unless ``online`` is asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask

from pelubot_web.deploy_check import services, settings
from pelubot_web.deploy_check.findings import ERROR, OK, WARNING, Finding

__all__ = ["ERROR", "OK", "WARNING", "Finding", "has_errors", "run_checks"]

Check = Callable[[Flask], Iterable[Finding]]

# Settings first (no I/O), then the services they point at.
OFFLINE_CHECKS: tuple[Check, ...] = (
    settings.check_environment,
    settings.check_secrets,
    settings.check_local_no_auth,
    settings.check_public_base_url,
    settings.check_proxies,
    settings.check_timezone,
    settings.check_metrics,
    services.check_database,
    services.check_redis,
    services.check_worker,
    services.check_mail,
    services.check_google_credentials,
)


def run_checks(app: Flask, *, online: bool = False) -> list[Finding]:
    """Every finding for ``app``'s configuration; ``online`` adds calls to Google."""
    checks = OFFLINE_CHECKS + ((services.check_calendar_access,) if online else ())
    findings: list[Finding] = []
    for check in checks:
        findings.extend(check(app))
    return findings


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(finding.severity == ERROR for finding in findings)
