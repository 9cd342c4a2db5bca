from django.test.runner import DiscoverRunner


class SiteTestRunner(DiscoverRunner):
    """The project's own runner: quieter by default."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("verbosity", 1)
        super().__init__(*args, **kwargs)
