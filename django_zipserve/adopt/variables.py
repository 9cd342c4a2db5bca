"""The variables the settings read, and the local configuration modules
they import: which become configuration fields, which the configuration
already gives, and the stand-in values for where no real one is needed."""

from dataclasses import dataclass, field

from .detect import is_field_name


def replaced_by_the_configuration(read):
    """The configuration values that replace what this read sets, or None
    when the project's own value stays (the policies of ``config.apply()``)."""
    from ..conf.django_settings import CONNECTION_KEYS, SETS, SETTINGS

    if read.setting == "DATABASES":
        # The connection of the default database comes from DATABASE_URL; the rest stays.
        default = read.key[:1] == ("default",)
        return "DATABASE_URL" if default and (len(read.key) == 1 or read.key[1] in CONNECTION_KEYS) else None
    replaced = {
        setting.name: setting.source or setting.name for setting in SETTINGS if setting.policy == SETS
    }
    return replaced.get(read.setting)


#: Stand-ins that django-environ's URL readers accept, by method.
URL_STAND_INS = {
    "db": "sqlite://:memory:",
    "db_url": "sqlite://:memory:",
    "cache": "locmemcache://",
    "cache_url": "locmemcache://",
    "email": "consolemail://",
    "email_url": "consolemail://",
    "search_url": "simple://",
}
#: Stand-ins by the kind of value a read makes of the text.
KIND_STAND_INS = {"int": "0", "float": "0", "bool": "False", "list": "stand-in"}


def stand_in(variable):
    """A value that a read of ``variable`` accepts, for where no real one is
    needed: a URL for ``env.db()``, a number for ``env.int()``..."""
    method = variable.reader.rpartition(".")[2]
    return URL_STAND_INS.get(method) or KIND_STAND_INS.get(variable.kind) or "zipserve-stand-in"


def required(layout, name):
    """The first read of the variable with no default, or None: its stand-in
    must suit that read (cookiecutter-django tests ``os.getenv("DATABASE_URL")``
    first, then reads it with ``env.db()``)."""
    return next((read for read in layout.source.variables if read.name == name and read.required), None)


@dataclass(frozen=True)
class Variables:
    """What init declares of the variables the settings read."""

    environment: tuple = ()  # names config.export_environment() exports
    fields: tuple = ()  # Variables declared as fields
    placeholders: dict = field(default_factory=dict)  # required reads of replaced settings
    build_values: dict = field(default_factory=dict)  # required reads, for where nothing is configured
    review: tuple = ()


def variables_plan(layout):
    """The variables to export, declare and stand in for (:class:`Variables`)."""
    from ..conf import ZipserveConfig

    base = ZipserveConfig.model_fields
    # The variable that names a local module (NETBOX_CONFIGURATION) picks
    # where the settings read their values from: not a value to declare; it
    # stays the environment's, and unset, the settings import the module the
    # configuration makes.
    naming = {module.variable for module in layout.local_modules}
    environment, fields, review = [], [], []
    placeholders, build_values = {}, {}
    for variable in layout.variables:
        if variable.name in naming:
            continue
        if variable.name in base:
            environment.append(variable.name)
            read = required(layout, variable.name)
            if read:
                build_values[variable.name] = stand_in(read)
            continue
        reads = [read for read in layout.source.variables if read.name == variable.name]
        replaced = [replaced_by_the_configuration(read) for read in reads]
        if all(replaced):
            review.append(
                f"{variable.name} ({variable.where}) is read into {variable.setting}, which config.apply() "
                f"sets from the configuration ({replaced[0]}): give that instead (not declared)"
            )
            read = required(layout, variable.name)
            if read:
                placeholders[variable.name] = stand_in(read)
            continue
        if not is_field_name(variable.name) or hasattr(ZipserveConfig, variable.name):
            review.append(
                f"{variable.name} ({variable.where}) cannot be a configuration field: set it in the "
                "environment yourself (not declared)"
            )
            continue
        environment.append(variable.name)
        fields.append(variable)
        read = required(layout, variable.name)
        if read:
            build_values[variable.name] = stand_in(read)
    return Variables(tuple(environment), tuple(fields), placeholders, build_values, tuple(review))


def modules_plan(layout, fields):
    """(``(LocalModule, names to provide)`` pairs, ModuleValues to declare):
    a value the configuration already has (ALLOWED_HOSTS, SECRET_KEY, a
    variable declared for the settings) is provided, not declared again."""
    from ..conf import ZipserveConfig

    known = set(ZipserveConfig.model_fields) | {variable.name for variable in fields}
    modules, declared = [], {}
    for module in layout.local_modules:
        names = []
        for value in module.values:
            if value.name not in known and value.name not in declared:
                if not is_field_name(value.name) or hasattr(ZipserveConfig, value.name):
                    continue
                declared[value.name] = value
            names.append(value.name)
        if names:
            modules.append((module, tuple(names)))
    return tuple(modules), tuple(declared.values())
