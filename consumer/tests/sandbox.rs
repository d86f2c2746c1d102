//! The application's own tests, against the sandbox as a dev-dependency:
//! several tests, each on its own Tokio runtime, all on the SDKs' default
//! shared token cache.

use payments_app::{Accounts, one_call_each};
use payauth_sandbox::{Provider, Sandbox};

fn accounts(sb: &Sandbox) -> Accounts {
    let url = |p| sb.base_url(p);
    let creds = sb.credentials(Provider::Exirom);
    let merchant_key = creds.text("merchant_key").to_owned();
    let merchant_secret = creds.text("merchant_secret").to_owned();
    let creds = sb.credentials(Provider::Institution);
    let email = creds.text("email").to_owned();
    let password = creds.text("password").to_owned();
    let merchant_id = creds.text("merchant_id").to_owned();
    let creds = sb.credentials(Provider::Pledg);
    let api_key = creds.text("api_key").to_owned();
    let api_secret = creds.text("api_secret").to_owned();
    let creds = sb.credentials(Provider::Bursagb);
    let b_email = creds.text("email").to_owned();
    let b_password = creds.text("password").to_owned();
    let creds = sb.credentials(Provider::Axept);
    let a_merchant = creds.int("merchant_id");
    let key_id = creds.int("key_id");
    let key = creds.text("key").to_owned();
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
