//! The spec lint: the real specs lint clean and parse, every rule fires on its
//! fixture (and only there), and garbage input is a `parse` error, not a panic.

use std::path::{Path, PathBuf};

use codegen::lint::{LintError, lint_str};

const SPECS: &[&str] = &["exirom", "institution", "pledg", "bursagb", "axept"];

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn spec_path(name: &str) -> PathBuf {
    manifest_dir().join("../specs").join(format!("{name}.yaml"))
}

fn fixture_path(name: &str) -> PathBuf {
    manifest_dir().join("lint-fixtures").join(name)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn lint_fixture(name: &str) -> Vec<LintError> {
    lint_str(name, &read(&fixture_path(name)))
}

fn show(errors: &[LintError]) -> String {
    errors.iter().map(|e| format!("  {e}\n")).collect()
}

/// Exactly one error, of `rule`, at `pointer`, whose message names the file.
fn assert_single(name: &str, rule: &str, pointer: &str) {
    let errors = lint_fixture(name);
    assert_eq!(
        errors.len(),
        1,
        "{name}: expected exactly one error, got:\n{}",
        show(&errors)
    );
    let error = &errors[0];
    assert_eq!(error.rule, rule, "{name}: wrong rule:\n{}", show(&errors));
    assert_eq!(
        error.pointer,
        pointer,
        "{name}: wrong pointer:\n{}",
        show(&errors)
    );
    assert_eq!(error.file, name);
    assert!(
        error.message.contains(name),
        "{name}: message does not name the file: {}",
        error.message
    );
    assert_eq!(
        error.to_string(),
        format!("{name}: {pointer}: [{rule}] {}", error.message)
    );
}

#[test]
fn real_specs_lint_clean() {
    let mut report = String::new();
    for name in SPECS {
        let file = format!("specs/{name}.yaml");
        let errors = lint_str(&file, &read(&spec_path(name)));
        report.push_str(&show(&errors));
    }
    assert!(report.is_empty(), "specs fail lint:\n{report}");
}

#[test]
fn real_specs_parse_with_openapiv3() {
    for name in SPECS {
        let yaml = read(&spec_path(name));
        let spec: openapiv3::OpenAPI = serde_yaml::from_str(&yaml)
            .unwrap_or_else(|e| panic!("specs/{name}.yaml does not parse with openapiv3: {e}"));
        assert!(spec.openapi.starts_with("3.0."), "{name}: {}", spec.openapi);
        for (path, method, op) in spec.operations() {
            assert!(
                op.operation_id.is_some(),
                "{name}: {method} {path} has no operationId"
            );
            assert!(
                op.security.is_some(),
                "{name}: {method} {path} has no security"
            );
        }
    }
}

/// The operation ids, paths and schema names other code relies on.
#[test]
fn real_specs_keep_the_agreed_names() {
    /// (spec, [(operationId, path)], security schemes, schemas)
    type Expected<'a> = (
        &'a str,
        &'a [(&'a str, &'a str)],
        &'a [&'a str],
        &'a [&'a str],
    );
    let expected: &[Expected] = &[
        (
            "exirom",
            &[
                ("authenticate", "/v1/auth"),
                ("create_card_payment", "/v1/payments/card"),
                ("get_card_payment_status", "/v1/payments/card/status/{id}"),
                ("create_apm_payment", "/v1/payments/apm"),
                ("create_card_payout", "/v1/payouts/card"),
                ("get_card_payout_info", "/v1/payouts/card/info/{id}"),
                ("get_apm_payment_info", "/v1/payments/apm/info/{id}"),
            ],
            &["bearerAuth"],
            &[
                "AuthRequest",
                "AuthResponse",
                "AuthTokenObject",
                "ErrorResponse",
            ],
        ),
        (
            "institution",
            &[
                ("login", "/v2/auth/login"),
                ("refresh_token", "/v2/auth/refresh"),
                ("create_customer", "/v2/customer/create"),
            ],
            &["bearerAuth", "apiKeyAuth"],
            &[
                "LoginRequest",
                "RefreshRequest",
                "TokenEnvelope",
                "TokenData",
                "ErrorEnvelope",
                "ErrorItem",
                "TokenExpiredMessage",
                "CreateCustomerRequest",
                "CreateCustomerResponse",
                "Customer",
            ],
        ),
        (
            "pledg",
            &[
                ("create_token", "/api/token"),
                ("create_purchase_link", "/api/purchase_link/"),
            ],
            &["basicAuth", "bearerAuth", "dashboardBasic", "signature"],
            &["TokenRequest", "AccessTokenResponse", "OAuthError"],
        ),
        (
            "bursagb",
            &[
                ("generate_token", "/Login/Customer/Api/Verify"),
                ("create_order", "/Orders/Create"),
                ("list_supplier_products", "/Supplier/Products/List"),
                ("get_customer", "/Customer/Get"),
            ],
            &["bearerAuth", "apiKeyAuth"],
            &[
                "TokenRequest",
                "TokenResponse",
                "TokenData",
                "ErrorResponse",
                "CreateOrderRequest",
                "CreateOrderResponse",
                "Order",
                "ProductListRequest",
                "ProductListResponse",
                "Product",
            ],
        ),
        (
            "axept",
            &[
                ("authenticate", "/api/authenticate"),
                ("start_transaction", "/transaction"),
                ("list_transactions", "/Transaction"),
                ("get_transaction", "/Transaction/{uti}"),
                ("process_decision", "/ProcessDecision"),
            ],
            &["bearerAuth"],
            &[
                "AuthenticationRequest",
                "AuthenticationResponse",
                "AuthenticationResponsePascal",
                "AuthenticationResponseCamel",
                "ErrorResponse",
            ],
        ),
    ];
    for (name, operations, schemes, schemas) in expected {
        let spec: openapiv3::OpenAPI = serde_yaml::from_str(&read(&spec_path(name))).unwrap();
        let found: Vec<(String, String)> = spec
            .operations()
            .map(|(path, method, op)| {
                assert!(
                    method == "post" || method == "get",
                    "{name}: {method} {path}"
                );
                (op.operation_id.clone().unwrap_or_default(), path.to_owned())
            })
            .collect();
        for (id, path) in *operations {
            assert!(
                found.iter().any(|(i, p)| i == id && p == path),
                "{name}: no operation `{id}` at {path}; found {found:?}"
            );
        }
        assert_eq!(found.len(), operations.len(), "{name}: {found:?}");
        let components = spec.components.as_ref().unwrap();
        for scheme in *schemes {
            assert!(
                components.security_schemes.contains_key(*scheme),
                "{name}: no scheme {scheme}"
            );
        }
        for schema in *schemas {
            assert!(
                components.schemas.contains_key(*schema),
                "{name}: no schema {schema}"
            );
        }
    }
}

