"""What the server tests of both servers share beyond ``tests.helpers``."""

import json

from tests.helpers import http_get


def served_marker(base):
    """The MARKER the test project's /info/ answers with at ``base``, or
    None while nothing answers there (a server between two masters)."""
    try:
        status, _, body = http_get(f"{base}/info/", timeout=5)
    except OSError:
        return None
    return json.loads(body)["marker"] if status == 200 else None
