"""``QldbHash``: a 32-byte QLDB hash (or the empty hash) with QLDB's ``dot`` operation.

Ion hashing and ``dot`` run natively (qldb-ion, the code the ledger itself uses), so no ``ionhash``
package is needed; ``to_qldb_hash`` accepts a ``str`` (hashed as an Ion string) or any value a
statement parameter may be (``IonPy*`` values included).
"""

from array import array
from hashlib import sha256

from .. import _native

HASH_SIZE = 32


class QldbHash:
    """
    A QLDB hash: 32 bytes, or the empty hash.

    :raises ValueError: When the hash is None or neither empty nor 32 bytes long.
    """

    def __init__(self, qldb_hash):
        if qldb_hash is None or (len(qldb_hash) != HASH_SIZE and len(qldb_hash) != 0):
            raise ValueError("Hash must either be empty or {} bytes long".format(HASH_SIZE))
        self._qldb_hash = qldb_hash

    def __eq__(self, other):
        if not isinstance(other, QldbHash):
            return False
        return QldbHash._hash_comparator(self.get_qldb_hash(), other.get_qldb_hash()) == 0

    __hash__ = None

    def __repr__(self):
        return self._qldb_hash.hex()

    def dot(self, that):
        """QLDB's dot: SHA-256 of both hashes concatenated, the one that sorts first (signed bytes
        compared from the last byte) in front. With an empty side, SHA-256 of the other.

        :type that: :py:class:`pyqldb.util.qldb_hash.QldbHash`
        :rtype: :py:class:`pyqldb.util.qldb_hash.QldbHash`
        """
        h1, h2 = self.get_qldb_hash(), that.get_qldb_hash()
        if len(h1) == HASH_SIZE and len(h2) == HASH_SIZE:
            return QldbHash(_native.dot(h1, h2))
        return QldbHash(sha256(QldbHash._join_hashes_pair_wise(h1, h2)).digest())

    def get_hash_size(self):
        return len(self._qldb_hash)

    def get_qldb_hash(self):
        return self._qldb_hash

    def is_empty(self):
        return len(self._qldb_hash) == 0

    @staticmethod
    def to_qldb_hash(value):
        """The QldbHash of a value: its Ion Hash (a ``str`` is an Ion string).

        :rtype: :py:class:`pyqldb.util.qldb_hash.QldbHash`
        """
        return QldbHash(_native.ion_hash(value))

    @staticmethod
    def _hash_comparator(h1, h2):
        """Compares two hashes by their signed bytes, from the last byte to the first."""
        if len(h1) != HASH_SIZE or len(h2) != HASH_SIZE:
            raise ValueError("Invalid hash")
        h1_array = array("b", h1)
        h2_array = array("b", h2)
        for i in range(len(h1_array) - 1, -1, -1):
            difference = h1_array[i] - h2_array[i]
            if difference != 0:
                return difference
        return 0

    @staticmethod
    def _join_hashes_pair_wise(h1, h2):
        """The two hashes concatenated in ``dot`` order (an empty one leaves the other alone)."""
        if len(h1) == 0:
            return h2
        if len(h2) == 0:
            return h1
        if QldbHash._hash_comparator(h1, h2) < 0:
            return h1 + h2
        return h2 + h1
