//! A wrapper around the s3s-fs store that records requests and misbehaves on demand: it cuts
//! GetObject bodies, ignores `Range`, replaces objects mid-read and adds folder markers to
//! listings (s3s-fs keeps folders as directories, which it never lists). It also honours
//! `If-Match` on GetObject, as S3 does and s3s-fs does not.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use s3s::dto::{
    DeleteObjectInput, DeleteObjectOutput, ETagCondition, GetObjectInput, GetObjectOutput, HeadObjectInput,
    HeadObjectOutput, ListObjectsV2Input, ListObjectsV2Output, Object, PutObjectInput, PutObjectOutput,
    Range, StreamingBlob,
};
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use s3s_fs::FileSystem;

/// What the next GetObject requests of one key suffer.
#[derive(Debug, Clone)]
pub struct Cut {
    /// Bytes served before the body fails.
    pub after: usize,
    /// How many requests are cut; `None`: all of them.
    pub times: Option<u32>,
    /// New content written over the object when the body is cut.
    pub replace_with: Option<Vec<u8>>,
}

/// One GetObject request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRecord {
    /// The object key.
    pub key: String,
    /// The first byte asked for with `Range: bytes=N-`.
    pub range_start: Option<u64>,
    /// The `If-Match` value, quotes removed.
    pub if_match: Option<String>,
    /// The object's ETag when it was asked for, quotes removed.
    pub etag: Option<String>,
}

/// Shared between a test and the server it runs.
#[derive(Debug, Default)]
pub struct Faults {
    cuts: Mutex<HashMap<String, Cut>>,
    gets: Mutex<Vec<GetRecord>>,
    folder_markers: Mutex<Vec<String>>,
    ignore_range: std::sync::atomic::AtomicBool,
    list_calls: AtomicUsize,
    bytes_served: AtomicU64,
}

impl Faults {
    /// Applies `cut` to the next GetObject requests of `key`.
    pub fn cut(&self, key: &str, cut: Cut) {
        self.cuts.lock().unwrap().insert(key.to_owned(), cut);
    }

    /// Lists a zero-byte folder marker `key` (ending in `/`) on the first page of listings.
    pub fn add_folder_marker(&self, key: &str) {
        self.folder_markers.lock().unwrap().push(key.to_owned());
    }

    /// Serves whole bodies from now on, as if `Range` were not supported.
    pub fn ignore_range(&self) {
        self.ignore_range.store(true, Ordering::SeqCst);
    }

    /// Every GetObject request so far, in order.
    #[must_use]
    pub fn gets(&self) -> Vec<GetRecord> {
        self.gets.lock().unwrap().clone()
    }

    /// ListObjectsV2 requests so far.
    #[must_use]
    pub fn list_calls(&self) -> usize {
        self.list_calls.load(Ordering::SeqCst)
    }

    /// Body bytes served so far.
    #[must_use]
    pub fn bytes_served(&self) -> u64 {
        self.bytes_served.load(Ordering::SeqCst)
    }

    /// The cut for this request of `key`, using one of its `times`.
    fn take_cut(&self, key: &str) -> Option<Cut> {
        let mut cuts = self.cuts.lock().unwrap();
        let cut = cuts.get_mut(key)?;
        match &mut cut.times {
            Some(0) => None,
            Some(times) => {
                *times -= 1;
                Some(cut.clone())
            }
            None => Some(cut.clone()),
        }
    }
}

/// The s3s-fs store behind the faults.
pub(crate) struct FaultyS3 {
    pub(crate) inner: FileSystem,
    pub(crate) root: PathBuf,
    pub(crate) faults: Arc<Faults>,
}

#[async_trait::async_trait]
impl S3 for FaultyS3 {
    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.faults.list_calls.fetch_add(1, Ordering::SeqCst);
        let first_page = req.input.continuation_token.is_none();
        let prefix = req.input.prefix.clone().unwrap_or_default();
        let mut response = self.inner.list_objects_v2(req).await?;
        if first_page {
            let markers = self.faults.folder_markers.lock().unwrap().clone();
            let contents = response.output.contents.get_or_insert_with(Vec::new);
            for key in markers.into_iter().filter(|key| key.starts_with(&prefix)) {
                contents.push(Object { key: Some(key), size: Some(0), ..Object::default() });
            }
        }
        Ok(response)
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        self.inner.head_object(req).await
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        self.inner.put_object(req).await
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.inner.delete_object(req).await
    }

    async fn get_object(&self, mut req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        let key = req.input.key.clone();
        let range_start = match req.input.range {
            Some(Range::Int { first, .. }) => Some(first),
            _ => None,
        };
        let if_match = req.input.if_match.take();
        if self.faults.ignore_range.load(Ordering::SeqCst) {
            req.input.range = None;
        }
        let path = self.root.join(&req.input.bucket).join(&key);
        let mut response = self.inner.get_object(req).await?;
        let etag = response.output.e_tag.clone();
        self.faults.gets.lock().unwrap().push(GetRecord {
            key: key.clone(),
            range_start,
            if_match: if_match.as_ref().map(|condition| match condition {
                ETagCondition::ETag(etag) => etag.value().to_owned(),
                ETagCondition::Any => "*".to_owned(),
            }),
            etag: etag.as_ref().map(|etag| etag.value().to_owned()),
        });
        if let Some(ETagCondition::ETag(expected)) = &if_match
            && !etag.as_ref().is_some_and(|etag| etag.strong_cmp(expected))
        {
            return Err(s3_error!(PreconditionFailed));
        }

        let cut = self.faults.take_cut(&key);
        if let Some(replacement) = cut.as_ref().and_then(|cut| cut.replace_with.as_ref()) {
            // Rename over the file: the body already open keeps reading the old content.
            let fresh = path.with_extension("replacement");
            std::fs::write(&fresh, replacement).unwrap();
            std::fs::rename(&fresh, &path).unwrap();
        }
        if let Some(body) = response.output.body.take() {
            response.output.body = Some(StreamingBlob::wrap(ServedBody {
                inner: body,
                cut_after: cut.map(|cut| cut.after),
                faults: Arc::clone(&self.faults),
            }));
        }
        Ok(response)
    }
}

/// A body that counts the bytes it serves and fails after `cut_after` of them.
struct ServedBody {
    inner: StreamingBlob,
    cut_after: Option<usize>,
    faults: Arc<Faults>,
}

impl Stream for ServedBody {
    type Item = Result<Bytes, io::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.cut_after == Some(0) {
            this.cut_after = None;
            this.inner = StreamingBlob::wrap(futures_util::stream::empty::<Result<Bytes, io::Error>>());
            return Poll::Ready(Some(Err(io::Error::other("injected fault: body cut"))));
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(mut bytes))) => {
                if let Some(left) = &mut this.cut_after {
                    bytes.truncate(*left);
                    *left -= bytes.len();
                }
                this.faults.bytes_served.fetch_add(bytes.len() as u64, Ordering::SeqCst);
                Poll::Ready(Some(Ok(bytes)))
            }
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(io::Error::other(err)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}
