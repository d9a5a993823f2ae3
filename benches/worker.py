"""One driver under measurement, in its own Python process (run by ``benches/run.py``).

    <venv>/bin/python benches/worker.py --target peer|ours-http|ours-embedded

The same file runs in every virtualenv: ``.peer-venv`` (the ORIGINAL pyqldb 3.2.4, with boto3) and
``.venv-bench`` (our package, release build). It imports ``pyqldb`` and nothing of the harness, so each
driver sees only its own package. HTTP targets reach ``qldb-local`` the way an unmodified program
would: ``AWS_ENDPOINT_URL_QLDB_SESSION`` plus dummy credentials and region, set by the caller; the
embedded target passes ``endpoint_url="memory://..."`` (an in-process ledger: its "client" CPU includes
the ledger engine).

Protocol: one JSON request per line on stdin, one JSON answer per line on stdout (nothing else is
written there; ``print`` goes to stderr). Requests: ``{"op": "info"}``, ``{"op": "setup", ...}``,
``{"op": "run", "workload": "w1".."w5", ...}``, ``{"op": "exit"}``. An answer is ``{"ok": true, ...}``
or ``{"ok": false, "error": "..."}``.

Each ``run`` builds a fresh driver, warms it up (sessions in the pool, code paths), then measures
``time.perf_counter()`` (wall) and ``time.process_time()`` (CPU of this whole process: every thread,
including a native runtime's) around a loop that runs until ``seconds`` have passed and at least
``min_ops`` operations are done.
"""

import argparse
import json
import os
import random
import sys
import threading
import time
import traceback
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

LEDGER = "bench"
SELECT_TABLE = "LoadTest"  # the table and documents of the Rust load example (crates/qldb-server/examples/load.rs)
SELECT_STATEMENT = "SELECT * FROM LoadTest WHERE k = ?"
INSERT_TABLE = "Inserts"
SCAN_TABLE = "Scan"
COUNTER_TABLE = "Counters"
BASE_TIME = datetime(2024, 5, 1, 12, 30, 0, tzinfo=timezone.utc)


def select_key(i):
    return "k%08d" % i  # as load.rs's key()


def select_doc(i):
    return {"k": select_key(i), "v": i, "pad": "x" * 64}  # as load.rs's prepare()


def ten_field_doc(i, tag="d"):
    """A document of 10 top-level fields: strings, ints, decimals, a timestamp, a bool, a nested struct, a list."""
    return {
        "id": "%s-%d" % (tag, i),
        "name": "customer %06d" % i,
        "email": "user%d@example.com" % i,
        "qty": i % 997,
        "balance": Decimal("%d.%02d" % (i, i % 100)),
        "rate": Decimal("0.0425"),
        "created": BASE_TIME + timedelta(seconds=i),
        "active": i % 2 == 0,
        "address": {"street": "%d Main St" % (i % 500), "city": "Seattle", "zip": "98101"},
        "tags": ["alpha", "beta", "t%d" % (i % 10)],
    }


def touch(doc):
    """Reads every field of a ``ten_field_doc`` (and of its nested struct and list), as application code would."""
    n = doc["qty"]
    n += len(doc["id"]) + len(doc["name"]) + len(doc["email"])
    balance = doc["balance"]
    rate = doc["rate"]
    n += doc["created"].second
    if doc["active"]:
        n += 1
    address = doc["address"]
    n += len(address["street"]) + len(address["city"]) + len(address["zip"])
    for tag in doc["tags"]:
        n += len(tag)
    return n + (1 if balance > rate else 0)


# --------------------------------------------------------------------------------------------------
# The package under test
# --------------------------------------------------------------------------------------------------


def package_info(target):
    import importlib.metadata as md

    import pyqldb

    try:
        import pyqldb._native as native  # noqa: F401

        has_native = True
        native_file = native.__file__
    except ImportError:
        has_native = False
        native_file = None
    if target == "peer":
        if has_native or pyqldb.__version__ != "3.2.4":
            raise SystemExit(
                "worker --target peer needs the ORIGINAL pyqldb 3.2.4 (.peer-venv), not %s" % pyqldb.__file__
            )
    elif not has_native:
        raise SystemExit("worker --target %s needs our package (pyqldb._native), not %s" % (target, pyqldb.__file__))

    def version(dist):
        try:
            return md.version(dist)
        except md.PackageNotFoundError:
            return None

    return {
        "target": target,
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "pyqldb_file": pyqldb.__file__,
        "native_file": native_file,
        "versions": {
            d: version(d) for d in ("pyqldb", "pyqldb-rs", "amazon.ion", "boto3", "botocore") if version(d) is not None
        },
    }


class Target:
    def __init__(self, name):
        self.name = name
        self.embedded_url = (
            "memory://bench-%d-%s" % (os.getpid(), uuid.uuid4().hex[:8]) if name == "ours-embedded" else None
        )

    def driver(self, read_ahead=0, value_model="ion"):
        from pyqldb.driver.qldb_driver import QldbDriver

        kwargs = {"read_ahead": read_ahead}
        if self.embedded_url:
            kwargs["endpoint_url"] = self.embedded_url
        driver = QldbDriver(LEDGER, **kwargs)
        if value_model != "ion":
            driver.value_model = value_model  # ours only (an extra of our package)
        return driver


