"""The low-level session API of ``pyqldb._native`` (the building blocks of the 2.x layer): ``RawClient``,
``RawSessionClient`` (StartSession … EndSession with botocore-shaped results), ``RawIonParam`` and
``RawCommitDigest``; a full transaction by hand, over the embedded engine and over HTTP, with pagination,
a digest check and errors as ``ClientError``."""

import pytest
from pyqldb import _native
from pyqldb.errors import ClientError, is_invalid_session_exception


@pytest.fixture(params=["embedded", "http"])
def session(request, memory_endpoint):
    if request.param == "embedded":
        client = _native.RawClient(memory_endpoint)
        ledger = "sessions"
    else:
        client = _native.RawClient(request.getfixturevalue("server").endpoint)
        ledger = "py-session"
    s = client.start_session(ledger)
    yield s
    try:
        s.end_session()
    except ClientError:
        pass


def transaction(session, statements):
    """Runs ``[(statement, params)]`` in one transaction; returns each statement's values and the commit."""
    txid = session.start_transaction()["TransactionId"]
    digest = _native.RawCommitDigest(txid)
    results = []
    for statement, params in statements:
        params = [_native.RawIonParam(p) for p in params]
        digest.add_statement(statement, params)
        result = session.execute_statement(txid, statement, params)
        values = [v["IonBinary"] for v in result["FirstPage"]["Values"]]
        token = result["FirstPage"].get("NextPageToken")
        while token is not None:
            page = session.fetch_page(txid, token)
            values += [v["IonBinary"] for v in page["Page"]["Values"]]
            token = page["Page"].get("NextPageToken")
        results.append([_native.ion_loads(v) for v in values])
    commit = session.commit_transaction(txid, digest.digest)
    assert commit["TransactionId"] == txid and commit["CommitDigest"] == digest.digest
    return results, commit


def test_a_transaction_by_hand(session):
    assert session.token and session.ledger_name in ("sessions", "py-session")
    table = "Hand_" + session.token[-6:].replace("-", "x").replace("_", "x")
    transaction(session, [(f"CREATE TABLE {table}", [])])
    docs = [{"n": i} for i in range(250)]
    transaction(session, [(f"INSERT INTO {table} << {', '.join('?' for _ in docs)} >>", docs)])
    (values,), commit = transaction(session, [(f"SELECT VALUE n FROM {table}", [])])
    assert sorted(int(v) for v in values) == list(range(250)), "two pages, fetched with FetchPage"
    assert set(commit) >= {"TransactionId", "CommitDigest"}


def test_wrong_digest_is_rejected_by_the_ledger(session):
    txid = session.start_transaction()["TransactionId"]
    result = session.execute_statement(txid, "SELECT * FROM information_schema.user_tables", None)
    assert "ConsumedIOs" in result and "TimingInformation" in result
    with pytest.raises(ClientError) as error:
        session.commit_transaction(txid, b"\x00" * 32)
    assert error.value.response["Error"]["Code"] == "BadRequestException"
    with pytest.raises(ValueError, match="32 bytes"):
        session.commit_transaction(txid, b"short")


def test_abort_and_end(session):
    session.start_transaction()
    assert session.abort_transaction() == {}
    assert session.end_session() == {}
    with pytest.raises(ClientError) as error:
        session.start_transaction()
    assert is_invalid_session_exception(error.value)


def test_static_start_session(memory_endpoint):
    client = _native.RawClient(memory_endpoint)
    s = _native.RawSessionClient.start_session(client, "static")
    assert s.ledger_name == "static" and s.id and s.token
    s.end_session()


def test_ion_param():
    p = _native.RawIonParam({"a": 1})
    assert p.binary.startswith(b"\xe0\x01\x00\xea") and len(p.hash) == 32
    assert p.hash == _native.ion_hash({"a": 1})
    assert "a" in repr(p)
    with pytest.raises(TypeError, match="unsupported data type: <class 'object'>"):
        _native.RawIonParam(object())


def test_start_session_on_a_missing_ledger_over_http(server):
    client = _native.RawClient(server.endpoint)
    with pytest.raises(ClientError) as error:
        client.start_session("missing-ledger")
    assert error.value.response["Error"]["Code"] == "BadRequestException"


def test_embedded_ledger_created_on_demand_unless_disabled(memory_endpoint):
    assert _native.RawClient(memory_endpoint).start_session("made-on-demand").token
    strict = _native.RawClient(memory_endpoint, create_ledger_if_missing=False)
    with pytest.raises(ClientError):
        strict.start_session("not-made")
