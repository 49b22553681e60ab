//! The one error type of the crate.

use thiserror::Error;

/// What went wrong, where, and what to do about it.
#[derive(Debug, Error)]
pub enum ExposureError {
    /// A build string that is not an Exchange version number.
    #[error(
        "cannot read Exchange build {input:?}: {reason}; give it as 15.2.792.3, 15.02.0792.003, \
         15.2.792 or 'Version 15.2 (Build 792.3)'"
    )]
    BadBuild { input: String, reason: String },

    /// `applicationHost.config` text that is not well-formed XML.
    #[error(
        "cannot parse applicationHost.config: {reason}; pass the file's full text \
         (%windir%\\System32\\inetsrv\\config\\applicationHost.config) as collected"
    )]
    BadConfig { reason: String },

    /// The probe URL is not an http(s) URL.
    #[error("cannot probe {url:?}: {reason}; give a base URL such as https://mail.example.com")]
    BadUrl { url: String, reason: String },

    /// No probe request got an HTTP answer at all (refused, timed out, TLS failure).
    #[error(
        "probe of {url} failed: no request got an answer ({reason}); check the address, the \
         port, the timeout, and for a self-signed certificate the `insecure` option"
    )]
    ProbeFailed { url: String, reason: String },

    /// The server answered but none of the probed resources disclosed a version.
    #[error(
        "probe of {url}: the server answered but disclosed no Exchange version ({detail}); \
         it may not be Exchange, or a reverse proxy hides OWA/ECP"
    )]
    NoVersionDisclosed { url: String, detail: String },
}
