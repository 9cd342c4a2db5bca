from django.test import TestCase, override_settings


@override_settings(
    STORAGES={"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
)
class WelcomeTests(TestCase):
    def test_welcome_names_the_site(self):
        self.assertContains(self.client.get("/"), "<h1>Mychecks</h1>")