# --------------------------------------------------------------------------------------------------
# Setup: tables and documents (idempotent per ledger: done once by the first worker of a ledger)
# --------------------------------------------------------------------------------------------------


def setup(target, select_docs, scan_docs, batch=100):
    started = time.perf_counter()
    with target.driver() as driver:
        tables = set(str(t) for t in driver.list_tables())
        for table, index in (
            (SELECT_TABLE, "k"),
            (INSERT_TABLE, None),
            (SCAN_TABLE, None),
            (COUNTER_TABLE, "id"),
        ):
            if table not in tables:
                driver.execute_lambda(lambda ex, t=table: ex.execute_statement("CREATE TABLE %s" % t))
                if index:
                    driver.execute_lambda(
                        lambda ex, t=table, i=index: ex.execute_statement("CREATE INDEX ON %s (%s)" % (t, i))
                    )

        def count(table):
            return driver.execute_lambda(
                lambda ex: next(iter(ex.execute_statement("SELECT COUNT(*) AS n FROM %s" % table)))["n"]
            )

        def load(table, have, want, make):
            for start in range(have, want, batch):

                def insert(ex, start=start):
                    for i in range(start, min(start + batch, want)):
                        ex.execute_statement("INSERT INTO %s ?" % table, make(i))

                driver.execute_lambda(insert)

        n_select = count(SELECT_TABLE)
        load(SELECT_TABLE, n_select, select_docs, select_doc)
        n_scan = count(SCAN_TABLE)
        if n_scan not in (0, scan_docs):
            raise RuntimeError("table %s holds %d documents, expected 0 or %d" % (SCAN_TABLE, n_scan, scan_docs))
        load(SCAN_TABLE, n_scan, scan_docs, ten_field_doc)
        return {
            "select_docs": count(SELECT_TABLE),
            "scan_docs": count(SCAN_TABLE),
            "seconds": time.perf_counter() - started,
        }


# --------------------------------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------------------------------


def timed_loop(op, seconds, min_ops):
    """Runs ``op()`` until ``seconds`` have passed and ``min_ops`` were done: (ops, wall s, cpu s)."""
    ops = 0
    c0 = time.process_time()
    t0 = time.perf_counter()
    while True:
        op()
        ops += 1
        wall = time.perf_counter() - t0
        if ops >= min_ops and wall >= seconds:
            break
    return ops, wall, time.process_time() - c0


def warm(op, seconds, min_ops=1):
    deadline = time.perf_counter() + seconds
    n = 0
    while n < min_ops or time.perf_counter() < deadline:
        op()
        n += 1


def threaded(threads, seconds, body):
    """Runs ``body(thread_index, deadline)`` on ``threads`` threads: (results, wall s, cpu s)."""
    results = [None] * threads
    errors = []
    barrier = threading.Barrier(threads + 1)
    box = {}

    def run(i):
        try:
            barrier.wait()
            results[i] = body(i, box["deadline"])
        except BaseException as e:  # noqa: BLE001 - reported to the harness
            errors.append("%s: %s" % (type(e).__name__, e))

    workers = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(threads)]
    for w in workers:
        w.start()
    c0 = time.process_time()
    t0 = time.perf_counter()
    box["deadline"] = t0 + seconds
    barrier.wait()
    for w in workers:
        w.join()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    if errors:
        raise RuntimeError("worker thread failed: %s" % errors[0])
    return results, wall, cpu


def select_op(driver, rng, select_docs):
    key = select_key(rng.randrange(select_docs))

    def body(ex):
        rows = list(ex.execute_statement(SELECT_STATEMENT, key))
        if len(rows) != 1 or rows[0]["k"] != key:
            raise AssertionError("expected one document for %s, got %r" % (key, rows))
        return rows[0]["v"]

    return driver.execute_lambda(body)


def run_w1(target, req):
    rng = random.Random(1)
    n = req["select_docs"]
    with target.driver() as driver:
        warm(lambda: select_op(driver, rng, n), req["warmup"], 5)
        ops, wall, cpu = timed_loop(lambda: select_op(driver, rng, n), req["seconds"], req.get("min_ops", 20))
    return {"ops": ops, "wall": wall, "cpu": cpu}


def run_w2(target, req):
    tag = uuid.uuid4().hex[:8]
    counter = [0]
    statement = "INSERT INTO %s ?" % INSERT_TABLE

    def op():
        counter[0] += 1
        doc = ten_field_doc(counter[0], tag)  # built outside the lambda: not part of the retried work
        driver.execute_lambda(lambda ex: ex.execute_statement(statement, doc))

    with target.driver() as driver:
        warm(op, req["warmup"], 5)
        ops, wall, cpu = timed_loop(op, req["seconds"], req.get("min_ops", 20))
    return {"ops": ops, "wall": wall, "cpu": cpu}


