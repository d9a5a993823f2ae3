"""Ledgers managed through boto3's ``qldb`` control-plane client next to the driver (HTTP targets with
boto3 only; wire-protocol.md §6): a ledger is usable by a new driver as soon as DescribeLedger says
ACTIVE, its tables show up in ``list_tables()``; once deleted, a new driver's ``execute_lambda``
fails with BadRequestException after 5 StartSession attempts (the first retry free, backoff for
attempts 2..4, no transaction id) without running the lambda."""

import uuid

import pytest
from compatlib import assert_client_error, create_table
from pyqldb.config.retry_config import RetryConfig

pytestmark = pytest.mark.requires("control_plane")


@pytest.fixture
def qldb_client(qldb_server):
    import boto3
    from botocore.config import Config
    client = boto3.client("qldb", config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    yield client
    client.close()


def test_create_use_delete(qldb_client, driver_factory):
    name = f"compat-cp-{uuid.uuid4().hex[:8]}"
    qldb_client.create_ledger(Name=name, PermissionsMode="ALLOW_ALL", DeletionProtection=False)
    for _ in range(100):
        if qldb_client.describe_ledger(Name=name)["State"] == "ACTIVE":
            break
    else:
        pytest.fail("ledger never ACTIVE")

    d = driver_factory(ledger_name=name)
    table = create_table(d, "CpTable")
    assert list(d.list_tables()) == [table]
    d.close()

    qldb_client.delete_ledger(Name=name)
    calls = []
    backoff = []
    gone = driver_factory(ledger_name=name,
                          retry_config=RetryConfig(custom_backoff=lambda *args: backoff.append(args) or 0))
    with pytest.raises(Exception) as error:
        gone.execute_lambda(lambda ex: calls.append(1))
    assert_client_error(error.value, code="BadRequestException", status=400)
    assert calls == []
    assert [b[0] for b in backoff] == [2, 3, 4]
    assert [b[2] for b in backoff] == [None, None, None]
