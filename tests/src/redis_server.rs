//! A throwaway `redis-server` (or `valkey-server`) for one test: its own
//! loopback port, no persistence, killed on drop. Needs the server on
//! `PATH` (`cargo xtask test` installs `redis-server`, `redis-tools`,
//! `valkey-server` and `valkey-tools`; see `cargo xtask deps`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a start waits for the server to answer `PING`.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// Which server a test runs: Redis, or Valkey (the same flags, the same
/// protocol; its own binaries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Redis,
    Valkey,
}

impl Engine {
    /// The server binary.
    pub fn server(self) -> &'static str {
        match self {
            Engine::Redis => "redis-server",
            Engine::Valkey => "valkey-server",
        }
    }

    /// Its command-line client.
    pub fn cli(self) -> &'static str {
        match self {
            Engine::Redis => "redis-cli",
            Engine::Valkey => "valkey-cli",
        }
    }
}

/// A running (or deliberately killed) `redis-server` or `valkey-server`.
#[derive(Debug)]
pub struct RedisServer {
    engine: Engine,
    port: u16,
    child: Option<Child>,
    /// Extra `redis-server` arguments (TLS, cluster…).
    extra: Vec<String>,
    /// `redis-cli` arguments that reach it (`--tls --cacert …`).
    cli: Vec<String>,
}

impl RedisServer {
    /// Start a `redis-server` on a free loopback port and wait until it
    /// answers.
    ///
    /// # Panics
    /// If `redis-server` is missing or does not come up.
    pub fn start() -> RedisServer {
        Self::start_engine(Engine::Redis, |_| (Vec::new(), Vec::new()))
    }

    /// Start a `redis-server` with extra arguments: `args(port)` gives the
    /// `redis-server` arguments and the `redis-cli` ones that reach it.
    ///
    /// # Panics
    /// If `redis-server` is missing or does not come up.
    pub fn start_with(args: impl Fn(u16) -> (Vec<String>, Vec<String>)) -> RedisServer {
        Self::start_engine(Engine::Redis, args)
    }

    /// [`RedisServer::start_with`] for either engine.
    ///
    /// # Panics
    /// If the server is missing or does not come up.
    pub fn start_engine(
        engine: Engine,
        args: impl Fn(u16) -> (Vec<String>, Vec<String>),
    ) -> RedisServer {
        // Another test may grab the port between our probe and the spawn:
        // try a few ports before giving up.
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let (extra, cli) = args(port);
            let mut server = RedisServer {
                engine,
                port,
                child: None,
                extra,
                cli,
            };
            match server.spawn() {
                Ok(()) => return server,
                Err(e) => last = e,
            }
        }
        panic!("could not start {}: {last}", engine.server());
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn tls(&self) -> bool {
        self.extra.iter().any(|a| a == "--tls-port")
    }

    /// `redis://127.0.0.1:PORT` (`rediss://` for a TLS server)
    pub fn url(&self) -> String {
        let scheme = if self.tls() { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Run `redis-cli` (`valkey-cli`) against this server; its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        redis_cli(self.engine, self.port, &self.cli, args).unwrap_or_default()
    }

    /// Stop the server at once (SIGKILL): clients see connections drop and
    /// the port refuse. Its data is gone (no persistence).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start an empty server again on the same port.
    ///
    /// # Panics
    /// If it does not come up.
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            match self.spawn() {
                Ok(()) => return,
                Err(e) if Instant::now() >= deadline => {
                    panic!(
                        "could not restart {} on port {}: {e}",
                        self.engine.server(),
                        self.port
                    )
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    fn spawn(&mut self) -> Result<(), String> {
        let port = if self.tls() {
            "0".to_string()
        } else {
            self.port.to_string()
        };
        let server = self.engine.server();
        let mut child = Command::new(server)
            .args(["--port", &port])
            .args(["--bind", "127.0.0.1"])
            .args(&self.extra)
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("cannot run {server} ({e}); install it with `cargo xtask deps`")
            })?;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("{server} exited early ({status})"));
            }
            let up = if self.cli.is_empty() {
                ping(self.port)
            } else {
                redis_cli(self.engine, self.port, &self.cli, &["PING"])
                    .is_some_and(|o| o.trim() == "PONG")
            };
            if up {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{server} did not answer PING in time"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port that was free a moment ago, whose cluster bus port (+10000)
/// was free too.
pub fn free_port() -> u16 {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

/// `redis-cli -p PORT <cli> <args>` (`valkey-cli` for Valkey): stdout, or
/// `None` if it failed.
pub fn redis_cli(engine: Engine, port: u16, cli: &[String], args: &[&str]) -> Option<String> {
    let out = Command::new(engine.cli())
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(cli)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether a server on `port` answers `PING` with `+PONG`.
fn ping(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    let mut read = 0;
    while read < buf.len() {
        match stream.read(&mut buf[read..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    buf[..read].starts_with(b"+PONG")
}
