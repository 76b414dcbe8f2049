# wsms — two commands on a fresh machine: `make demo` and `make test`.
# Everything installs into .venv; nothing else needs installing by hand.

VENV   := .venv
BIN    := $(VENV)/bin
PYTHON := $(shell for p in python3.13 python3.12 python3.11 python3; do \
            if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))'; \
            then echo $$p; break; fi; done)
RUN_STAMP  := $(VENV)/.stamp-run
TEST_STAMP := $(VENV)/.stamp-test
PYTEST_ARGS ?=

.PHONY: demo demo-large test bench bench-quick lint run clean system-deps pot

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "wsms needs Python 3.11 or newer (python3.11+ on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@ $(RUN_STAMP)

## demo: create the venv, install, build (once) and open the demo warehouse (SQLite file)
demo: $(RUN_STAMP)
	$(BIN)/wsms demo

## demo-large: the same with ≈1M ledger rows (in its own file)
demo-large: $(RUN_STAMP)
	$(BIN)/wsms --db sqlite:///$(CURDIR)/demo-large.db demo --scale large

run: $(RUN_STAMP)
	$(BIN)/wsms run

## system-deps: Debian packages the tests drive for real (sshd and tmux for the over-SSH desk, xgettext for `make pot`)
system-deps:
	@missing=""; \
	[ -x /usr/sbin/sshd ] || missing="$$missing openssh-server"; \
	command -v tmux >/dev/null 2>&1 || missing="$$missing tmux"; \
	command -v ssh >/dev/null 2>&1 || missing="$$missing openssh-client"; \
	command -v xgettext >/dev/null 2>&1 || missing="$$missing gettext"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "the over-SSH tests need:$$missing (not root: install them by hand, or those tests skip)"; fi; \
	fi

## pot: the translation template (wsms_tui/locale/wsms.pot) from every _(), ngettext() and N_() in the code;
## translators start a catalog from it (msginit -l zh_CN), see docs/ARCHITECTURE.md "Language"
POT_SOURCES = $(shell git ls-files '*.py' | grep -v -e '^tests/' -e '^bench/')
POT ?= wsms_tui/locale/wsms.pot
pot:
	@mkdir -p $(dir $(POT))
	@xgettext --language=Python --from-code=UTF-8 --keyword=_ --keyword=N_ --keyword=ngettext:1,2 \
	  --add-comments=TRANSLATORS --package-name=wsms --sort-by-file -o $(POT) $(POT_SOURCES)
	@echo "$(POT): $$(grep -c '^msgid ' $(POT)) messages"

## catalog: re-extract the messages, merge them into the zh_CN catalog, compile its .mo, count what is left
# Messages are formatted with str.format only: the python-format flag xgettext guesses from a "%" in the text
# ("{p:.1f}% less") is dropped, or msgfmt --check would demand the same "% l" in the translation.
.PHONY: catalog
CATALOGS := wsms_tui/locale/zh_CN/LC_MESSAGES/wsms
catalog: pot
	@sed -i -E -e '/^#,/{s/, python-format(,|$$)/\1/;/^#$$/d}' $(POT)
	@for c in $(CATALOGS); do \
	  msgmerge --quiet --update --backup=none --previous $$c.po $(POT) && \
	  printf '%s: ' $$c.po && msgfmt --check --statistics -o $$c.mo $$c.po || exit 1; \
	done

## test: install the test extras and run the whole suite (SQLite and PostgreSQL)
test: $(TEST_STAMP) system-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

## bench: every benchmark, each figure printed next to a baseline measured in the same run
BENCHES := bench.run bench.tui_start bench.scan_to_screen bench.orders bench.waves bench.stocktake bench.reports bench.labels
bench: $(TEST_STAMP)
	@for b in $(BENCHES); do echo "== $$b"; $(BIN)/python -m $$b || exit 1; done

bench-quick: $(TEST_STAMP)
	$(BIN)/python -m bench.run --quick

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
