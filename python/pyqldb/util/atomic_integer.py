"""``AtomicInteger``: an integer updated under a lock."""

from threading import Lock


class AtomicInteger:
    """An integer value that may be updated atomically."""

    def __init__(self, value=0):
        self._value = value
        self._lock = Lock()

    def increment(self):
        """Adds one; returns the new value."""
        with self._lock:
            self._value += 1
            return self._value

    def decrement(self):
        """Subtracts one; returns the new value."""
        with self._lock:
            self._value -= 1
            return self._value

    @property
    def value(self):
        """The current value."""
        with self._lock:
            return self._value
