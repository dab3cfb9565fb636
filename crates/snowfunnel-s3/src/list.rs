//! Listing the objects under a prefix: every page, only objects worth reading.

use std::fmt;
use std::time::SystemTime;

use crate::sdk_error::from_sdk;
use crate::{S3Client, S3Error, S3Url};

/// One object to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    /// The bucket.
    pub bucket: String,
    /// The full key.
    pub key: String,
    /// Its size in bytes, as listed.
    pub size: u64,
    /// Its ETag as listed (quotes included), when the server gave one.
    pub etag: Option<String>,
    /// When it was last written, when the server said.
    pub last_modified: Option<SystemTime>,
}

impl fmt::Display for S3Object {
    /// `s3://bucket/key`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

impl S3Client {
    /// Lists every object under `url` (ListObjectsV2, following continuation tokens), sorted
    /// by key. Zero-byte objects and folder markers (keys ending in `/`) are left out: they
    /// hold no events.
    ///
    /// # Errors
    ///
    /// [`S3Error::NoObjects`] when nothing is left; [`S3Error::NoSuchBucket`],
    /// [`S3Error::AccessDenied`], [`S3Error::Unreachable`] and the like when a page cannot be
    /// had (after the SDK's retries).
    pub async fn list(&self, url: &S3Url) -> Result<Vec<S3Object>, S3Error> {
        let target = self.target(url.to_string(), &url.bucket);
        let prefix = (!url.prefix.is_empty()).then(|| url.prefix.clone());
        let mut objects = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .sdk
                .list_objects_v2()
                .bucket(&url.bucket)
                .set_prefix(prefix.clone())
                .set_continuation_token(token.clone())
                .send()
                .await
                .map_err(|err| from_sdk(&err, &target))?;
            objects.extend(page.contents().iter().filter_map(|object| {
                let key = object.key()?;
                let size = u64::try_from(object.size()?).ok()?;
                (size > 0 && !key.ends_with('/')).then(|| S3Object {
                    bucket: url.bucket.clone(),
                    key: key.to_owned(),
                    size,
                    etag: object.e_tag().map(str::to_owned),
                    last_modified: object.last_modified().and_then(|time| SystemTime::try_from(*time).ok()),
                })
            }));
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => {
                    // A server that hands back the token it was given would loop forever.
                    if token.as_deref() == Some(next) {
                        return Err(S3Error::Service {
                            target: target.url,
                            cause: "the server repeated a continuation token".to_owned(),
                        });
                    }
                    token = Some(next.to_owned());
                }
                _ => break,
            }
        }
        objects.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        objects.dedup_by(|a, b| a.key == b.key);
        if objects.is_empty() {
            return Err(S3Error::NoObjects { url: target.url });
        }
        Ok(objects)
    }
}
