"""The ten-seed verification runner: every chapter under several seeds, its claims and its numbers.

    python -m tools.verify run [--seeds 0 1 ... 9] [--jobs N] [CHAPTER ...]   (make verify)
    python -m tools.verify render          (rewrite the page from the stored results: seconds)
    python -m tools.verify seeds CHAPTER SEED...   (make seeds: one chapter, printed only)
    python -m tools.verify check           (what is stale; whether a render or a re-run fixes it)

Run from the repository root. The modules: `claims` reads what a chapter claims and glues without
running it; `run` executes chapters under seeds; `results` files the runs in
book/reproducibility.json; `page` renders book/reproducibility.md; `current` says whether the
stored results still match the chapters. tests/test_reproducibility.py tests all of them and checks
that the committed results and page are current.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOOK_DIR = ROOT / "book"
RESULTS_PATH = BOOK_DIR / "reproducibility.json"
PAGE_PATH = BOOK_DIR / "reproducibility.md"
DEFAULT_SEEDS = tuple(range(10))
# The device kinds `companion.setup` picks from, in the order of the page's sections.
DEVICES = ("cpu", "cuda", "mps")


def chapter_notebooks() -> list[Path]:
    """The chapters: `book/NN_name.ipynb`, in reading order."""
    return sorted(BOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
