"""``Retry.calculate_backoff``: pyqldb 3.x's backoff between attempts, in milliseconds.

The driver computes the same default backoff natively; this module is kept for callers and tests
that use it directly (and for ``RetryConfig`` values the native policy cannot take, such as a
fractional ``base``).
"""

import random
import sys

MAX_POW = sys.maxsize.bit_length() - 1
MAX_BACKOFF = 5000


class Retry:
    """Backoff helpers (internal)."""

    @staticmethod
    def calculate_backoff(retry_config, retry_attempt, error, transaction_id):
        """The delay in milliseconds before the attempt after ``retry_attempt``: the config's
        ``custom_backoff`` (negative → 0), else equal jitter ``seed/2 + randint(0, seed/2)`` with
        ``seed = min(base * 2**min(attempt, MAX_POW), MAX_BACKOFF)``."""
        if retry_config.custom_backoff:
            delay = retry_config.custom_backoff(retry_attempt, error, transaction_id)
            if delay < 0:
                delay = 0
        else:
            delay = Retry._get_delay_with_equal_jitter(retry_attempt, retry_config)
        return delay

    @staticmethod
    def _get_delay_with_equal_jitter(retry_attempt, retry_config):
        capped_retries = min(retry_attempt, MAX_POW)
        delay_seed = min(retry_config.base * (1 << capped_retries), MAX_BACKOFF)
        return delay_seed / 2 + random.randint(0, int(delay_seed / 2))
