"""``BaseQldbSession``: what pyqldb 2.x's sessions have in common (an ABC; context manager exit closes)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from ..execution.executable import Executable


class BaseQldbSession(Executable):
    """
    An abstract session to one ledger: :py:class:`pyqldb.session.qldb_session.QldbSession` and
    :py:class:`pyqldb.session.pooled_qldb_session.PooledQldbSession`.
    """

    def __enter__(self):
        """Context manager: returns the session."""
        return self

    def __exit__(self, exc_type, exc_val, exc_tb) -> None:
        """Context manager: closes the session."""
        self.close()

    @property
    @abstractmethod
    def ledger_name(self) -> str:
        """The ledger name. Must be overridden."""

    @property
    @abstractmethod
    def session_token(self) -> str:
        """The session token. Must be overridden."""

    @abstractmethod
    def close(self) -> None:
        """Close this session. Must be overridden."""

    @abstractmethod
    def list_tables(self) -> Any:
        """The names of the ledger's active tables. Must be overridden."""

    @abstractmethod
    def start_transaction(self) -> Any:
        """Start a transaction on this session. Must be overridden."""
