import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bookshelf.books.models import Book

pytestmark = pytest.mark.django_db


def test_the_add_page_has_a_form(client):
    response = client.get(reverse("books:add"))
    assert response.status_code == 200
    assert b'name="cover"' in response.content


def test_a_book_is_added_with_its_cover(client):
    cover = SimpleUploadedFile("cover.txt", b"a cover")
    response = client.post(reverse("books:add"), {"title": "Dune", "cover": cover})
    assert response.status_code == 302
    assert Book.objects.get().title == "Dune"
