from bookshelf.users.models import User


def test_user_get_absolute_url(user: User):
    assert user.get_absolute_url() == f"/users/{user.username}/"


def test_user_has_no_first_name_field():
    assert not hasattr(User, "first_name") or User.first_name is None
