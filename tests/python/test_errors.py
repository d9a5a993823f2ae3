"""``pyqldb.errors`` (pyqldb-api.md §1.5): every class with its base, message and fields; the predicates on
real errors from the ledger and on other exceptions; ``RETRYABLE_HTTP_ERRORS``; how native errors map (one
place, ``src/errors.rs``): ``QldbClientError`` with botocore's ``response`` shape, transport failures,
``SessionPoolEmptyError`` and the rest, each carrying its ``NativeError``; and, in subprocesses, the same module
with botocore and boto3 installed (``ClientError`` subclassing, ``Config``, ``boto3.session.Session``
credentials checked by a server that requires them) and with botocore hidden."""

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from pyqldb import errors
from pyqldb.errors import (
    ClientError,
    DriverClosedError,
    ExecuteError,
    IllegalStateError,
    LambdaAbortedError,
    QldbClientError,
    QldbTransportError,
    ResultClosedError,
    SessionClosedError,
    SessionPoolEmptyError,
    StartTransactionError,
    TransactionClosedError,
)
from support import rows

EXTRAS = Path(__file__).resolve().parents[2] / ".venv" / "extras"


def test_classes_and_messages():
    for cls in (DriverClosedError, ResultClosedError, SessionClosedError, TransactionClosedError):
        assert issubclass(cls, IllegalStateError)
    for cls in (LambdaAbortedError, SessionPoolEmptyError, StartTransactionError, ExecuteError):
        assert not issubclass(cls, IllegalStateError)
    assert str(DriverClosedError()) == "Cannot invoke methods on a closed driver. Please create a new driver and retry."
    assert str(ResultClosedError("t")) == (
        "A streamed result is only valid when the parent transaction is open. Please start a new transaction and "
        "retry.\nSessionToken: t"
    )
    assert (
        str(SessionClosedError()) == "Cannot invoke methods on a closed session. Please start a new session and retry."
    )
    assert str(TransactionClosedError()) == (
        "Cannot invoke methods on a closed transaction. Please start a new transaction and retry."
    )
    assert str(LambdaAbortedError()) == "Abort invoked; halting execution of lambda function."
    assert str(SessionPoolEmptyError(30)) == (
        "Session pool is empty after waiting for 30 seconds. Please close existing sessions first before retrying."
    )
    cause = KeyError("k")
    assert (
        StartTransactionError(cause).error is cause
        and str(StartTransactionError(cause)) == "Failed to start transaction"
    )
    e = ExecuteError(cause, True, False, "tx")
    assert (e.error, e.is_retryable, e.is_invalid_session_exception, e.transaction_id) == (cause, True, False, "tx")
    assert str(e) == "Error containing the context of a failure during execute."
    assert ExecuteError(cause, False, True).transaction_id is None
    names = sorted(c.__name__ for c in errors.RETRYABLE_HTTP_ERRORS)
    assert names == ["ConnectTimeoutError", "ConnectionClosedError", "EndpointConnectionError", "ReadTimeoutError"]


def synthetic(code, status=400, message=None):
    body = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    if message is not None:
        body["Error"]["Message"] = message
    return ClientError(body, "SendCommand")


def test_predicates():
    expired = synthetic("InvalidSessionException", message="Transaction abc has expired")
    assert errors.is_transaction_expired_exception(expired)
    assert errors.is_invalid_session_exception(expired) and not errors.is_retriable_exception(expired)
    assert errors.is_retriable_exception(synthetic("InvalidSessionException", message="No such session"))
    for code, status in [
        ("OccConflictException", 400),
        ("X", 500),
        ("Y", 503),
        ("NoHttpResponseException", 400),
        ("SocketTimeoutException", 400),
    ]:
        assert errors.is_retriable_exception(synthetic(code, status)) is True, code
    for code in ("BadRequestException", "RateExceededException", "LimitExceededException"):
        assert errors.is_retriable_exception(synthetic(code)) is False, code
    assert errors.is_bad_request_exception(synthetic("BadRequestException"))
    assert errors.is_occ_conflict_exception(synthetic("OccConflictException"))
    assert errors.is_retriable_exception(QldbTransportError("dropped"))
    for other in (ValueError("x"), LambdaAbortedError(), KeyError()):
        for predicate in (
            errors.is_occ_conflict_exception,
            errors.is_bad_request_exception,
            errors.is_invalid_session_exception,
            errors.is_retriable_exception,
            errors.is_transaction_expired_exception,
        ):
            assert predicate(other) is False


def test_errors_from_the_ledger(driver):
    with pytest.raises(ClientError) as error:
        rows(driver, "SELECT * FROM NoSuchTable")
    e = error.value
    assert type(e) is QldbClientError and e.operation_name == "SendCommand"
    assert e.response["Error"] == {"Code": "BadRequestException", "Message": "No such table: NoSuchTable"}
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert (
        str(e)
        == "An error occurred (BadRequestException) when calling the SendCommand operation: No such table: NoSuchTable"
    )
    assert errors.is_bad_request_exception(e) and not errors.is_retriable_exception(e)
    assert e._qldb_native.kind == "service" and e._qldb_native.code == "BadRequestException"
    copy = pickle.loads(pickle.dumps(e))
    assert copy.response == e.response


def test_request_id_over_http(server, drivers):
    d = drivers("py-main", endpoint_url=server.endpoint)
    with pytest.raises(ClientError) as error:
        rows(d, "SELECT * FROM NoSuchTable")
    metadata = error.value.response["ResponseMetadata"]
    assert metadata["HTTPStatusCode"] == 400 and metadata["RequestId"]


