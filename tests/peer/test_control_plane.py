"""Control plane through boto3's ``qldb`` client (wire-protocol.md §6): the ledger lifecycle
(CreateLedger → CREATING/ACTIVE with DescribeLedger polling that completes at once → ListLedgers →
UpdateLedger deletion protection → DeleteLedger refused while protected → DeleteLedger →
DescribeLedger raises ResourceNotFoundException), ListLedgers paging, and the errors of §6.1."""

import datetime
import re

import pytest
from botocore.exceptions import ClientError

from peerlib import error_code, http_status, make_driver, run, unique_ledger_name, wait_until_active

ARN_RE = re.compile(r"^arn:aws:qldb:us-east-1:\d{12}:ledger/(?P<name>.+)$")


def list_all_ledgers(client, page_size=None):
    ledgers, token, pages = [], None, 0
    while True:
        kwargs = {}
        if page_size:
            kwargs["MaxResults"] = page_size
        if token:
            kwargs["NextToken"] = token
        response = client.list_ledgers(**kwargs)
        pages += 1
        if page_size:
            assert len(response.get("Ledgers", [])) <= page_size, response
        ledgers.extend(response.get("Ledgers", []))
        token = response.get("NextToken")
        if not token:
            return ledgers, pages
        assert pages < 100, "ListLedgers keeps returning a NextToken"


def test_ledger_lifecycle(qldb_client):
    name = unique_ledger_name("lifecycle")

    created = qldb_client.create_ledger(Name=name, PermissionsMode="ALLOW_ALL")
    assert created["Name"] == name
    assert created["State"] in ("CREATING", "ACTIVE"), created
    assert created["PermissionsMode"] == "ALLOW_ALL"
    assert created["DeletionProtection"] is True, "DeletionProtection defaults to true"
    assert ARN_RE.match(created["Arn"]).group("name") == name, created["Arn"]
    assert isinstance(created["CreationDateTime"], datetime.datetime)
    age = datetime.datetime.now(datetime.timezone.utc) - created["CreationDateTime"]
    assert abs(age.total_seconds()) < 300, created["CreationDateTime"]

    # Harnesses poll every 5-10 s; a local server settles on the first DescribeLedger.
    assert wait_until_active(qldb_client, name) == 1

    described = qldb_client.describe_ledger(Name=name)
    assert described["Name"] == name
    assert described["State"] == "ACTIVE"
    assert described["Arn"] == created["Arn"]
    assert described["PermissionsMode"] == "ALLOW_ALL"
    assert described["DeletionProtection"] is True
    assert described["CreationDateTime"] == created["CreationDateTime"]

    ledgers, _ = list_all_ledgers(qldb_client)
    listed = [entry for entry in ledgers if entry["Name"] == name]
    assert len(listed) == 1, ledgers
    assert listed[0]["State"] == "ACTIVE"
    assert listed[0]["CreationDateTime"] == created["CreationDateTime"]

    # The new ledger is usable from the unmodified driver at once.
    qldb_driver = make_driver(name)
    try:
        assert run(qldb_driver, "SELECT VALUE name FROM information_schema.user_tables") == []
    finally:
        qldb_driver.close()

    # Deletion protection on: DeleteLedger is refused and the ledger stays.
    with pytest.raises(ClientError) as refused:
        qldb_client.delete_ledger(Name=name)
    assert error_code(refused.value) == "ResourcePreconditionNotMetException", refused.value.response
    assert http_status(refused.value) == 412
    assert qldb_client.describe_ledger(Name=name)["State"] == "ACTIVE"

    updated = qldb_client.update_ledger(Name=name, DeletionProtection=False)
    assert updated["Name"] == name
    assert updated["DeletionProtection"] is False
    assert updated["State"] == "ACTIVE"
    assert updated["Arn"] == created["Arn"]
    assert qldb_client.describe_ledger(Name=name)["DeletionProtection"] is False

    # Turning it back on is visible too, then off again for the delete.
    assert qldb_client.update_ledger(Name=name, DeletionProtection=True)["DeletionProtection"] is True
    with pytest.raises(ClientError) as refused_again:
        qldb_client.delete_ledger(Name=name)
    assert error_code(refused_again.value) == "ResourcePreconditionNotMetException"
    assert qldb_client.update_ledger(Name=name, DeletionProtection=False)["DeletionProtection"] is False

    deleted = qldb_client.delete_ledger(Name=name)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] in (200, 204), deleted

    with pytest.raises(ClientError) as gone:
        qldb_client.describe_ledger(Name=name)
    assert error_code(gone.value) == "ResourceNotFoundException", gone.value.response
    assert http_status(gone.value) == 404
    # boto3's modelled exception class matches too.
    with pytest.raises(qldb_client.exceptions.ResourceNotFoundException):
        qldb_client.describe_ledger(Name=name)

    ledgers, _ = list_all_ledgers(qldb_client)
    assert not [e for e in ledgers if e["Name"] == name and e["State"] in ("ACTIVE", "CREATING")], ledgers


def test_create_existing_ledger_is_rejected(qldb_client, ledger):
    with pytest.raises(ClientError) as error:
        qldb_client.create_ledger(Name=ledger, PermissionsMode="ALLOW_ALL", DeletionProtection=False)
    assert error_code(error.value) == "ResourceAlreadyExistsException", error.value.response
    assert http_status(error.value) == 409
    assert qldb_client.describe_ledger(Name=ledger)["State"] == "ACTIVE"


def test_unknown_ledger_on_the_control_plane(qldb_client):
    missing = unique_ledger_name("missing")
    for call in (lambda: qldb_client.describe_ledger(Name=missing),
                 lambda: qldb_client.update_ledger(Name=missing, DeletionProtection=False),
                 lambda: qldb_client.delete_ledger(Name=missing),
                 lambda: qldb_client.get_digest(Name=missing)):
        with pytest.raises(ClientError) as error:
            call()
        assert error_code(error.value) == "ResourceNotFoundException", error.value.response
        assert http_status(error.value) == 404


def test_list_ledgers_pages(qldb_client, ledger):
    extra = unique_ledger_name("paging")
    qldb_client.create_ledger(Name=extra, PermissionsMode="ALLOW_ALL", DeletionProtection=False)
    try:
        wait_until_active(qldb_client, extra)
        everything, one_page = list_all_ledgers(qldb_client)
        assert one_page == 1
        names = [entry["Name"] for entry in everything]
        assert {ledger, extra} <= set(names), names
        paged, pages = list_all_ledgers(qldb_client, page_size=1)
        paged_names = [entry["Name"] for entry in paged]
        assert sorted(paged_names) == sorted(names), (paged_names, names)
        assert pages >= len(names)
    finally:
        qldb_client.delete_ledger(Name=extra)
