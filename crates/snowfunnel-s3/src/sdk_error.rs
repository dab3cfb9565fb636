//! Turns the SDK's layered errors into one-line [`S3Error`]s a user can act on.

use std::error::Error as StdError;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use crate::S3Error;

/// Error codes that mean "these credentials may not do this".
const ACCESS_CODES: &[&str] = &[
    "AccessDenied",
    "AllAccessDisabled",
    "AccountProblem",
    "ExpiredToken",
    "InvalidAccessKeyId",
    "InvalidToken",
    "SignatureDoesNotMatch",
    "TokenRefreshRequired",
];

/// What a failed request was about, for naming it in the message.
pub(crate) struct Target<'a> {
    /// `s3://bucket/prefix` or `s3://bucket/key`.
    pub(crate) url: String,
    /// The bucket, for [`S3Error::NoSuchBucket`].
    pub(crate) bucket: &'a str,
    /// The endpoint URL when one was configured.
    pub(crate) endpoint: Option<&'a str>,
    /// Attempts the SDK's standard retries make, for saying so when they all failed.
    pub(crate) max_attempts: u32,
}

/// Maps an SDK error to an [`S3Error`] naming `target`.
pub(crate) fn from_sdk<E>(err: &SdkError<E, HttpResponse>, target: &Target<'_>) -> S3Error
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    let url = target.url.clone();
    match err {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            let status = http_status(err);
            let cause = service_cause(code, service.err().message(), status);
            match (code, status) {
                ("NoSuchBucket", _) => S3Error::NoSuchBucket { bucket: target.bucket.to_owned() },
                ("NoSuchKey", _) => S3Error::NoSuchKey { target: url },
                ("PreconditionFailed", _) | (_, Some(412)) => S3Error::ObjectChanged {
                    target: url,
                    cause: format!("{cause}: its ETag no longer matches"),
                },
                (code, status) if ACCESS_CODES.contains(&code) || status == Some(403) => {
                    S3Error::AccessDenied { target: url, cause }
                }
                (code, status) if retried(code, status) => {
                    S3Error::Service { target: url, cause: after_retries(cause, target) }
                }
                _ => S3Error::Service { target: url, cause },
            }
        }
        SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
            unreachable(target, after_retries(chain(err), target))
        }
        SdkError::TimeoutError(_) => unreachable(target, after_retries(chain(err), target)),
        SdkError::ResponseError(_) => {
            S3Error::Service { target: url, cause: after_retries(chain(err), target) }
        }
        _ => S3Error::Request { target: url, cause: chain(err) },
    }
}

/// Error codes the SDK's standard retries retry whatever the HTTP status (their throttling and
/// transient codes that S3 and S3-compatible stores answer with).
const RETRIED_CODES: &[&str] = &[
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "TooManyRequestsException",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// Whether the SDK's standard retries retry this answer: 500, 502, 503, 504 and throttling.
fn retried(code: &str, status: Option<u16>) -> bool {
    status.is_some_and(|status| matches!(status, 500 | 502 | 503 | 504)) || RETRIED_CODES.contains(&code)
}

/// `cause` of an error the SDK retried, saying how many attempts failed.
fn after_retries(cause: String, target: &Target<'_>) -> String {
    match target.max_attempts {
        0 | 1 => cause,
        attempts => format!("{cause}; {attempts} attempts"),
    }
}

fn unreachable(target: &Target<'_>, cause: String) -> S3Error {
    S3Error::Unreachable {
        target: target.url.clone(),
        endpoint: target.endpoint.unwrap_or("the S3 endpoint").to_owned(),
        cause,
    }
}

fn http_status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|response| response.status().as_u16())
}

/// `Code: message`, or the HTTP status when the answer had no body (HEAD requests).
fn service_cause(code: &str, message: Option<&str>, status: Option<u16>) -> String {
    match (code, message) {
        ("", _) => match status {
            Some(status) => format!("HTTP status {status}"),
            None => "unknown service error".to_owned(),
        },
        (code, Some(message)) if !message.is_empty() => format!("{code}: {message}"),
        (code, _) => code.to_owned(),
    }
}

/// The error and its sources on one line, skipping a source whose text its parent already
/// shows (the SDK often wraps an error in one that prints the same words).
pub(crate) fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    one_line(&line)
}

/// Joins the lines of a multi-line message (the credential chain lists every provider it
/// tried, one per line) with `; `.
fn one_line(text: &str) -> String {
    let mut line = String::with_capacity(text.len());
    for part in text.lines().map(str::trim).filter(|part| !part.is_empty()) {
        if !line.is_empty() {
            line.push_str(if line.ends_with(':') { " " } else { "; " });
        }
        line.push_str(part);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl StdError for Layer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            self.1.as_deref().map(|layer| layer as &(dyn StdError + 'static))
        }
    }

    #[test]
    fn chain_joins_sources_and_drops_repeats() {
        let err = Layer(
            "dispatch failure",
            Some(Box::new(Layer(
                "io error",
                Some(Box::new(Layer("io error", Some(Box::new(Layer("refused", None)))))),
            ))),
        );
        assert_eq!(chain(&err), "dispatch failure: io error: refused");
    }

    #[test]
    fn causes_fit_on_one_line() {
        assert_eq!(
            one_line("no credentials. Attempted:\n  Environment: not set\n  Profile: none\n"),
            "no credentials. Attempted: Environment: not set; Profile: none"
        );
    }

    #[test]
    fn service_cause_prefers_code_and_message() {
        assert_eq!(service_cause("AccessDenied", Some("no"), Some(403)), "AccessDenied: no");
        assert_eq!(service_cause("AccessDenied", None, Some(403)), "AccessDenied");
        assert_eq!(service_cause("", None, Some(403)), "HTTP status 403");
    }
}
