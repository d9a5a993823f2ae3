"""``BufferedCursor``: a cursor's remaining values read into memory at construction.

``execute_lambda`` wraps a cursor returned by the lambda in one before the transaction commits, so
the values stay readable afterwards. Statistics are those of the cursor at buffering time.
"""


class BufferedCursor:
    """
    A single-pass iterator over values buffered from a cursor.

    :type cursor: :py:class:`pyqldb.cursor.stream_cursor.StreamCursor`
    :param cursor: The cursor to drain.
    """

    def __init__(self, cursor):
        raw = getattr(cursor, "_raw", None)
        if raw is not None:
            self._buffered_values = raw.read_all()
        else:
            self._buffered_values = [item for item in cursor]
        self._buffered_values_iterator = iter(self._buffered_values)
        self._consumed_ios = cursor.get_consumed_ios()
        self._timing_information = cursor.get_timing_information()

    @classmethod
    def _from_values(cls, values, consumed_ios, timing_information):
        """A buffered cursor over values already read."""
        cursor = cls.__new__(cls)
        cursor._buffered_values = values
        cursor._buffered_values_iterator = iter(values)
        cursor._consumed_ios = consumed_ios
        cursor._timing_information = timing_information
        return cursor

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._buffered_values_iterator)

    def get_consumed_ios(self):
        """``{'ReadIOs': n}`` of the statement, or None.

        :rtype: dict/None
        """
        return self._consumed_ios

    def get_timing_information(self):
        """``{'ProcessingTimeMilliseconds': n}`` of the statement, or None.

        :rtype: dict/None
        """
        return self._timing_information
