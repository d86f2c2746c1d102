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
/// of the store's. `payauth_runtime::redis_store::from_env` reads it again,
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(vars: &[(&str, &str)], key: &str) -> Result<Option<String>, Error> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env_or_file(&|k| map.get(k).cloned(), "test", key)
    }

    #[test]
    fn a_file_variable_is_read_trimmed_and_never_quoted() {
        let dir = std::env::temp_dir().join(format!("auth-runtime-env-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("secret");
        let path = file.to_str().unwrap();
        std::fs::write(&file, "s3cr3t-value\r\n\n").unwrap();
        assert_eq!(
            lookup(&[("K_FILE", path)], "K").unwrap().as_deref(),
            Some("s3cr3t-value")
        );
        // Empty is unset, as an empty variable is; an empty variable
        // leaves the file in charge.
        std::fs::write(&file, "\n").unwrap();
        assert_eq!(lookup(&[("K_FILE", path)], "K").unwrap(), None);
        std::fs::write(&file, "s3cr3t-value").unwrap();
        assert_eq!(
            lookup(&[("K", " "), ("K_FILE", path)], "K")
                .unwrap()
                .as_deref(),
            Some("s3cr3t-value")
        );
        assert_eq!(lookup(&[("K", "v")], "K").unwrap().as_deref(), Some("v"));
        // Both, a missing file, a value put where the path goes: config
        // errors that quote neither the value nor the path.
        for vars in [
            &[("K", "CANARY-var"), ("K_FILE", path)][..],
            &[("K_FILE", "CANARY-pasted-secret")],
        ] {
            let e = lookup(vars, "K").unwrap_err();
            assert!(e.is_config());
            for shown in [e.to_string(), format!("{e:?}")] {
                assert!(
                    !shown.contains("CANARY") && !shown.contains("s3cr3t"),
                    "{shown}"
                );
                assert!(!shown.contains(path), "{shown}");
                assert!(shown.contains("K_FILE"), "{shown}");
            }
        }
        std::fs::write(&file, [0xff, 0xfe]).unwrap();
        assert!(lookup(&[("K_FILE", path)], "K").unwrap_err().is_config());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
