//! What a provider crate implements for its descriptor ([`Described`]).

use futures::future::BoxFuture;

use super::callbacks::{TriggerRequest, Triggered};
use super::calls::{Answered, Call};
use super::variables::Values;
use crate::base::error::Error;
use crate::builder::Provider;
use crate::builder::sdk::Sdk;

/// What a provider crate implements for its descriptor: the calls it
/// names, its token request by hand, and the objects its callbacks are
/// about.
pub trait Described: Provider<Client = Sdk<Self::Api>> {
    /// The generated client.
    type Api: Clone + Send + Sync + 'static;

    /// Run `call` (one of the descriptor's) with its sample body.
    ///
    /// # Errors
    ///
    /// The call's error ([`answered`](super::answered)), or
    /// [`unknown_call`](super::unknown_call)'s `Config` error for a call
    /// the provider has no sample for.
    fn run<'a>(
        client: &'a Sdk<Self::Api>,
        call: &'a Call,
        values: &'a Values,
    ) -> BoxFuture<'a, Result<Answered, Error>>;

    /// See [`Descriptor::login_request`](super::Descriptor::login_request).
    ///
    /// # Errors
    ///
    /// `Config` when a variable the request needs is not set.
    fn login_request(
        http: &reqwest::Client,
        base_url: &str,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<reqwest::RequestBuilder, Error>;

    /// Create the object of one of the descriptor's
    /// [`CallbackEvent`](super::CallbackEvent)s with `client` (a sandbox's),
    /// naming the request's callback URL. By default the provider has no
    /// events.
    ///
    /// # Errors
    ///
    /// The call's error, or `Config` for an event the provider does not
    /// know.
    fn trigger<'a>(
        client: &'a Sdk<Self::Api>,
        request: TriggerRequest<'a>,
    ) -> BoxFuture<'a, Result<Triggered, Error>> {
        let _ = client;
        let error = Error::config(
            Self::PROFILE.name,
            format!("no callback event `{}`", request.event.name),
        );
        Box::pin(std::future::ready(Err(error)))
    }
}
