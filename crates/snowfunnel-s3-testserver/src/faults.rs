//! A wrapper around the s3s-fs store that records requests and misbehaves on demand.
//!
//! [`Faults::inject`] sets a [`Rule`]: for a kind of request ([`Op`]), optionally one key (or,
//! for listings, one prefix), on some of the matching requests ([`When`]), a [`Fault`]: an
//! error answer (500 `InternalError`, 503 `ServiceUnavailable`, 503 `SlowDown`), a slow answer or
//! a bandwidth-limited body, a TCP reset before the answer or mid-body, a body cut short of its
//! `Content-Length`, or the object overwritten before the request is served. [`Faults::cut`] is
//! the older shorthand for bodies cut mid-stream (and objects replaced mid-read).
//!
//! The wrapper also ignores `Range` on demand, adds folder markers to listings (s3s-fs keeps
//! folders as directories, which it never lists), caps listing pages, records every listing
//! and GetObject request, and, as S3 does and s3s-fs does not, lists ETags and honours
//! `If-Match` on GetObject.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures_util::Stream;
use md5::{Digest, Md5};
use s3s::dto::{
    CopyObjectInput, CopyObjectOutput, DeleteObjectInput, DeleteObjectOutput, ETag, ETagCondition,
    GetObjectInput, GetObjectOutput, HeadObjectInput, HeadObjectOutput, ListObjectsV2Input,
    ListObjectsV2Output, Object, PutObjectInput, PutObjectOutput, Range, StreamingBlob,
};
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use s3s_fs::FileSystem;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

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

/// The kinds of request faults apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// ListObjectsV2 (a rule's key is then the request's prefix).
    ListObjectsV2,
    /// GetObject.
    GetObject,
    /// HeadObject.
    HeadObject,
    /// PutObject.
    PutObject,
}

/// Which of the requests a rule matches suffer its fault, counted from 1 for each rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Every one.
    Always,
    /// The first `n`.
    First(u32),
    /// The `n`th only.
    Nth(u32),
    /// Every `n`th: the `n`th, the `2n`th...
    Every(u32),
}

impl When {
    fn fires(self, seen: u32) -> bool {
        match self {
            When::Always => true,
            When::First(n) => seen <= n,
            When::Nth(n) => seen == n,
            When::Every(n) => n > 0 && seen.is_multiple_of(n),
        }
    }
}

/// What goes wrong with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 500 `InternalError`.
    InternalError,
    /// HTTP 503 `ServiceUnavailable`.
    ServiceUnavailable,
    /// HTTP 503 `SlowDown`, S3's answer when a prefix gets too many requests.
    SlowDown,
    /// The answer starts only after this long: a slow or overloaded server.
    Delay(Duration),
    /// The body (GetObject) is served at about this many bytes per second, in small chunks.
    Throttle {
        /// The rate.
        bytes_per_second: u64,
    },
    /// The TCP connection is reset (RST) while the client waits for the answer.
    Reset,
    /// The TCP connection is reset (RST) after `after` bytes of the body (GetObject); bytes
    /// still in the server's socket buffer are lost, so the client gets at most `after`.
    ResetMidBody {
        /// Body bytes handed to the connection before the reset.
        after: usize,
    },
    /// The body (GetObject) stops after `after` bytes and the connection closes cleanly,
    /// though the `Content-Length` promised the whole object.
    Truncate {
        /// Body bytes handed to the connection before it closes.
        after: usize,
    },
    /// The object is overwritten with this content just before the request is served, as if
    /// another writer replaced it (GetObject, HeadObject).
    Overwrite(Vec<u8>),
}

/// A fault and the requests it applies to; see [`Faults::inject`].
#[derive(Debug, Clone)]
struct Rule {
    op: Op,
    key: Option<String>,
    when: When,
    fault: Fault,
    /// Matching requests seen so far.
    seen: u32,
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

/// One ListObjectsV2 request (one page) as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRecord {
    /// The `prefix` parameter.
    pub prefix: Option<String>,
    /// The `start-after` parameter.
    pub start_after: Option<String>,
    /// The `continuation-token` parameter: set on every page but the first.
    pub continuation_token: Option<String>,
    /// How many objects the page listed; 0 when a fault answered instead.
    pub objects: usize,
}

