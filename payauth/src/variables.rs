//! Where the providers' variables come from: the process's environment,
//! and `--env-file` (dotenv format), whose values win for the variables it
//! sets. Values stay in memory; the process's environment is not changed.

use std::collections::HashMap;
use std::path::Path;

use crate::failure::{CONFIG, Failure};

/// The variables a command reads.
#[derive(Default)]
pub struct Variables {
    file: HashMap<String, String>,
}

/// Values are secrets: only their names are shown.
impl std::fmt::Debug for Variables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Variables")
            .field("from_file", &self.file.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Variables {
    /// The process's environment, and `env_file` over it.
    pub fn load(env_file: Option<&Path>) -> Result<Variables, Failure> {
        let Some(path) = env_file else {
            return Ok(Variables::default());
        };
        // dotenvy's own messages quote the line they stop at, which may
        // hold a secret: only the position is reported.
        let refused = |why: String| {
            Failure::new(
                CONFIG,
                "env_file",
                format!("--env-file {}: {why}", path.display()),
            )
            .hint("one KEY=value per line (dotenv format: quotes, # comments, `export` allowed)")
        };
        let items = dotenvy::from_path_iter(path).map_err(|e| {
            refused(match e {
                dotenvy::Error::Io(io) => format!("cannot be read ({})", io.kind()),
                _ => "cannot be read".into(),
            })
        })?;
        let mut file = HashMap::new();
        for (n, item) in items.enumerate() {
            let (key, value) = item.map_err(|e| {
                refused(match e {
                    dotenvy::Error::LineParse(_, _) => {
                        format!("entry {} is not KEY=value", n + 1)
                    }
                    dotenvy::Error::Io(io) => format!("cannot be read ({})", io.kind()),
                    _ => format!("entry {} cannot be read", n + 1),
                })
            })?;
            file.insert(key, value);
        }
        Ok(Variables { file })
    }

    /// `key`'s value: the file's, else the environment's.
    pub fn get(&self, key: &str) -> Option<String> {
        self.file
            .get(key)
            .cloned()
            .or_else(|| std::env::var(key).ok())
    }
}
