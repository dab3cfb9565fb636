//! `s3://bucket/prefix` arguments.

use std::fmt;

use crate::S3Error;

/// A bucket and a key prefix, as in `s3://bucket/enriched/2026/03/`.
///
/// The prefix is a plain key prefix, as S3 understands it: `s3://b/enriched/2026/03` also
/// matches `enriched/2026/030/...`; end it with `/` to mean a folder. An empty prefix means the
/// whole bucket. Keys are taken literally (no percent-decoding).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct S3Url {
    /// The bucket name.
    pub bucket: String,
    /// The key prefix, possibly empty, without a leading `/`.
    pub prefix: String,
}

const SCHEME: &str = "s3://";

impl S3Url {
    /// Whether an input argument names S3 rather than a local path.
    #[must_use]
    pub fn is_s3(arg: &str) -> bool {
        arg.get(..SCHEME.len()).is_some_and(|scheme| scheme.eq_ignore_ascii_case(SCHEME))
    }

    /// Parses `s3://bucket` or `s3://bucket/prefix`.
    ///
    /// # Errors
    ///
    /// [`S3Error::InvalidUrl`] when the scheme is not `s3://`, the bucket is missing, or the
    /// bucket name holds characters no S3 bucket can have.
    pub fn parse(url: &str) -> Result<S3Url, S3Error> {
        let invalid = |reason| S3Error::InvalidUrl { url: url.to_owned(), reason };
        if !Self::is_s3(url) {
            return Err(invalid("expected s3://bucket/prefix"));
        }
        let rest = &url[SCHEME.len()..];
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(invalid("no bucket name: expected s3://bucket/prefix"));
        }
        if bucket.len() > 255 {
            return Err(invalid("bucket name longer than 255 characters"));
        }
        // Stricter than AWS's rules (3-63 lowercase characters) would reject buckets that older
        // AWS regions and S3-compatible stores accept; these characters are never valid anywhere.
        if !bucket.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')) {
            return Err(invalid("bucket names hold only letters, digits, '.', '-' and '_'"));
        }
        if prefix.chars().any(char::is_control) {
            return Err(invalid("control character in the key prefix"));
        }
        Ok(S3Url { bucket: bucket.to_owned(), prefix: prefix.to_owned() })
    }
}

impl fmt::Display for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}/{}", self.bucket, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_and_prefix() {
        let url = S3Url::parse("s3://my-bucket/enriched/2026/03/").unwrap();
        assert_eq!(url.bucket, "my-bucket");
        assert_eq!(url.prefix, "enriched/2026/03/");
        assert_eq!(url.to_string(), "s3://my-bucket/enriched/2026/03/");
    }

    #[test]
    fn bucket_alone_means_every_key() {
        for arg in ["s3://b.example", "s3://b.example/"] {
            let url = S3Url::parse(arg).unwrap();
            assert_eq!((url.bucket.as_str(), url.prefix.as_str()), ("b.example", ""));
            assert_eq!(url.to_string(), "s3://b.example/");
        }
    }

    #[test]
    fn scheme_is_case_insensitive_and_keys_are_literal() {
        let url = S3Url::parse("S3://b/a%20b/c d?x#y").unwrap();
        assert_eq!(url.prefix, "a%20b/c d?x#y");
    }

    #[test]
    fn malformed_urls_say_what_is_wrong() {
        for (arg, reason) in [
            ("bucket/prefix", "expected s3://bucket/prefix"),
            ("s3:/bucket", "expected s3://bucket/prefix"),
            ("https://bucket/x", "expected s3://bucket/prefix"),
            ("s3://", "no bucket name"),
            ("s3:///prefix", "no bucket name"),
            ("s3://bad bucket/x", "bucket names hold only"),
            ("s3://user:pw@host/x", "bucket names hold only"),
            ("s3://b/x\ny", "control character"),
        ] {
            let err = S3Url::parse(arg).unwrap_err();
            let message = err.to_string();
            assert!(message.contains(reason), "{arg:?}: {message}");
            assert!(message.contains(&format!("{arg:?}")), "{message}");
        }
    }

    #[test]
    fn is_s3_tells_urls_from_paths() {
        assert!(S3Url::is_s3("s3://b"));
        assert!(!S3Url::is_s3("s3"));
        assert!(!S3Url::is_s3("./s3://b"));
        assert!(!S3Url::is_s3("é"));
    }
}
