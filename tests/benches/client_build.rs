//! What building a client costs: an SDK client (`exirom::builder()…build()`,
//! its TLS from the one configuration per process) against a `reqwest`
//! client left to configure TLS itself — what the SDK built for every
//! client before, loading the system's certificate authorities each time.
//! Both in the same run: read the ratio.
//!
//! `cargo bench -p workspace-tests --bench client_build`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("client_build");
    group.bench_function("reqwest_default_tls (the SDK's build before)", |b| {
        b.iter(|| black_box(reqwest::Client::builder().build().expect("a client")));
    });
    group.bench_function("sdk_client (shared TLS configuration)", |b| {
        b.iter(|| {
            black_box(
                exirom::builder()
                    .base_url("https://api.exirom.example/api")
                    .credentials(exirom::Credentials::new("key", "secret"))
                    .build()
                    .expect("a client"),
            )
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
