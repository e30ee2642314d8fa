# Each target sets itself up: the first run creates .venv and installs everything (a few minutes);
# later runs skip that while requirements.txt and pyproject.toml are unchanged.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Notebooks must never download anything: with BOOK_OFFLINE=1, companion.setup refuses non-loopback connections.

.PHONY: book test lab readers colab-check lab-test seeds verify clean setup lock
NOTEBOOK ?= book/01_gradient_step.ipynb
SEEDS ?= 0 1 2 3 4 5 6 7 8 9

setup: $(STAMP)

# The environment is requirements.lock (every package at an exact version; tools/lock.py), installed
# by uv, itself pinned there; uv reads pip's find-links folders (this machine's torch CPU wheel) from
# PIP_FIND_LINKS. Readers without uv can `pip install -r requirements.txt`.
UV_FIND_LINKS := $(foreach folder,$(PIP_FIND_LINKS),--find-links $(folder))

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $$(grep '^uv==' requirements.lock)
	$(BIN)/uv pip install --quiet --python $(BIN)/python $(UV_FIND_LINKS) -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

# Regenerate requirements.lock after changing requirements.txt (tests/test_lock.py fails until then).
lock: $(STAMP)
	$(BIN)/python -m tools.lock write

# The chapters the execution cache lacks run first, side by side (tools/execute.py); the build
# then reads them from the cache.
book: $(STAMP)
	BOOK_OFFLINE=1 $(BIN)/python -m tools.execute
	BOOK_OFFLINE=1 $(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The book: $(CURDIR)/_build/html/index.html"

# Two parts. First every test but the rendered book's, one pytest worker per core, whole files
# to a worker (a chapter's cells share one kernel), chapters first and longest first (conftest.py):
# nbval executes each chapter once and its execution fills the book's cache (tests/nbval_record.py).
# Then the book is built from that cache, executing nothing, and its pages are tested.
test: $(STAMP)
	BOOK_OFFLINE=1 $(BIN)/python -m pytest -m "not book and not lab" -n auto --dist loadfile --no-loadscope-reorder
	BOOK_OFFLINE=1 $(BIN)/python -m pytest -m "book and not lab"

# Every chapter as readers open it in JupyterLab (notebooks/), in headless Chromium: run all, move the
# Explore slider (and press Run), see the figure change, no error and no raw MyST (7-13 minutes).
lab-test: $(STAMP)
	BOOK_OFFLINE=1 $(BIN)/python -m pytest -m lab tests/test_lab.py

# JupyterLab on the readers' copies (notebooks/): the chapters with their prose in plain Markdown.
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks

# Rewrite the readers' copies notebooks/NN_name.ipynb from book/ and the book's build (run after
# editing a chapter; tests/test_reader_copies.py fails while a copy is stale).
readers: book
	$(BIN)/python tools/reader_copies.py write

# Every chapter as Colab runs it: Python 3.13 with Colab's package versions (tools/colab/), companion
# installed by each chapter's setup cell from a snapshot of this tree, cell tags ignored. The first run
# builds _build/colab/venv (about 4 minutes, 7 GB); later runs reuse it. Options: ARGS="--jobs 1 --keep".
colab-check: $(STAMP)
	$(BIN)/python tools/colab_check.py $(ARGS)

# Check a chapter's claims under several seeds before asserting them: make seeds NOTEBOOK=book/... SEEDS="0 1 2"
# (the runner is tools/verify: python -m tools.verify seeds CHAPTER SEED...; prints, stores nothing).
seeds: $(STAMP)
	BOOK_OFFLINE=1 $(BIN)/python -m tools.verify seeds $(NOTEBOOK) $(SEEDS)

# Every chapter under SEED 0-9, as many side by side as there are cores; rewrites book/reproducibility.json
# and the page book/reproducibility.md. Not part of `make test`. BOOK_DEVICE=cuda make verify adds a GPU section.
# After only rewording a claim's text, `.venv/bin/python -m tools.verify render` rewrites the page in seconds;
# `.venv/bin/python -m tools.verify check` says which of the two a change needs.
verify: $(STAMP)
	BOOK_OFFLINE=1 $(BIN)/python -m tools.verify run

clean:
	rm -rf _build $(VENV) companion.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
