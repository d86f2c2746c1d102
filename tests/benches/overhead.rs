//! `overhead` (issues #10, #25): what the SDK costs per request over raw
//! reqwest, against a loopback server that does almost nothing, so the
//! client's own work shows — in a child process (this binary again), so
//! the CPU time measured is the client's alone. 32 concurrent tasks.
//!
//! - `get`: `client.send(client.request(GET, …))` vs raw reqwest with a
//!   static `Authorization` header (both read the whole body); the SDK
//!   uses the HTTP client it builds, the raw side one with the same
//!   settings (`payauth_runtime::DEFAULT_TIMEOUT`, `DEFAULT_CONNECT_TIMEOUT`);
//! - `get, application's client`: the same, with the raw side's client
//!   given to the SDK (`.http_client(..)`): the SDK cannot know that client's
//!   timeouts, so it puts its per-attempt timeout on every request;
//! - `create_customer`: institution's typed `create_customer().send()` vs a
//!   raw POST with the same header, the body serialized and the answer
//!   deserialized with serde_json into the same generated types.
//!
//! Criterion times each path; then a table gives the throughput ratio
//! SDK / raw, the median of 15 rounds (5 moved by ±2.5 % between runs on
//! a 2-core VM, the code unchanged). In a round each path sends
//! `OVERHEAD_ROUND_REQUESTS` (default 20,000) in batches of
//! `OVERHEAD_CHUNK` (default 1,000) that alternate between the two, the
//! first path switching every batch: a shared machine's slow seconds fall
//! on both. The table also gives the CPU-time ratio raw / SDK of the same
//! batches (the client process's user + system time: what a request costs,
//! without the time the machine gives to others), and the pair ratio: the
//! median, over every batch of every round, of raw's batch time over the
//! SDK's batch run next to it — a slow moment of the machine spoils one
//! pair of a hundred, not a fifth of the rounds. `OVERHEAD_ROUNDS` sets
//! the rounds, `OVERHEAD_WORKERS` the client's runtime threads (2). The
//! first row measures raw reqwest against itself: how far from 1 this
//! machine's noise alone puts a ratio.
//!
//! Telemetry: the rows above run with telemetry off — the SDK
//! as built without the `otel` feature, but for one branch; `GET, otel, no
//! provider` with it on and no provider installed (the API's no-op ones:
//! what an application that enables the feature and installs none pays);
//! `GET, OTel SDK` with the OpenTelemetry SDK installed — every span
//! sampled and handed to a batch processor (its exporter discards), every
//! metric aggregated (exported once an hour).
//!
//! `cargo xtask bench` (or `cargo bench -p workspace-tests --bench overhead`,
//! `-- --table-only` for the table alone).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use criterion::{Criterion, criterion_group};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use institution::types::{CreateCustomerRequest, CreateCustomerResponse};
use payauth_runtime::Secret;
use reqwest::header::{AUTHORIZATION, HeaderValue};

const TASKS: usize = 32;
const MERCHANT: &str = "b34555b7-dca4-5ec1-ade3-64a3ad545310";

fn token() -> String {
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
        + 24 * 3600;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"bench","exp":{exp}}}"#));
    format!("{header}.{claims}.c2lnbmF0dXJl")
}

const CUSTOMER: &str = r#"{"data":{"id":"0b8f7a6e-6d55-4e4c-9f43-1c2d3e4f5a6b","email":"alex@example.com","createdAt":"2024-02-09T19:23:17.000Z"}}"#;
const OK: &str = r#"{"ok":true}"#;

