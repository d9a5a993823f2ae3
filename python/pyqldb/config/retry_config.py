"""``RetryConfig``: the retry limit and backoff of ``QldbDriver.execute_lambda`` (pyqldb 3.x)."""


class RetryConfig:
    """
    Retry and backoff configuration of :py:class:`pyqldb.driver.qldb_driver.QldbDriver`.

    :type retry_limit: int
    :param retry_limit: The number of automatic retries of a transaction after an OCC conflict or another
                        retryable error. Must not be negative. Default 4 (5 attempts in all).

    :type base: int
    :param base: The base, in milliseconds, of the exponential backoff between retries. Default 10.

    :type custom_backoff: function
    :param custom_backoff: ``custom_backoff(retry_attempt, error, transaction_id)`` returning the delay in
                           milliseconds before the next attempt (a negative result counts as 0). When
                           given, ``base`` is ignored.

    :raises ValueError: When ``base`` or ``retry_limit`` is negative.
    """

    def __init__(self, retry_limit=4, base=10, custom_backoff=None):
        self._validate_base(base)
        self._validate_retry_limit(retry_limit)
        self._base = base
        self._retry_limit = retry_limit
        self._custom_backoff = custom_backoff

    @property
    def retry_limit(self):
        """The number of automatic retries (read-only)."""
        return self._retry_limit

    @property
    def base(self):
        """The base of the exponential backoff in milliseconds (read-only)."""
        return self._base

    @property
    def custom_backoff(self):
        """The custom backoff function, or None (read-only)."""
        return self._custom_backoff

    @staticmethod
    def _validate_base(base):
        if base < 0:
            raise ValueError("Base cannot be negative")

    @staticmethod
    def _validate_retry_limit(retry_limit):
        if retry_limit < 0:
            raise ValueError("retry_limit cannot be negative")
