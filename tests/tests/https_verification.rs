//! The HTTP client an SDK builds itself verifies the provider's certificate
//! (one TLS configuration per process, `base/http/tls.rs`): a server whose
//! certificate authority the system does not trust is refused at once as
//! a configuration error, and the same server answers a client that
//! trusts it.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use workspace_tests::redis_access::Pki;

/// `openssl s_server -www` on 127.0.0.1 with the test CA's server
/// certificate; stopped (by its pid) when dropped.
struct TlsServer {
    child: Child,
    port: u16,
}

impl TlsServer {
    fn start(pki: &Pki) -> TlsServer {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .args([
                "-cert",
                &pki.path("server.crt"),
                "-key",
                &pki.path("server.key"),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        // Readiness of another process: polled (no clock to simulate), and
        // given up at once if it exits (the port taken meanwhile, say).
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("openssl s_server exited before listening: {status}");
            }
            assert!(Instant::now() < deadline, "s_server never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
        TlsServer { child, port }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn an_sdk_built_client_refuses_an_untrusted_certificate_that_a_trusting_client_accepts() {
    let pki = Pki::generate();
    let server = TlsServer::start(&pki);

    // The SDK's own client: the system's roots, which do not include the test CA.
    let client = exirom::builder()
        .base_url(server.url())
        .credentials(exirom::Credentials::new("key", "secret"))
        .build()
        .expect("a client");
    // Refused at once, as a configuration error: another attempt would be
    // refused the same way.
    let refused = client.bearer().await.expect_err("an untrusted certificate");
    assert_eq!(refused.kind(), exirom::ErrorKind::Config, "{refused:?}");
    assert_eq!(refused.attempts(), 1, "{refused:?}");
    assert!(
        refused.to_string().contains("certificate is not trusted"),
        "{refused}"
    );
    assert!(
        format!("{refused:?}").contains("UnknownIssuer"),
        "refused for its issuer: {refused:?}"
    );

    // The same server, to a client that trusts the test CA: it answers.
    let ca = std::fs::read(pki.path("ca.crt")).expect("the CA");
    let trusting = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).expect("a PEM certificate")])
        .build()
        .expect("a client");
    let answer = trusting
        .get(format!("{}/", server.url()))
        .send()
        .await
        .expect("the trusted server answers");
    assert_eq!(answer.status(), 200);
}
