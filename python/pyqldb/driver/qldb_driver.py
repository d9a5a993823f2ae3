"""``QldbDriver``: pyqldb 3.x's driver, over the native core (``pyqldb._native.RawDriver``).

The session pool, the transaction handling with its commit digest and the retry loop run in Rust;
the lambda runs on the calling thread inside that loop, and every wait (network, disk, backoff
sleep) releases the GIL and checks for signals every 50 ms, so Ctrl-C interrupts a blocked call.

Besides pyqldb's endpoints, ``endpoint_url`` (or ``AWS_ENDPOINT_URL_QLDB_SESSION``) may name an
embedded ledger: ``memory://NAME`` (in-process, shared by name) or ``file:///DIR`` (durable).

Extras (not in pyqldb): results as plain Python values instead of ``IonPy*`` objects, for the
whole driver (``driver.value_model = "plain"``) or one call (``execute_lambda(f, value_model="plain")``).

pyqldb 2.x's non-pooling ``QldbDriver`` is served by the same class: an ``int`` second positional argument
(``QldbDriver(ledger_name, retry_limit, ...)``) selects the 2.x call style (2.x's argument checks, a
non-deprecated ``retry_limit``), and ``get_session()`` returns a 2.x
:py:class:`pyqldb.session.qldb_session.QldbSession` in either style (see :py:meth:`QldbDriver.get_session`).
"""

from logging import INFO, getLogger
from queue import Queue  # noqa: F401 - module names pyqldb's unit tests patch
from threading import BoundedSemaphore  # noqa: F401
from time import sleep
from warnings import warn

from .. import __version__, _native
from ..config.retry_config import RetryConfig
from ..cursor.buffered_cursor import BufferedCursor
from ..cursor.stream_cursor import StreamCursor
from ..errors import DriverClosedError
from ..execution.executor import Executor
from ..util.atomic_integer import AtomicInteger  # noqa: F401
from ..util.retry import Retry
from . import _client
from .base_qldb_driver import BaseQldbDriver

POOL_TIMEOUT_SECONDS = 0.001
logger = getLogger(__name__)
SERVICE_DESCRIPTION = "QLDB Driver for Python v{}".format(__version__)
SERVICE_NAME = "qldb-session"
SERVICE_RETRY = {"max_attempts": 0}
DEFAULT_RETRY_CONFIG = RetryConfig()
LIST_TABLES_STATEMENT = "SELECT VALUE name FROM information_schema.user_tables WHERE status = 'ACTIVE'"
VALUE_MODELS = ("ion", "plain")


def _native_retry(retry_config):
    """``(retry_limit, base, custom_backoff)`` for the native policy."""
    base = retry_config.base
    backoff = retry_config.custom_backoff
    if not backoff and not (isinstance(base, int) and not isinstance(base, bool)):
        # A fractional base: compute the equal-jitter backoff in Python.
        def backoff(attempt, error, transaction_id):
            return Retry._get_delay_with_equal_jitter(attempt, retry_config)

        base = 0
    return retry_config.retry_limit, base, backoff or None


class _InitSignature:
    """``cls.__signature__``: the signature of ``cls.__init__`` without ``self``, for ``inspect.signature(cls)``
    (which would otherwise show ``__new__``'s ``*args, **kwargs``). Computed on access, so that importing the
    driver does not import ``inspect``."""

    def __get__(self, instance, owner):
        import inspect

        signature = inspect.signature(owner.__init__)
        return signature.replace(parameters=list(signature.parameters.values())[1:])


def _log_retry(attempt, code, message, sleep_seconds, transaction_id):
    logger.info("A recoverable error has occurred. Attempting retry #%d", attempt)
    logger.debug("Error cause: %s: %s (transaction %s, backoff %.3f s)", code, message, transaction_id, sleep_seconds)


