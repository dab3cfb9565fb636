//! Vectors kept in fixed-size chunks. Growing one never moves what it holds, so its peak is what
//! it holds plus one chunk (a `Vec` that doubles holds its old and its new buffer while it
//! copies), and one consumed from the front gives its chunks back as it goes: merging two of
//! them into a third needs little more memory than the two.

/// Elements per chunk: 8192, 32 KiB of `u32` or 64 KiB of `i64`.
const CHUNK_BITS: u32 = 13;
const CHUNK: usize = 1 << CHUNK_BITS;

/// An append-only vector of `Copy` values in chunks of [`CHUNK`] elements.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T: Copy> Chunked<T> {
    /// An empty vector.
    pub(crate) fn new() -> Self {
        Chunked { chunks: Vec::new(), len: 0 }
    }

    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends `value`.
    #[inline]
    pub(crate) fn push(&mut self, value: T) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        self.chunks.last_mut().expect("a chunk with room").push(value);
        self.len += 1;
    }

    /// The element at `index`.
    ///
    /// # Panics
    /// When `index` is out of bounds.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> T {
        self.chunks[index >> CHUNK_BITS][index & (CHUNK - 1)]
    }

    /// The element at `index`, to change it.
    ///
    /// # Panics
    /// When `index` is out of bounds.
    #[inline]
    pub(crate) fn get_mut(&mut self, index: usize) -> &mut T {
        &mut self.chunks[index >> CHUNK_BITS][index & (CHUNK - 1)]
    }

    /// The elements in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.chunks.iter().flatten().copied()
    }

    /// The elements in order, each chunk freed once its elements were taken.
    pub(crate) fn drain_all(self) -> impl Iterator<Item = T> {
        self.chunks.into_iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_across_chunks_and_drains_in_order() {
        let mut v = Chunked::new();
        for i in 0..(3 * CHUNK + 5) as u32 {
            v.push(i);
        }
        assert_eq!(v.len(), 3 * CHUNK + 5);
        assert_eq!(v.get(CHUNK), CHUNK as u32);
        *v.get_mut(7) = 1;
        assert_eq!(v.get(7), 1);
        assert!(v.iter().skip(8).eq(8..(3 * CHUNK + 5) as u32));
        let drained: Vec<u32> = v.drain_all().collect();
        assert_eq!(drained.len(), 3 * CHUNK + 5);
    }
}
