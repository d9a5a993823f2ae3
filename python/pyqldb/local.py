"""Extras for embedded ledgers (not part of pyqldb's API): the control-plane reads that verification
needs, GetDigest, GetRevision and GetBlock, plus a check of the whole journal.

A :class:`Ledger` names one ledger of the embedded engine behind ``memory://NAME`` or ``file:///DIR``,
the same engine that ``QldbDriver(ledger_name, endpoint_url=...)`` uses in this process. Answers have the
shapes of boto3's ``qldb`` client (``get_digest(Name=...)`` etc.), so code written for QLDB's control
plane carries over::

    from pyqldb.local import Ledger, proof_hashes
    from pyqldb.util.qldb_hash import QldbHash

    ledger = Ledger("demo", "file:///tmp/ledgers")
    digest = ledger.get_digest()
    revision = ledger.get_revision(block_address, document_id, digest["DigestTipAddress"])

Verification then folds the proof into the digest with ``QldbHash.dot`` (see ``examples/quickstart.py``).
"""

import os

from . import _native

__all__ = ["Ledger", "forget", "proof_hashes", "address_text"]


def address_text(address):
    """A block address as Ion text: from ``{'IonText': text}``, Ion text itself, or a struct with
    ``strandId`` and ``sequenceNo`` (e.g. a ``blockAddress`` read from ``_ql_committed_<table>``)."""
    if isinstance(address, str):
        return address
    if isinstance(address, dict) and "IonText" in address:
        return address["IonText"]
    return '{strandId:"%s",sequenceNo:%d}' % (str(address["strandId"]), int(address["sequenceNo"]))


def proof_hashes(proof):
    """The hashes of a proof (``{'IonText': '[{{...}}, ...]'}`` or the Ion text), as a list of bytes."""
    if isinstance(proof, dict):
        proof = proof["IonText"]
    return [bytes(h) for h in _native.ion_loads(proof.encode(), "plain")]


def forget(endpoint_url):
    """Drop this process's reference to the embedded engine of ``endpoint_url``: once no driver uses
    it, it closes (a ``file://`` directory can then be opened again, e.g. by another process).
    Returns whether there was one."""
    return _native.forget_embedded_engine(endpoint_url)


class Ledger:
    """
    One ledger of an embedded engine.

    :type name: str
    :param name: The ledger name.

    :type endpoint_url: str
    :param endpoint_url: ``memory://NAME`` or ``file:///DIR``; default ``AWS_ENDPOINT_URL_QLDB_SESSION``
                         (then ``AWS_ENDPOINT_URL``), as for ``QldbDriver``.

    :raises ValueError: When the endpoint is not an embedded one.
    """

    def __init__(self, name, endpoint_url=None):
        if endpoint_url is None:
            endpoint_url = os.environ.get("AWS_ENDPOINT_URL_QLDB_SESSION") or os.environ.get("AWS_ENDPOINT_URL")
        if not endpoint_url:
            raise ValueError("pyqldb.local.Ledger needs an embedded endpoint_url (memory://NAME or file:///DIR)")
        self._raw = _native.RawLedger(endpoint_url, name)

    @property
    def name(self):
        return self._raw.name

    @property
    def endpoint_url(self):
        return self._raw.endpoint

    def exists(self):
        """Whether the ledger exists (drivers create it on their first session)."""
        return self._raw.exists()

    def get_digest(self):
        """GetDigest: ``{'Digest': bytes, 'DigestTipAddress': {'IonText': ...}}`` of the latest block."""
        digest, tip = self._raw.get_digest()
        return {"Digest": digest, "DigestTipAddress": {"IonText": tip}}

    def get_revision(self, block_address, document_id, digest_tip_address=None):
        """GetRevision: ``{'Revision': {'IonText': ...}}``, plus ``'Proof'`` (from the revision hash to the
        digest of ``digest_tip_address``) when a tip is given."""
        tip = None if digest_tip_address is None else address_text(digest_tip_address)
        revision, proof = self._raw.get_revision(address_text(block_address), str(document_id), tip)
        out = {"Revision": {"IonText": revision}}
        if proof is not None:
            out["Proof"] = {"IonText": proof}
        return out

    def get_block(self, block_address, digest_tip_address=None):
        """GetBlock: ``{'Block': {'IonText': ...}}``, plus ``'Proof'`` when a tip is given."""
        tip = None if digest_tip_address is None else address_text(digest_tip_address)
        block, proof = self._raw.get_block(address_text(block_address), tip)
        out = {"Block": {"IonText": block}}
        if proof is not None:
            out["Proof"] = {"IonText": proof}
        return out

    def verify(self):
        """Re-read the whole journal and recompute every hash: ``{'Blocks', 'Revisions', 'Digest'}``.

        :raises ClientError: When the journal does not verify.
        """
        blocks, revisions, digest = self._raw.verify()
        return {"Blocks": blocks, "Revisions": revisions, "Digest": digest}

    def __repr__(self):
        return "Ledger(%r, %r)" % (self.name, self.endpoint_url)
