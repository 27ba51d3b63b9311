"""docs/prometheus-alerts.yml only refers to series PeluBot really exports."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from prometheus_client.metrics import MetricWrapperBase

from pelubot_web import metrics

RULES = Path(__file__).resolve().parents[1] / "docs" / "prometheus-alerts.yml"
# Series computed at scrape time by the web's collector (not module-level objects).
SCRAPE_TIME = {
    "pelubot_outbox_rows",
    "pelubot_outbox_oldest_pending_age_seconds",
    "pelubot_notification_rows",
    "pelubot_notification_oldest_due_age_seconds",
    "pelubot_worker_heartbeat_age_seconds",
    "pelubot_worker_last_seen_seconds",
    "pelubot_calendar_pull_failing",
    "pelubot_calendar_pull_failing_seconds",
    "pelubot_calendar_push_failed_rows",
}


def _exported() -> set[str]:
    names = set(SCRAPE_TIME)
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase) and value._name.startswith("pelubot_"):
            names.add(value._name)
    return names


def test_every_alert_is_complete_and_uses_existing_series() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    exported = _exported()

    assert len(rules) >= 6
    for rule in rules:
        assert rule["alert"]
        assert rule["expr"]
        assert rule["annotations"]["summary"]
        for series in re.findall(r"pelubot_[a-z_]+", rule["expr"]):
            base = re.sub(r"_(bucket|count|sum|total)$", "", series)
            assert series in exported or base in exported, f"{rule['alert']}: {series}"
    source = Path(metrics.__file__).read_text()
    for series in SCRAPE_TIME:
        assert f'"{series}"' in source
