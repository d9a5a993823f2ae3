"""``ReadAheadCursor``: a ``StreamCursor`` whose next pages are fetched ahead (``read_ahead`` >= 2).

For driver cursors a native producer task fetches up to ``read_ahead - 1`` pages ahead into a
bounded channel (no Python thread); it stops when the transaction ends or the cursor is closed, and
any failure, connection errors included, reaches the consumer (pyqldb 3.2.4 could hang, §9.2). The
original constructor (a statement result dict, a session object, a thread or ``executor`` producer)
is kept for layers that drive sessions themselves.
"""

from logging import getLogger
from queue import Empty, Full, Queue
from threading import Thread

from ..errors import ResultClosedError
from .stream_cursor import StreamCursor

logger = getLogger(__name__)

_POLL_SECONDS = 0.05


class ReadAheadCursor(StreamCursor):
    """
    A stream cursor reading pages ahead into a queue of ``read_ahead - 1`` pages.

    :type statement_result: dict
    :param statement_result: The ExecuteStatement result.

    :type session: object
    :param session: The session the pages are fetched with.

    :type transaction_id: str
    :param transaction_id: The ID of this cursor's parent transaction.

    :type read_ahead: int
    :param read_ahead: The number of pages to read ahead (the queue holds ``read_ahead - 1``).

    :type executor: :py:class:`concurrent.futures.Executor`
    :param executor: Runs the producer; without one a daemon thread does.
    """

    def __init__(self, statement_result, session, transaction_id, read_ahead, executor):
        super().__init__(statement_result, session, transaction_id)
        self._queue = Queue(read_ahead - 1)
        if executor is None:
            Thread(target=self._populate_queue, daemon=True).start()
        else:
            executor.submit(self._populate_queue)

    def _are_there_more_results(self):
        return not (self._page.get("NextPageToken") is None and self._queue.empty())

    def _next_page(self):
        queue_result = self._queue.get()
        if isinstance(queue_result, BaseException):
            raise queue_result
        self._accumulate_query_stats(queue_result)
        self._page = queue_result.get("Page")
        self._index = 0

    def _populate_queue(self):
        try:
            next_page_token = self._page.get("NextPageToken")
            while next_page_token is not None:
                statement_result = self._session._fetch_page(self._transaction_id, next_page_token)
                while True:
                    try:
                        self._queue.put(statement_result, timeout=_POLL_SECONDS)
                        next_page_token = statement_result.get("Page").get("NextPageToken")
                        break
                    except Full:
                        if not self._is_open:
                            logger.debug("Cursor was closed; read-ahead retriever stopping.")
                            raise ResultClosedError(self._session.token) from None
        except Exception as error:  # every failure reaches the consumer
            while True:
                try:
                    self._queue.get_nowait()
                except Empty:
                    break
            logger.debug("Queued an exception: %s", error)
            self._queue.put(error)
