from django.test import TestCase

from .models import Check


class PingTests(TestCase):
    def test_ping_counts(self):
        self.client.get("/ping/backup/")
        self.client.post("/ping/backup/")
        self.assertEqual(Check.objects.get(name="backup").pings, 2)