#[test]
fn good_fixtures_lint_clean() {
    for name in ["good.yaml", "good-nullable.yaml"] {
        let errors = lint_fixture(name);
        assert!(errors.is_empty(), "{name}:\n{}", show(&errors));
    }
}

#[test]
fn openapi_version_rule() {
    assert_single("bad-openapi-version.yaml", "openapi-version", "/openapi");
}

#[test]
fn operation_id_rule() {
    assert_single(
        "bad-operation-id.yaml",
        "operation-id",
        "/paths/~1v1~1auth/post",
    );
}

/// An operation named like a method of the SDK's client would be hidden
/// behind it (`Sdk` reaches operations through `Deref`): refused, for
/// every reserved name; a name that only starts like one is fine.
#[test]
fn reserved_name_rule() {
    let spec = read(&spec_path("pledg"));
    for name in codegen::lint::RESERVED_OPERATION_NAMES {
        let renamed = spec.replace(
            "operationId: create_purchase_link",
            &format!("operationId: {name}"),
        );
        let errors = lint_str("pledg.yaml", &renamed);
        assert_eq!(errors.len(), 1, "{name}:\n{}", show(&errors));
        assert_eq!(errors[0].rule, "reserved-name", "{}", show(&errors));
        assert!(
            errors[0].pointer.ends_with("/operationId"),
            "{}",
            show(&errors)
        );
        assert!(errors[0].message.contains(name), "{}", show(&errors));
    }
    let fine = spec.replace(
        "operationId: create_purchase_link",
        "operationId: send_purchase_link",
    );
    assert!(lint_str("pledg.yaml", &fine).is_empty());
}

