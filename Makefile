# django-zipserve: the two commands are `make demo` and `make test`.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYZ := dist/example_project.pyz
DEMO_DIR := .demo
DEMO_CONFIG := $(DEMO_DIR)/example.yml

# pyenv's shims answer only for the selected Python: put every installed
# 3.10-3.13 on PATH (after everything else) so tox finds the whole matrix.
PYENV_PATHS := $(shell command -v pyenv >/dev/null 2>&1 && for v in $$(pyenv versions --bare | grep -E '^3\.1[0-3]\.[0-9]+$$'); do printf ':%s/bin' "$$(pyenv prefix $$v)"; done)
export PATH := $(PATH)$(PYENV_PATHS)

.PHONY: demo test test-unit test-newest test-matrix test-artifact test-artifact-builds test-artifact-servers test-artifact-fleet lint lint-ansible docs coverage pyz dist-check package venv bench soak clean

$(VENV)/.installed: pyproject.toml example_project/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint,docs,fleet]' tox -e ./example_project
	touch $@

venv: $(VENV)/.installed

# The newest build is also copied to dist/example_project.pyz (and its record
# to dist/example_project.json): one stable name for scripts and docs.
# Rebuilt only when a file of the package or of the example project changed.
PYZ_INPUTS := pyproject.toml $(shell find django_zipserve example_project -type f \
    -not -path '*/__pycache__/*' -not -path '*/static_collected/*' -not -path 'example_project/dist/*' \
    -not -path '*.egg-info/*' -not -name '*.pyc' -not -name '*.sqlite3')
$(PYZ): $(VENV)/.installed $(PYZ_INPUTS)
	out=$$(cd example_project && ../$(BIN)/python -m django_zipserve build --quiet \
	    --require .. --output-dir ../dist) && cp "$$out" $(PYZ) && cp "$${out%.pyz}.json" $(PYZ:.pyz=.json) \
	    && echo "built $$out -> $(PYZ)"

pyz: $(PYZ)

