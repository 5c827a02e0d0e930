# Everything a fresh machine with only Python needs: `make report` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CORPUS ?= seeds
OUT    ?= report

.PHONY: install report articles test test-fast browser notebooks notebooks-clean bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,lab,scale,gazetteer]"
	touch $(STAMP)

# The main job: every analysis on the bundled seeds, as executed notebooks and an HTML report in ./report
report: $(STAMP)
	$(BIN)/corelib report $(CORPUS) --out $(OUT)

# Just the parsed articles table
articles: $(STAMP)
	$(BIN)/corelib articles $(CORPUS) --out out/articles.csv

# The whole test suite, including nbval on the notebooks and the browser tests
test: $(STAMP) browser
	$(BIN)/python -m pytest tests notebooks --nbval

# Without the browser and notebook tests
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not browser and not notebooks"

# Debian's Chromium for the browser tests (installed only when missing)
browser:
	@bash scripts/install_browser.sh

# Re-execute the committed notebooks on the seeds (their outputs are what nbval compares), then clean them
notebooks: $(STAMP)
	cd notebooks && for nb in [0-9][0-9]_*.ipynb; do \
	  PYTHONHASHSEED=0 ../$(BIN)/papermill -k python3 --no-progress-bar "$$nb" "$$nb" || exit 1; done
	$(BIN)/python scripts/clean_notebooks.py notebooks

# Strip volatile metadata (timings, papermill) from the notebooks; tags, outputs and counts stay
notebooks-clean: $(STAMP)
	$(BIN)/python scripts/clean_notebooks.py notebooks

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) out report .pytest_cache