/// The trivial server, in a child process (this binary again, with
/// `OVERHEAD_SERVE=1`), so that the CPU time measured is the client's
/// alone: a login answer for institution, a fixed customer, `{"ok":true}`
/// for anything else. The child prints its address, serves until its
/// standard input closes (the parent gone, however it ended), and is
/// killed by its pid when the fixture drops.
fn start_server() -> (SocketAddr, ServerProcess) {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(std::env::current_exe().expect("this binary"))
        .env("OVERHEAD_SERVE", "1")
        .env_remove("OVERHEAD_PROFILE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("server process");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("server stdout"))
        .read_line(&mut line)
        .expect("server address");
    let addr = line.trim().parse().expect("server prints its address");
    (addr, ServerProcess(child))
}

/// The server's process: killed (by its pid) and reaped on drop.
struct ServerProcess(std::process::Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The child's side of [`start_server`].
fn serve() {
    let login = Bytes::from(format!(
        r#"{{"data":{{"accessToken":"{}","expiresIn":{},"refreshToken":"r"}}}}"#,
        token(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs()
            + 24 * 3600
    ));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    listener.set_nonblocking(true).expect("nonblocking");
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{addr}").expect("print the address");
        out.flush().expect("flush");
    }
    // The parent gone (its end of our stdin closed): stop.
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let login = login.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let body = match (req.method(), req.uri().path()) {
                            (&Method::POST, "/v2/auth/login") => login.clone(),
                            (&Method::POST, "/v2/customer/create") => {
                                Bytes::from_static(CUSTOMER.as_bytes())
                            }
                            _ => Bytes::from_static(OK.as_bytes()),
                        };
                        async move {
                            // The request body is dropped unread, like a server
                            // that answers before looking at it.
                            let mut resp = Response::new(Full::new(body));
                            resp.headers_mut().insert(
                                hyper::header::CONTENT_TYPE,
                                hyper::header::HeaderValue::from_static("application/json"),
                            );
                            Ok::<_, Infallible>(resp)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    }
}

/// The raw side's client: the settings of the one the SDK builds.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(payauth_runtime::DEFAULT_TIMEOUT)
        .connect_timeout(payauth_runtime::DEFAULT_CONNECT_TIMEOUT)
        .build()
        .expect("reqwest client")
}

struct Fixture {
    /// The server's process, stopped with the fixture.
    _server: ServerProcess,
    base: String,
    raw: reqwest::Client,
    auth: HeaderValue,
    /// On the HTTP client it builds.
    sdk: institution::Client,
    /// On the application's client (`raw`).
    sdk_app_client: institution::Client,
    /// Telemetry on, no provider installed.
    sdk_noop: institution::Client,
    /// Reporting to the OpenTelemetry SDK.
    sdk_otel: institution::Client,
}

/// A span exporter that drops what it gets: the cost measured is the
/// SDK's, up to the exporter.
#[derive(Debug)]
struct Discard;

impl opentelemetry_sdk::trace::SpanExporter for Discard {
    async fn export(
        &self,
        batch: Vec<opentelemetry_sdk::trace::SpanData>,
    ) -> opentelemetry_sdk::error::OTelSdkResult {
        std::hint::black_box(batch);
        Ok(())
    }
}

fn sdk_telemetry() -> payauth_runtime::Telemetry {
    let tracer_provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(Discard)
        .build();
    let meter_provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
        // Aggregated all along; exported (into memory) once an hour.
        .with_reader(
            opentelemetry_sdk::metrics::PeriodicReader::builder(
                opentelemetry_sdk::metrics::InMemoryMetricExporter::default(),
            )
            .with_interval(Duration::from_secs(3600))
            .build(),
        )
        .build();
    payauth_runtime::Telemetry::with_providers(tracer_provider, meter_provider)
}

async fn sdk_client(
    base: &str,
    http: Option<reqwest::Client>,
    telemetry: payauth_runtime::Telemetry,
) -> institution::Client {
    let mut builder = institution::builder()
        .telemetry(telemetry)
        .base_url(base.to_string())
        .credentials(institution::Credentials::login(
            "owner@bench.test",
            Secret::new("bench-password"),
            MERCHANT,
        ))
        .shared_cache(false);
    if let Some(http) = http {
        builder = builder.http_client(http);
    }
    let sdk = builder.build().expect("institution client");
    // Log in once: the benchmark measures the cached-token path.
    sdk.bearer().await.expect("bench login");
    sdk
}

impl Fixture {
    async fn new() -> Fixture {
        let (addr, server) = start_server();
        let base = format!("http://{addr}");
        let raw = http();
        // The SDK as built without the `otel` feature (telemetry off: but
        // for one branch, the same code).
        let sdk = sdk_client(&base, None, payauth_runtime::Telemetry::off()).await;
        let sdk_app_client =
            sdk_client(&base, Some(raw.clone()), payauth_runtime::Telemetry::off()).await;
        // With `otel` and no provider installed: the API's no-op ones.
        let sdk_noop = sdk_client(&base, None, payauth_runtime::Telemetry::global()).await;
        let sdk_otel = sdk_client(&base, None, sdk_telemetry()).await;
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", token())).expect("header");
        auth.set_sensitive(true);
        Fixture {
            _server: server,
            base,
            raw,
            auth,
            sdk,
            sdk_app_client,
            sdk_noop,
            sdk_otel,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    RawGet,
    SdkGet,
    SdkGetAppClient,
    SdkGetNoop,
    SdkGetOtel,
    RawPost,
    SdkPost,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::RawGet => "raw reqwest GET",
            Path::SdkGet => "send(request(GET))",
            Path::SdkGetAppClient => "GET, application's client",
            Path::SdkGetNoop => "GET, otel, no provider",
            Path::SdkGetOtel => "GET, OTel SDK",
            Path::RawPost => "raw POST + serde_json",
            Path::SdkPost => "create_customer().send()",
        }
    }
}

fn customer() -> CreateCustomerRequest {
    CreateCustomerRequest::builder()
        .email("alex@example.com")
        .try_into()
        .expect("valid request")
}

async fn one(f: &Fixture, path: Path) {
    match path {
        Path::RawGet => {
            let resp = f
                .raw
                .get(format!("{}/sandbox/protected", f.base))
                .header(AUTHORIZATION, f.auth.clone())
                .send()
                .await
                .expect("raw GET");
            assert!(resp.status().is_success());
            let body = resp.bytes().await.expect("raw GET body");
            std::hint::black_box(body);
        }
        Path::SdkGet | Path::SdkGetAppClient | Path::SdkGetNoop | Path::SdkGetOtel => {
            let sdk = match path {
                Path::SdkGetAppClient => &f.sdk_app_client,
                Path::SdkGetNoop => &f.sdk_noop,
                Path::SdkGetOtel => &f.sdk_otel,
                _ => &f.sdk,
            };
            let resp = sdk
                .send(sdk.request(reqwest::Method::GET, "/sandbox/protected"))
                .await
                .expect("SDK GET");
            let body = resp.bytes().await.expect("SDK GET body");
            std::hint::black_box(body);
        }
        Path::RawPost => {
            let resp = f
                .raw
                .post(format!("{}/v2/customer/create", f.base))
                .header(AUTHORIZATION, f.auth.clone())
                .json(&customer())
                .send()
                .await
                .expect("raw POST");
            assert!(resp.status().is_success());
            let value: CreateCustomerResponse = resp.json().await.expect("raw POST body");
            std::hint::black_box(value);
        }
        Path::SdkPost => {
            let value = f
                .sdk
                .create_customer()
                .body(CreateCustomerRequest::builder().email("alex@example.com"))
                .send()
                .await
                .expect("typed POST");
            std::hint::black_box(value.into_inner());
        }
    }
}

/// `n` requests over [`TASKS`] concurrent tasks; the time they took.
async fn batch(f: &Arc<Fixture>, path: Path, n: u64) -> Duration {
    let per_task = n.div_ceil(TASKS as u64).max(1);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..TASKS {
        let f = Arc::clone(f);
        tasks.spawn(async move {
            for _ in 0..per_task {
                one(&f, path).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    // Time per request as if exactly `n` were sent.
    started
        .elapsed()
        .mul_f64(n as f64 / (per_task * TASKS as u64) as f64)
}

/// The client's runtime: 2 workers (`OVERHEAD_WORKERS` to change it; 1
/// shows what the cores' sharing of cache lines costs).
fn runtime() -> tokio::runtime::Runtime {
    let workers = std::env::var("OVERHEAD_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&w: &usize| w > 0)
        .unwrap_or(2);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("client runtime")
}

fn bench(c: &mut Criterion) {
    let rt = runtime();
    let f = Arc::new(rt.block_on(Fixture::new()));
    for (group, paths) in [
        ("overhead/get", [Path::RawGet, Path::SdkGet]),
        (
            "overhead/get_app_client",
            [Path::RawGet, Path::SdkGetAppClient],
        ),
        ("overhead/create_customer", [Path::RawPost, Path::SdkPost]),
    ] {
        let mut g = c.benchmark_group(group);
        g.throughput(criterion::Throughput::Elements(1));
        for path in paths {
            g.bench_function(path.name(), |b| {
                b.to_async(&rt).iter_custom(|iters| {
                    let f = Arc::clone(&f);
                    async move { batch(&f, path, iters).await }
                })
            });
        }
        g.finish();
    }
}

/// CPU time of this process so far, all threads, user and system.
fn cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(
        t.tv_sec.max(0) as u64,
        t.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// Wall and CPU time of `n` requests on each of two paths.
struct Pair {
    raw: Duration,
    sdk: Duration,
    raw_cpu: Duration,
    sdk_cpu: Duration,
    /// Per batch: the raw batch's time / the SDK batch's, the two run
    /// back to back (the SDK's throughput relative to raw's).
    pairs: Vec<f64>,
}

/// `n` requests on each path, in batches of `chunk` that alternate
/// (raw, SDK, SDK, raw, …; `sdk_first` swaps the order): what the machine
/// does to one path over more than a batch it does to the other too. The
/// second of two batches runs slower here (raw against raw: 0.95–0.98 when
/// raw always went second), so neither path is always second.
fn interleaved(
    rt: &tokio::runtime::Runtime,
    f: &Arc<Fixture>,
    raw: Path,
    sdk: Path,
    n: u64,
    chunk: u64,
    sdk_first: bool,
) -> Pair {
    let mut m = Pair {
        raw: Duration::ZERO,
        sdk: Duration::ZERO,
        raw_cpu: Duration::ZERO,
        sdk_cpu: Duration::ZERO,
        pairs: Vec::new(),
    };
    let chunk = chunk.clamp(TASKS as u64, n.max(TASKS as u64));
    let batches = n.div_ceil(chunk);
    for i in 0..batches {
        let size = chunk.min(n - i * chunk);
        let order = if (i % 2 == 0) != sdk_first {
            [(raw, false), (sdk, true)]
        } else {
            [(sdk, true), (raw, false)]
        };
        let (mut raw_wall, mut sdk_wall) = (Duration::ZERO, Duration::ZERO);
        for (path, is_sdk) in order {
            let c0 = cpu_time();
            let wall = rt.block_on(batch(f, path, size));
            let cpu = cpu_time() - c0;
            if is_sdk {
                m.sdk += wall;
                m.sdk_cpu += cpu;
                sdk_wall = wall;
            } else {
                m.raw += wall;
                m.raw_cpu += cpu;
                raw_wall = wall;
            }
        }
        m.pairs
            .push(raw_wall.as_secs_f64() / sdk_wall.as_secs_f64().max(f64::MIN_POSITIVE));
    }
    m
}

/// The issue's measure: alternating rounds of each pair (15 unless
/// `OVERHEAD_ROUNDS` says), throughput
/// ratio SDK / raw per round, the median.
fn ratio_table() {
    let n: u64 = std::env::var("OVERHEAD_ROUND_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let rounds_wanted: usize = std::env::var("OVERHEAD_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(15);
    let chunk: u64 = std::env::var("OVERHEAD_CHUNK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let rt = runtime();
    let f = Arc::new(rt.block_on(Fixture::new()));
    println!(
        "\noverhead: throughput SDK / raw, {TASKS} tasks, median of {rounds_wanted} rounds of {n} requests a path, alternating in batches of {chunk}"
    );
    println!(
        "{:<26} {:>12} {:>12} {:>8} {:>9} {:>10}",
        "path", "raw req/s", "SDK req/s", "ratio", "CPU ratio", "pair ratio"
    );
    for (raw, sdk) in [
        // Raw against itself: the spread this machine gives a ratio of 1.
        (Path::RawGet, Path::RawGet),
        (Path::RawGet, Path::SdkGet),
        (Path::RawGet, Path::SdkGetAppClient),
        (Path::RawPost, Path::SdkPost),
        (Path::RawGet, Path::SdkGetNoop),
        (Path::RawGet, Path::SdkGetOtel),
    ] {
        // Warm both paths (connections, allocator) before measuring.
        rt.block_on(batch(&f, raw, n / 10));
        rt.block_on(batch(&f, sdk, n / 10));
        let mut rounds: Vec<(f64, f64)> = Vec::new();
        // CPU time of the whole process (client and server) per round:
        // time the machine gives to others does not count in it.
        let mut cpu_ratios: Vec<f64> = Vec::new();
        let mut pairs: Vec<f64> = Vec::new();
        for round in 0..rounds_wanted {
            let m = interleaved(&rt, &f, raw, sdk, n, chunk, round % 2 == 1);
            pairs.extend(&m.pairs);
            rounds.push((
                n as f64 / m.raw.as_secs_f64(),
                n as f64 / m.sdk.as_secs_f64(),
            ));
            cpu_ratios.push(m.raw_cpu.as_secs_f64() / m.sdk_cpu.as_secs_f64());
        }
        let mut ratios: Vec<f64> = rounds.iter().map(|(r, s)| s / r).collect();
        ratios.sort_by(f64::total_cmp);
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let cpu = median(cpu_ratios);
        let pair = median(pairs);
        let name = if raw == sdk {
            "raw GET / raw GET (noise)"
        } else {
            sdk.name()
        };
        println!(
            "{:<26} {:>12.0} {:>12.0} {:>7.3}× {:>8.3}× {:>9.3}×   (rounds: {})",
            name,
            median(rounds.iter().map(|x| x.0).collect()),
            median(rounds.iter().map(|x| x.1).collect()),
            ratios[ratios.len() / 2],
            cpu,
            pair,
            ratios
                .iter()
                .map(|r| format!("{r:.3}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
}

criterion_group!(benches, bench);

/// `OVERHEAD_PROFILE=raw_get|sdk_get|sdk_get_app_client|sdk_get_noop|sdk_get_otel|raw_post|sdk_post`: only that path,
/// `OVERHEAD_ROUND_REQUESTS` times, for a profiler (callgrind, perf).
fn profile(which: &str) {
    let path = match which {
        "raw_get" => Path::RawGet,
        "sdk_get" => Path::SdkGet,
        "sdk_get_app_client" => Path::SdkGetAppClient,
        "sdk_get_noop" => Path::SdkGetNoop,
        "sdk_get_otel" => Path::SdkGetOtel,
        "raw_post" => Path::RawPost,
        "sdk_post" => Path::SdkPost,
        other => {
            panic!(
                "OVERHEAD_PROFILE={other}: expected raw_get, sdk_get, sdk_get_app_client, raw_post or sdk_post"
            )
        }
    };
    let n: u64 = std::env::var("OVERHEAD_ROUND_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let rt = runtime();
    let f = Arc::new(rt.block_on(Fixture::new()));
    let took = rt.block_on(batch(&f, path, n));
    println!("{}: {n} requests in {took:?}", path.name());
}

fn main() {
    if std::env::var_os("OVERHEAD_SERVE").is_some() {
        serve();
        return;
    }
    if let Ok(which) = std::env::var("OVERHEAD_PROFILE") {
        profile(&which);
        return;
    }
    // `cargo bench -- --table-only` skips criterion and prints the table.
    let table_only = std::env::args().any(|a| a == "--table-only");
    if !table_only {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }
    // `cargo test --benches` runs this binary in test mode: stay quick.
    if std::env::args().any(|a| a == "--bench") || table_only {
        ratio_table();
    }
}
