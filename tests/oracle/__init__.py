"""Reference implementations the library is tested against (oracles), not library code.

Importable as ``oracle`` from any test: ``tests/conftest.py`` is not in a package, so
pytest puts ``tests/`` on ``sys.path``.
"""