def run_w3(target, req):
    expected = req["scan_docs"]
    statement = "SELECT * FROM %s" % SCAN_TABLE

    def scan(limit=None):
        def body(ex):
            n = 0
            total = 0
            for doc in ex.execute_statement(statement):
                total += touch(doc)
                n += 1
                if limit is not None and n >= limit:
                    break
            return n, total

        n, _ = driver.execute_lambda(body)
        if limit is None and n != expected:
            raise AssertionError("scan read %d documents, expected %d" % (n, expected))

    with target.driver(read_ahead=req["read_ahead"], value_model=req["value_model"]) as driver:
        # Warm-up: a transaction reading two pages (a full scan of the original takes seconds).
        warm(lambda: scan(limit=400), req["warmup"], 2)
        ops, wall, cpu = timed_loop(scan, req["seconds"], req.get("min_ops", 1))
    return {"ops": ops, "docs": ops * expected, "wall": wall, "cpu": cpu}


def run_w4(target, req):
    n = req["select_docs"]
    threads = req["threads"]
    with target.driver() as driver:

        def body(i, deadline):
            rng = random.Random(100 + i)
            ops = 0
            while time.perf_counter() < deadline:
                select_op(driver, rng, n)
                ops += 1
            return ops

        threaded(threads, req["warmup"], body)  # fills the pool with a session per thread
        results, wall, cpu = threaded(threads, req["seconds"], body)
    ops = sum(results)
    return {"ops": ops, "wall": wall, "cpu": cpu, "per_thread": results}


def run_w5(target, req):
    threads = req["threads"]
    n_docs = req.get("counters", 4)
    run_id = uuid.uuid4().hex[:8]
    ids = ["%s-%d" % (run_id, j) for j in range(n_docs)]
    select = "SELECT c FROM %s WHERE id = ?" % COUNTER_TABLE
    update = "UPDATE %s SET c = ? WHERE id = ?" % COUNTER_TABLE
    with target.driver() as driver:

        def create(ex):
            for doc_id in ids:
                ex.execute_statement("INSERT INTO %s ?" % COUNTER_TABLE, {"id": doc_id, "c": 0})

        driver.execute_lambda(create)

        def warm_body(i, deadline):
            rng = random.Random(200 + i)
            while time.perf_counter() < deadline:
                select_op(driver, rng, req["select_docs"])

        threaded(threads, req["warmup"], warm_body)  # fills the pool with a session per thread

        def body(i, deadline):
            rng = random.Random(300 + i)
            committed = [0] * n_docs
            attempts = [0]
            failures = {}
            while time.perf_counter() < deadline:
                j = rng.randrange(n_docs)
                doc_id = ids[j]

                def increment(ex, doc_id=doc_id):
                    attempts[0] += 1
                    rows = list(ex.execute_statement(select, doc_id))
                    ex.execute_statement(update, int(rows[0]["c"]) + 1, doc_id)

                try:
                    driver.execute_lambda(increment)
                    committed[j] += 1
                except Exception as e:  # noqa: BLE001 - retries exhausted: counted, not applied
                    code = getattr(e, "response", {}).get("Error", {}).get("Code") if hasattr(e, "response") else None
                    key = "%s(%s)" % (type(e).__name__, code) if code else type(e).__name__
                    failures[key] = failures.get(key, 0) + 1
            return committed, attempts[0], failures

        results, wall, cpu = threaded(threads, req["seconds"], body)

        final = driver.execute_lambda(
            lambda ex: {
                str(r["id"]): int(r["c"])
                for r in ex.execute_statement(
                    "SELECT id, c FROM %s WHERE id IN (%s)" % (COUNTER_TABLE, ", ".join("?" * n_docs)), *ids
                )
            }
        )
    committed = [sum(r[0][j] for r in results) for j in range(n_docs)]
    attempts = sum(r[1] for r in results)
    failures = {}
    for r in results:
        for k, v in r[2].items():
            failures[k] = failures.get(k, 0) + v
    calls = sum(committed) + sum(failures.values())
    values = [final.get(doc_id) for doc_id in ids]
    return {
        "ops": sum(committed),
        "wall": wall,
        "cpu": cpu,
        "retries": attempts - calls,
        "failures": failures,
        "committed_per_doc": committed,
        "final_per_doc": values,
        "exactly_once": values == committed,
    }


WORKLOADS = {"w1": run_w1, "w2": run_w2, "w3": run_w3, "w4": run_w4, "w5": run_w5}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", required=True, choices=("peer", "ours-http", "ours-embedded"))
    args = parser.parse_args()

    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr  # stray prints must not corrupt the protocol
    info = package_info(args.target)
    target = Target(args.target)

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        op = req.get("op")
        try:
            if op == "exit":
                out.write(json.dumps({"ok": True}) + "\n")
                break
            elif op == "info":
                answer = dict(info, embedded_url=target.embedded_url)
            elif op == "setup":
                answer = setup(target, req["select_docs"], req["scan_docs"])
            elif op == "run":
                answer = WORKLOADS[req["workload"]](target, req)
            else:
                raise ValueError("unknown op %r" % op)
            answer["ok"] = True
        except Exception as e:  # noqa: BLE001 - reported to the harness
            traceback.print_exc()
            answer = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        out.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
