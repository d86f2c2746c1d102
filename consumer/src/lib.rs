//! A small payments application: one typed call per provider, through
//! clients built the way an application builds them.

use std::error::Error;

/// Where each provider is, and the credentials for it.
pub struct Accounts {
    pub exirom: (String, exirom::Credentials),
    pub institution: (String, institution::Credentials),
    /// Base URL, credentials, and the merchant's uid of purchase links.
    pub pledg: (String, pledg::Credentials, String),
    pub bursagb: (String, bursagb::Credentials),
    pub axept: (String, axept::Credentials),
}

type AnyError = Box<dyn Error + Send + Sync>;

/// One typed operation per provider; what each answered, in words.
pub async fn one_call_each(a: Accounts) -> Result<Vec<String>, AnyError> {
    let mut out = Vec::new();

    let exirom = exirom::builder()
        .base_url(a.exirom.0)
        .credentials(a.exirom.1)
        .build()?;
    let status = exirom
        .get_card_payment_status()
        .id("txn_unknown")
        .send()
        .await;
    // A typed error for an unknown payment: the kind survives.
    match status {
        Err(e) if e.kind() == payauth_runtime::ErrorKind::NotFound => {
            out.push("exirom: unknown payment is NotFound".to_string())
        }
        other => return Err(format!("exirom: {other:?}").into()),
    }

    let institution = institution::builder()
        .base_url(a.institution.0)
        .credentials(a.institution.1)
        .build()?;
    let created = institution
        .create_customer()
        .body(institution::types::CreateCustomerRequest::builder().email("app@example.com"))
        .send()
        .await?;
    out.push(format!(
        "institution: customer {}",
        created.into_inner().data.id
    ));

    let pledg = pledg::builder()
        .base_url(a.pledg.0)
        .credentials(a.pledg.1)
        .build()?;
    let merchant = a.pledg.2;
    let link = pledg
        .create_purchase_link()
        .body(serde_json::from_value::<pledg::types::PurchaseLinkRequest>(
            serde_json::json!({"merchant_uid": merchant, "title": "Sofa", "reference": "order-1", "amount_cents": 129900, "currency": "EUR"}),
        )?)
        .send()
        .await?;
    out.push(format!("pledg: purchase link {}", link.into_inner().uid));

    let bursagb = bursagb::builder()
        .base_url(a.bursagb.0)
        .credentials(a.bursagb.1)
        .build()?;
    let customer = bursagb.get_customer().send().await?;
    out.push(format!(
        "bursagb: customer {}",
        customer.into_inner().data.customer_id
    ));

    let axept = axept::builder()
        .base_url(a.axept.0)
        .credentials(a.axept.1)
        .build()?;
    let page = axept.list_transactions().send().await?;
    out.push(format!("axept: {} transactions", page.into_inner().len()));
    Ok(out)
}
