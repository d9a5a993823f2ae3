"""``BaseQldbDriver``: what pyqldb 2.x's drivers have in common (an ABC): the 2.x arguments and their checks,
the client, ``get_session()`` (abstract), ``read_ahead``, ``retry_limit``, ``close()``, context manager.

Subclasses: :py:class:`pyqldb.driver.pooled_qldb_driver.PooledQldbDriver` and
:py:class:`pyqldb.driver.qldb_driver.QldbDriver` (which also serves the 3.x API).

The client is the native one (see :py:mod:`pyqldb.driver._client`): besides AWS endpoints, ``endpoint_url``
(or ``AWS_ENDPOINT_URL_QLDB_SESSION``) may name an embedded ledger, ``memory://NAME`` or ``file:///DIR``.
boto3 and botocore are only needed to pass ``config`` / ``boto3_session``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from logging import getLogger
from typing import Any, Optional

from .. import __version__
from ..communication.session_client import SessionClient
from ..session.qldb_session import QldbSession
from . import _client

logger = getLogger(__name__)
SERVICE_DESCRIPTION = "QLDB Driver for Python v{}".format(__version__)
SERVICE_NAME = "qldb-session"
SERVICE_RETRY = {"max_attempts": 0}


_DEFAULT_CONFIG = []


def _default_config():
    """pyqldb 2.x's ``DEFAULT_CONFIG``: ``Config(user_agent_extra=SERVICE_DESCRIPTION, retries=SERVICE_RETRY)``
    when botocore is installed, else a stand-in with botocore's defaults. Made on first use: importing
    ``botocore.config`` takes about 0.1 s."""
    if not _DEFAULT_CONFIG:
        config_class = _client.botocore_config_class()
        if config_class is None:
            config = _client.DefaultConfig(user_agent_extra=SERVICE_DESCRIPTION, retries=SERVICE_RETRY)
        else:
            config = config_class(user_agent_extra=SERVICE_DESCRIPTION, retries=SERVICE_RETRY)
        _DEFAULT_CONFIG.append(config)
    return _DEFAULT_CONFIG[0]


DEFAULT_CONFIG: Any  # made on first access by __getattr__ (no value here, so that the access reaches it)


def __getattr__(name):
    # The module attribute DEFAULT_CONFIG, made lazily (PEP 562).
    if name == "DEFAULT_CONFIG":
        return _default_config()
    raise AttributeError("module {!r} has no attribute {!r}".format(__name__, name))


class BaseQldbDriver(ABC):
    """
    An abstract factory of sessions to one ledger (pyqldb 2.x).

    :type ledger_name: str
    :param ledger_name: The QLDB ledger name.

    :type retry_limit: int
    :param retry_limit: The number of automatic retries of the sessions' ``execute_statement`` and
                        ``execute_lambda`` after an OCC conflict or another retryable error. Must not be negative.

    :type read_ahead: int
    :param read_ahead: 0 (no read-ahead) or the number of result pages buffered ahead plus one (2 or more).

    :type executor: :py:class:`concurrent.futures.Executor`
    :param executor: Runs read-ahead retrievals; without one a daemon thread does.

    :type region_name: str
    :param region_name: The AWS region.

    :type verify: bool/str
    :param verify: A path to a PEM CA bundle to trust instead of the platform's roots; ``False`` turns certificate
                   checks off (as botocore does; a warning is logged).

    :type endpoint_url: str
    :param endpoint_url: ``http(s)://...``, ``memory://NAME`` or ``file:///DIR``; default
                         ``AWS_ENDPOINT_URL_QLDB_SESSION`` or ``AWS_ENDPOINT_URL``, else the regional endpoint.

    :type aws_access_key_id: str
    :param aws_access_key_id: Static credentials (with ``aws_secret_access_key`` and ``aws_session_token``);
                              default the AWS credential chain.

    :type aws_secret_access_key: str
    :param aws_secret_access_key: See ``aws_access_key_id``.

    :type aws_session_token: str
    :param aws_session_token: See ``aws_access_key_id``.

    :type config: :py:class:`botocore.config.Config`
    :param config: Needs botocore. Combined with ``DEFAULT_CONFIG`` into a new ``Config`` (its
                   ``user_agent_extra`` and ``retries`` are replaced; the given object is not modified); its
                   ``max_pool_connections`` bounds the pool limit, its timeouts are used.

    :type boto3_session: :py:class:`boto3.session.Session`
    :param boto3_session: Needs boto3. Its region and credentials are used (explicit ones are then ignored).

    :raises TypeError: When ``config`` or ``boto3_session`` has the wrong type.
    :raises ValueError: When ``retry_limit`` is negative, or ``read_ahead`` is 1 or negative.
    """

    def __init__(
        self,
        ledger_name: str,
        retry_limit: int = 4,
        read_ahead: int = 0,
        executor: Any = None,
        region_name: Optional[str] = None,
        verify: Any = None,
        endpoint_url: Optional[str] = None,
        aws_access_key_id: Optional[str] = None,
        aws_secret_access_key: Optional[str] = None,
        aws_session_token: Optional[str] = None,
        config: Any = None,
        boto3_session: Any = None,
    ) -> None:
        if retry_limit < 0:
            raise ValueError("Value for retry_limit cannot be negative.")
        if read_ahead < 2 and read_ahead != 0:
            raise ValueError("Value for read_ahead must be 0 or 2 or greater.")

        self._ledger_name = ledger_name
        self._retry_limit = retry_limit
        self._read_ahead = read_ahead
        self._executor = executor
        self._is_closed = False

        if config is not None:
            _client.check_config(config)
            self._config = config.merge(_default_config())
        else:
            # botocore's defaults without importing botocore (as the 3.x driver does).
            self._config = _client.DefaultConfig(user_agent_extra=SERVICE_DESCRIPTION, retries=SERVICE_RETRY)

        if boto3_session is not None:
            _client.check_boto3_session(boto3_session)

        self._client = _client.make_client(
            SERVICE_DESCRIPTION,
            self._config,
            boto3_session=boto3_session,
            region_name=region_name,
            verify=verify,
            endpoint_url=endpoint_url,
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            aws_session_token=aws_session_token,
        )

    def __enter__(self):
        """Context manager: returns the driver."""
        return self

    def __exit__(self, exc_type, exc_val, exc_tb) -> None:
        """Context manager: closes the driver."""
        self.close()

    @abstractmethod
    def get_session(self) -> Any:
        """A session to the ledger. Must be overridden."""

    @property
    def read_ahead(self) -> int:
        """The number of read-ahead buffers of the cursors of this driver's sessions (0: none)."""
        return self._read_ahead

    @property
    def retry_limit(self) -> int:
        """The number of automatic retries of the sessions' ``execute_statement`` and ``execute_lambda``."""
        return self._retry_limit

    def close(self) -> None:
        """Close this driver: later ``get_session()`` calls raise ``DriverClosedError``."""
        self._is_closed = True

    def _create_new_session(self) -> QldbSession:
        """A new session (StartSession)."""
        session_client = SessionClient.start_session(self._ledger_name, self._client)
        return QldbSession(session_client, self._read_ahead, self._retry_limit, self._executor)
