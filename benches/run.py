#!/usr/bin/env python3
"""Side-by-side benchmark (issue 5): the ORIGINAL pyqldb 3.2.4 against our pyqldb, same workloads, same server.

    python3 benches/run.py [--rounds 5] [--seconds 1.0] [--quick] ...      (``make bench`` runs it)

One ``qldb-local`` (release build, in memory) serves every HTTP client. Each driver runs in its own
long-lived Python process (``benches/worker.py``): the original in ``.peer-venv``, ours (release
wheel) in ``.venv-bench`` over HTTP and over its embedded transport (``memory://``, in-process). The
"floor" is the Rust load client (``crates/qldb-server/examples/load.rs``, release build) sending the
same raw requests (StartTransaction, ExecuteStatement, CommitTransaction) with no driver around
them. Every round runs every workload once per driver, the order of the drivers rotating from round
to round; the table reports the median over the rounds.

Needs only the standard library (it never imports pyqldb). Output: a table on stdout and the same
as Markdown in ``benches/results/latest.md`` (raw per-round numbers in ``latest.json``).
"""

import argparse
import json
import os
import platform
import re
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "benches" / "worker.py"
LEDGER = "bench"
DRIVERS = ("peer", "ours-http", "ours-embedded")
COLUMN = {"peer": "original", "ours-http": "ours-http", "ours-embedded": "ours-embedded", "floor": "floor"}
LISTENING_RE = re.compile(r"^qldb-local listening on (http://\S+) \(data: (.+)\)$")
LOAD_RE = re.compile(r"committed (\d+) transactions in ([\d.]+) s: .*?; errors (\{.*\})")


class Variant:
    def __init__(self, name, workload, params=None, floor=None, peer_ref=None, unit="tx", title=""):
        self.name = name
        self.workload = workload
        self.params = params or {}
        self.floor = floor  # (load mode, sessions) or None
        self.peer_ref = peer_ref  # the original has no such variant: show this one's numbers instead
        self.unit = unit
        self.title = title


def variants(args):
    ra = args.read_ahead
    out = [
        Variant("W1", "w1", floor=("select", 1), title="SELECT by indexed field, 1 small document, 1 thread"),
        Variant("W2", "w2", floor=("insert", 1), title="INSERT of a 10-field document, 1 thread"),
    ]
    for model in ("ion", "plain"):
        for r in (0, ra):
            label = "IonPy" if model == "ion" else "plain"
            out.append(
                Variant(
                    "W3 %s ra=%d" % (label, r),
                    "w3",
                    {"value_model": model, "read_ahead": r},
                    peer_ref=None if model == "ion" else "W3 IonPy ra=%d" % r,
                    unit="doc",
                    title="one transaction reading %d documents, every field touched" % args.scan_docs,
                )
            )
    out += [
        Variant(
            "W4", "w4", floor=("select", args.threads), title="%d threads sharing one driver, W1 each" % args.threads
        ),
        Variant("W5", "w5", title="%d threads incrementing counters in 4 documents (read, then update)" % args.threads),
    ]
    wanted = set(args.workloads.split(","))
    return [v for v in out if v.workload in wanted]


# --------------------------------------------------------------------------------------------------
# Processes: the server, the workers, the floor
# --------------------------------------------------------------------------------------------------


