//! Vectors kept in fixed-size chunks. Growing one never moves what it holds, so its peak is what
//! it holds plus one chunk: a `Vec` that doubles holds its old and its new buffer while it
//! copies, and leaves up to half of the new one unused.

/// Elements per chunk: 8192, 32 KiB of `u32` or 64 KiB of `i64`.
const CHUNK_BITS: u32 = 13;
const CHUNK: usize = 1 << CHUNK_BITS;

/// An append-only vector of `Copy` values in chunks of [`CHUNK`] elements.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T: Copy> Chunked<T> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `value`.
    #[inline]
    pub fn push(&mut self, value: T) {
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
    pub fn get(&self, index: usize) -> T {
        self.chunks[index >> CHUNK_BITS][index & (CHUNK - 1)]
    }

    /// The element at `index`, to change it.
    ///
    /// # Panics
    /// When `index` is out of bounds.
    #[inline]
    pub fn get_mut(&mut self, index: usize) -> &mut T {
        &mut self.chunks[index >> CHUNK_BITS][index & (CHUNK - 1)]
    }

    /// The elements in order.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.chunks.iter().flatten().copied()
    }

    /// The elements in reverse order.
    pub fn iter_rev(&self) -> impl Iterator<Item = T> + '_ {
        self.chunks.iter().rev().flat_map(|c| c.iter().rev()).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_across_chunks() {
        let mut v = Chunked::default();
        for i in 0..(3 * CHUNK + 5) as u32 {
            v.push(i);
        }
        assert_eq!(v.len(), 3 * CHUNK + 5);
        assert_eq!(v.get(CHUNK), CHUNK as u32);
        *v.get_mut(7) = 1;
        assert_eq!(v.get(7), 1);
        assert!(v.iter().skip(8).eq(8..(3 * CHUNK + 5) as u32));
        assert!(v.iter_rev().eq(v.iter().collect::<Vec<_>>().into_iter().rev()));
    }
}
