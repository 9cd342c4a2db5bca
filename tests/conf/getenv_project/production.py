"""What ``init`` generates for such a project: our configuration exported
to the environment before the project's settings are imported, then applied."""

from pydantic import SecretStr

from django_zipserve.conf import Field, ZipserveConfig


class Config(ZipserveConfig):
    """Configuration of the getenv project."""

    name = "getenv"
    model_config = {"file_env_var": "GETENV_CONFIG"}
    #: Environment variables the project's own settings read (found by init).
    environment = (
        "SITE_NAME",
        "EMAIL_HOST_PASSWORD",
        "SECRET_KEY",
        "ADMIN_EMAILS",
        "SIGNUP_OPEN",
        "CACHE_SECONDS",
    )
    SITE_NAME: str | None = Field(default=None, description="Read by the project's settings from $SITE_NAME.")
    EMAIL_HOST_PASSWORD: SecretStr | None = Field(
        default=None, description="Read by the project's settings from $EMAIL_HOST_PASSWORD."
    )
    ADMIN_EMAILS: list[str] | None = Field(default=None, description="Read from $ADMIN_EMAILS.")
    SIGNUP_OPEN: bool | None = Field(default=None, description="Read from $SIGNUP_OPEN.")
    CACHE_SECONDS: int | None = Field(default=None, description="Read from $CACHE_SECONDS.")


config = Config.load()
config.export_environment()  # before the project's settings are imported
from tests.conf.getenv_project.legacy import *  # noqa: E402, F403

config.apply(globals())
