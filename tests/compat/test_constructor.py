"""``QldbDriver(...)`` argument checks and ``RetryConfig`` validation (pyqldb-api.md §1.1, §1.2): the
signature and defaults, the order of the checks (read_ahead, then config, then retry_config, then
boto3_session, then the pool limit) with their exact exception types and messages, unknown keyword
arguments, ``max_concurrent_transactions`` against botocore's ``max_pool_connections``, positional
arguments, ``RetryConfig`` defaults, read-only properties and negative values; ``pyqldb.__version__``."""

import inspect

import pyqldb
import pytest
from pyqldb.config.retry_config import RetryConfig
from pyqldb.driver.qldb_driver import QldbDriver

READ_AHEAD_MESSAGE = "Value for read_ahead must be 0 or 2 or greater."
RETRY_CONFIG_MESSAGE = "config must be of type pyqldb.config.retry_config.RetryConfig. Found: {}"
CONFIG_MESSAGE = "config must be of type botocore.config.Config. Found: {}"
SESSION_MESSAGE = "boto3_session must be of type boto3.session.Session. Found: {}"
POOL_MESSAGE = ("The session pool limit given, {}, exceeds the limit set by the client, {}. "
                "Please lower the limit and retry.")


def test_version():
    assert pyqldb.__version__ == "3.2.4"


def test_signature():
    parameters = inspect.signature(QldbDriver).parameters
    assert list(parameters) == [
        "ledger_name", "retry_config", "read_ahead", "executor", "region_name", "verify", "endpoint_url",
        "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "config", "boto3_session",
        "max_concurrent_transactions"]
    defaults = {name: p.default for name, p in parameters.items() if p.default is not inspect.Parameter.empty}
    assert defaults == {
        "retry_config": None, "read_ahead": 0, "executor": None, "region_name": None, "verify": None,
        "endpoint_url": None, "aws_access_key_id": None, "aws_secret_access_key": None, "aws_session_token": None,
        "config": None, "boto3_session": None, "max_concurrent_transactions": 0}


@pytest.mark.parametrize("read_ahead", [1, -1, -5])
def test_read_ahead_rejected(driver_factory, read_ahead):
    with pytest.raises(ValueError) as error:
        driver_factory(read_ahead=read_ahead)
    assert str(error.value) == READ_AHEAD_MESSAGE


@pytest.mark.parametrize("read_ahead", [0, 2, 3, 10])
def test_read_ahead_accepted(driver_factory, read_ahead):
    d = driver_factory(read_ahead=read_ahead)
    assert d.read_ahead == read_ahead
    assert d.execute_lambda(lambda ex: len(list(ex.execute_statement(
        "SELECT * FROM information_schema.user_tables")))) >= 0


@pytest.mark.parametrize("bad, type_name", [("x", "str"), (4, "int"), ({"retry_limit": 1}, "dict")])
def test_retry_config_type_checked(driver_factory, bad, type_name):
    with pytest.raises(TypeError) as error:
        driver_factory(retry_config=bad)
    assert str(error.value) == RETRY_CONFIG_MESSAGE.format(type_name)


@pytest.mark.parametrize("bad, type_name", [("x", "str"), ({"retries": {}}, "dict")])
def test_config_type_checked(driver_factory, bad, type_name):
    with pytest.raises(TypeError) as error:
        driver_factory(config=bad)
    assert str(error.value) == CONFIG_MESSAGE.format(type_name)


def test_boto3_session_type_checked(driver_factory):
    with pytest.raises(TypeError) as error:
        driver_factory(boto3_session="x")
    assert str(error.value) == SESSION_MESSAGE.format("str")


def test_checks_run_in_order(driver_factory):
    # read_ahead before config before retry_config before boto3_session before the pool limit.
    with pytest.raises(ValueError) as error:
        driver_factory(read_ahead=1, config="x", retry_config="x", boto3_session="x", max_concurrent_transactions=99)
    assert str(error.value) == READ_AHEAD_MESSAGE
    with pytest.raises(TypeError) as error:
        driver_factory(config="x", retry_config="x", boto3_session="x", max_concurrent_transactions=99)
    assert str(error.value) == CONFIG_MESSAGE.format("str")
    with pytest.raises(TypeError) as error:
        driver_factory(retry_config=3, boto3_session="x", max_concurrent_transactions=99)
    assert str(error.value) == RETRY_CONFIG_MESSAGE.format("int")
    with pytest.raises(TypeError) as error:
        driver_factory(boto3_session="x", max_concurrent_transactions=99)
    assert str(error.value) == SESSION_MESSAGE.format("str")


@pytest.mark.parametrize("kwargs", [{"botocore_session": None}, {"pool_limit": 2}, {"timeout": 3},
                                    {"retry_limit": 2}])
def test_unknown_keyword_rejected(driver_factory, kwargs):
    with pytest.raises(TypeError) as error:
        driver_factory(**kwargs)
    assert list(kwargs)[0] in str(error.value)


