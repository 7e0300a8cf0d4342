# hotel-community: `make demo` serves the demo hotel, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
DEMO = $(BIN)/flask --app hotel_community.demo

.PHONY: demo test bench bench-feed bench-qr bench-pms chromium translations clean

$(BIN)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

demo: $(BIN)/.installed
	$(DEMO) demo-init
	$(DEMO) run --host 127.0.0.1 --port 5000

test: $(BIN)/.installed chromium
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: $(BIN)/.installed
	$(BIN)/python bench/checkin.py

bench-feed: $(BIN)/.installed
	$(BIN)/python bench/feed.py

bench-qr: $(BIN)/.installed
	$(BIN)/python bench/qr_page.py

bench-pms: $(BIN)/.installed
	$(BIN)/python bench/pms_webhook.py

# Browser tests drive Debian's chromium (with a Chinese font for readable
# screenshots); the label tests render PDFs with poppler's pdftoppm. Install
# them when missing and we may.
chromium:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/pdftoppm ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei poppler-utils >/dev/null; \
	else echo "note: chromium or pdftoppm missing; browser and label PDF tests will skip (apt-get install chromium poppler-utils)"; fi

# Re-extract and compile the guest pages' translations after changing strings.
translations: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -k lazy_ngettext:1,2 -k _ln:1,2 -o hotel_community/translations/messages.pot .
	$(BIN)/pybabel update -i hotel_community/translations/messages.pot -d hotel_community/translations
	$(BIN)/pybabel compile -d hotel_community/translations

clean:
	rm -rf $(VENV) build dist *.egg-info instance