# The sdist and the wheel, checked by twine; the wheel installed in a clean
# virtualenv must run (from outside this checkout, which would shadow it).
PACKAGE_DIR := dist/package
dist-check: venv
	rm -rf $(PACKAGE_DIR) && mkdir -p dist
	$(BIN)/python -m build --quiet --outdir $(PACKAGE_DIR) . > $(PACKAGE_DIR).log 2>&1 || { cat $(PACKAGE_DIR).log; exit 1; }
	$(BIN)/twine check --strict $(PACKAGE_DIR)/*.tar.gz $(PACKAGE_DIR)/*.whl

package: dist-check
	$(PYTHON) -m venv $(PACKAGE_DIR)/venv
	$(PACKAGE_DIR)/venv/bin/python -m pip install --quiet $(PACKAGE_DIR)/*.whl
	cd $(PACKAGE_DIR) && venv/bin/python -m django_zipserve --help > /dev/null && echo "wheel installed and ran"

# The file holds a secret: readable by its owner only.
$(DEMO_CONFIG):
	mkdir -p $(DEMO_DIR)
	umask 077 && $(PYZ) config template yaml \
	    | sed -e 's/^HTTPS: true/HTTPS: false/' \
	          -e 's|^STATE_DIR: .*|STATE_DIR: "$(CURDIR)/$(DEMO_DIR)/state"|' > $@.tmp
	mv $@.tmp $@
	@echo "wrote $@ with a fresh SECRET_KEY"

demo: pyz $(DEMO_CONFIG)
	$(PYZ) --config $(DEMO_CONFIG) migrate --noinput
	@echo "serving on http://127.0.0.1:8000/ (Ctrl-C stops)"
	$(PYZ) --config $(DEMO_CONFIG) pyuwsgi --http 127.0.0.1:8000

# Lint, format, types, the import layers (pyproject.toml) and the generated
# reference first (seconds), then the unit and server tests across the
# supported Python/Django matrix beside the multi-host test, then the
# end-to-end tests of the built artifact in this virtualenv, in two halves
# side by side: two cores busy throughout.
test: lint package pyz
	$(MAKE) --no-print-directory -j2 -Otarget test-matrix test-artifact-fleet
	$(MAKE) --no-print-directory -j2 -Otarget test-artifact-builds test-artifact-servers

test-matrix: venv
	$(BIN)/tox run-parallel --parallel 2 --parallel-no-spinner -q

lint: venv dist-check
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python docs/reference.py --check
	$(MAKE) --no-print-directory lint-ansible
	$(MAKE) --no-print-directory docs

# The Ansible collection (ansible/): ansible-lint's production profile, and
# each playbook's syntax as ansible-playbook reads it.
COLLECTION := ansible/ansible_collections/django_zipserve/deploy
ANSIBLE_ENV := ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/ansible ANSIBLE_HOME=$(CURDIR)/build/ansible PYTHONWARNINGS=ignore
lint-ansible: venv
	cd $(COLLECTION) && $(ANSIBLE_ENV) $(CURDIR)/$(BIN)/ansible-lint --offline --nocolor -q
	for playbook in setup upgrade rollback status; do \
	    $(ANSIBLE_ENV) $(BIN)/ansible-playbook -i localhost, --syntax-check django_zipserve.deploy.$$playbook || exit 1; \
	done

# The reference in docs/reference/ is generated from the declarations in the
# code; then the site is built from docs/, every page read afresh (-E: the
# examples of generated output are produced by the code as it builds),
# warnings as errors, every cross-reference resolved (-n), and its links
# between pages checked (links to other sites are not: conf.py).
DOCS_OUT := build/docs
SPHINX := $(BIN)/python -m sphinx -W --keep-going -n -q -d $(DOCS_OUT)/doctrees
docs: venv
	$(BIN)/python docs/reference.py
	$(SPHINX) -E -b html docs $(DOCS_OUT)/html
	$(SPHINX) -b linkcheck docs $(DOCS_OUT)/linkcheck

# Line coverage of the package by the unit and server tests (in this process).
coverage: venv
	$(BIN)/python -m coverage run --source=django_zipserve -m pytest -m "not e2e" -q -p no:cacheprovider
	$(BIN)/python -m coverage report --skip-covered --sort=cover

test-unit: venv
	$(BIN)/python -m pytest -m "not e2e" $(PYTEST_ARGS)

# The unit and server tests on the newest releases of WhiteNoise, shiv,
# gunicorn, pyuwsgi and goodconf, above the upper bounds of pyproject.toml
# (tox.ini's newest, Python 3.13, about 9 minutes): not part of `make test`.
test-newest: venv
	$(BIN)/tox -e newest

# The end-to-end tests of the built artifact: the multi-host test (three
# hosts behind HAProxy, driven by Ansible: mostly waiting on plays and
# health checks) runs beside the others, each suite's output kept together.
test-artifact: pyz
	$(MAKE) --no-print-directory -j2 -Otarget test-artifact-builds test-artifact-servers test-artifact-fleet

# The builds of adopted projects and fixtures, about half of the end-to-end
# time; then every other end-to-end test but the multi-host one (so that a
# new test file lands in one of them).
E2E_BUILDS := tests/e2e/test_adopted_projects.py tests/zipapp/test_build.py tests/zipapp/test_flat_project.py
test-artifact-builds: pyz
	ZIPSERVE_TEST_PYZ=$(CURDIR)/$(PYZ) $(BIN)/python -m pytest -m e2e $(E2E_BUILDS) $(PYTEST_ARGS)

test-artifact-servers: pyz
	ZIPSERVE_TEST_PYZ=$(CURDIR)/$(PYZ) $(BIN)/python -m pytest -m e2e --ignore=tests/e2e/test_fleet.py \
	    $(addprefix --ignore=,$(E2E_BUILDS)) $(PYTEST_ARGS)

# -s: the figures of each scenario (requests, failed) are printed.
test-artifact-fleet: pyz
	ZIPSERVE_TEST_PYZ=$(CURDIR)/$(PYZ) $(BIN)/python -m pytest -m e2e -s tests/e2e/test_fleet.py $(PYTEST_ARGS)

# Blue/green switches under load under a real systemd (root, ~10 minutes):
# not part of `make test`; results in bench/results/soak.json.
soak: pyz
	$(BIN)/python bench/soak.py --pyz $(PYZ) $(SOAK_ARGS)

# Benchmarks: not part of `make test`; results in bench/results, table in docs/.
bench: pyz
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/startup.py --pyz $(PYZ)
	$(BIN)/python bench/releases.py
	$(BIN)/python bench/releases.py --big --releases 3 --runs 3
	$(BIN)/python bench/throughput.py --pyz $(PYZ)
	$(BIN)/python bench/report.py

clean:
	rm -rf $(VENV) .tox dist build $(DEMO_DIR) *.egg-info example_project/*.egg-info
