//! bursagb as tools see it (`payauth`, the demo, the workspace's tests):
//! see [`payauth_runtime::descriptor`].

use payauth_runtime::Error;
use payauth_runtime::descriptor::{
    About, Answered, Call, CallAuth, Described, Descriptor, Lifetimes, Values, Variable, answered,
    unknown_call, variable,
};
use payauth_runtime::provider::BoxFuture;

use crate::{Bursagb, Client, NAME, types};

const GET_CUSTOMER: Call = Call {
    operation: "get_customer",
    method: "GET",
    path: "/Customer/Get",
    auth: CallAuth::Bearer,
    retry_safe: true,
    needs: None,
};

const CREATE_ORDER: Call = Call {
    operation: "create_order",
    method: "POST",
    path: "/Orders/Create",
    auth: CallAuth::Bearer,
    retry_safe: false,
    needs: None,
};

const LIST_SUPPLIER_PRODUCTS: Call = Call {
    operation: "list_supplier_products",
    method: "POST",
    path: "/Supplier/Products/List",
    auth: CallAuth::ApiKey,
    // A listing: reads only.
    retry_safe: true,
    needs: Some("BURSAGB_API_KEY"),
};

/// bursagb, described.
pub static DESCRIPTOR: Descriptor = Descriptor::of::<Bursagb>(About {
    mechanism: "email + password (Generate Token) → JWT, sent as Bearer; an ApiKey header for the Payment and Supplier APIs",
    variables: &[
        Variable::required("BURSAGB_EMAIL", "reseller account email").sandbox("email"),
        Variable::required("BURSAGB_PASSWORD", "reseller account password")
            .secret()
            .sandbox("password"),
        Variable::optional("BURSAGB_API_KEY", "ApiKey of the Payment and Supplier APIs")
            .secret()
            .sandbox("api_key"),
        Variable::optional(
            "BURSAGB_REGION",
            "h-region-code (the provider's default: TR)",
        ),
        Variable::optional(
            "BURSAGB_FIELD_CASE",
            "`lower` for a brand whose Generate Token body says email/password",
        ),
    ],
    lifetimes: Lifetimes {
        // Not in the pages we have.
        access: None,
        refresh: None,
        expiry_from: "Expiration (a UTC date-time)",
    },
    probe: Some(LIST_SUPPLIER_PRODUCTS),
    example: GET_CUSTOMER,
    login_page_call: Some(CREATE_ORDER),
    callbacks: None,
});

impl Described for Bursagb {
    type Api = crate::generated::Client;

    fn run<'a>(
        client: &'a Client,
        call: &'a Call,
        _values: &'a Values,
    ) -> BoxFuture<'a, Result<Answered, Error>> {
        Box::pin(async move {
            match call.operation {
                "get_customer" => answered(client.get_customer().send().await),
                "create_order" => answered(
                    client
                        .create_order()
                        .body(
                            types::CreateOrderRequest::builder()
                                .customer_id("cust-0001")
                                .currency("TRY")
                                .items(vec![types::OrderItem {
                                    product_id: "p-1".into(),
                                    quantity: std::num::NonZeroU32::MIN,
                                }]),
                        )
                        .send()
                        .await,
                ),
                "list_supplier_products" => answered(
                    client
                        .list_supplier_products()
                        .body(types::ProductListRequest::builder().page(1))
                        .send()
                        .await,
                ),
                _ => Err(unknown_call(NAME, call)),
            }
        })
    }

    fn login_request(
        http: &reqwest::Client,
        base_url: &str,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let var = |k: &str| variable(NAME, get, k);
        let lower = var("BURSAGB_FIELD_CASE").is_ok_and(|c| c.eq_ignore_ascii_case("lower"));
        let (email, password) = (var("BURSAGB_EMAIL")?, var("BURSAGB_PASSWORD")?);
        let body = if lower {
            serde_json::json!({"email": email, "password": password})
        } else {
            serde_json::json!({"Email": email, "Password": password})
        };
        Ok(http
            .post(format!("{base_url}/Login/Customer/Api/Verify"))
            .json(&body))
    }
}
