"""What init writes, decided from a :class:`~.detect.Layout`, and what a
human must review.

Each Python file is created only when it does not exist (``--force``
replaces it); ``pyproject.toml`` is merged (:mod:`.pyproject`). The
variables to declare come from :mod:`.variables`, the review lines from
:mod:`.review`.
"""

from dataclasses import dataclass

from ..zipapp.options import normalise_name
from . import AdoptError, templates
from .change import Change
from .overrides import overrides
from .pyproject import merge_pyproject
from .review import module_review, project_review, settings_review
from .variables import modules_plan, variables_plan

#: The module init writes the entry point into when the package's
#: ``__main__`` is the project's own command line.
OWN_MAIN = "zipserve_main"


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    settings: str  # the settings module the site runs with: "mysite.zipserve_settings"
    environment: tuple[str, ...]
    fields: tuple[str, ...]
    review: tuple[str, ...]

    @property
    def pending(self):
        return [change for change in self.changes if change.writes]


def config_name(layout):
    """The configuration's ``name``: state directory, process names."""
    return normalise_name(layout.distribution)


def python_file(layout, relative, text, force):
    """Create the file, keep it, or replace it when forced."""
    path = layout.root / relative
    if not path.exists():
        return Change(relative, "create", None, text)
    old = path.read_text(encoding="utf-8", errors="replace")
    if old == text:
        return Change(relative, "keep", old, old, "unchanged")
    if force:
        return Change(relative, "overwrite", old, text)
    return Change(relative, "keep", old, old, "exists; --force replaces it")


def make_plan(layout, force=False):
    package_path = (layout.package_dir.relative_to(layout.root)).as_posix()
    review = []
    environment: tuple = ()
    fields: tuple = ()  # Variables, as in Variables.fields
    if layout.configured:
        settings = layout.settings
        review.append(
            f"{layout.settings} already loads a ZipserveConfig: it is the production settings "
            "(no zipserve_settings.py or zipserve_urls.py written)"
        )
    else:
        settings = f"{layout.package}.zipserve_settings"
        variables = variables_plan(layout)
        environment, fields = variables.environment, variables.fields
        modules, module_fields = modules_plan(layout, fields)
        review += variables.review
    changes = []
    main_text = templates.main_module(layout.package, settings)
    entry = "__main__"
    main = python_file(layout, f"{package_path}/__main__.py", main_text, force)
    if main.action == "keep" and main.old != main_text and "make_main" not in main.old:
        # The project's own command line (NetBox's __main__) stays; the
        # artifact's entry point goes beside it.
        entry = OWN_MAIN
        main = python_file(layout, f"{package_path}/{OWN_MAIN}.py", main_text, force)
        if main.writes:
            review.append(
                f"{package_path}/__main__.py is the project's own command line: the artifact's entry point "
                f"is {layout.package}.{OWN_MAIN}:main (entry-point in [tool.django-zipserve])"
            )
    changes.append(main)
    if not layout.configured:
        refuse_name_clash(layout)
        packages = [layout.package_root / name for name in layout.packages]
        settings_overrides = overrides(layout.source, packages)
        review += [override.review for override in settings_overrides]
        write_urls = bool(layout.root_urlconf) and not layout.urlconf_has_health
        urlconf = f"{layout.package}.zipserve_urls" if write_urls else None
        text = templates.settings_module(
            project=layout.distribution,
            name=config_name(layout),
            settings=layout.settings,
            environment=environment,
            fields=fields,
            add_app=not layout.has_zipserve_app,
            urlconf=urlconf,
            modules=modules,
            module_fields=module_fields,
            placeholders=variables.placeholders,
            build_values=variables.build_values,
            overrides=settings_overrides,
        )
        settings_change = python_file(layout, f"{package_path}/zipserve_settings.py", text, force)
        changes.append(settings_change)
        for module, names in modules:
            review += module_review(module, names, settings_change)
        if write_urls:
            text = templates.urls_module(layout.distribution, layout.root_urlconf, layout.urlconf_handlers)
            changes.append(python_file(layout, f"{package_path}/zipserve_urls.py", text, force))
        review += settings_review(layout, settings, fields)
    pyproject = merge_pyproject(layout, settings, entry)
    changes.append(pyproject.change)
    review += pyproject.review
    review += project_review(layout)
    return Plan(
        changes=tuple(changes),
        settings=settings,
        environment=tuple(environment),
        fields=tuple(variable.name for variable in fields),
        review=tuple(dict.fromkeys(review)),
    )


def refuse_name_clash(layout):
    """The generated settings star-import the project's after loading the
    configuration: a name of theirs would replace it."""
    clash = layout.source.assigned(templates.CONFIG_NAME)
    if clash:
        raise AdoptError(
            f"{layout.source.where(clash[0])} defines {templates.CONFIG_NAME}, the name the generated "
            "settings give the configuration: rename it in the project's settings"
        )
