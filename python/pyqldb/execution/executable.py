"""``Executable``: the execute methods shared by pyqldb 2.x's pooled driver and sessions (an ABC, unused by
the 3.x API)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable


class Executable(ABC):
    """
    What can run statements and lambdas in transactions with retries: pyqldb 2.x's
    :py:class:`pyqldb.driver.pooled_qldb_driver.PooledQldbDriver` and its sessions.
    """

    @abstractmethod
    def execute_statement(self, statement: str, *parameters: Any, retry_indicator: Callable[[int], Any]) -> Any:
        """
        Implicitly start a transaction, execute the statement, and commit the transaction, retrying up to the
        retry limit if an OCC conflict or retriable exception occurs. This method must be overridden.
        """

    @abstractmethod
    def execute_lambda(self, query_lambda: Callable[[Any], Any], retry_indicator: Callable[[int], Any]) -> Any:
        """
        Implicitly start a transaction, execute the lambda function, and commit the transaction, retrying up to the
        retry limit if an OCC conflict or retriable exception occurs. This method must be overridden.
        """