/// Shared between a test and the server it runs.
#[derive(Debug, Default)]
pub struct Faults {
    cuts: Mutex<HashMap<String, Cut>>,
    rules: Mutex<Vec<Rule>>,
    gets: Mutex<Vec<GetRecord>>,
    lists: Mutex<Vec<ListRecord>>,
    requests: Mutex<HashMap<Op, usize>>,
    folder_markers: Mutex<Vec<String>>,
    ignore_range: AtomicBool,
    ignore_if_match: AtomicBool,
    page_size: Mutex<Option<i32>>,
    list_calls: AtomicUsize,
    injected: AtomicUsize,
    bytes_served: AtomicU64,
}

impl Faults {
    /// Applies `cut` to the next GetObject requests of `key`.
    pub fn cut(&self, key: &str, cut: Cut) {
        self.cuts.lock().unwrap().insert(key.to_owned(), cut);
    }

    /// From now on, `fault` strikes the requests of kind `op` (of `key` only, when given: the
    /// object key, or a listing's exact prefix) that `when` picks among those the rule matches.
    /// Rules add up: a request may suffer several faults (an overwrite first, then a delay,
    /// then an error answer or a body fault).
    pub fn inject(&self, op: Op, key: Option<&str>, when: When, fault: Fault) {
        self.rules.lock().unwrap().push(Rule { op, key: key.map(str::to_owned), when, fault, seen: 0 });
    }

    /// Drops every rule set by [`Faults::inject`].
    pub fn clear(&self) {
        self.rules.lock().unwrap().clear();
    }

    /// Lists a zero-byte folder marker `key` (ending in `/`) on the first page of listings.
    pub fn add_folder_marker(&self, key: &str) {
        self.folder_markers.lock().unwrap().push(key.to_owned());
    }

    /// Serves whole bodies from now on, as if `Range` were not supported.
    pub fn ignore_range(&self) {
        self.ignore_range.store(true, Ordering::SeqCst);
    }

    /// Ignores `If-Match` from now on, as some S3-compatible stores do.
    pub fn ignore_if_match(&self) {
        self.ignore_if_match.store(true, Ordering::SeqCst);
    }

    /// Lists at most `objects` objects per page from now on (S3 lists 1,000).
    pub fn set_page_size(&self, objects: i32) {
        *self.page_size.lock().unwrap() = Some(objects);
    }

    /// Every GetObject request that reached the store so far (not those a fault answered
    /// before), in order.
    #[must_use]
    pub fn gets(&self) -> Vec<GetRecord> {
        self.gets.lock().unwrap().clone()
    }

    /// Every ListObjectsV2 request so far, in order.
    #[must_use]
    pub fn lists(&self) -> Vec<ListRecord> {
        self.lists.lock().unwrap().clone()
    }

    /// Requests of kind `op` so far, faulty ones included.
    #[must_use]
    pub fn requests(&self, op: Op) -> usize {
        self.requests.lock().unwrap().get(&op).copied().unwrap_or(0)
    }

    /// ListObjectsV2 requests so far.
    #[must_use]
    pub fn list_calls(&self) -> usize {
        self.list_calls.load(Ordering::SeqCst)
    }

