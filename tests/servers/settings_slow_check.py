"""The test project with a slow system check of its own, registered without a
tag and for deployment only, as drf-spectacular registers the check that
builds the whole API schema: it leaves a mark in the file
ZIPSERVE_TEST_CHECK_MARK names each time it runs."""

import os
import time

from django.core import checks

from tests.testproject.settings import *  # noqa: F403

#: What the check takes; a start that ran it would take this much longer.
SLOW_CHECK_SECONDS = 2


@checks.register(deploy=True)
def build_the_whole_schema(app_configs, **kwargs):
    time.sleep(SLOW_CHECK_SECONDS)
    with open(os.environ["ZIPSERVE_TEST_CHECK_MARK"], "a") as mark:
        mark.write("ran\n")
    return []
