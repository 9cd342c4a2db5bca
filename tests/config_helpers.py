"""Shared by the configuration tests: a small project configuration and
helpers that load it with an explicit environment."""

import pytest
from pydantic import SecretStr

from django_zipserve.conf import ConfigError, Field, ZipserveConfig


class Demo(ZipserveConfig):
    """Demo configuration."""

    name = "demo"
    model_config = {"file_env_var": "DEMO_CONFIG"}
    MARKER: str = Field(default="unset", description="A plain project value.")
    API_TOKEN: SecretStr | None = Field(default=None, description="A project secret.")


def load(environ, config_file=None, cls=Demo):
    return cls.from_sources(environ=environ, config_file=config_file)


def failure(environ, config_file=None, cls=Demo):
    with pytest.raises(ConfigError) as info:
        load(environ, config_file, cls)
    return info.value


def only_problem(error, key):
    matching = [problem for problem in error.problems if problem.key == key]
    assert len(matching) == 1, error.report()
    return matching[0]


def assert_no_secret(error, *secrets):
    text = str(error)
    for secret in secrets:
        assert secret not in text, text