    /// Faults of [`Faults::inject`] rules that struck so far.
    #[must_use]
    pub fn injected(&self) -> usize {
        self.injected.load(Ordering::SeqCst)
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

    /// Counts a request of kind `op` for `key`, and returns the faults it suffers.
    fn strike(&self, op: Op, key: &str) -> Vec<Fault> {
        *self.requests.lock().unwrap().entry(op).or_default() += 1;
        let mut faults = Vec::new();
        for rule in self.rules.lock().unwrap().iter_mut() {
            if rule.op != op || rule.key.as_deref().is_some_and(|k| k != key) {
                continue;
            }
            rule.seen += 1;
            if rule.when.fires(rule.seen) {
                faults.push(rule.fault.clone());
            }
        }
        self.injected.fetch_add(faults.len(), Ordering::SeqCst);
        faults
    }
}

/// What a request suffers, sorted out of its faults.
#[derive(Default)]
struct Plan {
    overwrite: Option<Vec<u8>>,
    delay: Option<Duration>,
    /// The error answer: one of the error faults.
    error: Option<Fault>,
    reset: bool,
    body: BodyFaults,
}

/// What happens to a GetObject body.
#[derive(Default, Clone)]
struct BodyFaults {
    /// Bytes before the body stops (the connection then closes).
    truncate_after: Option<usize>,
    /// Bytes before the connection is reset.
    reset_after: Option<usize>,
    bytes_per_second: Option<u64>,
}

impl Plan {
    fn new(faults: Vec<Fault>) -> Plan {
        let mut plan = Plan::default();
        for fault in faults {
            match fault {
                Fault::InternalError | Fault::ServiceUnavailable | Fault::SlowDown => {
                    plan.error = Some(fault)
                }
                Fault::Delay(delay) => plan.delay = Some(delay),
                Fault::Throttle { bytes_per_second } => plan.body.bytes_per_second = Some(bytes_per_second),
                Fault::Reset => plan.reset = true,
                Fault::ResetMidBody { after } => plan.body.reset_after = Some(after),
                Fault::Truncate { after } => plan.body.truncate_after = Some(after),
                Fault::Overwrite(content) => plan.overwrite = Some(content),
            }
        }
        plan
    }

    /// Waits, resets the connection or answers with an error, as planned; `Ok` when the
    /// request is to be served.
    async fn before_serving(&self, connection: Option<&ConnectionReset>) -> S3Result<()> {
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
        if self.reset {
            if let Some(connection) = connection {
                connection.reset();
            }
            return Err(s3_error!(InternalError, "injected fault: connection reset"));
        }
        match &self.error {
            Some(Fault::InternalError) => Err(s3_error!(InternalError, "injected fault")),
            Some(Fault::ServiceUnavailable) => Err(s3_error!(ServiceUnavailable, "injected fault")),
            Some(Fault::SlowDown) => Err(s3_error!(SlowDown, "injected fault")),
            _ => Ok(()),
        }
    }
}

/// The store behind the faults.
pub(crate) struct FaultyS3 {
    pub(crate) inner: FileSystem,
    pub(crate) root: PathBuf,
    pub(crate) faults: Arc<Faults>,
    /// The ETags of the files listed so far, by path, with the size and modification time
    /// they were computed for.
    pub(crate) etags: Mutex<HashMap<PathBuf, (u64, SystemTime, String)>>,
}

impl FaultyS3 {
    /// The ETag of the object in `path`, as s3s-fs gives it on GetObject and HeadObject (the
    /// MD5 of the content), which S3 also lists and s3s-fs does not.
    fn etag(&self, path: &Path) -> Option<String> {
        let meta = std::fs::metadata(path).ok()?;
        let (size, modified) = (meta.len(), meta.modified().ok()?);
        if let Some((s, m, etag)) = self.etags.lock().unwrap().get(path)
            && (*s, *m) == (size, modified)
        {
            return Some(etag.clone());
        }
        let mut file = std::fs::File::open(path).ok()?;
        let mut md5 = Md5::new();
        let mut buf = vec![0; 64 * 1024];
        loop {
            match std::io::Read::read(&mut file, &mut buf).ok()? {
                0 => break,
                n => md5.update(&buf[..n]),
            }
        }
        let etag: String = md5.finalize().iter().map(|b| format!("{b:02x}")).collect();
        self.etags.lock().unwrap().insert(path.to_owned(), (size, modified, etag.clone()));
        Some(etag)
    }

