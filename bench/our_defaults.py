"""Our production defaults, spelt as the plain servers' command-line flags.

The one place that knows django_zipserve's server modules: the full-*
configurations must give the plain servers exactly what ours runs with, so
the defaults are read from the package installed in the virtualenv rather
than copied here. Adapt PROBE when those modules change.
"""

import json
import subprocess
import textwrap
from dataclasses import dataclass

# Stands for the listening address in the uWSGI arguments.
BIND = "@BIND@"

PROBE = textwrap.dedent(f"""\
    import json, django
    django.setup()
    from gunicorn.config import KNOWN_SETTINGS
    from django_zipserve.servers import gunicorn, uwsgi
    flags = {{setting.name: [f for f in setting.cli if f.startswith("--")][0]
             for setting in KNOWN_SETTINGS if setting.cli}}
    gunicorn_args = []
    for name, value in gunicorn.default_settings().items():
        if name == "bind":
            continue
        if isinstance(value, bool):
            if value:
                gunicorn_args.append(flags[name])
        else:
            gunicorn_args += [flags[name], str(value)]
    print(json.dumps({{"uwsgi": uwsgi.build_args(["--http", "{BIND}"]), "gunicorn": gunicorn_args}}))
    """)


@dataclass(frozen=True)
class OurDefaults:
    uwsgi: tuple  # pyuwsgi's arguments, the address included as BIND
    gunicorn: tuple  # gunicorn's arguments but the address

    def uwsgi_args(self, address):
        return [arg.replace(BIND, address) for arg in self.uwsgi]

    def gunicorn_args(self):
        return list(self.gunicorn)


def our_server_args(venv, env):
    """Our defaults, from django_zipserve itself (installed in the virtualenv
    `venv`, run with `env`)."""
    output = subprocess.run(
        [str(venv / "bin" / "python"), "-c", PROBE], env=env, capture_output=True, text=True, check=True
    ).stdout
    found = json.loads(output.strip().splitlines()[-1])
    return OurDefaults(uwsgi=tuple(found["uwsgi"]), gunicorn=tuple(found["gunicorn"]))
