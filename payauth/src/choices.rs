//! The values the command line names: a provider, a provider that sends
//! callbacks, an event to deliver.

use clap::ValueEnum;

/// The five providers.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Exirom,
    Institution,
    Pledg,
    Bursagb,
    Axept,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::Exirom => "exirom",
            Provider::Institution => "institution",
            Provider::Pledg => "pledg",
            Provider::Bursagb => "bursagb",
            Provider::Axept => "axept",
        }
    }
}

/// The providers that send signed callbacks.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackProvider {
    Exirom,
    Pledg,
}

/// What `sandbox trigger` delivers.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// exirom: a payment status callback.
    Payment,
    /// pledg: a purchase notification.
    Notification,
}