def test_positional_arguments(driver_factory):
    retry = RetryConfig(retry_limit=2)
    d = driver_factory(retry, 3)  # QldbDriver(ledger, retry_config, read_ahead)
    assert d.read_ahead == 3
    assert d.execute_lambda(lambda ex: ex.transaction_id) is not None


@pytest.mark.parametrize("limit", [11, 50])
def test_max_concurrent_transactions_above_the_client_limit(driver_factory, limit):
    with pytest.raises(ValueError) as error:
        driver_factory(max_concurrent_transactions=limit)
    assert str(error.value) == POOL_MESSAGE.format(limit, 10)


def test_max_concurrent_transactions_negative(driver_factory):
    with pytest.raises(ValueError):
        driver_factory(max_concurrent_transactions=-1)


@pytest.mark.parametrize("limit", [1, 10])
def test_max_concurrent_transactions_accepted(driver_factory, limit):
    d = driver_factory(max_concurrent_transactions=limit)
    assert d.execute_lambda(lambda ex: "ok") == "ok"


@pytest.mark.requires("botocore")
def test_config_raises_the_client_limit(driver_factory):
    from botocore.config import Config
    with pytest.raises(ValueError) as error:
        driver_factory(config=Config(max_pool_connections=20), max_concurrent_transactions=21)
    assert str(error.value) == POOL_MESSAGE.format(21, 20)
    d = driver_factory(config=Config(max_pool_connections=20), max_concurrent_transactions=20)
    assert d.execute_lambda(lambda ex: "ok") == "ok"
    with pytest.raises(ValueError) as error:
        driver_factory(config=Config(max_pool_connections=5), max_concurrent_transactions=6)
    assert str(error.value) == POOL_MESSAGE.format(6, 5)


@pytest.mark.requires("botocore")
def test_config_limit_is_the_default_pool_limit(driver_factory):
    from botocore.config import Config
    # max_concurrent_transactions=0 takes the client's max_pool_connections.
    d = driver_factory(config=Config(max_pool_connections=3))
    assert d.execute_lambda(lambda ex: "ok") == "ok"


# --------------------------------------------------------------------------------------------------
# RetryConfig
# --------------------------------------------------------------------------------------------------

def test_retry_config_defaults():
    config = RetryConfig()
    assert (config.retry_limit, config.base, config.custom_backoff) == (4, 10, None)
    backoff = lambda attempt, error, transaction_id: 0  # noqa: E731
    config = RetryConfig(2, 5, backoff)
    assert (config.retry_limit, config.base, config.custom_backoff) == (2, 5, backoff)
    assert RetryConfig(retry_limit=0, base=0).retry_limit == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"base": -1}, "Base cannot be negative"),
    ({"retry_limit": -1}, "retry_limit cannot be negative"),
    ({"retry_limit": -1, "base": -1}, "Base cannot be negative"),
])
def test_retry_config_validation(kwargs, message):
    with pytest.raises(ValueError) as error:
        RetryConfig(**kwargs)
    assert str(error.value) == message


@pytest.mark.parametrize("name", ["retry_limit", "base", "custom_backoff"])
def test_retry_config_properties_are_read_only(name):
    config = RetryConfig()
    with pytest.raises(AttributeError):
        setattr(config, name, 1)


# --------------------------------------------------------------------------------------------------
# Client arguments
# --------------------------------------------------------------------------------------------------

def test_client_keyword_arguments_accepted(driver_factory):
    # Without --auth, qldb-local accepts any signature; the embedded transport ignores them.
    d = driver_factory(region_name="eu-west-1", verify=False, aws_access_key_id="AKIDOTHER00000000000",
                       aws_secret_access_key="other-secret", aws_session_token="other-token")
    assert d.execute_lambda(lambda ex: "ok") == "ok"


@pytest.mark.requires("http")
def test_explicit_endpoint_url_wins_over_the_environment(driver_factory, qldb_server, monkeypatch):
    # Nothing listens on port 9 (discard): only the explicit endpoint_url can make this work.
    monkeypatch.setenv("AWS_ENDPOINT_URL_QLDB_SESSION", "http://127.0.0.1:9")
    d = driver_factory(endpoint_url=qldb_server.endpoint)
    assert d.execute_lambda(lambda ex: "explicit") == "explicit"


@pytest.mark.requires("http")
def test_endpoint_from_the_environment_is_read_at_construction(driver_factory, monkeypatch):
    from pyqldb.config.retry_config import RetryConfig
    monkeypatch.setenv("AWS_ENDPOINT_URL_QLDB_SESSION", "http://127.0.0.1:9")
    d = driver_factory(retry_config=RetryConfig(retry_limit=1, custom_backoff=lambda *a: 0))
    with pytest.raises(Exception) as error:
        d.execute_lambda(lambda ex: "unreachable")
    assert "127.0.0.1:9" in str(error.value), repr(error.value)


@pytest.mark.requires("http", "boto3")
def test_boto3_session(driver_factory):
    import boto3
    d = driver_factory(boto3_session=boto3.session.Session(region_name="us-east-1"))
    assert d.execute_lambda(lambda ex: "session") == "session"
