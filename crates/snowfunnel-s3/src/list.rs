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
        self.list_after(url, None).await
    }

    /// As [`S3Client::list`], but only the keys after `start_after` (ListObjectsV2's
    /// `start-after`: S3 skips the keys up to it, in byte order, without listing them), so
    /// that listing a prefix whose keys grow in order costs only what comes after. With a
    /// `start_after`, finding nothing after it is no error.
    ///
    /// # Errors
    ///
    /// As [`S3Client::list`].
    pub async fn list_after(&self, url: &S3Url, start_after: Option<&str>) -> Result<Vec<S3Object>, S3Error> {
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
                .set_start_after(start_after.map(str::to_owned))
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
        // `start-after` is a request: a server that ignores it must not bring back what it skips.
        if let Some(start_after) = start_after {
            objects.retain(|object| object.key.as_str() > start_after);
        }
        objects.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        objects.dedup_by(|a, b| a.key == b.key);
        if objects.is_empty() && start_after.is_none() {
            return Err(S3Error::NoObjects { url: target.url });
        }
        Ok(objects)
    }
}
