import tempfile

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings

from .models import Product


class ShopTests(TestCase):
    def test_add_product_with_picture(self):
        with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
            picture = SimpleUploadedFile("mug.png", b"\x89PNG fake")
            response = self.client.post("/shop/add/", {"name": "Mug", "picture": picture})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Product.objects.get().name, "Mug")
