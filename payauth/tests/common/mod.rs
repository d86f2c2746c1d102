//! Running `payauth` as a user runs it: `payauth sandbox --port 0`
//! (started by the test, stopped by its pid), the variables it prints, the
//! lines it logs after, and the binary run with exactly those variables.

#![allow(dead_code)] // each test binary uses a part

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use payauth::providers;

pub const BIN: &str = env!("CARGO_BIN_EXE_payauth");

/// How many variables `payauth sandbox` prints: every one a descriptor
/// fills from the sandbox, and `PAYAUTH_SANDBOX_URL`.
pub fn sandbox_variables() -> usize {
    providers::ALL
        .iter()
        .flat_map(|d| d.variables())
        .filter(|v| v.sandbox_field.is_some())
        .count()
        + 1
}

/// `payauth sandbox --port 0`, its root URL, the variables it printed and
/// the lines it logged since (read on by a thread: the pipe never fills).
pub struct Sandbox {
    pub child: Child,
    pub root: String,
    pub env: HashMap<String, String>,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Sandbox {
    /// The first logged line `wanted` accepts, waiting up to 20 s for it.
    pub fn line(&self, wanted: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            if let Some(line) = self.log.lock().unwrap().iter().find(|l| wanted(l)) {
                return line.clone();
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no such line in the sandbox's log:\n{}",
                self.log.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn sandbox() -> Sandbox {
    sandbox_with(&[])
}

/// `payauth sandbox --port 0` with more arguments (`--forward-to URL`).
pub fn sandbox_with(args: &[&str]) -> Sandbox {
    let mut child = Command::new(BIN)
        .args(["sandbox", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("payauth sandbox starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut env = HashMap::new();
    let mut root = String::new();
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.expect("a line");
        if line.starts_with("# ready") {
            break;
        }
        if let Some(at) = line.strip_prefix("# payauth sandbox: ") {
            let url = at.split(" at ").nth(1).expect("the root URL");
            root = url.split_whitespace().next().expect("a URL").to_string();
        }
        if let Some(rest) = line.strip_prefix("export ") {
            let (k, v) = rest.split_once('=').expect("k=v");
            env.insert(k.to_string(), v.trim_matches('\'').to_string());
        }
    }
    assert_eq!(
        env.len(),
        sandbox_variables(),
        "every provider's variables: {env:?}"
    );
    assert!(!env.is_empty());
    assert!(root.starts_with("http://127.0.0.1:"), "{root}");
    assert_eq!(env["PAYAUTH_SANDBOX_URL"], root);
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    Sandbox {
        child,
        root,
        env,
        log,
    }
}

pub fn run(args: &[&str], env: &HashMap<String, String>, stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .envs(env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("payauth runs");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or_default())
        .expect("stdin written");
    drop(input);
    child.wait_with_output().expect("payauth ends")
}

/// stdout and stderr.
pub fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The variables a descriptor marks secret.
pub fn is_secret(name: &str) -> bool {
    providers::ALL
        .iter()
        .flat_map(|d| d.variables())
        .any(|v| v.name == name && v.secret)
}

/// No secret variable's value of `env` and no JWT in `printed`.
pub fn no_secret(printed: &str, env: &HashMap<String, String>) {
    for (k, v) in env {
        if is_secret(k) {
            assert!(!printed.contains(v.as_str()), "{k} printed:\n{printed}");
        }
    }
    assert!(!printed.contains("eyJ"), "a JWT printed:\n{printed}");
}

/// stdout as `{"error": {"kind", "message", "hint"}}`: the error's kind.
pub fn json_error(out: &Output) -> String {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("JSON on stdout ({e}): {}", text(out)));
    let error = v
        .get("error")
        .and_then(|e| e.as_object())
        .unwrap_or_else(|| panic!("an error object: {v}"));
    let mut keys: Vec<&str> = error.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["hint", "kind", "message"], "{v}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{v}"
    );
    assert!(error["hint"].is_null() || error["hint"].is_string(), "{v}");
    let kind = error["kind"].as_str().expect("a kind").to_string();
    assert!(
        !kind.is_empty() && kind.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
        "snake_case: {kind}"
    );
    kind
}

/// A scratch directory for this test binary.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("payauth-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// One HTTP request received on a loopback port: its headers and body.
pub fn receive_one() -> (String, std::thread::JoinHandle<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!("http://{}/callbacks", listener.local_addr().expect("addr"));
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("a connection");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut headers = String::new();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("a header line");
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().expect("a length");
            }
            headers.push_str(&line);
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("the body");
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .expect("answered");
        (headers, body)
    });
    (url, handle)
}
