//! Single objects by key: whether one exists (and its size and ETag), writing one whole,
//! copying one and deleting one.
//! For state files, which a run reads whole (through [`S3Client::open`]) and writes whole.

use std::time::SystemTime;

use aws_sdk_s3::primitives::ByteStream;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::sdk_error::from_sdk;
use crate::{S3Client, S3Error, S3Object};

impl S3Client {
    /// The object at `bucket`/`key` as listing would give it (HeadObject), or `None` when
    /// there is no such object.
    ///
    /// # Errors
    ///
    /// [`S3Error::NoSuchBucket`], [`S3Error::AccessDenied`] (S3 also answers that for a
    /// missing key when the credentials may not list the bucket), [`S3Error::Unreachable`]
    /// and the like.
    pub async fn head(&self, bucket: &str, key: &str) -> Result<Option<S3Object>, S3Error> {
        let url = format!("s3://{bucket}/{key}");
        let target = self.target(url, bucket);
        match self.sdk.head_object().bucket(bucket).key(key).send().await {
            Ok(head) => Ok(Some(S3Object {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                size: head.content_length().and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                etag: head.e_tag().map(str::to_owned),
                last_modified: head.last_modified().and_then(|time| SystemTime::try_from(*time).ok()),
            })),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(err) => match from_sdk(&err, &target) {
                // HEAD answers carry no body, so a missing bucket shows only as a 404 too.
                S3Error::NoSuchKey { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    /// Writes `body` to `bucket`/`key` with one PutObject, replacing any object there: S3
    /// shows readers the old object or the new one, never a part (up to 5 GiB, PutObject's
    /// limit).
    ///
    /// # Errors
    ///
    /// [`S3Error::NoSuchBucket`], [`S3Error::AccessDenied`], [`S3Error::Unreachable`] and the
    /// like.
    pub async fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), S3Error> {
        let target = self.target(format!("s3://{bucket}/{key}"), bucket);
        self.sdk
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|err| from_sdk(&err, &target))?;
        Ok(())
    }

    /// Deletes the object at `bucket`/`key`; deleting an object that is not there succeeds,
    /// as in S3.
    ///
    /// # Errors
    ///
    /// [`S3Error::NoSuchBucket`], [`S3Error::AccessDenied`], [`S3Error::Unreachable`] and the
    /// like.
    pub async fn delete(&self, bucket: &str, key: &str) -> Result<(), S3Error> {
        let target = self.target(format!("s3://{bucket}/{key}"), bucket);
        match self.sdk.delete_object().bucket(bucket).key(key).send().await {
            Ok(_) => Ok(()),
            Err(err) => match from_sdk(&err, &target) {
                S3Error::NoSuchKey { .. } => Ok(()),
                other => Err(other),
            },
        }
    }

    /// Copies `bucket`/`from` to `bucket`/`to` on the server (CopyObject, one request up to
    /// 5 GiB), replacing any object at `to`: readers see the old object or the new one.
    ///
    /// # Errors
    ///
    /// [`S3Error::NoSuchKey`] when `from` is gone, [`S3Error::AccessDenied`],
    /// [`S3Error::Unreachable`] and the like.
    pub async fn copy(&self, bucket: &str, from: &str, to: &str) -> Result<(), S3Error> {
        let target = self.target(format!("s3://{bucket}/{to}"), bucket);
        // The copy source is `bucket/key`, URL-encoded but for its slashes.
        let source = format!("{bucket}/{}", utf8_percent_encode(from, COPY_SOURCE));
        self.sdk
            .copy_object()
            .bucket(bucket)
            .key(to)
            .copy_source(source)
            .send()
            .await
            .map_err(|err| from_sdk(&err, &target))?;
        Ok(())
    }
}

/// What a copy source's key keeps unencoded: RFC 3986's unreserved characters and `/`.
const COPY_SOURCE: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');