/// A property named like a secret says whether it is one; `x-secret` is
/// a boolean; `x-secret: true` on an inline object's property (no type the
/// generator could redact) is refused.
#[test]
fn secret_marking_rule() {
    let spec = read(&spec_path("institution"));
    let marked = "        password:\n          x-secret: true\n";
    assert!(spec.contains(marked), "the spec marks the password");
    let rules = |text: &str| {
        lint_str("institution.yaml", text)
            .into_iter()
            .map(|e| (e.rule, e.pointer))
            .collect::<Vec<_>>()
    };
    let unmarked = spec.replace(marked, "        password:\n");
    assert_eq!(
        rules(&unmarked),
        [(
            "secret-marking",
            "/components/schemas/LoginRequest/properties/password".to_string()
        )]
    );
    let not_boolean = spec.replace(
        marked,
        "        password:\n          x-secret: yes please\n",
    );
    assert_eq!(
        rules(&not_boolean),
        [(
            "secret-marking",
            "/components/schemas/LoginRequest/properties/password/x-secret".to_string()
        )]
    );
    // A secret nested in an inline object.
    let nested = spec.replace(
        marked,
        "        password:\n          x-secret: true\n        extra:\n          type: object\n          properties:\n            pin:\n              type: string\n              x-secret: true\n",
    );
    assert_eq!(
        rules(&nested),
        [(
            "secret-marking",
            "/components/schemas/LoginRequest/properties/extra/properties/pin".to_string()
        )]
    );
}

/// A description that says "our design" / "not documented" carries an
/// `x-assumption`, a non-empty string.
#[test]
fn assumption_marking_rule() {
    let spec = read(&spec_path("institution"));
    let line = spec
        .lines()
        .find(|l| l.trim_start().starts_with("x-assumption: \"Which fields"))
        .expect("the customer operation's assumption");
    let rules = |text: &str| {
        lint_str("institution.yaml", text)
            .into_iter()
            .map(|e| (e.rule, e.pointer))
            .collect::<Vec<_>>()
    };
    let unmarked = spec.replace(&format!("{line}\n"), "");
    assert_eq!(
        rules(&unmarked),
        [(
            "assumption-marking",
            "/paths/~1v2~1customer~1create/post".to_string()
        )]
    );
    let indent = &line[..line.len() - line.trim_start().len()];
    let empty = spec.replace(line, &format!("{indent}x-assumption: ''"));
    assert_eq!(
        rules(&empty),
        [(
            "assumption-marking",
            "/paths/~1v2~1customer~1create/post/x-assumption".to_string()
        )]
    );
}

