import sys
import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Wait until stopped; handles no signal itself."

    def handle(self, *args, **options):
        print("waiting", file=sys.stderr, flush=True)
        while True:
            time.sleep(0.1)
