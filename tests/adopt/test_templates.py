"""The Python files init writes: valid, formatted, and what they say."""

import ast

import pytest

from django_zipserve.adopt import templates
from django_zipserve.adopt.source import Variable
from django_zipserve.conf import ConfigError


def variable(name, where="site/settings.py:3"):
    return Variable(name, where, "os.getenv", name)


def settings(**overrides):
    arguments = {
        "project": "mysite",
        "name": "mysite",
        "settings": "mysite.settings.production",
        "environment": ("SITE_NAME", "SECRET_KEY"),
        "fields": (variable("SITE_NAME"),),
        "add_app": True,
        "urlconf": "mysite.zipserve_urls",
        **overrides,
    }
    return templates.settings_module(**arguments)


def statements(text):
    return [ast.unparse(node) for node in ast.parse(text).body]


def test_entry_point():
    text = templates.main_module("mysite", "mysite.zipserve_settings")
    assert "main = make_main('mysite.zipserve_settings')" in statements(text)
    assert "from django_zipserve.entrypoint import make_main" in statements(text)
    assert text.rstrip().endswith('if __name__ == "__main__":\n    main()')


class TestSettings:
    def test_order_config_then_project_settings_then_apply(self):
        body = statements(settings())
        order = [
            "zipserve_config = Config.load()",
            "zipserve_config.export_environment()",
            "from mysite.settings.production import *",
            "INSTALLED_APPS = [*INSTALLED_APPS, 'django_zipserve']",
            "ROOT_URLCONF = 'mysite.zipserve_urls'",
            "zipserve_config.apply(globals())",
        ]
        assert [line for line in body if line in order] == order
        assert body[-1] == "zipserve_config.apply(globals())"

    def test_config_class(self):
        tree = ast.parse(settings())
        config = next(node for node in tree.body if isinstance(node, ast.ClassDef))
        assert [ast.unparse(base) for base in config.bases] == ["ZipserveConfig"]
        namespace = {}
        for node in config.body:
            if isinstance(node, ast.Assign):
                namespace[node.targets[0].id] = ast.literal_eval(node.value)
        assert namespace["name"] == "mysite"
        assert namespace["model_config"] == {
            "file_env_var": "MYSITE_CONFIG",
            "default_files": ["/etc/mysite/config.yml"],
        }
        assert namespace["environment"] == ("SITE_NAME", "SECRET_KEY")
        fields = {
            node.target.id: ast.unparse(node.annotation)
            for node in config.body
            if isinstance(node, ast.AnnAssign)
        }
        assert fields == {"SITE_NAME": "str | None"}

    def test_a_secret_is_a_secret_str(self):
        text = settings(fields=(variable("SITE_NAME"), variable("EMAIL_HOST_PASSWORD")))
        assert "from pydantic import SecretStr" in statements(text)
        assert "EMAIL_HOST_PASSWORD: SecretStr | None = Field(" in text
        assert "A secret, read by the project's settings (site/settings.py)" in text

    def test_typed_reads_give_typed_fields_that_load_a_number_from_a_file(self, tmp_path):
        """``env.int("CONN_MAX_AGE")``: 60 in the config file is a number, a
        word is refused naming the key, and the settings still read text."""
        fields = (
            Variable("CONN_MAX_AGE", "site/settings.py:3", "env.int", "CONN_MAX_AGE", kind="int"),
            Variable("USE_S3", "site/settings.py:4", "env.bool", "USE_S3", kind="bool"),
            Variable("HOSTS", "site/settings.py:5", "env.list", "HOSTS", kind="list"),
        )
        text = settings(fields=fields, environment=("CONN_MAX_AGE", "USE_S3", "HOSTS"))
        assert "CONN_MAX_AGE: int | None = Field(" in text
        assert "USE_S3: bool | None = Field(" in text
        assert "HOSTS: list[str] | None = Field(" in text
        namespace = {}
        exec(text.partition("\nzipserve_config = Config.load()")[0], namespace)  # the class alone
        config_file = tmp_path / "site.yml"
        config_file.write_text("CONN_MAX_AGE: 60\nUSE_S3: true\nHOSTS: [a.example, b.example]\nDEBUG: true\n")
        config = namespace["Config"].from_sources(environ={}, config_file=str(config_file))
        assert (config.CONN_MAX_AGE, config.USE_S3, config.HOSTS) == (60, True, ["a.example", "b.example"])
        environ = {}
        config.export_environment(environ)
        assert (environ["CONN_MAX_AGE"], environ["USE_S3"], environ["HOSTS"]) == (
            "60",
            "True",
            "a.example,b.example",
        )
        with pytest.raises(ConfigError, match="CONN_MAX_AGE"):
            namespace["Config"].from_sources(environ={"CONN_MAX_AGE": "sixty", "DEBUG": "true"})

    def test_no_fields_no_field_import(self):
        text = settings(fields=(), environment=())
        assert "from django_zipserve.conf import ZipserveConfig" in statements(text)
        assert "SecretStr" not in text
        assert "environment = ()" in text

    def test_one_variable_is_still_a_tuple(self):
        tree = ast.parse(settings(environment=("DEBUG",), fields=()))
        config = next(node for node in tree.body if isinstance(node, ast.ClassDef))
        values = [ast.literal_eval(node.value) for node in config.body if isinstance(node, ast.Assign)]
        assert ("DEBUG",) in values

    def test_what_is_left_out(self):
        body = statements(settings(add_app=False, urlconf=None))
        assert not any(line.startswith(("INSTALLED_APPS", "ROOT_URLCONF")) for line in body)

    def test_lines_fit_88_columns(self):
        long = Variable(
            "A_VERY_LONG_VARIABLE_NAME_FOR_A_PASSWORD",
            "some/deep/package/settings/production.py:120",
            "x",
            None,
        )
        text = settings(fields=(long,), environment=tuple(f"VARIABLE_{n}" for n in range(12)))
        assert max(len(line) for line in text.splitlines()) <= 88
        compile(text, "zipserve_settings.py", "exec")


