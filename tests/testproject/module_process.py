"""A process run as a module (``python -m``), as Celery is: it reads its
arguments from sys.argv and uses the project's settings."""

import sys

from django.conf import settings

if __name__ == "__main__":
    print(f"module process argv={sys.argv[1:]} name={settings.ZIPSERVE_NAME}", flush=True)
