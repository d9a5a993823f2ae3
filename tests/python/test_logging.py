"""Logging: the driver's Rust-side events reach Python's ``logging`` under the ``pyqldb`` logger
hierarchy (``pyqldb.<rust module path>``), and the level configured in Python decides."""

import logging

from pyqldb.driver.qldb_driver import QldbDriver


def _embedded_records(caplog):
    return [r for r in caplog.records if r.name.startswith("pyqldb.qldb_driver.transport.embedded")]


def test_rust_events_are_logged_under_pyqldb(memory_endpoint, caplog):
    caplog.set_level(logging.INFO, logger="pyqldb")
    driver = QldbDriver("logged-ledger", endpoint_url=memory_endpoint)
    driver.execute_lambda(lambda ex: ex.execute_statement("CREATE TABLE T"))
    driver.close()
    messages = [r.getMessage() for r in _embedded_records(caplog)]
    assert any("embedded ledger created" in m for m in messages), [r.name for r in caplog.records]
    assert all(r.levelno == logging.INFO for r in _embedded_records(caplog))


def test_python_level_configuration_filters_rust_events(memory_endpoint, caplog):
    caplog.set_level(logging.WARNING, logger="pyqldb")
    driver = QldbDriver("quiet-ledger", endpoint_url=memory_endpoint)
    driver.execute_lambda(lambda ex: ex.execute_statement("CREATE TABLE T"))
    driver.close()
    assert _embedded_records(caplog) == []
