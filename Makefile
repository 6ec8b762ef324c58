# Cadenza: `make demo` composes a song through the whole stack, `make test` runs every test.
# Both run `setup` first, so each is one command on a fresh Debian machine.
.PHONY: setup test test-unit demo up services-start services-stop services-status clean bench

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done

setup: $(STAMP)

$(STAMP): pyproject.toml infra/apt-packages.txt infra/setup.sh infra/kafka/pom.xml infra/s3proxy/pom.xml infra/registry/pom.xml
	bash infra/setup.sh
	touch $(STAMP)

test: setup
	$(PY) -m pytest -q -p no:cacheprovider --durations=20

test-unit: setup
	$(PY) -m pytest -q -p no:cacheprovider tests/unit

demo: setup
	$(VENV)/bin/cadenza demo

services-start: setup
	$(VENV)/bin/cadenza infra start

services-stop:
	$(VENV)/bin/cadenza infra stop

services-status:
	$(VENV)/bin/cadenza infra status

clean: services-stop
	rm -rf .run out