class TestUrls:
    def test_health_first(self):
        text = templates.urls_module("mysite", "mysite.urls")
        tree = ast.parse(text)
        patterns = next(node for node in tree.body if isinstance(node, ast.Assign)).value
        assert [ast.unparse(item) for item in patterns.elts] == [
            "path('', include('django_zipserve.urls'))",
            "path('', include('mysite.urls'))",
        ]

    def test_error_handlers_are_carried_over(self):
        text = templates.urls_module("mysite", "mysite.urls", ("handler404", "handler500"))
        assert "from mysite.urls import handler404, handler500" in statements(text)

    def test_many_handlers_of_a_long_module_wrap(self):
        handlers = ("handler400", "handler403", "handler404", "handler500")
        text = templates.urls_module("x", "a_rather_long_project_name.configuration.urls", handlers)
        assert max(len(line) for line in text.splitlines()) <= 88
        assert (
            f"from a_rather_long_project_name.configuration.urls import {', '.join(handlers)}"
            in statements(text)
        )


class TestLocalModules:
    """A module the settings import that each machine writes for itself:
    its values declared, and the module made before the settings import it."""

    def module(self, names=("ALLOWED_HOSTS", "DATABASE"), example="mysite.configuration_example"):
        from django_zipserve.adopt.local_modules import LocalModule, ModuleValue

        values = tuple(ModuleValue(name, "Any", False, "d") for name in names)
        return LocalModule(
            "mysite.configuration", "mysite/configuration.py", True, None, example, None, "x:1", values
        )

    def values(self):
        from django_zipserve.adopt.local_modules import ModuleValue

        return (
            ModuleValue("DATABASE", "dict[str, Any] | None", True, "The database."),
            ModuleValue("BANNER_TOP", "str | None", False, "Text at the top. " * 12),
            ModuleValue("LDAP_PASSWORD", "SecretStr | None", False, 'A "quoted" secret.'),
        )

    def test_made_after_the_export_and_before_the_settings(self):
        module = self.module()
        body = statements(settings(modules=((module, module.names),), module_fields=self.values()))
        start = body.index("zipserve_config.export_environment()")
        assert body[start + 1] == (
            "zipserve_config.provide_module('mysite.configuration', ('ALLOWED_HOSTS', 'DATABASE'), "
            "example='mysite.configuration_example')"
        )
        assert body[start + 2] == "from mysite.settings.production import *"

    def test_the_values_are_declared_with_their_types_and_marks(self):
        text = settings(module_fields=self.values())
        body = statements(text)
        assert "from typing import Any" in body
        assert "from pydantic import SecretStr" in body
        config = next(node for node in ast.parse(text).body if isinstance(node, ast.ClassDef))
        fields = {node.target.id: node for node in config.body if isinstance(node, ast.AnnAssign)}
        assert ast.unparse(fields["DATABASE"].annotation) == "dict[str, Any] | None"
        keywords = {
            name: {keyword.arg: ast.literal_eval(keyword.value) for keyword in node.value.keywords}
            for name, node in fields.items()
        }
        assert keywords["DATABASE"] == {
            "default": None,
            "description": "The database.",
            "json_schema_extra": {"secret": True},
        }
        assert keywords["BANNER_TOP"]["description"] == "Text at the top. " * 12
        assert "json_schema_extra" not in keywords["BANNER_TOP"]
        assert keywords["LDAP_PASSWORD"]["description"] == 'A "quoted" secret.'

    @pytest.mark.parametrize("count", [1, 3, 30])
    def test_the_call_fits_88_columns_and_compiles(self, count):
        names = tuple(f"A_RATHER_LONG_PARAMETER_NAME_{number}" for number in range(count))
        module = self.module(names, example=None)
        text = settings(modules=((module, names),), module_fields=self.values())
        assert max(len(line) for line in text.splitlines()) <= 88
        call = next(
            node.value
            for node in ast.parse(text).body
            if isinstance(node, ast.Expr) and "provide_module" in ast.unparse(node)
        )
        assert ast.literal_eval(call.args[1]) == names
        assert call.keywords == []
