"""pytest plugins for the test suite, loaded with ``-p`` from pyproject.toml or from conftest."""