    /// Writes `content` over the object, as a new file renamed into place: a body already
    /// open keeps reading the old content.
    fn overwrite(&self, bucket: &str, key: &str, content: &[u8]) {
        let path = self.root.join(bucket).join(key);
        let fresh = path.with_extension("replacement");
        std::fs::write(&fresh, content).unwrap();
        std::fs::rename(&fresh, &path).unwrap();
    }
}

#[async_trait::async_trait]
impl S3 for FaultyS3 {
    async fn list_objects_v2(
        &self,
        mut req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.faults.list_calls.fetch_add(1, Ordering::SeqCst);
        let first_page = req.input.continuation_token.is_none();
        let prefix = req.input.prefix.clone().unwrap_or_default();
        let mut record = ListRecord {
            prefix: req.input.prefix.clone(),
            start_after: req.input.start_after.clone(),
            continuation_token: req.input.continuation_token.clone(),
            objects: 0,
        };
        let plan = Plan::new(self.faults.strike(Op::ListObjectsV2, &prefix));
        if let Err(err) = plan.before_serving(req.extensions.get()).await {
            self.faults.lists.lock().unwrap().push(record);
            return Err(err);
        }
        if let Some(page_size) = *self.faults.page_size.lock().unwrap() {
            req.input.max_keys = Some(req.input.max_keys.map_or(page_size, |asked| asked.min(page_size)));
        }
        let bucket = self.root.join(&req.input.bucket);
        let mut response = self.inner.list_objects_v2(req).await?;
        for object in response.output.contents.iter_mut().flatten() {
            if object.e_tag.is_none()
                && let Some(key) = &object.key
            {
                object.e_tag = self.etag(&bucket.join(key)).map(ETag::Strong);
            }
        }
        if first_page {
            let markers = self.faults.folder_markers.lock().unwrap().clone();
            let contents = response.output.contents.get_or_insert_with(Vec::new);
            for key in markers.into_iter().filter(|key| key.starts_with(&prefix)) {
                contents.push(Object { key: Some(key), size: Some(0), ..Object::default() });
            }
        }
        record.objects = response.output.contents.as_ref().map_or(0, Vec::len);
        self.faults.lists.lock().unwrap().push(record);
        Ok(response)
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        let plan = Plan::new(self.faults.strike(Op::HeadObject, &req.input.key));
        if let Some(content) = &plan.overwrite {
            self.overwrite(&req.input.bucket, &req.input.key, content);
        }
        plan.before_serving(req.extensions.get()).await?;
        self.inner.head_object(req).await
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        let plan = Plan::new(self.faults.strike(Op::PutObject, &req.input.key));
        plan.before_serving(req.extensions.get()).await?;
        self.inner.put_object(req).await
    }

    async fn copy_object(&self, req: S3Request<CopyObjectInput>) -> S3Result<S3Response<CopyObjectOutput>> {
        self.inner.copy_object(req).await
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.inner.delete_object(req).await
    }

