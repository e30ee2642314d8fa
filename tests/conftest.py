"""Shared pytest configuration for the book's tests."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Registered here rather than in pyproject.toml; deselect with `-m "not book"`.
    config.addinivalue_line(
        "markers",
        "book: builds the Jupyter Book and checks the rendered pages in headless Chromium (slow)",
    )
