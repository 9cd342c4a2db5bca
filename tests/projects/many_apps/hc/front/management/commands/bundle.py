"""Bundle the stylesheets into front/bundle.css, as an asset compressor
would: the templates reference the bundle, which is not in version control."""

from pathlib import Path

from django.core.management.base import BaseCommand

SOURCES = Path(__file__).resolve().parent.parent.parent / "static" / "front"


class Command(BaseCommand):
    help = "Write static/front/bundle.css from static/front/src/*.css."

    def handle(self, *args, **options):
        parts = sorted((SOURCES / "src").glob("*.css"))
        (SOURCES / "bundle.css").write_text("".join(part.read_text() for part in parts))
        self.stdout.write(f"bundled {len(parts)} stylesheets")
