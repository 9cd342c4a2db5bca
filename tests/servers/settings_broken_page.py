"""The test project warming up a page whose template is missing, with a
LOGGING of its own (set after ``config.apply()``) that sends every log
record nowhere near standard error, as a project logging to its database
would."""

from tests.testproject.settings import *  # noqa: F403

ZIPSERVE_WARMUP_PATHS = ["/", "/broken/"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"database": {"class": "logging.NullHandler"}},
    "root": {"handlers": ["database"]},
    "loggers": {"django": {"handlers": ["database"], "propagate": False}},
}