/// The phrases are found however a YAML block wraps them (a line break,
/// or several spaces, inside "our design"), and the widened list ("not
/// described in the docs", "assumed, not shown", "unconfirmed", …) is read
/// too; a marked description passes.
#[test]
fn assumption_marking_reads_phrases_across_line_breaks() {
    let doc = |description: &str, mark: &str| {
        format!(
            "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths: {{}}\n\
             components:\n  schemas:\n    Thing:\n{mark}      type: object\n      description: |\n{}\n",
            description
                .lines()
                .map(|l| format!("        {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    let flagged = |description: &str| {
        lint_str("wrapped.yaml", &doc(description, ""))
            .into_iter()
            .map(|e| (e.rule, e.pointer, e.message))
            .collect::<Vec<_>>()
    };
    for description in [
        "The error body: this shape is our\ndesign.",
        "The error body is not\ndocumented; RFC 6749 is used.",
        "Forbidden. Not described in\nthe docs.",
        "OAuth 2.0 error body; assumed,\nnot shown in the docs.",
        "Lower case, as another brand answers (UNCONFIRMED).",
        "A guess:   our   \n   design.",
    ] {
        let found = flagged(description);
        assert_eq!(found.len(), 1, "{description:?}: {found:?}");
        assert_eq!(found[0].0, "assumption-marking", "{description:?}");
        assert_eq!(found[0].1, "/components/schemas/Thing", "{description:?}");
    }
    // A description that says nothing of the kind passes, and so does a marked one.
    assert!(flagged("The pages describe it fully.").is_empty());
    let marked = doc(
        "this shape is our\ndesign.",
        "      x-assumption: \"The pages show no error body.\"\n",
    );
    assert!(
        lint_str("wrapped.yaml", &marked).is_empty(),
        "{:?}",
        lint_str("wrapped.yaml", &marked)
    );
}

#[test]
fn security_rule() {
    assert_single("bad-security.yaml", "security", "/paths/~1v1~1auth/post");
}

#[test]
fn inline_response_schema_rule() {
    assert_single(
        "bad-inline-response-schema.yaml",
        "inline-response-schema",
        "/paths/~1v1~1auth/post/responses/200/content/application~1json/schema",
    );
}

#[test]
fn error_schemas_rule_different_schemas() {
    assert_single(
        "bad-error-schemas.yaml",
        "error-schemas",
        "/paths/~1v1~1auth/post/responses/401",
    );
}

#[test]
fn error_schemas_rule_bodyless_error() {
    assert_single(
        "bad-error-schemas-bodyless.yaml",
        "error-schemas",
        "/paths/~1v1~1auth/post/responses/500",
    );
}

#[test]
fn request_content_types_rule_two_types() {
    assert_single(
        "bad-request-content-types.yaml",
        "request-content-types",
        "/paths/~1v1~1auth/post/requestBody/content",
    );
}

#[test]
fn request_content_types_rule_encoding() {
    assert_single(
        "bad-request-content-types-encoding.yaml",
        "request-content-types",
        "/paths/~1v1~1auth/post/requestBody/content/application~1x-www-form-urlencoded/encoding",
    );
}

#[test]
fn example_rule_media_type() {
    assert_single(
        "bad-example.yaml",
        "example",
        "/paths/~1v1~1auth/post/requestBody/content/application~1json/example",
    );
}

#[test]
fn example_rule_schema_level() {
    assert_single(
        "bad-example-schema-level.yaml",
        "example",
        "/components/schemas/AuthResponse/properties/expiresAt/example",
    );
}

#[test]
fn not_yaml_is_a_parse_error() {
    assert_single("not-yaml.yaml", "parse", "");
}

#[test]
fn non_mapping_root_is_a_parse_error() {
    assert_single("not-a-mapping.yaml", "parse", "");
}

#[test]
fn garbage_never_panics() {
    let inputs = [
        "",
        "~",
        "[]",
        "- 1\n- 2\n",
        "openapi: 3.0.3\npaths: 7\n",
        "openapi: 3.0.3\npaths:\n  /x:\n    post: [1, 2]\n",
        "openapi: 3.0.3\npaths:\n  /x:\n    post:\n      responses: {'400': {content: {a/b: {schema: 5, example: 1}}}}\n",
        "openapi: 3.0.3\ncomponents:\n  schemas:\n    A: {$ref: '#/components/schemas/A', example: 1}\n    B: {type: 12, example: x}\n    C: {pattern: '(', type: string, example: x}\n",
        "openapi: 3.0.3\npaths:\n  /x:\n    get:\n      requestBody: {$ref: '#/a/b/c'}\n      responses: {default: {$ref: 'other.yaml#/x'}}\n",
        "openapi: 3.0.3\ncomponents:\n  schemas:\n    A:\n      type: object\n      properties: {b: {$ref: 'http://example.com/s.json'}}\n      example: {b: 1}\n",
        "a: &a [*a]\n",
        "{{{{",
        "openapi: [3, 0, 3]\n",
        "\u{0}\u{1}binary",
    ];
    for (i, input) in inputs.iter().enumerate() {
        let file = format!("garbage-{i}.yaml");
        let errors = lint_str(&file, input);
        for e in &errors {
            assert_eq!(e.file, file);
        }
    }
}

/// The URL fields through which a provider calls the application back.
const CALLBACK_URLS: &[(&str, &str, &str)] = &[
    // (spec, operation path, body field)
    ("exirom", "/v1/payments/card", "callbackUrl"),
    ("exirom", "/v1/payments/apm", "callbackUrl"),
    ("exirom", "/v1/payouts/card", "callbackUrl"),
    ("axept", "/transaction", "webHookUrl"),
    ("pledg", "/api/purchase_link/", "notification_url"),
];

fn spec_json(name: &str) -> serde_json::Value {
    serde_yaml::from_str(&read(&spec_path(name))).unwrap()
}

/// Every operation that takes a URL the provider calls describes that call
/// (OpenAPI 3 `callbacks`): method, body schema (a component), what the
/// receiver answers; the URL field says where it goes; what the pages do not
/// say is marked; exirom's carries `X-Checksum` and both body forms.
#[test]
fn real_specs_describe_their_callbacks() {
    for (name, path, field) in CALLBACK_URLS {
        let spec = spec_json(name);
        let op = &spec["paths"][*path]["post"];
        let schema_ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} {path}: no body schema"));
        let body_schema = spec
            .pointer(schema_ref.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("{name}: {schema_ref}"));
        let url = &body_schema["properties"][*field];
        assert!(
            url["description"].as_str().is_some_and(|d| d.len() > 40),
            "{name} {path}: `{field}` has no description"
        );
        let callbacks = op["callbacks"]
            .as_object()
            .unwrap_or_else(|| panic!("{name} {path}: no callbacks"));
        let expression = format!("{{$request.body#/{field}}}");
        let (cb_name, item) = callbacks
            .iter()
            .find_map(|(n, c)| c.get(&expression).map(|i| (n, i)))
            .unwrap_or_else(|| panic!("{name} {path}: no callback to {expression}"));
        let post = &item["post"];
        assert!(post.is_object(), "{name} {cb_name}: no POST");
        assert!(
            post["x-assumption"].as_str().is_some_and(|a| a.len() > 40),
            "{name} {cb_name}: what the pages leave out is not marked"
        );
        let body = &post["requestBody"]["content"]["application/json"]["schema"]["$ref"];
        assert!(body.is_string(), "{name} {cb_name}: body schema");
        let responses = post["responses"].as_object().expect("responses");
        assert!(
            responses.contains_key("2XX"),
            "{name} {cb_name}: what the receiver answers"
        );
        if *name == "exirom" {
            let params = post["parameters"].as_array().expect("parameters");
            let checksum = params
                .iter()
                .find(|p| p["name"] == "X-Checksum")
                .expect("X-Checksum");
            assert_eq!(checksum["in"], "header");
            assert_eq!(checksum["required"], true);
            assert!(checksum["x-assumption"].is_string(), "what it covers");
            let body = spec
                .pointer(body.as_str().unwrap().trim_start_matches('#'))
                .unwrap();
            let forms: Vec<&serde_json::Value> = body["oneOf"]
                .as_array()
                .expect("two forms")
                .iter()
                .map(|f| {
                    spec.pointer(f["$ref"].as_str().unwrap().trim_start_matches('#'))
                        .unwrap()
                })
                .collect();
            for pair in [["amount", "currency"], ["orderAmount", "orderCurrency"]] {
                assert!(
                    forms.iter().any(|f| pair
                        .iter()
                        .all(|m| f["required"].as_array().unwrap().contains(&(*m).into()))),
                    "{name} {cb_name}: no {pair:?} form"
                );
            }
            let examples = post["requestBody"]["content"]["application/json"]["examples"]
                .as_object()
                .expect("an example of each form");
            assert_eq!(examples.len(), 2);
        }
    }
}

/// The lint reaches callbacks: an inline body schema, a secret-looking
/// header without `x-secret`, an example that does not match, an unmarked
/// guess and a callback with no answer are each refused where they are.
#[test]
fn callbacks_rule() {
    let spec = read(&spec_path("exirom"));
    let rules = |text: &str| {
        lint_str("exirom.yaml", text)
            .into_iter()
            .map(|e| (e.rule, e.pointer))
            .collect::<Vec<_>>()
    };
    assert_eq!(rules(&spec), []);
    let cb = "/paths/~1v1~1payments~1card/post/callbacks/paymentStatus/{$request.body#~1callbackUrl}/post";
    let once = |from: &str, to: &str| {
        let at = spec
            .find(from)
            .unwrap_or_else(|| panic!("{from:?} not in the spec"));
        format!("{}{to}{}", &spec[..at], &spec[at + from.len()..])
    };
    // The first callback in the file is the card payment's.
    let inline = once(
        "                      $ref: '#/components/schemas/PaymentCallback'\n",
        "                      type: object\n",
    );
    assert_eq!(
        rules(&inline),
        [(
            "callbacks",
            format!("{cb}/requestBody/content/application~1json")
        )]
    );
    let unmarked = once(
        "                  x-secret: false\n                  x-assumption: \"That it covers",
        "                  x-assumption: \"That it covers",
    );
    assert_eq!(
        rules(&unmarked),
        [("secret-marking", format!("{cb}/parameters/0"))]
    );
    let bad_example = once(
        "                          currency: EUR\n",
        "                          currency: 978\n",
    );
    assert_eq!(
        rules(&bad_example),
        [(
            "example",
            format!("{cb}/requestBody/content/application~1json/examples/amountForm")
        )]
    );
    // A guess in a callback's response, unmarked.
    let guess = once(
        "                  description: |\n                    Acknowledged: any 2xx",
        "                  description: |\n                    Our design. Acknowledged: any 2xx",
    );
    assert_eq!(
        rules(&guess),
        [("assumption-marking", format!("{cb}/responses/2XX"))]
    );
    let at = spec.find("{$request.body#/callbackUrl}").unwrap();
    let responses = at + spec[at..].find("              responses:\n").unwrap();
    let end = responses + spec[responses..].find("\n      responses:\n").unwrap() + 1;
    let silent = format!("{}{}", &spec[..responses], &spec[end..]);
    // openapiv3 needs `responses` too (`parse`); the rule names the callback.
    assert!(
        rules(&silent).contains(&("callbacks", cb.to_string())),
        "{:?}",
        rules(&silent)
    );
}

/// Guesses once stated as facts, each now marked `x-assumption` where the
/// spec makes it (and so listed in the README): (spec, pointer, the
/// parameter's name when the pointer is a parameter).
#[test]
fn guesses_stated_as_facts_are_marked() {
    let marked: &[(&str, &str, Option<&str>)] = &[
        (
            "exirom",
            "/components/schemas/CardPaymentRequest/properties/requestId",
            None,
        ),
        (
            "exirom",
            "/components/schemas/CardPayoutRequest/properties/requestId",
            None,
        ),
        (
            "exirom",
            "/components/schemas/ApmPaymentRequest/properties/requestId",
            None,
        ),
        (
            "exirom",
            "/paths/~1v1~1payments~1card~1status~1{id}/get/parameters/0",
            Some("id"),
        ),
        (
            "exirom",
            "/paths/~1v1~1payouts~1card~1info~1{id}/get/parameters/0",
            Some("id"),
        ),
        (
            "exirom",
            "/paths/~1v1~1payments~1apm~1info~1{id}/get/parameters/0",
            Some("id"),
        ),
        (
            "exirom",
            "/paths/~1v1~1payments~1card/post/responses/403",
            None,
        ),
        (
            "exirom",
            "/paths/~1v1~1payments~1card/post/responses/409",
            None,
        ),
        (
            "institution",
            "/components/schemas/TokenExpiredMessage",
            None,
        ),
        (
            "institution",
            "/components/schemas/CreateCustomerRequest/properties/country",
            None,
        ),
        (
            "pledg",
            "/components/schemas/PurchaseLinkSettings/properties/expiration_days",
            None,
        ),
        ("bursagb", "/components/schemas/TokenResponse", None),
        (
            "bursagb",
            "/components/schemas/TokenDataPascal/properties/Expiration",
            None,
        ),
        ("bursagb", "/paths/~1Customer~1Get/get/responses/400", None),
        (
            "axept",
            "/components/schemas/StartTransactionRequest/properties/amountTrans",
            None,
        ),
        (
            "axept",
            "/paths/~1Transaction/get/parameters/3",
            Some("PageSize"),
        ),
        ("axept", "/components/schemas/TransactionList", None),
    ];
    let mut unmarked = Vec::new();
    for (name, pointer, param) in marked {
        let spec = spec_json(name);
        let node = spec
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{name}: nothing at {pointer}"));
        if let Some(param) = param {
            assert_eq!(node["name"], *param, "{name} {pointer}");
        }
        if !node["x-assumption"]
            .as_str()
            .is_some_and(|a| a.contains("OUR ASSUMPTION"))
        {
            unmarked.push(format!("{name} {pointer}"));
        }
    }
    assert!(unmarked.is_empty(), "stated as facts: {unmarked:#?}");
}

/// Claims about the providers outside the specs: what the pages do not say
/// is no longer stated as fact, and the claims kept say they are ours.
#[test]
fn claims_outside_the_specs_come_from_the_pages_or_say_they_are_ours() {
    let file = |path: &str| read(&manifest_dir().join("..").join(path));
    for (path, stated_as_fact) in [
        ("README.md", "rotating refresh token"),
        (
            "README.md",
            "(covers accountId, amount, currency, requestId",
        ),
        ("sdks/institution/src/lib.rs", "rotating refresh token"),
        ("sdks/institution/src/lib.rs", "the provider rotates them"),
        ("sdks/bursagb/src/lib.rs", "even on 200"),
    ] {
        assert!(
            !file(path).contains(stated_as_fact),
            "{path} states as fact: {stated_as_fact:?}"
        );
    }
    for (path, marked) in [
        (
            "README.md",
            "that it covers accountId, amount, currency, requestId is our assumption",
        ),
        (
            "README.md",
            "the pages' samples return the same refresh token at login and refresh",
        ),
        (
            "sdks/exirom/src/checksum.rs",
            "under the same secret, is our assumption",
        ),
        ("sdks/institution/src/lib.rs", "*same* refresh token"),
        ("sdks/bursagb/src/lib.rs", "(with `data: null`) is our"),
    ] {
        let text = file(path).split_whitespace().collect::<Vec<_>>().join(" ");
        let text = text.replace("/// ", "").replace("//! ", "");
        assert!(text.contains(marked), "{path} does not say: {marked:?}");
    }
}
