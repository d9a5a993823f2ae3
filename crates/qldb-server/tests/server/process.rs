//! The built `qldb-local` binary: the first stdout line, SIGTERM/SIGINT with a request in
//! flight (it completes, the process exits 0), a restart on the same data directory with the
//! committed data present, and command-line errors.

use crate::support::*;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_qldb-local");

struct Proc {
    child: Child,
    addr: SocketAddr,
    first_line: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(args: &[&str]) -> Proc {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .env("QLDB_LOCAL_LOG", "warn")
        .spawn()
        .expect("spawn qldb-local");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).expect("first line");
    let line = line.trim_end().to_string();
    let rest = line
        .strip_prefix("qldb-local listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let (addr, _) = rest.split_once(' ').unwrap();
    Proc {
        child,
        addr: addr.parse().unwrap(),
        first_line: line,
    }
}

fn signal(p: &Proc, sig: libc::c_int) {
    let rc = unsafe { libc::kill(p.child.id() as libc::pid_t, sig) };
    assert_eq!(rc, 0);
}

fn wait_exit(p: &mut Proc, timeout: Duration) -> i32 {
    let t0 = Instant::now();
    loop {
        if let Some(status) = p.child.try_wait().unwrap() {
            return status.code().expect("exited, not killed");
        }
        assert!(t0.elapsed() < timeout, "no exit within {timeout:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_finishes_requests_in_flight_and_data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_str = data.to_str().unwrap();
    let mut p = spawn(&["--data", data_str, "--port", "0", "--create-ledger", "proc"]);
    assert_eq!(
        p.first_line,
        format!(
            "qldb-local listening on http://{} (data: {data_str})",
            p.addr
        )
    );
    assert_eq!(p.addr.ip().to_string(), "127.0.0.1");
    assert_ne!(p.addr.port(), 0);

    let mut s = Session::start(p.addr, "proc");
    s.run("CREATE TABLE Car", &[]).unwrap();
    s.run("INSERT INTO Car ?", &[ion("{vin: \"first\"}")])
        .unwrap();

    // A commit held in flight by a delay when SIGTERM arrives still completes.
    let mut admin = Http::new(p.addr);
    let r = admin
        .request(
            "POST",
            "/_qldb_local/faults",
            &[],
            json!({"command": "CommitTransaction", "nth": 1, "reaction": "delay=800"})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
    assert_eq!(r.status, 200);
    let mut txn = s.begin().unwrap();
    s.execute(
        &mut txn,
        "INSERT INTO Car ?",
        &[ion("{vin: \"in-flight\"}")],
    )
    .unwrap();
    let committer = std::thread::spawn(move || s.commit(&txn).map(|_| ()));
    std::thread::sleep(Duration::from_millis(250));
    signal(&p, libc::SIGTERM);
    assert_eq!(
        committer.join().unwrap(),
        Ok(()),
        "the in-flight commit completes"
    );
    assert_eq!(wait_exit(&mut p, Duration::from_secs(20)), 0);
    assert!(
        std::net::TcpStream::connect(p.addr).is_err(),
        "no longer accepting after shutdown"
    );

    // Restart on the same directory: both documents are there.
    let mut p = spawn(&["--data", data_str, "--port", "0", "--create-ledger", "proc"]);
    let mut s = Session::start(p.addr, "proc");
    let mut vins: Vec<String> = s
        .run("SELECT VALUE vin FROM Car", &[])
        .unwrap()
        .iter()
        .map(|e| e.as_text().unwrap().to_string())
        .collect();
    vins.sort();
    assert_eq!(vins, ["first", "in-flight"]);
    signal(&p, libc::SIGINT);
    assert_eq!(wait_exit(&mut p, Duration::from_secs(20)), 0);
}

#[test]
fn memory_banner_options_and_cli_errors() {
    let mut p = spawn(&[
        "--memory",
        "--port",
        "0",
        "--create-ledger",
        "one",
        "--create-ledger",
        "two",
        "--transaction-timeout",
        "0.3",
        "--fault",
        "EndSession:*:rate",
        "--max-body-bytes",
        "1000",
    ]);
    assert!(p.first_line.ends_with("(data: memory)"), "{}", p.first_line);
    let mut http = Http::new(p.addr);
    let r = http.request("GET", "/ledgers", &[], b"").unwrap();
    let names: Vec<String> = r.json()["Ledgers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["Name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["one", "two"]);
    let mut s = Session::start(p.addr, "one");
    let mut txn = s.begin().unwrap();
    std::thread::sleep(Duration::from_millis(400));
    let f = s
        .execute(
            &mut txn,
            "SELECT * FROM information_schema.user_tables",
            &[],
        )
        .err()
        .unwrap();
    assert_eq!(f.2, format!("Transaction {} has expired", txn.id));
    let mut s = Session::start(p.addr, "two");
    assert_eq!(
        s.command("EndSession", json!({})).error().1,
        "RateExceededException"
    );
    assert_eq!(
        http.request("POST", "/ledgers", &[], &[b' '; 1001])
            .unwrap()
            .status,
        413
    );
    signal(&p, libc::SIGTERM);
    assert_eq!(wait_exit(&mut p, Duration::from_secs(20)), 0);

    // The default is memory.
    let p = spawn(&["--port", "0"]);
    assert!(p.first_line.ends_with("(data: memory)"), "{}", p.first_line);
    drop(p);

    // Command-line errors exit non-zero before printing the banner.
    for args in [
        &["--memory", "--data", "/tmp/x"][..],
        &["--fault", "Nope:1:occ"],
        &["--fault", "CommitTransaction:1:boom"],
        &["--auth", "nocolon"],
        &["--transaction-timeout", "-1"],
        &["--create-ledger", "bad_name", "--port", "0"],
        &["--auth-file", "/nonexistent/keys", "--port", "0"],
    ] {
        let out = Command::new(BIN)
            .arg("serve")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(
            out.stdout.is_empty(),
            "{args:?} printed {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn auth_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::write(&keys, "# local keys\nAKIDFILE:file-secret\n").unwrap();
    let p = spawn(&[
        "--port",
        "0",
        "--auth-file",
        keys.to_str().unwrap(),
        "--create-ledger",
        "a",
    ]);
    let mut http = Http::new(p.addr);
    let r = http.request("GET", "/ledgers", &[], b"").unwrap();
    assert_eq!(r.error().0, 403);
}
