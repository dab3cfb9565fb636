//! Object bodies as `std::io::Read`, so worker threads decompress and parse them as they
//! arrive while the network side stays on the async runtime.
//!
//! A download task per object sends the body's chunks through a bounded channel: at most
//! [`CHANNEL_CHUNKS`] chunks wait for the reader, so memory stays bounded whatever the object
//! size. Every request carries `If-Match` with the ETag listed, so an object overwritten since
//! it was listed is an error (also checked by ETag and size, for stores that ignore `If-Match`).
//! When the body fails mid-stream (a reset, a body cut short of its length, a stall the SDK's
//! stalled-stream protection cuts), which the SDK's retries do not cover once the answer has
//! begun, the task asks again for the bytes not yet delivered (`Range: bytes=N-`), so the
//! reader sees every byte of one version exactly once, in order, or an error.

use std::io::{self, Read};
use std::time::Duration;

use bytes::{Buf, Bytes};
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::sdk_error::{chain, from_sdk};
use crate::{S3Client, S3Error, S3Object};

/// Chunks (as the HTTP client delivers them, typically 8 to 64 KiB) buffered per object.
pub const CHANNEL_CHUNKS: usize = 8;
/// The wait before the first resume of a failed body; it doubles with every further one.
const RESUME_BACKOFF: Duration = Duration::from_millis(100);
const MAX_RESUME_BACKOFF: Duration = Duration::from_secs(5);

enum Message {
    Bytes(Bytes),
    End,
    Failed(S3Error),
}

enum State {
    Reading,
    Done,
    Failed(S3Error),
}

/// The body of one object, read synchronously; see [`S3Client::open`].
///
/// Errors from `read` are `std::io::Error`s wrapping an [`S3Error`] (get it back with
/// `into_inner` and `downcast`), whose message names `s3://bucket/key` and the cause. After
/// an error every further `read` returns the same error. Dropping the reader cancels the
/// download.
pub struct ObjectReader {
    receiver: mpsc::Receiver<Message>,
    chunk: Bytes,
    state: State,
    target: String,
    task: JoinHandle<()>,
}

impl S3Client {
    /// Starts downloading `object` on `runtime` and returns a reader of its bytes.
    ///
    /// The download waits for one of the client's [`concurrency`](crate::S3Options) permits
    /// and holds it until the body is read to the end, fails or the reader is dropped: read
    /// readers to the end (or drop them) rather than opening many and reading them in turn.
    /// The reader's `read` blocks: call it from a worker thread, not from async code.
    #[must_use]
    pub fn open(&self, runtime: &Handle, object: &S3Object) -> ObjectReader {
        let (sender, receiver) = mpsc::channel(CHANNEL_CHUNKS);
        let download = Download { client: self.clone(), object: object.clone(), sender };
        ObjectReader {
            receiver,
            chunk: Bytes::new(),
            state: State::Reading,
            target: object.to_string(),
            task: runtime.spawn(download.run()),
        }
    }
}

impl Read for ObjectReader {
    /// # Panics
    ///
    /// When called from within an async runtime (it blocks the thread).
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.chunk.is_empty() {
                let n = buf.len().min(self.chunk.len());
                buf[..n].copy_from_slice(&self.chunk[..n]);
                self.chunk.advance(n);
                return Ok(n);
            }
            match &self.state {
                State::Reading => {}
                State::Done => return Ok(0),
                State::Failed(err) => return Err(err.clone().into()),
            }
            match self.receiver.blocking_recv() {
                Some(Message::Bytes(bytes)) => self.chunk = bytes,
                Some(Message::End) => self.state = State::Done,
                Some(Message::Failed(err)) => self.state = State::Failed(err),
                // Without `End` a closed channel must not pass for the end of the object.
                None => {
                    self.state = State::Failed(S3Error::Interrupted { target: self.target.clone() });
                }
            }
        }
    }
}

impl Drop for ObjectReader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The async side of one [`ObjectReader`].
struct Download {
    client: S3Client,
    object: S3Object,
    sender: mpsc::Sender<Message>,
}

impl Download {
    async fn run(self) {
        let last = match self.download().await {
            Ok(()) => Message::End,
            Err(err) => Message::Failed(err),
        };
        // Fails only when the reader is gone, and then nobody is left to tell.
        let _ = self.sender.send(last).await;
    }

