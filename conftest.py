"""pytest set-up for the notebooks: nbval sanitizing, a fixed hash seed for kernels, and markers.

`pytest --nbval notebooks` re-executes the committed notebooks and compares their outputs; the
patterns in tests/nbval_sanitize.cfg cover only what is truly volatile. nbval items get the
`notebooks` marker so `pytest -m "not notebooks"` skips them.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

SANITIZE = Path(__file__).resolve().parent / "tests" / "nbval_sanitize.cfg"


def pytest_configure(config):
    # kernels started by nbval, papermill and JupyterLab inherit this: the same hash order every run
    os.environ.setdefault("PYTHONHASHSEED", "0")
    if getattr(config.option, "nbval_sanitize_with", "missing") is None:
        config.option.nbval_sanitize_with = str(SANITIZE)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.endswith(".ipynb") or ".ipynb::" in item.nodeid:
            item.add_marker(pytest.mark.notebooks)
