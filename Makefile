# The two commands: `make run` and `make test`. Both start from a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 8888
DATA ?= data
CERTS := certs/dev

.PHONY: run test bench screenshots venv certs system-deps clean

$(STAMP): setup.cfg pyproject.toml
	@# Debian's python3 leaves out venv's ensurepip: it is the python3-venv package
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || tests/support/apt-install.sh python3-venv \
	  || { echo "$(PYTHON) cannot make a virtualenv: install python3-venv" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# compat mode puts the checkout on sys.path, so twistd finds twisted/plugins/jim_plugin.py
	$(PY) -m pip install -q -e '.[test]' --config-settings editable_mode=compat
	touch $(STAMP)

venv: $(STAMP)

# every time: it keeps the certificates while they have 30 days left, and issues what is
# missing or about to expire
certs: $(STAMP)
	$(PY) -m jim.net.devcert $(CERTS)

# A server on the embedded default (SQLite in ./data) with the web chat at http://localhost:8888/
# (https:// too, with the development certificate), open registration on, and everyone in
# group 100 (the room J-IM's own demo page chats in).
run: $(STAMP) certs
	$(VENV)/bin/twistd -n --pidfile= jim --listen tcp:$(PORT) --data $(DATA) \
		--tls-cert $(CERTS)/server.pem --tls-key $(CERTS)/server.key.pem \
		--open-registration --auto-join 100

# Debian's chromium (browser tests) and redis-server, installed when missing and possible.
system-deps:
	@sh tests/support/system-deps.sh

test: $(STAMP) system-deps
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) bench/run.py

# the README's pictures of the web chat and the admin console (docs/screenshots/), made by
# driving chromium against a jim of their own
screenshots: $(STAMP) system-deps
	$(PY) docs/screenshots/make_screenshots.py

clean:
	rm -rf $(VENV) build *.egg-info