    async fn get_object(&self, mut req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        let key = req.input.key.clone();
        let plan = Plan::new(self.faults.strike(Op::GetObject, &key));
        if let Some(content) = &plan.overwrite {
            self.overwrite(&req.input.bucket, &key, content);
        }
        let connection: Option<ConnectionReset> = req.extensions.get().cloned();
        plan.before_serving(connection.as_ref()).await?;

        let range_start = match req.input.range {
            Some(Range::Int { first, .. }) => Some(first),
            _ => None,
        };
        let if_match = req.input.if_match.take();
        if self.faults.ignore_range.load(Ordering::SeqCst) {
            req.input.range = None;
        }
        let bucket = req.input.bucket.clone();
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
            && !self.faults.ignore_if_match.load(Ordering::SeqCst)
            && !etag.as_ref().is_some_and(|etag| etag.strong_cmp(expected))
        {
            return Err(s3_error!(PreconditionFailed));
        }

        let mut body = plan.body.clone();
        let cut = self.faults.take_cut(&key);
        if let Some(cut) = &cut {
            body.truncate_after = Some(body.truncate_after.map_or(cut.after, |after| after.min(cut.after)));
            if let Some(replacement) = &cut.replace_with {
                self.overwrite(&bucket, &key, replacement);
            }
        }
        if let Some(inner) = response.output.body.take() {
            response.output.body = Some(StreamingBlob::wrap(ServedBody {
                inner,
                faults: body,
                served: 0,
                held: Bytes::new(),
                started: None,
                pause: None,
                connection,
                stats: Arc::clone(&self.faults),
            }));
        }
        Ok(response)
    }
}

/// A body that counts the bytes it serves and suffers its [`BodyFaults`].
struct ServedBody {
    inner: StreamingBlob,
    faults: BodyFaults,
    served: usize,
    /// What is left of the last chunk taken from `inner`.
    held: Bytes,
    /// When a throttled body sent its first byte.
    started: Option<Instant>,
    /// The wait before the next chunk of a throttled body.
    pause: Option<Pin<Box<Sleep>>>,
    connection: Option<ConnectionReset>,
    stats: Arc<Faults>,
}

/// A throttled body sends what its rate allows in this long, at most, at once.
const THROTTLE_TICK: Duration = Duration::from_millis(20);

impl Stream for ServedBody {
    type Item = Result<Bytes, io::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.faults.reset_after == Some(this.served) {
            this.faults.reset_after = None;
            if let Some(connection) = &this.connection {
                connection.reset();
            }
            return Poll::Ready(Some(Err(io::Error::other("injected fault: connection reset"))));
        }
        if this.faults.truncate_after == Some(this.served) {
            this.faults.truncate_after = None;
            this.inner = StreamingBlob::wrap(futures_util::stream::empty::<Result<Bytes, io::Error>>());
            this.held = Bytes::new();
            return Poll::Ready(Some(Err(io::Error::other("injected fault: body cut"))));
        }
        if let Some(rate) = this.faults.bytes_per_second
            && this.pause.is_none()
        {
            // Not ahead of `rate` since the first byte.
            let started = *this.started.get_or_insert_with(Instant::now);
            #[allow(clippy::cast_precision_loss)]
            let due = started + Duration::from_secs_f64(this.served as f64 / rate.max(1) as f64);
            if due > Instant::now() {
                this.pause = Some(Box::pin(tokio::time::sleep_until(due.into())));
            }
        }
        if let Some(pause) = &mut this.pause {
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.pause = None;
        }
        let mut bytes = if this.held.is_empty() {
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => bytes,
                Poll::Ready(Some(Err(err))) => return Poll::Ready(Some(Err(io::Error::other(err)))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        } else {
            std::mem::take(&mut this.held)
        };
        let limits = [this.faults.truncate_after, this.faults.reset_after];
        let mut most = limits.iter().flatten().map(|limit| limit - this.served).min();
        if let Some(rate) = this.faults.bytes_per_second {
            let per_tick = rate.saturating_mul(THROTTLE_TICK.as_millis() as u64) / 1000;
            let per_tick = usize::try_from(per_tick).unwrap_or(usize::MAX).max(1);
            most = Some(most.map_or(per_tick, |most| most.min(per_tick)));
        }
        if let Some(most) = most
            && bytes.len() > most
        {
            this.held = bytes.split_off(most);
        }
        this.served += bytes.len();
        this.stats.bytes_served.fetch_add(bytes.len() as u64, Ordering::SeqCst);
        Poll::Ready(Some(Ok(bytes)))
    }
}

/// The switch that resets one connection, handed to its requests in their extensions.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConnectionReset(Arc<AtomicBool>);

impl ConnectionReset {
    fn reset(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn is_reset(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A server-side connection that its [`ConnectionReset`] can reset: once it is set, every
/// write fails and the socket closes with `SO_LINGER` 0, which sends a TCP RST.
pub(crate) struct Connection {
    pub(crate) stream: TcpStream,
    pub(crate) reset: ConnectionReset,
}

impl Connection {
    fn check(&self) -> io::Result<()> {
        if self.reset.is_reset() {
            self.stream.set_zero_linger()?;
            return Err(io::Error::new(io::ErrorKind::ConnectionReset, "injected fault: connection reset"));
        }
        Ok(())
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if self.reset.is_reset() {
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for Connection {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_picks_the_requests() {
        let fired = |when: When| (1..=6).filter(|&seen| when.fires(seen)).collect::<Vec<u32>>();
        assert_eq!(fired(When::Always), [1, 2, 3, 4, 5, 6]);
        assert_eq!(fired(When::First(2)), [1, 2]);
        assert_eq!(fired(When::Nth(3)), [3]);
        assert_eq!(fired(When::Every(2)), [2, 4, 6]);
        assert!(fired(When::Every(0)).is_empty());
    }
}