def test_transport_error_when_nothing_listens(drivers):
    from pyqldb.config.retry_config import RetryConfig

    d = drivers(endpoint_url="http://127.0.0.1:9", retry_config=RetryConfig(retry_limit=1, custom_backoff=lambda *a: 0))
    with pytest.raises(QldbTransportError) as error:
        d.execute_lambda(lambda ex: None)
    assert isinstance(error.value, errors.ConnectionClosedError) and errors.is_retriable_exception(error.value)
    assert "127.0.0.1:9" in str(error.value)
    assert error.value._qldb_native.kind == "transport"


def run_python(code, extra_path=None, hide=()):
    """Runs ``code`` in a fresh interpreter (optionally with the extras directory on sys.path, or with
    modules made unimportable); returns stdout."""
    prelude = "import sys\n"
    if hide:
        prelude += (
            "import importlib.abc\n"
            "class Hide(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path, target=None):\n"
            f"        if name.split('.')[0] in {list(hide)!r}: raise ImportError('hidden: ' + name)\n"
            "sys.meta_path.insert(0, Hide())\n"
        )
    if extra_path:
        prelude += f"sys.path.insert(0, {str(extra_path)!r})\n"
    out = subprocess.run(
        [sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=120, env=dict(os.environ)
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_without_botocore():
    out = run_python(
        "from pyqldb import errors\n"
        "from pyqldb.driver.qldb_driver import QldbDriver\n"
        "assert not errors.HAS_BOTOCORE\n"
        "assert errors.QldbTransportError('m').__class__.__mro__[1].__name__ == 'ConnectionClosedError'\n"
        "try:\n"
        "    QldbDriver('l', endpoint_url='memory://nb', config=object())\n"
        "except TypeError as e:\n"
        "    print(e)\n",
        hide=("botocore", "boto3"),
    )
    assert out.strip() == "config must be of type botocore.config.Config. Found: object"


def test_with_botocore_and_boto3(start_server):
    # Not a skip: `make test-python` always installs the extras, so their absence is a set-up error.
    assert EXTRAS.is_dir(), "boto3/botocore missing from .venv/extras: run `make test-python`"
    server = start_server("--create-ledger", "authed", "--auth", "AKIDSESSIONKEY000000:session-secret")
    code = f"""
import logging
import boto3, botocore.exceptions
from botocore.config import Config
from pyqldb import errors
from pyqldb.config.retry_config import RetryConfig
from pyqldb.driver.qldb_driver import QldbDriver

assert errors.HAS_BOTOCORE and errors.ClientError is botocore.exceptions.ClientError
assert issubclass(errors.QldbClientError, botocore.exceptions.ClientError)
assert issubclass(errors.QldbTransportError, botocore.exceptions.ConnectionClosedError)
assert errors.is_retriable_exception(botocore.exceptions.ReadTimeoutError(endpoint_url="http://x"))

d = QldbDriver("l", endpoint_url="memory://with-botocore")
try:
    d.execute_lambda(lambda ex: ex.execute_statement("SELECT * FROM nope"))
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "BadRequestException"
config = Config(max_pool_connections=20, user_agent_extra="mine")
d = QldbDriver("l", endpoint_url="memory://with-botocore", config=config, max_concurrent_transactions=20)
assert d._pool_limit == 20 and config.user_agent_extra == "mine" and config.retries is None, "not modified"
try:
    QldbDriver("l", endpoint_url="memory://with-botocore", config=Config(max_pool_connections=5),
               max_concurrent_transactions=6)
except ValueError as e:
    assert "given, 6, exceeds the limit set by the client, 5" in str(e)

# The session's credentials sign the requests; the server accepts only those.
session = boto3.session.Session(aws_access_key_id="AKIDSESSIONKEY000000", aws_secret_access_key="session-secret",
                                region_name="us-east-1")
logging.basicConfig(level=logging.WARNING)
d = QldbDriver("authed", endpoint_url="{server.endpoint}", boto3_session=session, region_name="ignored")
assert d.execute_lambda(lambda ex: ex.transaction_id)
d = QldbDriver("authed", endpoint_url="{server.endpoint}", retry_config=RetryConfig(retry_limit=0))
try:
    d.execute_lambda(lambda ex: ex.transaction_id)
    raise SystemExit("unsigned by the session key, yet accepted")
except botocore.exceptions.ClientError as e:
    print("rejected", e.response["ResponseMetadata"]["HTTPStatusCode"])
# The endpoint a profile's services section configures for qldb-session reaches the driver.
import os, tempfile
with tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False) as f:
    f.write("[profile p]\\nregion = us-east-1\\nservices = s\\n[services s]\\nqldb_session =\\n"
            "  endpoint_url = memory://from-profile\\n")
os.environ["AWS_CONFIG_FILE"] = f.name
d = QldbDriver("l", boto3_session=boto3.session.Session(profile_name="p"))
assert d._native.endpoint == "memory://from-profile", d._native.endpoint
try:
    QldbDriver("l", endpoint_url="memory://x", boto3_session="s")
except TypeError as e:
    print(e)
"""
    out = run_python(code, extra_path=EXTRAS)
    lines = out.strip().splitlines()
    assert lines[0].startswith("rejected 4"), out
    assert lines[1] == "boto3_session must be of type boto3.session.Session. Found: str"


def test_native_errors_carry_their_kind(drivers, memory_endpoint):
    d = drivers(endpoint_url=memory_endpoint, max_concurrent_transactions=1)
    with pytest.raises(SessionPoolEmptyError) as error:
        d.execute_lambda(lambda ex: d.execute_lambda(lambda inner: None))
    native = error.value._qldb_native
    assert native.kind == "session_pool_empty" and not native.is_retryable
    assert "NativeError(session_pool_empty" in repr(native)
