"""The test project warming up a page whose template is missing, with a
LOGGING of its own that sends Django's records to the console (standard
error), as many projects' settings do."""

from tests.testproject.settings import *  # noqa: F403

ZIPSERVE_WARMUP_PATHS = ["/", "/broken/"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": True}},
}
