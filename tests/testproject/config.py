"""The test project's configuration class: the one every test uses.

Kept apart from ``settings.py`` so tests can import the class without
loading (and validating) the configuration of their own process.
"""

from pydantic import SecretStr

from django_zipserve.conf import Field, ZipserveConfig


class Config(ZipserveConfig):
    """Configuration of the test project."""

    model_config = {"file_env_var": "TESTPROJECT_CONFIG"}
    name = "testproject"
    MARKER: str = Field(default="unset", description="Echoed by /info/ to show which config was read.")
    API_TOKEN: SecretStr | None = Field(default=None, description="A project secret.")
