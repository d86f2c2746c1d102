//! Running progenitor: its settings, a panic turned into an error, and
//! the finder for the operation that made it fail.

use std::panic::{AssertUnwindSafe, catch_unwind};

use openapiv3::{OpenAPI, ReferenceOr};
use proc_macro2::TokenStream;
use quote::quote;

use crate::error::Error;

fn settings() -> progenitor::GenerationSettings {
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_hooks(progenitor::HooksMode::Expected)
        .with_inner_type(quote!(payauth_runtime::Session))
        .with_derive("schemars::JsonSchema");
    settings
}

/// Run progenitor, turning a panic into an error that names the spec and,
/// when it can be found, the operation that triggers it.
pub(crate) fn progenitor_tokens(file: &str, spec: &OpenAPI) -> Result<TokenStream, Error> {
    match run_progenitor(spec) {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(message)) => Err(Error::Generator {
            file: file.to_string(),
            operation: culprit(spec),
            message,
        }),
        Err(message) => Err(Error::Generator {
            file: file.to_string(),
            operation: culprit(spec),
            message: format!("generator panicked: {message}"),
        }),
    }
}

/// `Err` is a panic message, `Ok(Err)` a generator error.
fn run_progenitor(spec: &OpenAPI) -> Result<Result<TokenStream, String>, String> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut generator = progenitor::Generator::new(&settings());
        generator.generate_tokens(spec).map_err(|e| e.to_string())
    }));
    std::panic::set_hook(previous);
    result.map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".to_string())
    })
}

/// Find the first operation that fails on its own (the rest of the spec
/// stripped), so a generator failure names it.
fn culprit(spec: &OpenAPI) -> Option<String> {
    for (path, item) in spec.paths.paths.iter() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (method, op) in item.iter() {
            let mut single = spec.clone();
            let mut only = item.clone();
            for (m, _) in item.iter() {
                if m != method {
                    clear_method(&mut only, m);
                }
            }
            single.paths.paths.clear();
            single
                .paths
                .paths
                .insert(path.clone(), ReferenceOr::Item(only));
            if !matches!(run_progenitor(&single), Ok(Ok(_))) {
                return Some(
                    op.operation_id
                        .clone()
                        .unwrap_or_else(|| format!("{} {path}", method.to_uppercase())),
                );
            }
        }
    }
    None
}

fn clear_method(item: &mut openapiv3::PathItem, method: &str) {
    let slot = match method {
        "get" => &mut item.get,
        "put" => &mut item.put,
        "post" => &mut item.post,
        "delete" => &mut item.delete,
        "options" => &mut item.options,
        "head" => &mut item.head,
        "patch" => &mut item.patch,
        "trace" => &mut item.trace,
        _ => return,
    };
    *slot = None;
}
