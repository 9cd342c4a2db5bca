"""The test project with a job whose schedule systemd cannot read."""

from tests.testproject.settings import *  # noqa: F403

ZIPSERVE_PROCESSES = {"report": {"command": ["check"], "schedule": "every tuesday-ish"}}
