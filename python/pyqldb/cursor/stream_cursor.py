"""``StreamCursor``: a single-pass iterator over a statement's result (pyqldb 3.x).

Cursors made by the driver wrap a native cursor: pages are fetched (FetchPage) in Rust as the
iteration needs them, values are decoded natively into ``IonPy*`` objects (or plain values), and
statistics are summed as pages are consumed. The original constructor, over a statement result dict
and a session object with ``_fetch_page(transaction_id, next_page_token)`` and ``token``, is kept for
layers that drive sessions themselves.

Once the parent transaction has ended (committed, aborted, failed) or :meth:`close` was called,
iterating raises :class:`pyqldb.errors.ResultClosedError`.

Differences from pyqldb 3.2.4 (its defect list, pyqldb-api.md §9): a statistic reported as 0 gives
``{'ReadIOs': 0}`` / ``{'ProcessingTimeMilliseconds': 0}`` instead of None; None means no page reported it.
"""

from .. import _native
from ..errors import ResultClosedError


class StreamCursor:
    """
    An iterable over a statement's result set, fetching pages as needed.

    :type statement_result: dict
    :param statement_result: The ExecuteStatement result (``FirstPage``, ``ConsumedIOs``, ``TimingInformation``), or
                             (as in pyqldb 2.x) the first page itself (``Values``, ``NextPageToken``).

    :type session: object
    :param session: The session the pages are fetched with (``_fetch_page(transaction_id, token)`` and ``token``).

    :type transaction_id: str
    :param transaction_id: The ID of this cursor's parent transaction.
    """

    def __init__(self, statement_result, session, transaction_id):
        self._raw = None
        # 3.x passes the ExecuteStatement result; 2.x passed its first page itself.
        if "FirstPage" in statement_result or "Values" not in statement_result:
            self._page = statement_result.get("FirstPage")
        else:
            self._page = statement_result
        self._session = session
        self._index = 0
        self._open = True
        self._transaction_id = transaction_id
        self._read_ios = None
        self._write_ios = None
        self._processing_time_milliseconds = None
        self._accumulate_query_stats(statement_result)

    @classmethod
    def _from_native(cls, raw):
        """A cursor over a native ``RawCursor`` (what ``Executor.execute_statement`` returns)."""
        cursor = cls.__new__(cls)
        cursor._raw = raw
        cursor._session = None
        cursor._transaction_id = raw.transaction_id
        return cursor

    def __iter__(self):
        return self

    def __next__(self):
        """The next value of the result.

        :raises StopIteration: When there are no more values.
        :raises ResultClosedError: When the cursor or its transaction is closed.
        """
        raw = self._raw
        if raw is not None:
            return next(raw)
        if not self._open:
            raise ResultClosedError(self._session.token)
        if self._index >= len(self._page.get("Values")):
            if not self._are_there_more_results():
                raise StopIteration
            self._next_page()
            while len(self._page.get("Values")) == 0 and self._are_there_more_results():
                self._next_page()
            if len(self._page.get("Values")) == 0:
                raise StopIteration
        row = self._page.get("Values")[self._index]
        self._index += 1
        return self._value_holder_to_ion_value(row)

    @property
    def _is_open(self):
        if self._raw is not None:
            return self._raw.is_open
        return self._open

    def close(self):
        """Close this cursor: later iteration raises ``ResultClosedError``."""
        if self._raw is not None:
            self._raw.close()
        else:
            self._open = False

    def get_consumed_ios(self):
        """``{'ReadIOs': n}`` summed over the pages consumed so far, or None if none reported it.

        :rtype: dict/None
        """
        if self._raw is not None:
            return self._raw.stats()[0]
        return None if self._read_ios is None else {"ReadIOs": self._read_ios}

    def get_timing_information(self):
        """``{'ProcessingTimeMilliseconds': n}`` summed over the pages consumed so far, or None.

        :rtype: dict/None
        """
        if self._raw is not None:
            return self._raw.stats()[1]
        if self._processing_time_milliseconds is None:
            return None
        return {"ProcessingTimeMilliseconds": self._processing_time_milliseconds}

    def get_io_usage(self):
        """Extra (not in pyqldb): ``{'ReadIOs': r, 'WriteIOs': w}`` summed so far, or None.

        :rtype: dict/None
        """
        if self._raw is not None:
            read, write, _ = self._raw.raw_stats()
        else:
            read, write = self._read_ios, self._write_ios
        if read is None and write is None:
            return None
        return {"ReadIOs": read or 0, "WriteIOs": write or 0}

    def _are_there_more_results(self):
        return self._page.get("NextPageToken") is not None

    def _next_page(self):
        statement_result = self._session._fetch_page(self._transaction_id, self._page.get("NextPageToken"))
        self._accumulate_query_stats(statement_result)
        self._page = statement_result.get("Page")
        self._index = 0

    def _accumulate_query_stats(self, statement_result):
        self._processing_time_milliseconds = self._accumulate(
            statement_result, "TimingInformation", "ProcessingTimeMilliseconds", self._processing_time_milliseconds
        )
        self._read_ios = self._accumulate(statement_result, "ConsumedIOs", "ReadIOs", self._read_ios)
        self._write_ios = self._accumulate(statement_result, "ConsumedIOs", "WriteIOs", self._write_ios)

    @staticmethod
    def _accumulate(statement_result, query_statistics_key, metric_key, metric_to_accumulate):
        query_statistics = statement_result.get(query_statistics_key)
        if query_statistics:
            metric = query_statistics.get(metric_key)
            if metric is not None:
                metric_to_accumulate = (metric_to_accumulate or 0) + metric
        return metric_to_accumulate

    def _value_model(self):
        return "ion"

    def _value_holder_to_ion_value(self, value):
        """Decode one ``{'IonBinary': ...}`` value holder."""
        return _native.ion_loads(value.get("IonBinary"), self._value_model())
