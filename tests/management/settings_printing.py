"""The test project's settings printing a warning to standard output at
import, as some projects' settings do."""

print("WARNING: no local settings found, using the defaults")  # noqa: T201

from tests.testproject.settings import *  # noqa: E402, F403
