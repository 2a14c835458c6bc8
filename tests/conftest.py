"""Suite-wide setup. The first lines run before anything imports Qt."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.text.font.db=false")
os.environ["PYTHON_KEYRING_BACKEND"] = "tests.fakes.MemoryKeyring"
os.environ.setdefault("SAPAN_KDF_N", "1024")  # cheap key derivation in tests only

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from desktop.models.store import Store, create_store
from tests.fakes import MemoryKeyring


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Every test gets a fresh, empty in-memory OS keyring."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


PASSPHRASE = "correct horse battery"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A new, empty encrypted store in a temp folder, closed after the test."""
    opened = create_store(tmp_path / "store", PASSPHRASE)
    yield opened
    opened.close()
