import tempfile

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings

from .models import Profile


class ProfileTests(TestCase):
    def test_avatar_upload(self):
        with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
            avatar = SimpleUploadedFile("me.png", b"\x89PNG fake")
            response = self.client.post("/accounts/profile/", {"email": "a@example.com", "avatar": avatar})
        self.assertEqual(response.status_code, 302)
        self.assertTrue(Profile.objects.get().avatar.name.startswith("avatars/me"))
