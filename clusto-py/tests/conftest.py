import pytest

import clusto


@pytest.fixture
def db(tmp_path):
    """A fresh, initialised database for each test."""
    clusto.connect(str(tmp_path / "db"))
    clusto.init_clusto()
    yield tmp_path / "db"
    clusto.clear()
    clusto.disconnect()
