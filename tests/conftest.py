"""Shared fixtures: the bundled seeds, parsed once per test session."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS


@pytest.fixture(scope="session")
def parsed_seeds():
    from corelib import parse_corpus

    return parse_corpus(SEEDS)