class QldbDriver(BaseQldbDriver):
    """
    Executes transactions against a QLDB ledger (``ledger_name``), with a pool of sessions and retries.

    Also pyqldb 2.x's non-pooling driver: ``QldbDriver(ledger_name, retry_limit, read_ahead, ...)``, with an
    ``int`` as the second *positional* argument (a keyword ``retry_config`` must be a ``RetryConfig``, as in
    3.x), runs 2.x's checks (``ValueError('Value for retry_limit cannot be negative.')`` first) and combines a
    given ``config`` with 2.x's defaults; :py:meth:`get_session` (any call style) starts a session the caller
    closes. A 2.x-style driver also runs :py:meth:`execute_lambda` with ``RetryConfig(retry_limit)``.

    :type ledger_name: str
    :param ledger_name: The QLDB ledger name.

    :type retry_config: :py:class:`pyqldb.config.retry_config.RetryConfig`
    :param retry_config: Retry limit and backoff; a ``retry_config`` passed to :py:meth:`execute_lambda` replaces
                         it for that call.

    :type read_ahead: int
    :param read_ahead: 0 (no read-ahead) or the number of result pages buffered ahead plus one (2 or more).

    :type executor: :py:class:`concurrent.futures.Executor`
    :param executor: Accepted for compatibility; read-ahead runs as a native task, not on this executor.

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
    :param config: Needs botocore. Its ``max_pool_connections`` is the default and the upper bound of the pool
                   limit; its timeouts and ``user_agent_extra`` are used. It is not modified.

    :type boto3_session: :py:class:`boto3.session.Session`
    :param boto3_session: Needs boto3. Its region and credentials are used (explicit ones are then ignored).

    :type max_concurrent_transactions: int
    :param max_concurrent_transactions: The pool limit: concurrent transactions allowed; 0 means
                                        ``config.max_pool_connections`` (10 by default).

    :raises TypeError: When ``config``, ``retry_config`` or ``boto3_session`` has the wrong type.
    :raises ValueError: When ``read_ahead`` is 1 or negative, or the pool limit is negative or above
                        ``max_pool_connections``.
    """

    # --- pyqldb 2.x call style (begin) ---------------------------------------------------------------------
    __signature__ = _InitSignature()  # the 3.x signature below, not `__new__`'s

    def __new__(cls, *args, **kwargs):
        driver = super().__new__(cls)
        # Only a positional int selects 2.x: `retry_config=3` is a 3.x TypeError, as in pyqldb 3.x.
        second = args[1] if len(args) > 1 else None
        driver._v2_call_style = isinstance(second, int) and not isinstance(second, bool)
        return driver

    def _init_2x(
        self,
        ledger_name,
        retry_limit,
        read_ahead,
        executor,
        region_name,
        verify,
        endpoint_url,
        aws_access_key_id,
        aws_secret_access_key,
        aws_session_token,
        config,
        boto3_session,
        max_concurrent_transactions,
    ):
        """pyqldb 2.x's ``QldbDriver(ledger_name, retry_limit=4, ...)``: 2.x's checks and config; the native pool
        serves :py:meth:`execute_lambda` with ``RetryConfig(retry_limit)``."""
        if max_concurrent_transactions != 0:
            raise TypeError(
                "max_concurrent_transactions is not an argument of the 2.x QldbDriver (an int retry_limit as the "
                "second argument); pass a RetryConfig for the 3.x driver"
            )
        BaseQldbDriver.__init__(
            self,
            ledger_name,
            retry_limit,
            read_ahead,
            executor,
            region_name,
            verify,
            endpoint_url,
            aws_access_key_id,
            aws_secret_access_key,
            aws_session_token,
            config,
            boto3_session,
        )
        self._value_model = "ion"
        self._retry_config = RetryConfig(retry_limit=retry_limit)
        self._pool_limit = self._config.max_pool_connections
        self._timeout = POOL_TIMEOUT_SECONDS
        self._native = self._new_native(self._timeout)

    def get_session(self):
        """
        pyqldb 2.x: start a new session (StartSession) that the caller owns and must close. Its
        ``execute_statement``/``execute_lambda`` retry 2.x-style (full-jitter backoff) up to the driver's retry
        limit (the ``RetryConfig``'s in the 3.x call style).

        :rtype: :py:class:`pyqldb.session.qldb_session.QldbSession`

        :raises DriverClosedError: When this driver is closed.
        :raises ClientError: When QLDB refuses the session.
        """
        if self._is_closed:
            raise DriverClosedError
        return self._create_new_session()

    # --- pyqldb 2.x call style (end) -----------------------------------------------------------------------

    def __init__(
        self,
        ledger_name,
        retry_config=None,
        read_ahead=0,
        executor=None,
        region_name=None,
        verify=None,
        endpoint_url=None,
        aws_access_key_id=None,
        aws_secret_access_key=None,
        aws_session_token=None,
        config=None,
        boto3_session=None,
        max_concurrent_transactions=0,
    ):
        if getattr(self, "_v2_call_style", False):
            self._init_2x(
                ledger_name,
                retry_config,
                read_ahead,
                executor,
                region_name,
                verify,
                endpoint_url,
                aws_access_key_id,
                aws_secret_access_key,
                aws_session_token,
                config,
                boto3_session,
                max_concurrent_transactions,
            )
            return
        if read_ahead < 2 and read_ahead != 0:
            raise ValueError("Value for read_ahead must be 0 or 2 or greater.")

        self._ledger_name = ledger_name
        self._read_ahead = read_ahead
        self._executor = executor
        self._value_model = "ion"

        if config is not None:
            _client.check_config(config)
            self._config = config
        else:
            self._config = _client.DefaultConfig(user_agent_extra=SERVICE_DESCRIPTION, retries=SERVICE_RETRY)

        if retry_config is not None:
            if not isinstance(retry_config, RetryConfig):
                raise TypeError(
                    "config must be of type pyqldb.config.retry_config.RetryConfig. Found: {}".format(
                        type(retry_config).__name__
                    )
                )
            self._retry_config = retry_config
        else:
            self._retry_config = DEFAULT_RETRY_CONFIG
        self._retry_limit = self._retry_config.retry_limit  # of sessions from get_session() (2.x)

        if boto3_session is not None:
            _client.check_boto3_session(boto3_session)

        client_pool_limit = self._config.max_pool_connections
        if max_concurrent_transactions == 0:
            self._pool_limit = client_pool_limit
        else:
            self._pool_limit = max_concurrent_transactions
        if self._pool_limit > client_pool_limit:
            raise ValueError(
                "The session pool limit given, {}, exceeds the limit set by the client, {}. Please lower the "
                "limit and retry.".format(str(self._pool_limit), str(client_pool_limit))
            )
        if self._pool_limit < 0:
            raise ValueError("semaphore initial value must be >= 0")

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
        self._timeout = POOL_TIMEOUT_SECONDS
        self._native = self._new_native(self._timeout)

    def _new_native(self, timeout):
        limit, base, backoff = _native_retry(self._retry_config)
        return _native.RawDriver(
            self._client,
            self._ledger_name,
            pool_limit=self._pool_limit,
            pool_timeout=timeout,
            read_ahead=self._read_ahead,
            retry_limit=limit,
            retry_base=base,
            custom_backoff=backoff,
        )

    def __enter__(self):
        """Context manager: returns the driver."""
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        """Context manager: closes the driver."""
        self.close()

    def close(self):
        """Close the driver: later calls raise ``DriverClosedError``; idle sessions are ended now and
        sessions in use when their transaction finishes."""
        self._native.close()

    def list_tables(self):
        """
        The names of the active tables of the ledger.

        :rtype: :py:class:`pyqldb.cursor.buffered_cursor.BufferedCursor`
        :return: The table names as :py:class:`amazon.ion.simple_types.IonPyText` values.

        :raises DriverClosedError: When this driver is closed.
        """
        return self.execute_lambda(lambda executor: executor.execute_statement(LIST_TABLES_STATEMENT))

    def execute_lambda(self, query_lambda, retry_config=None, *, value_model=None):
        """
        Run ``query_lambda(executor)`` in a transaction, commit, and return its result, retrying the whole
        transaction on OCC conflicts and other retryable errors (up to the retry limit). The lambda may therefore
        run several times and must not have side effects besides its statements. A cursor it returns is read
        into a :py:class:`pyqldb.cursor.buffered_cursor.BufferedCursor` before the commit.

        :type query_lambda: function
        :param query_lambda: Receives a :py:class:`pyqldb.execution.executor.Executor`.

        :type retry_config: :py:class:`pyqldb.config.retry_config.RetryConfig`
        :param retry_config: Replaces the driver's retry configuration for this call.

        :type value_model: str
        :param value_model: Extra (not in pyqldb): ``'ion'`` (``IonPy*`` values) or ``'plain'`` (plain Python
                            values) for the results of this call; default the driver's :py:attr:`value_model`.

        :return: What the lambda returned.

        :raises DriverClosedError: When this driver is closed.
        :raises IllegalStateError: When the commit digest returned by QLDB does not match.
        :raises ClientError: When QLDB rejects a command (after the retries, if retryable).
        :raises LambdaAbortedError: When the lambda called :py:meth:`pyqldb.execution.executor.Executor.abort`.
        :raises SessionPoolEmptyError: When ``max_concurrent_transactions`` transactions are already running.
        """
        if self._native.is_closed:
            raise DriverClosedError
        retry_config = self._retry_config if retry_config is None else retry_config
        limit, base, backoff = _native_retry(retry_config)

        def body(transaction):
            result = query_lambda(Executor(transaction))
            if isinstance(result, StreamCursor):
                result = BufferedCursor(result)
            return result

        return self._native.execute_lambda(
            body,
            retry_limit=limit,
            retry_base=base,
            custom_backoff=backoff,
            on_retry=_log_retry if logger.isEnabledFor(INFO) else None,
            value_model=value_model or self._value_model,
        )

    @property
    def read_ahead(self):
        """The number of read-ahead buffers of the cursors of this driver (0: none)."""
        return self._read_ahead

    @property
    def retry_limit(self):
        """Deprecated: the retry limit of the driver's ``RetryConfig`` (pyqldb 2.x call style: the retry limit,
        not deprecated)."""
        if getattr(self, "_v2_call_style", False):
            return self._retry_limit
        warn(
            "The retry_limit property in QldbDriver class is deprecated. Please call RetryConfig's retry_limit "
            "property instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self._retry_config._retry_limit

    @property
    def value_model(self):
        """Extra (not in pyqldb): ``'ion'`` (default: ``IonPy*`` results, as pyqldb) or ``'plain'`` (``dict``,
        ``list``, ``str``, ``int``, ``float``, ``Decimal``, ``datetime``, ``bytes``, ``bool``, ``None``)."""
        return self._value_model

    @value_model.setter
    def value_model(self, model):
        if model not in VALUE_MODELS:
            raise ValueError("value_model must be 'ion' or 'plain', not {!r}".format(model))
        self._value_model = model

    @property
    def _is_closed(self):
        return self._native.is_closed

    @_is_closed.setter
    def _is_closed(self, closed):
        if closed:
            self.close()

    @staticmethod
    def _retry_sleep(retry_config, execution_attempt, error, transaction_id):
        """Sleeps the backoff of ``execution_attempt`` (kept for callers of pyqldb's internal helper)."""
        sleep(Retry.calculate_backoff(retry_config, execution_attempt, error, transaction_id) / 1000)

    @property
    def _timeout(self):
        """The wait for a pool permit in seconds (pyqldb's tests assign it)."""
        return self.__timeout

    @_timeout.setter
    def _timeout(self, timeout):
        self.__timeout = timeout
        old = getattr(self, "_native", None)
        if old is not None and old.pool_timeout != timeout:
            # The permit wait is fixed per native driver: start a new pool with the new wait.
            self._native = self._new_native(timeout)
            old.close()
