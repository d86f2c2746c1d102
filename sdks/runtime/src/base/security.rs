//! The per-operation security table that `codegen` emits next to every
//! generated client (progenitor itself ignores `securitySchemes`).

/// How a security scheme puts its credential on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemeKind {
    /// `Authorization: Bearer <token>` from the token runtime.
    Bearer,
    /// `Authorization: Basic base64(user:password)`.
    Basic,
    /// A static key in the named header (`Api-key`, `ApiKey`).
    ApiKeyHeader(&'static str),
    /// A JWT computed at send time over the JSON body and sent as a query
    /// parameter (pledg's `signature`): HS256 with the session's signing
    /// secret, claims `{<claim>: <body>, iat, exp = iat + lifetime_secs}`.
    /// Read by codegen from a query `apiKey` scheme's `x-signed-jwt`.
    SignedQueryJwt {
        /// The query parameter the JWT goes in (pledg: `signature`).
        param: &'static str,
        /// The claim that holds the JSON body (pledg: `data`).
        claim: &'static str,
        /// `exp - iat` of the JWT, in seconds (pledg: 86,400, one day).
        lifetime_secs: u64,
    },
    /// A scheme the runtime cannot apply (query keys, cookies, OAuth flows
    /// it does not drive). An operation needing only these fails clearly.
    Unsupported,
}

/// One `securitySchemes` entry, by its name in the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheme {
    /// The scheme's name in the spec's `securitySchemes` (`bearerAuth`).
    pub name: &'static str,
    /// How its credential goes on a request.
    pub kind: SchemeKind,
}

/// An operation's `security`: any one alternative suffices, and every
/// scheme of that alternative applies. No alternatives: anonymous (login
/// calls), which never carry a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationSecurity {
    /// The spec's `operationId` (`create_order`), or a label for a
    /// hand-made request's requirement (`(hand-made request: bearerAuth)`).
    pub operation_id: &'static str,
    /// The spec's `security`, in its order: the runtime applies the first
    /// alternative whose credentials the client has; every scheme of it.
    /// Empty: anonymous.
    pub alternatives: &'static [&'static [Scheme]],
    /// The top-level JSON body field that is the provider's idempotency
    /// key (the operation's `x-idempotency-key`, e.g. exirom's `requestId`).
    /// A request whose body carries it is safe to retry after a timeout or
    /// a 5xx: the provider answers a repeat with the original response.
    pub idempotency_key: Option<&'static str>,
    /// A checksum the runtime computes into a body field at send time (the
    /// operation's `x-body-checksum`, exirom's APM `checksum`).
    pub body_checksum: Option<BodyChecksum>,
    /// The operation's path as the spec writes it, its parameters left as
    /// `{name}` (`/payments/{id}`): telemetry's `url.template` and the
    /// name of each attempt's span (`GET /payments/{id}`). `None` for a
    /// hand-made request.
    pub url_template: Option<&'static str>,
}

/// `field` = Base64(HMAC-SHA256(signing secret, the `parts` body fields
/// joined by `|`)); a string part as written, a number as its JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyChecksum {
    /// The top-level body field the checksum is written into (`checksum`).
    pub field: &'static str,
    /// The top-level body fields it covers, in order (`accountId`,
    /// `amount`, `currency`, `requestId`).
    pub parts: &'static [&'static str],
}

impl OperationSecurity {
    /// What an operation missing from the table gets: nothing attached.
    pub const UNKNOWN: OperationSecurity = OperationSecurity {
        operation_id: "",
        alternatives: &[],
        idempotency_key: None,
        body_checksum: None,
        url_template: None,
    };

    /// For hand-made requests (`Session::send`): a bearer token.
    pub const BEARER: OperationSecurity = OperationSecurity {
        operation_id: "(hand-made request)",
        alternatives: &[&[Scheme {
            name: "bearerAuth",
            kind: SchemeKind::Bearer,
        }]],
        idempotency_key: None,
        body_checksum: None,
        url_template: None,
    };

    /// Whether an alternative of this operation signs the request into
    /// its URL (the URL then never appears in an error).
    pub fn signs_url(&self) -> bool {
        self.alternatives.iter().any(|alt| {
            alt.iter()
                .any(|s| matches!(s.kind, SchemeKind::SignedQueryJwt { .. }))
        })
    }

    /// Anonymous operations are the providers' login calls.
    pub fn is_anonymous(&self) -> bool {
        self.alternatives.iter().all(|alt| alt.is_empty())
    }
}

/// A server the spec documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Server {
    /// The server's base URL, as the spec writes it.
    pub url: &'static str,
    /// The spec's description of it (`Production`, `Sandbox`), or empty.
    pub description: &'static str,
}