    /// Sends the body's bytes, resuming after failures; `Ok` also when the reader went away.
    async fn download(&self) -> Result<(), S3Error> {
        let Ok(_permit) = self.client.downloads.acquire().await else {
            return Err(self.interrupted());
        };
        let target = self.client.target(self.object.to_string(), &self.object.bucket);
        let mut delivered: u64 = 0;
        let size = self.object.size;
        // Every request asks for the version listed (or looked up): `If-Match` on its ETag,
        // or, listed without one, on the ETag of the first answer.
        let mut etag = self.object.etag.clone();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let mut request = self
                .client
                .sdk
                .get_object()
                .bucket(&self.object.bucket)
                .key(&self.object.key)
                .set_if_match(etag.clone());
            if delivered > 0 {
                request = request.range(format!("bytes={delivered}-"));
            }
            let response = request.send().await.map_err(|err| match from_sdk(&err, &target) {
                S3Error::ObjectChanged { target, cause } if delivered == 0 => {
                    S3Error::ObjectChanged { target, cause: format!("{cause}, since it was listed") }
                }
                other => other,
            })?;
            let changed = |cause: String| S3Error::ObjectChanged { target: target.url.clone(), cause };
            // Bytes to drop from this response: a server that ignores `Range` sends them all.
            let mut skip = 0;
            let length = response.content_length().and_then(|n| u64::try_from(n).ok());
            if delivered == 0 {
                // A server that ignores `If-Match` still shows a new version by its ETag or size.
                if let (Some(listed), Some(now)) = (&etag, response.e_tag())
                    && listed != now
                {
                    return Err(changed(format!("its ETag went from {listed} to {now} since it was listed")));
                }
                if let Some(length) = length
                    && length != size
                {
                    return Err(changed(format!(
                        "its size went from {size} to {length} bytes since it was listed"
                    )));
                }
                etag = etag.or_else(|| response.e_tag().map(str::to_owned));
            } else if let Some(range) = response.content_range() {
                check_range(range, delivered, size).map_err(changed)?;
            } else if length.is_none_or(|length| length == size) {
                // The whole object again: `Range` was ignored.
                skip = delivered;
            } else {
                return Err(changed(format!(
                    "asked for bytes from {delivered}, got a body that is not its {size} bytes"
                )));
            }

            let mut body = response.body;
            let failure = loop {
                match body.next().await {
                    Some(Ok(mut bytes)) => {
                        let dropped = bytes.len().min(usize::try_from(skip).unwrap_or(usize::MAX));
                        bytes.advance(dropped);
                        skip -= dropped as u64;
                        if bytes.is_empty() {
                            continue;
                        }
                        delivered += bytes.len() as u64;
                        if delivered > size {
                            return Err(changed(format!("the body is longer than its {size} bytes")));
                        }
                        if self.sender.send(Message::Bytes(bytes)).await.is_err() {
                            return Ok(());
                        }
                    }
                    Some(Err(err)) => break chain(&err),
                    None if delivered == size => return Ok(()),
                    None => break format!("the body ended after {delivered} of {size} bytes"),
                }
            };
            // At the very end only a failed checksum can be wrong, and resuming cannot fix it.
            if attempt >= self.client.max_attempts || delivered >= size {
                return Err(S3Error::BodyFailed {
                    target: target.url,
                    attempts: attempt,
                    offset: delivered,
                    size,
                    cause: failure,
                });
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
    }

    fn interrupted(&self) -> S3Error {
        S3Error::Interrupted { target: self.object.to_string() }
    }
}

/// Checks that `Content-Range: bytes first-last/total` answers `bytes=delivered-` of an
/// object of `size` bytes.
fn check_range(range: &str, delivered: u64, size: u64) -> Result<(), String> {
    let parsed =
        range.strip_prefix("bytes ").and_then(|rest| rest.split_once('/')).and_then(|(span, total)| {
            let (first, _) = span.split_once('-')?;
            Some((first.parse::<u64>().ok()?, total.parse::<u64>().ok()))
        });
    match parsed {
        Some((first, _)) if first != delivered => {
            Err(format!("asked for bytes from {delivered}, got Content-Range {range:?}"))
        }
        Some((_, Some(total))) if total != size => Err(format!("its size went from {size} to {total} bytes")),
        Some(_) => Ok(()),
        None => Err(format!("unreadable Content-Range {range:?}")),
    }
}

fn backoff(attempt: u32) -> Duration {
    let factor = 1u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX);
    RESUME_BACKOFF.saturating_mul(factor).min(MAX_RESUME_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_must_continue_where_we_stopped() {
        assert_eq!(check_range("bytes 100-999/1000", 100, 1000), Ok(()));
        assert_eq!(check_range("bytes 100-999/*", 100, 1000), Ok(()));
        assert!(check_range("bytes 0-999/1000", 100, 1000).unwrap_err().contains("from 100"));
        assert!(check_range("bytes 100-1999/2000", 100, 1000).unwrap_err().contains("1000 to 2000"));
        assert!(check_range("items 1-2/3", 1, 3).unwrap_err().contains("unreadable"));
    }

    #[test]
    fn readers_move_to_worker_threads() {
        fn send<T: Send + 'static>() {}
        fn shared<T: Send + Sync + 'static>() {}
        send::<ObjectReader>();
        shared::<S3Client>();
    }

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(2), Duration::from_millis(200));
        assert_eq!(backoff(4), Duration::from_millis(800));
        assert_eq!(backoff(40), MAX_RESUME_BACKOFF);
    }
}
