//! Reading a client's settings from environment variables, and from the
//! files `<VAR>_FILE` names (the convention of Docker and Kubernetes
//! secrets).

use std::cell::RefCell;
use std::io::Read;
use std::sync::Arc;

use crate::base::error::Error;
use crate::token::store::TokenStore;

/// An optional environment variable. **Empty is unset**: a value that is
/// empty or only whitespace counts as absent, in every crate, so
/// `INSTITUTION_API_KEY=""` never selects an empty API key and
/// `BURSAGB_REGION=""` never sends an empty region.
pub fn optional_env(get: &dyn Fn(&str) -> Option<String>, key: &str) -> Option<String> {
    get(key).filter(|v| !v.trim().is_empty())
}

/// A required environment variable (see [`optional_env`]: empty is
/// unset).
///
/// # Errors
///
/// `Config`, naming the variable, when it is not set.
pub fn require_env(
    get: &dyn Fn(&str) -> Option<String>,
    provider: &'static str,
    key: &str,
) -> Result<String, Error> {
    optional_env(get, key).ok_or_else(|| Error::config(provider, format!("{key} is not set")))
}

/// The largest file a `<VAR>_FILE` may name.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// `key`'s value: the variable itself, or the content of the file
/// `<key>_FILE` names (trailing newlines trimmed). Empty is unset, for the
/// variable and the file alike. Both set is a config error, and so is a
/// file that cannot be read; no message quotes the file's name or content
/// (a value put in `<VAR>_FILE` by mistake is a secret).
///
/// # Errors
///
/// `Config` when both are set, or the file cannot be read or is over
/// 64 KiB.
pub fn env_or_file(
    get: &dyn Fn(&str) -> Option<String>,
    provider: &'static str,
    key: &str,
) -> Result<Option<String>, Error> {
    let file_key = format!("{key}_FILE");
    let value = optional_env(get, key);
    let Some(path) = optional_env(get, &file_key) else {
        return Ok(value);
    };
    if value.is_some() {
        return Err(Error::config(
            provider,
            format!("both {key} and {file_key} are set: set one"),
        ));
    }
    let unreadable = |why: &str| Error::config(provider, format!("{file_key}: {why}"));
    let file = std::fs::File::open(path.trim_end_matches(['\r', '\n'])).map_err(|e| {
        unreadable(&format!(
            "the file it names cannot be opened ({})",
            e.kind()
        ))
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(&format!("the file it names cannot be read ({})", e.kind())))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(unreadable("the file it names is larger than 64 KiB"));
    }
    let text =
        String::from_utf8(bytes).map_err(|_| unreadable("the file it names is not UTF-8 text"))?;
    let text = text.trim_end_matches(['\r', '\n']);
    Ok((!text.trim().is_empty()).then(|| text.to_string()))
}

/// Lookups through [`env_or_file`] behind the `get` the providers'
/// `credentials_from_env` take: the first failure is kept (the lookup
/// answers "unset") and [`FileLookup::finish`] returns it.
pub(crate) struct FileLookup<'a> {
    provider: &'static str,
    get: &'a dyn Fn(&str) -> Option<String>,
    failure: RefCell<Option<Error>>,
}

impl<'a> FileLookup<'a> {
    pub(crate) fn new(provider: &'static str, get: &'a dyn Fn(&str) -> Option<String>) -> Self {
        FileLookup {
            provider,
            get,
            failure: RefCell::new(None),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<String> {
        match env_or_file(self.get, self.provider, key) {
            Ok(value) => value,
            Err(e) => {
                self.failure.borrow_mut().get_or_insert(e);
                None
            }
        }
    }

    /// The first failure of a lookup, if any.
    pub(crate) fn finish(self) -> Result<(), Error> {
        match self.failure.into_inner() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// The shared store the environment configures (`AUTH_RUNTIME_REDIS_URL`
/// and its companions, `redis` feature), read the first time a client is
/// built and kept for the process: a build reads no environment variable
/// of the store's. `auth_runtime::redis_store::from_env` reads it again,
/// explicitly. The store holds no connection until it is used, and then
/// one per runtime that uses it.
pub(super) fn shared_store() -> Option<Arc<dyn TokenStore>> {
    #[cfg(feature = "redis")]
    {
        static FROM_ENV: std::sync::OnceLock<Option<Arc<dyn TokenStore>>> =
            std::sync::OnceLock::new();
        FROM_ENV
            .get_or_init(crate::token::redis_store::from_env)
            .clone()
    }
    #[cfg(not(feature = "redis"))]
    {
        None
    }
}
