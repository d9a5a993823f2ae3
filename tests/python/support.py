"""Helpers shared by the tests of tests/python."""

import uuid


def rows(driver, statement, *parameters, **kwargs):
    """One statement in its own transaction; the values as a list."""
    return driver.execute_lambda(lambda ex: list(ex.execute_statement(statement, *parameters)), **kwargs)


def unique(prefix="T"):
    """A fresh table name."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def create_table(driver, name=None):
    name = name or unique()
    rows(driver, f"CREATE TABLE {name}")
    return name