class Server:
    def __init__(self, binary, log_path):
        self.log = open(log_path, "w")
        env = dict(os.environ, QLDB_LOCAL_LOG=os.environ.get("QLDB_LOCAL_LOG", "warn"))
        self.proc = subprocess.Popen(
            [str(binary), "serve", "--memory", "--port", "0", "--create-ledger", LEDGER, "--session-lifetime", "7200"],
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
            text=True,
        )
        line = self.proc.stdout.readline().strip()
        m = LISTENING_RE.match(line)
        if not m:
            self.stop()
            raise SystemExit("qldb-local did not start (first line %r; log in %s)" % (line, log_path))
        self.url = m.group(1)
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Worker:
    def __init__(self, target, python, env):
        self.target = target
        self.proc = subprocess.Popen(
            [str(python), str(WORKER), "--target", target],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
            bufsize=1,
        )

    def call(self, **request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("worker %s exited (code %s)" % (self.target, self.proc.wait()))
        answer = json.loads(line)
        if not answer.pop("ok"):
            raise SystemExit("worker %s failed on %r: %s" % (self.target, request, answer["error"]))
        return answer

    def close(self):
        try:
            self.call(op="exit")
        except (SystemExit, BrokenPipeError, ValueError):
            pass
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_load(load_bin, url, mode, sessions, seconds, docs):
    """Runs the Rust load client once: (committed, wall s, cpu s of the whole process, errors)."""
    cmd = [
        str(load_bin),
        "--endpoint",
        url,
        "--ledger",
        LEDGER,
        "--sessions",
        str(sessions),
        "--seconds",
        repr(float(seconds)),
        "--mode",
        mode,
        "--docs",
        str(docs),
    ]
    if mode == "insert":
        cmd += ["--doc", "ten-field"]  # W2's 10-field document, as the drivers insert
    c0 = children_cpu()  # only this child is reaped meanwhile: the difference is its CPU
    done = subprocess.run(cmd, capture_output=True, text=True)
    cpu = children_cpu() - c0
    if done.returncode != 0:
        raise SystemExit("load example failed (%d): %s\n%s" % (done.returncode, " ".join(cmd), done.stderr))
    m = LOAD_RE.search(done.stdout)
    if not m:
        raise SystemExit("cannot parse the load example's output: %r" % done.stdout)
    return int(m.group(1)), float(m.group(2)), cpu, m.group(3)


class Floor:
    """The load example in a given mode; its fixed cost (start-up, prepare, sessions) is measured with
    ``--seconds 0`` and subtracted from the CPU of a run."""

    def __init__(self, load_bin, url, docs):
        self.load_bin, self.url, self.docs = load_bin, url, docs
        self.baseline = {}

    def run(self, mode, sessions, seconds):
        key = (mode, sessions)
        if key not in self.baseline:
            self.baseline[key] = statistics.median(
                run_load(self.load_bin, self.url, mode, sessions, 0, self.docs)[2] for _ in range(3)
            )
        committed, wall, cpu, errors = run_load(self.load_bin, self.url, mode, sessions, seconds, self.docs)
        return {
            "ops": committed,
            "wall": wall,
            "cpu": max(cpu - self.baseline[key], 0.0),
            "cpu_raw": cpu,
            "cpu_fixed": self.baseline[key],
            "errors": errors,
        }


# --------------------------------------------------------------------------------------------------
# Metrics, table, aims
# --------------------------------------------------------------------------------------------------


def metrics(variant, r):
    """The reported numbers of one measurement."""
    if variant.workload in ("w1", "w2"):
        return {"wall": r["wall"] / r["ops"] * 1e6, "cpu": r["cpu"] / r["ops"] * 1e6}
    if variant.workload == "w3":
        return {"wall": r["wall"] / r["docs"] * 1e6, "cpu": r["cpu"] / r["docs"] * 1e6}
    m = {"tps": r["ops"] / r["wall"], "cpu": r["cpu"] / max(r["ops"], 1) * 1e6}
    if variant.workload == "w5":
        m["retries"] = r["retries"] / max(r["ops"], 1)
        m["failed"] = sum(r["failures"].values())
        m["exact"] = 1.0 if r["exactly_once"] else 0.0
    return m


def fmt(x, kind):
    if x is None:
        return "—"
    if kind == "tps":
        return "{:,.0f}".format(x)
    if kind == "ratio":
        return "{:,.1f}×".format(x) if x < 100 else "{:,.0f}×".format(x)
    if kind == "count":
        return "{:,.0f}".format(x)
    if kind == "frac":
        return "{:.2f}".format(x)
    # microseconds: 3 significant digits
    if x >= 100:
        return "{:,.0f}".format(x)
    if x >= 10:
        return "{:.1f}".format(x)
    return "{:.2f}".format(x)


def median_of(rounds, key):
    values = [m[key] for m in rounds if key in m]
    return statistics.median(values) if values else None


def build_table(vs, results):
    """Rows of (workload, metric, original, ours-http, ours-embedded, floor, ratio, http/floor) and the medians."""
    rows = []
    med = {}
    for v in vs:
        cols = {}
        for d in DRIVERS + ("floor",):
            source = v.peer_ref if (d == "peer" and v.peer_ref) else v.name
            runs = results.get(source, {}).get(d)
            cols[d] = [metrics(v, r) for r in runs] if runs else None
        med[v.name] = {d: ({k: median_of(ms, k) for k in ms[0]} if ms else None) for d, ms in cols.items()}
        m = med[v.name]

        def get(d, k, m=m):
            return m[d][k] if m[d] and k in m[d] else None

        peer_label = " (IonPy)" if v.peer_ref else ""
        if v.workload in ("w1", "w2", "w3"):
            unit = "µs/" + v.unit
            for key, label in (("wall", "wall " + unit), ("cpu", "client CPU " + unit)):
                o, h, e, f = (get(d, key) for d in ("peer", "ours-http", "ours-embedded", "floor"))
                rows.append(
                    [
                        v.name,
                        label,
                        fmt(o, "us") + (peer_label if o is not None else ""),
                        fmt(h, "us"),
                        fmt(e, "us"),
                        fmt(f, "us"),
                        fmt(o / h if o and h else None, "ratio"),
                        fmt(h / f if h and f else None, "ratio"),
                    ]
                )
        else:
            o, h, e, f = (get(d, "tps") for d in ("peer", "ours-http", "ours-embedded", "floor"))
            rows.append(
                [
                    v.name,
                    "throughput tx/s",
                    fmt(o, "tps"),
                    fmt(h, "tps"),
                    fmt(e, "tps"),
                    fmt(f, "tps"),
                    fmt(h / o if o and h else None, "ratio"),
                    fmt(f / h if h and f else None, "ratio"),
                ]
            )
            o, h, e, f = (get(d, "cpu") for d in ("peer", "ours-http", "ours-embedded", "floor"))
            rows.append(
                [
                    v.name,
                    "client CPU µs/tx",
                    fmt(o, "us"),
                    fmt(h, "us"),
                    fmt(e, "us"),
                    fmt(f, "us"),
                    fmt(o / h if o and h else None, "ratio"),
                    "—",
                ]
            )
            if v.workload == "w5":
                o, h, e = (get(d, "retries") for d in DRIVERS)
                rows.append(
                    [v.name, "retries per committed tx", fmt(o, "frac"), fmt(h, "frac"), fmt(e, "frac"), "—", "—", "—"]
                )
                cells = []
                for d in DRIVERS:
                    runs = results.get(v.name, {}).get(d) or []
                    ok = sum(1 for r in runs if r["exactly_once"])
                    failed = sum(sum(r["failures"].values()) for r in runs)
                    cells.append(
                        ("✔ %d/%d rounds" % (ok, len(runs)) if ok == len(runs) else "✘ %d/%d rounds" % (ok, len(runs)))
                        + ("; %d gave up" % failed if failed else "")
                        if runs
                        else "—"
                    )
                rows.append([v.name, "every increment applied exactly once"] + cells + ["—", "—", "—"])
    return rows, med


HEADER = [
    "workload",
    "metric",
    "original",
    "ours-http",
    "ours-embedded",
    "floor",
    "ratio: ours-http × better than original",
    "ours-http × behind floor",
]


def text_table(rows):
    widths = [max(len(str(r[i])) for r in rows + [HEADER]) for i in range(len(HEADER))]
    lines = []
    for j, r in enumerate([HEADER] + rows):
        lines.append(
            "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
        )
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows):
    out = ["| " + " | ".join(HEADER) + " |", "|" + "|".join(["---", "---"] + ["---:"] * (len(HEADER) - 2)) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def aims(med, results):
    """[(aim, reached: bool|None, detail)] for the aims of issue 5."""
    out = []

    def m(name, d, k):
        x = med.get(name, {}).get(d)
        return x.get(k) if x else None

    for w in ("W1", "W2"):
        o, h, f = m(w, "peer", "cpu"), m(w, "ours-http", "cpu"), m(w, "floor", "wall")
        hw = m(w, "ours-http", "wall")
        if o and h:
            out.append(
                (
                    "%s client CPU per transaction ≤ 1/25 of the original's" % w,
                    o / h >= 25,
                    "%s vs %s µs: 1/%.1f" % (fmt(h, "us"), fmt(o, "us"), o / h),
                )
            )
        if hw and f:
            out.append(
                (
                    "%s wall within 1.3× of the floor" % w,
                    hw / f <= 1.3,
                    "%s vs %s µs: %.2f×" % (fmt(hw, "us"), fmt(f, "us"), hw / f),
                )
            )
    for model, want in (("IonPy", 50), ("plain", 200)):
        for name in sorted(n for n in med if n.startswith("W3 %s" % model)):
            ref = name.replace("plain", "IonPy")
            o, h = m(ref, "peer", "wall"), m(name, "ours-http", "wall")
            if o and h:
                out.append(
                    (
                        "%s: ≥ %d× faster per document than the original (IonPy, same read-ahead)" % (name, want),
                        o / h >= want,
                        "%s vs %s µs/doc: %.0f×" % (fmt(h, "us"), fmt(o, "us"), o / h),
                    )
                )
    o, h = m("W4", "peer", "tps"), m("W4", "ours-http", "tps")
    if o and h:
        out.append(
            (
                "W4 throughput ≥ 10× the original's",
                h / o >= 10,
                "%s vs %s tx/s: %.1f×" % (fmt(h, "tps"), fmt(o, "tps"), h / o),
            )
        )
    if "W5" in med:
        runs = [r for d in DRIVERS for r in (results.get("W5", {}).get(d) or [])]
        exact = all(r["exactly_once"] for r in runs)
        out.append(
            (
                "W5 every increment applied exactly once (all drivers, all rounds)",
                exact,
                "%d measurements checked" % len(runs),
            )
        )
        o, h = m("W5", "peer", "tps"), m("W5", "ours-http", "tps")
        if o and h:
            out.append(
                (
                    "W5 throughput ≥ 5× the original's",
                    h / o >= 5,
                    "%s vs %s tx/s: %.1f×" % (fmt(h, "tps"), fmt(o, "tps"), h / o),
                )
            )
    return out


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------


def cpu_busy(seconds=1.0):
    """The fraction of all CPUs busy (any process) over ``seconds``, from /proc/stat; None elsewhere. Unlike the
    load average it does not lag: right after the criterion benches the machine is idle but the load average high."""

    def sample():
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return 1.0 - (idle1 - idle0) / max(total1 - total0, 1)


def machine(infos, busy, load):
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "cpu_busy_at_start": busy,
        "loadavg_at_start": load,
        "workers": infos,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=float, default=1.0, help="measured time per workload, driver and round")
    p.add_argument("--warmup", type=float, default=0.3, help="warm-up time before each measurement")
    p.add_argument("--scan-docs", type=int, default=10000, help="W3: documents read per transaction")
    p.add_argument(
        "--select-docs", type=int, default=1000, help="W1/W4: documents to select from (as the load example's --docs)"
    )
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--read-ahead", type=int, default=4, help="W3: the read-ahead compared with read_ahead=0")
    p.add_argument("--workloads", default="w1,w2,w3,w4,w5")
    p.add_argument("--drivers", default=",".join(DRIVERS) + ",floor")
    p.add_argument("--quick", action="store_true", help="smoke test: 1 round, 0.2 s, 400 documents in W3")
    p.add_argument("--peer-python", default=str(ROOT / ".peer-venv" / "bin" / "python"))
    p.add_argument("--ours-python", default=str(ROOT / ".venv-bench" / "bin" / "python"))
    p.add_argument("--server-bin", default=str(ROOT / "target" / "release" / "qldb-local"))
    p.add_argument("--load-bin", default=str(ROOT / "target" / "release" / "examples" / "load"))
    p.add_argument("--out", default=None, help="Markdown output (default benches/results/latest.md; --quick: smoke.md)")
    p.add_argument("--render", metavar="JSON", help="measure nothing: rebuild the table and Markdown from a saved run")
    args = p.parse_args()
    if args.render:
        saved = json.loads(Path(args.render).read_text())
        out = Path(args.out) if args.out else Path(args.render).with_suffix(".md")
        finished = saved.get("finished") or datetime.fromtimestamp(
            Path(args.render).stat().st_mtime, timezone.utc
        ).strftime("%Y-%m-%d %H:%M UTC")
        cmd = saved.get("command", "python3 benches/run.py")
        report(
            argparse.Namespace(**saved["args"]),
            saved["machine"],
            saved["results"],
            saved["elapsed"],
            cmd,
            finished,
            out,
        )
        return
    if args.quick:
        args.rounds, args.seconds, args.warmup, args.scan_docs = 1, 0.2, 0.05, 400
    out_md = Path(args.out) if args.out else ROOT / "benches" / "results" / ("smoke.md" if args.quick else "latest.md")
    drivers = [d for d in args.drivers.split(",") if d]
    for path in (
        args.server_bin,
        args.load_bin if "floor" in drivers else None,
        args.peer_python if "peer" in drivers else None,
        args.ours_python if {"ours-http", "ours-embedded"} & set(drivers) else None,
    ):
        if path and not Path(path).exists():
            raise SystemExit("missing %s (make bench builds it)" % path)
    out_md.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    load = os.getloadavg()
    busy = cpu_busy()
    print(
        "bench: CPUs %s busy over the last second (load average %.2f %.2f %.2f) on %d CPUs%s"
        % (
            "?" if busy is None else "%.0f%%" % (busy * 100),
            *load,
            os.cpu_count(),
            "  (busy machine: numbers will be noisy)" if busy is not None and busy > 0.2 else "",
        ),
        flush=True,
    )

    server = Server(args.server_bin, out_md.parent / "qldb-local.log")
    print("bench: qldb-local at %s" % server.url, flush=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    env.update(
        AWS_ACCESS_KEY_ID="AKIDBENCH00000000000",
        AWS_SECRET_ACCESS_KEY="bench-dummy-secret-key",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    http_env = dict(env, AWS_ENDPOINT_URL_QLDB_SESSION=server.url, AWS_ENDPOINT_URL_QLDB=server.url)
    workers = {}
    results = {}
    try:
        setup = {"op": "setup", "select_docs": args.select_docs, "scan_docs": args.scan_docs}
        for d in ("ours-http", "peer", "ours-embedded"):  # ours-http loads the server's tables (fastest)
            if d not in drivers:
                continue
            python = args.peer_python if d == "peer" else args.ours_python
            workers[d] = Worker(d, python, http_env if d != "ours-embedded" else env)
            info = workers[d].call(op="info")
            s = workers[d].call(**setup)
            print(
                "bench: worker %-13s python %s, %s; data %d + %d docs (%.1f s)"
                % (
                    d,
                    info["python"],
                    ", ".join("%s %s" % kv for kv in sorted(info["versions"].items())),
                    s["select_docs"],
                    s["scan_docs"],
                    s["seconds"],
                ),
                flush=True,
            )
        infos = {d: w.call(op="info") for d, w in workers.items()}
        floor = Floor(args.load_bin, server.url, args.select_docs) if "floor" in drivers else None

        vs = variants(args)
        common = {
            "seconds": args.seconds,
            "warmup": args.warmup,
            "scan_docs": args.scan_docs,
            "select_docs": args.select_docs,
            "threads": args.threads,
        }
        for rnd in range(args.rounds):
            for v in vs:
                parts = [d for d in DRIVERS if d in workers and not (d == "peer" and v.peer_ref)]
                if floor and v.floor:
                    parts.append("floor")
                k = rnd % len(parts)
                order = parts[k:] + parts[:k]
                for d in order:
                    if d == "floor":
                        r = floor.run(v.floor[0], v.floor[1], args.seconds)
                    else:
                        r = workers[d].call(op="run", workload=v.workload, **dict(common, **v.params))
                    results.setdefault(v.name, {}).setdefault(d, []).append(r)
                    m = metrics(v, r)
                    print(
                        "  round %d  %-14s %-13s %s"
                        % (
                            rnd + 1,
                            v.name,
                            d,
                            "  ".join(
                                "%s=%s" % (key, fmt(val, "tps" if key == "tps" else "us")) for key, val in m.items()
                            ),
                        ),
                        flush=True,
                    )
                    if v.workload == "w5" and not r["exactly_once"]:
                        print(
                            "  !! %s: counters %r, committed increments %r"
                            % (d, r["final_per_doc"], r["committed_per_doc"])
                        )
    finally:
        for w in workers.values():
            w.close()
        server.stop()

    elapsed = time.perf_counter() - started
    info = machine(infos, busy, load)
    cmd = "python3 benches/run.py" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    finished = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report(args, info, results, elapsed, cmd, finished, out_md)
    out_md.with_suffix(".json").write_text(
        json.dumps(
            {
                "args": vars(args),
                "machine": info,
                "results": results,
                "elapsed": elapsed,
                "command": cmd,
                "finished": finished,
            },
            indent=1,
            default=str,
        )
    )


def report(args, info, results, elapsed, cmd, finished, out_md):
    """Prints the table and the aims, and writes them as Markdown to ``out_md``."""
    vs = variants(args)
    infos = info["workers"]
    busy, load = info.get("cpu_busy_at_start"), info["loadavg_at_start"]
    rows, med = build_table(vs, results)
    goals = aims(med, results)
    print()
    print(text_table(rows))
    print()
    for aim, ok, detail in goals:
        print("%s %s: %s" % ("✔" if ok else "✘", aim, detail))
    print(
        "\nbench: %d rounds in %.0f s; Markdown in %s"
        % (args.rounds, elapsed, out_md.relative_to(ROOT) if out_md.is_relative_to(ROOT) else out_md)
    )

    versions = {d: i["versions"] for d, i in infos.items()}
    pythons = sorted(set(i["python"] for i in infos.values()))
    md = [
        "# pyqldb side by side: the original 3.2.4 and ours",
        "",
        "Generated by `%s` on %s in %.0f s (%d rounds, %.1f s measured per workload, driver and round; medians)."
        % (cmd, finished, elapsed, args.rounds, args.seconds),
        "",
        "Machine: %d CPUs, %s, Linux %s; at start %s. Python %s."
        % (
            info["nproc"],
            info["cpu"],
            info["kernel"],
            info.get("note")
            or (
                "load average %.2f" % load[0]
                if busy is None
                else "%.0f%% of the CPUs busy (load average %.2f)" % (busy * 100, load[0])
            ),
            ", ".join(pythons),
        ),
        "",
    ]
    for d, vers in versions.items():
        md.append("- %s: %s" % (COLUMN[d], ", ".join("%s %s" % kv for kv in sorted(vers.items()))))
    md += [
        "- floor: `target/release/examples/load` (Rust, raw requests, no driver); its fixed start-up CPU is subtracted",
        "",
        markdown_table(rows),
        "",
        "Aims:",
        "",
    ]
    md += ["- %s %s: %s" % ("✔" if ok else "✘", aim, detail) for aim, ok, detail in goals]
    md += [
        "",
        "Notes: ours-embedded runs the ledger in the worker process, so its CPU includes the engine's. "
        "W3 plain rows compare with the original's IonPy values (it has no plain model). "
        "The floor's W2 inserts the same 10-field document (the load example's `--doc ten-field`). "
        'Ratios are "how many times": original ÷ ours-http for times and CPU, ours-http ÷ original for throughput; '
        "ours-http ÷ floor for times, floor ÷ ours-http for throughput.",
        "",
    ]
    out_md.write_text("\n".join(md))


if __name__ == "__main__":
    main()
