"""Fixtures shared by the whole test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

_APPS_DIR = Path(__file__).resolve().parent / "apps"


@pytest.fixture(scope="session")
def hydra_apps_dir() -> Path:
    """Directory of the small real Hydra apps (``hydra_echo.py``, ``hydra_declared.py``).

    Run them as ``[sys.executable, str(hydra_apps_dir / "hydra_echo.py"), ...]``;
    ``echo_report.py`` documents what they write (``GERYON_ECHO_OUT``) and how they
    exit (``GERYON_ECHO_EXIT``).
    """
    return _APPS_DIR
