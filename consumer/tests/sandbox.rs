//! The application's own tests, against the sandbox as a dev-dependency:
//! several tests, each on its own Tokio runtime, all on the SDKs' default
//! shared token cache.

use payments_app::{Accounts, one_call_each};
use sandbox::{Credentials, Provider, Sandbox};

fn accounts(sb: &Sandbox) -> Accounts {
    let url = |p| sb.base_url(p);
    let Credentials::Exirom {
        merchant_key,
        merchant_secret,
    } = sb.credentials(Provider::Exirom)
    else {
        unreachable!()
    };
    let Credentials::Institution {
        email,
        password,
        merchant_id,
        ..
    } = sb.credentials(Provider::Institution)
    else {
        unreachable!()
    };
    let Credentials::Pledg {
        api_key,
        api_secret,
    } = sb.credentials(Provider::Pledg)
    else {
        unreachable!()
    };
    let Credentials::Bursagb {
        email: b_email,
        password: b_password,
        ..
    } = sb.credentials(Provider::Bursagb)
    else {
        unreachable!()
    };
    let Credentials::Axept {
        merchant_id: a_merchant,
        key_id,
        key,
    } = sb.credentials(Provider::Axept)
    else {
        unreachable!()
    };
    Accounts {
        exirom: (
            url(Provider::Exirom),
            exirom::Credentials::new(merchant_key, merchant_secret),
        ),
        institution: (
            url(Provider::Institution),
            institution::Credentials::login(email, password, merchant_id),
        ),
        pledg: (
            url(Provider::Pledg),
            pledg::Credentials::new(api_key, api_secret).secret_key(sb.pledg_secret_key()),
            sb.pledg_merchant_uid(),
        ),
        bursagb: (
            url(Provider::Bursagb),
            bursagb::Credentials::new(b_email, b_password),
        ),
        axept: (
            url(Provider::Axept),
            axept::Credentials::new(a_merchant, key_id, key),
        ),
    }
}

async fn run_once() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let said = one_call_each(accounts(&sb))
        .await
        .expect("every provider answers");
    assert_eq!(said.len(), 5, "{said:?}");
    assert!(said[0].contains("NotFound"), "{said:?}");
    sb.shutdown().await;
}

#[tokio::test]
async fn first_runtime() {
    run_once().await;
}

#[tokio::test]
async fn second_runtime() {
    run_once().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn third_runtime_multi_threaded() {
    run_once().await;
}
