//! Storage that trees read from the persistent cache share with the buffer
//! they were read in, instead of copies of it.
//!
//! A cache shard is mapped into memory (or read into an aligned buffer); each of its entries
//! holds a file's text and the flat arrays of its tree. A `Text` or a
//! `Slab` of that entry points into the buffer (and keeps it alive), so
//! taking a file from the cache allocates and copies nothing of its text or
//! tree. A file parsed in this run owns its storage, as before.
//!
//! The files of a run are packed alike (`Text::pack`, `Slab::pack`): each
//! parse thread copies a file's text and the arrays of its tree one after
//! the other into a chunk of 1 MiB, and views them there. Thousands of small
//! files then take a few large allocations, not several each, whose sizes
//! the allocator would round up and whose freed neighbours (the buffers a
//! file is read and parsed in) would leave holes between them.
//!
//! This module holds the crate's only `unsafe` code: viewing checked bytes of
//! a buffer as `str` or as a slice of plain `u32` records, and writing a
//! packing chunk. Each view is checked once, when it is made (UTF-8; bounds,
//! alignment, a little-endian target). That holds only while the bytes do
//! not change: a heap buffer is never written once read, a chunk is written
//! only past every view of it, and a mapped file must not be written in
//! place while it is mapped, which is the contract of `Buffer::open` (the
//! cache writes a shard only as a new file renamed over the old one).

use std::fmt;
use std::io::Read;
use std::ops::Deref;
use std::sync::Arc;

/// A file's bytes, mapped into memory read-only where the system can (Unix),
/// else read into memory aligned for `u32` records.
pub struct Buffer {
    /// The bytes: in `heap`, or a mapping of `len` bytes (Unix).
    ptr: *const u8,
    len: usize,
    /// The words `ptr` points into when the bytes are on the heap (a box
    /// given up with `Box::into_raw`, taken back on drop); `None` for a
    /// mapping, unmapped on drop.
    heap: Option<*mut [u64]>,
    origin: Origin,
}

/// What a buffer holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Origin {
    /// A file's bytes (a cache shard): `Buffer::open`, or bytes given.
    File,
    /// A packing chunk (see `pack`).
    Packed,
    /// The copy of one owned text or slice of records.
    Owned,
}

// SAFETY: the bytes are only read (a mapping is read-only, private, and
// unmapped only when the last handle goes), except a packing chunk's bytes
// past its views, which only the thread that packs into it writes.
unsafe impl Send for Buffer {}
// SAFETY: as above.
unsafe impl Sync for Buffer {}

impl Buffer {
    /// The file at `path`, mapped (Unix) or read whole.
    ///
    /// # Safety
    /// While the buffer (or any view of it) lives, the file must not be
    /// written in place or cut short: a private mapping still shows another
    /// process's writes to pages it has not copied, so a view checked once
    /// (UTF-8 text, a tree `Yaml::well_formed` accepted) could change under
    /// it, and reading past a new end stops the process (SIGBUS), as it would
    /// git reading its packs. Replacing the file by a rename, or removing it,
    /// is safe: the mapping keeps the old file.
    pub unsafe fn open(path: &std::path::Path) -> std::io::Result<Buffer> {
        let mut file = std::fs::File::open(path)?;
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| std::io::Error::other("the file is too large"))?;
        #[cfg(unix)]
        if len > 0
            && let Some(b) = Buffer::map(&file, len)
        {
            return Ok(b);
        }
        Buffer::read(&mut file, len)
    }

    /// Maps `len` bytes of `file`, its pages brought in at once where the
    /// system offers it (they are all read: checksums, then the trees).
    #[cfg(unix)]
    fn map(file: &std::fs::File, len: usize) -> Option<Buffer> {
        use std::os::fd::AsRawFd;
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let flags = libc::MAP_PRIVATE | libc::MAP_POPULATE;
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let flags = libc::MAP_PRIVATE;
        // SAFETY: a new read-only private mapping of an open file, at an
        // address the system picks; nothing else is touched.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                flags,
                file.as_raw_fd(),
                0,
            )
        };
        (ptr != libc::MAP_FAILED).then(|| Buffer {
            ptr: ptr.cast::<u8>(),
            len,
            heap: None,
            origin: Origin::File,
        })
    }

    /// Reads `len` bytes of `file` (its length when it was opened).
    fn read(file: &mut std::fs::File, len: usize) -> std::io::Result<Buffer> {
        let mut words = vec![0u64; len.div_ceil(8)].into_boxed_slice();
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut words[..]);
        // A file that grew since is read as the length it had; the shard's
        // checksums refuse what that cut.
        file.read_exact(&mut bytes[..len])?;
        Ok(Buffer::heap(words, len, Origin::File))
    }

    fn heap(words: Box<[u64]>, len: usize, origin: Origin) -> Buffer {
        debug_assert!(len <= words.len() * 8);
        let words = Box::into_raw(words);
        Buffer {
            ptr: words.cast::<u8>().cast_const(),
            len,
            heap: Some(words),
            origin,
        }
    }

    /// `b` copied into a buffer of its own, aligned for `u32` records.
    fn copied(b: &[u8], origin: Origin) -> Buffer {
        let mut words = vec![0u64; b.len().div_ceil(8)].into_boxed_slice();
        bytemuck::cast_slice_mut::<u64, u8>(&mut words[..])[..b.len()].copy_from_slice(b);
        Buffer::heap(words, b.len(), origin)
    }

    /// `b` as the whole of a new buffer (none when empty), and its length.
    fn owned(b: &[u8]) -> (Option<Arc<Buffer>>, u32) {
        if b.is_empty() {
            return (None, 0);
        }
        (
            Some(Arc::new(Buffer::copied(b, Origin::Owned))),
            b.len() as u32,
        )
    }

    #[inline(always)]
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` points to `len` bytes that live as long as `self`:
        // in `heap` (a box's contents do not move with it), or the mapping
        // that `drop` unmaps.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// Whether the bytes are the file mapped into memory.
    pub fn is_mapped(&self) -> bool {
        self.heap.is_none()
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        if let Some(words) = self.heap {
            // SAFETY: the box `heap` gave up, taken back once; no view of it
            // outlives the buffer (each holds an `Arc` of it).
            drop(unsafe { Box::from_raw(words) });
            return;
        }
        #[cfg(unix)]
        {
            // SAFETY: the mapping `map` made, unmapped once; no view of it
            // outlives the buffer (each holds an `Arc` of it).
            unsafe { libc::munmap(self.ptr.cast_mut().cast::<libc::c_void>(), self.len) };
        }
    }
}

/// Whether a view's buffer (none for an empty one) holds bytes of `origin`.
fn has_origin(buf: &Option<Arc<Buffer>>, origin: Origin) -> bool {
    buf.as_ref().is_some_and(|b| b.origin == origin)
}

/// Bytes read some other way, as if read from a file.
impl From<&[u8]> for Buffer {
    fn from(b: &[u8]) -> Buffer {
        Buffer::copied(b, Origin::File)
    }
}

/// The size of a packing chunk.
const CHUNK: usize = 1 << 20;
/// What is larger is not packed (it keeps an allocation of its own), so that
/// a chunk is never left mostly empty for it.
const PACK_MAX: usize = CHUNK / 16;

/// The chunk this thread packs into, and how many of its bytes are taken.
/// Views are made only of taken bytes, and the thread writes only past
/// them; the chunk's `Arc` is never handed out but inside views (nothing
/// calls `bytes` on it, which would view the whole chunk).
struct Packer {
    chunk: Arc<Buffer>,
    taken: usize,
}

thread_local! {
    static PACKER: std::cell::RefCell<Option<Packer>> = const { std::cell::RefCell::new(None) };
}

/// `bytes` copied into this thread's chunk at a multiple of 8 (a new chunk
/// when they do not fit): the chunk and where they start. `None` when they
/// are empty or over `PACK_MAX`.
fn pack(bytes: &[u8]) -> Option<(Arc<Buffer>, u32)> {
    if bytes.is_empty() || bytes.len() > PACK_MAX {
        return None;
    }
    PACKER.with_borrow_mut(|packer| {
        let fits = |p: &Packer| p.taken.next_multiple_of(8) + bytes.len() <= CHUNK;
        let p = match packer {
            Some(p) if fits(p) => p,
            _ => {
                let chunk = Buffer::heap(
                    vec![0u64; CHUNK / 8].into_boxed_slice(),
                    CHUNK,
                    Origin::Packed,
                );
                packer.insert(Packer {
                    chunk: Arc::new(chunk),
                    taken: 0,
                })
            }
        };
        let at = p.taken.next_multiple_of(8);
        // SAFETY: `at + bytes.len() <= CHUNK` bytes lie in the chunk's box,
        // whose pointer came from `Box::into_raw` (it may write). No view
        // covers them yet (views are of bytes before `taken`, and `bytes`
        // is never called on a chunk), and only this thread writes here.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                p.chunk.ptr.cast_mut().add(at),
                bytes.len(),
            );
        }
        p.taken = at + bytes.len();
        Some((Arc::clone(&p.chunk), at as u32))
    })
}

impl<T: Plain> Slab<T> {
    /// `records` copied into this thread's packing chunk (see the module's
    /// comment), or into a buffer of their own when there are none or too
    /// many.
    pub fn pack(records: &[T]) -> Slab<T> {
        // SAFETY: `T: Plain` is `u32` fields without padding: its records'
        // bytes are all initialized.
        let bytes = unsafe {
            std::slice::from_raw_parts(records.as_ptr().cast::<u8>(), size_of_val(records))
        };
        match pack(bytes) {
            // At a multiple of 8 in a chunk of `u64`s: aligned for `T`
            // (`Plain` records are aligned to 4).
            Some((buf, at)) => Slab::view(buf, at, records.len() as u32),
            None => Slab::copied(records),
        }
    }

    /// `records` copied into a buffer of their own.
    fn copied(records: &[T]) -> Slab<T> {
        // SAFETY: as in `pack`.
        let bytes = unsafe {
            std::slice::from_raw_parts(records.as_ptr().cast::<u8>(), size_of_val(records))
        };
        // At the start of a buffer of `u64`s: aligned for `T`.
        match Buffer::owned(bytes) {
            (Some(buf), _) => Slab::view(buf, 0, records.len() as u32),
            (None, _) => Slab::default(),
        }
    }
}

impl Text {
    /// `s` copied into this thread's packing chunk (see the module's
    /// comment), or into an allocation of its own when it is empty or large.
    pub fn pack(s: &str) -> Text {
        match pack(s.as_bytes()) {
            Some((buf, at)) => Text::new(buf, at, s.len() as u32),
            None => Text::from(s),
        }
    }
}

/// Where a view lies in its buffer, when `bytes` is a subslice of
/// `buf.bytes()` whose offset and length fit 32 bits.
fn offset_in(buf: &Buffer, bytes: &[u8]) -> Option<(u32, u32)> {
    let all = buf.bytes();
    let at = (bytes.as_ptr() as usize).checked_sub(all.as_ptr() as usize)?;
    (at.checked_add(bytes.len())? <= all.len())
        .then(|| Some((u32::try_from(at).ok()?, u32::try_from(bytes.len()).ok()?)))
        .flatten()
}

/// A record made only of `u32` fields, `#[repr(C)]`: no padding, every bit
/// pattern valid, and its bytes in a little-endian file are its fields in
/// order.
///
/// # Safety
/// Implement only for such types.
pub unsafe trait Plain: Copy + 'static {}

// SAFETY: a `u32` is its own only field.
unsafe impl Plain for u32 {}
// SAFETY: each is `#[repr(C)]` of `u32` fields only (spans are two), as the
// sizes below confirm: no padding, any bits valid.
unsafe impl Plain for crate::yaml::Node {}
// SAFETY: as above.
unsafe impl Plain for crate::yaml::Value {}
// SAFETY: as above.
unsafe impl Plain for crate::yaml::Document {}
// SAFETY: as above.
unsafe impl Plain for crate::yaml::DuplicateKey {}
const _: () = {
    use std::mem::{align_of, size_of};
    assert!(size_of::<crate::yaml::Span>() == 8 && align_of::<crate::yaml::Span>() == 4);
    assert!(size_of::<crate::yaml::Node>() == 8 && align_of::<crate::yaml::Node>() == 4);
    assert!(size_of::<crate::yaml::Value>() == 12 && align_of::<crate::yaml::Value>() == 4);
    assert!(size_of::<crate::yaml::Document>() == 12 && align_of::<crate::yaml::Document>() == 4);
    assert!(
        size_of::<crate::yaml::DuplicateKey>() == 16
            && align_of::<crate::yaml::DuplicateKey>() == 4
    );
};

/// A slice of records in a `Buffer`: a cache shard's, a packing chunk's or
/// one of its own (`From<Vec<T>>`). Read only: 16 bytes, where a `Vec` takes
/// 24.
pub struct Slab<T: Plain> {
    /// `len` records at byte `at` of `buf`; no buffer when there are none.
    buf: Option<Arc<Buffer>>,
    at: u32,
    len: u32,
    records: std::marker::PhantomData<T>,
}

impl<T: Plain> Slab<T> {
    /// `len` records at byte `at` of `buf`, which the caller checked lie in
    /// it, aligned for `T`.
    fn view(buf: Arc<Buffer>, at: u32, len: u32) -> Slab<T> {
        Slab {
            buf: Some(buf),
            at,
            len,
            records: std::marker::PhantomData,
        }
    }

    /// `bytes` (part of `buf`) read as records, shared with `buf` when the
    /// target is little-endian and the bytes are aligned, else copied;
    /// `None` when the length is not a whole number of records.
    pub fn of(buf: &Arc<Buffer>, bytes: &[u8], decode: impl Fn(&[u8]) -> T) -> Option<Slab<T>> {
        let size = std::mem::size_of::<T>();
        if !bytes.len().is_multiple_of(size) {
            return None;
        }
        let aligned = (bytes.as_ptr() as usize).is_multiple_of(std::mem::align_of::<T>());
        if cfg!(target_endian = "little")
            && aligned
            && let Some((at, _)) = offset_in(buf, bytes)
        {
            return Some(Slab::view(Arc::clone(buf), at, (bytes.len() / size) as u32));
        }
        Some(Slab::from(
            bytes.chunks_exact(size).map(decode).collect::<Vec<T>>(),
        ))
    }

    /// The records changed by `change`, in a buffer of their own (a copy:
    /// for tests).
    #[cfg(test)]
    pub fn edit(&mut self, change: impl FnOnce(&mut Vec<T>)) {
        let mut records = self.to_vec();
        change(&mut records);
        *self = Slab::from(records);
    }

    /// Whether the records point into a buffer read from a file (a cache
    /// shard).
    pub fn is_shared(&self) -> bool {
        has_origin(&self.buf, Origin::File)
    }

    /// Whether the records were packed (see `pack`).
    pub fn is_packed(&self) -> bool {
        has_origin(&self.buf, Origin::Packed)
    }
}

impl<T: Plain> Deref for Slab<T> {
    type Target = [T];
    #[inline(always)]
    fn deref(&self) -> &[T] {
        match &self.buf {
            None => &[],
            // SAFETY: `view`'s callers checked that the `len` records at
            // byte `at` lie in the buffer, aligned, and `T: Plain` reads any
            // bytes; `buf` keeps them alive and unchanged.
            Some(buf) => unsafe {
                std::slice::from_raw_parts(
                    buf.ptr.add(self.at as usize).cast::<T>(),
                    self.len as usize,
                )
            },
        }
    }
}

impl<'a, T: Plain> IntoIterator for &'a Slab<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The records copied into a buffer of their own.
impl<T: Plain> From<Vec<T>> for Slab<T> {
    fn from(v: Vec<T>) -> Slab<T> {
        Slab::copied(&v)
    }
}

impl<T: Plain> Default for Slab<T> {
    fn default() -> Slab<T> {
        Slab {
            buf: None,
            at: 0,
            len: 0,
            records: std::marker::PhantomData,
        }
    }
}

impl<T: Plain + fmt::Debug> fmt::Debug for Slab<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: Plain + PartialEq> PartialEq for Slab<T> {
    fn eq(&self, other: &Slab<T>) -> bool {
        **self == **other
    }
}

/// Text in a `Buffer`: a cache shard's, a packing chunk's or one of its own
/// (`From<&str>`); cheap to clone, and 16 bytes, as is an `Option` of it.
#[derive(Clone)]
pub struct Text {
    /// The bytes from `at` to `end` of `buf`; no buffer when empty (and
    /// `end` is then 1). Never zero, `end` leaves `Option<Text>` a value
    /// to stand for `None`.
    buf: Option<Arc<Buffer>>,
    at: u32,
    end: std::num::NonZeroU32,
}

impl Text {
    /// `len` bytes at byte `at` of `buf`, which the caller checked lie in it
    /// and are UTF-8; empty text when `at + len` does not fit 32 bits.
    fn new(buf: Arc<Buffer>, at: u32, len: u32) -> Text {
        match at.checked_add(len).and_then(std::num::NonZeroU32::new) {
            Some(end) if len > 0 => Text {
                buf: Some(buf),
                at,
                end,
            },
            _ => Text::default(),
        }
    }

    /// `bytes` (part of `buf`) as text shared with `buf`; `None` when they
    /// are not UTF-8 or not in `buf`.
    pub fn of(buf: &Arc<Buffer>, bytes: &[u8]) -> Option<Text> {
        std::str::from_utf8(bytes).ok()?;
        let (at, len) = offset_in(buf, bytes)?;
        at.checked_add(len)?;
        Some(Text::new(Arc::clone(buf), at, len))
    }

    pub fn as_str(&self) -> &str {
        self
    }

    /// `part` as a view of this text when it lies in it (no copy), else a
    /// copy of it.
    pub fn view(&self, part: &str) -> Text {
        if let Some(buf) = &self.buf {
            let (whole, start) = (self.as_bytes().as_ptr() as usize, part.as_ptr() as usize);
            if start >= whole && start + part.len() <= whole + self.len() && !part.is_empty() {
                let at = self.at + (start - whole) as u32;
                return Text::new(Arc::clone(buf), at, part.len() as u32);
            }
        }
        Text::from(part)
    }

    /// Whether the text points into a buffer read from a file (a cache
    /// shard).
    pub fn is_shared(&self) -> bool {
        has_origin(&self.buf, Origin::File)
    }

    /// Whether the text was packed (see `pack`).
    pub fn is_packed(&self) -> bool {
        has_origin(&self.buf, Origin::Packed)
    }
}

impl Deref for Text {
    type Target = str;
    #[inline(always)]
    fn deref(&self) -> &str {
        match &self.buf {
            None => "",
            // SAFETY: each maker checked that the `len` bytes at byte `at`
            // lie in the buffer and are UTF-8 (`of`, `view`), or copied them
            // from a `str`; `buf` keeps them alive and unchanged.
            Some(buf) => unsafe {
                std::str::from_utf8_unchecked(std::slice::from_raw_parts(
                    buf.ptr.add(self.at as usize),
                    (self.end.get() - self.at) as usize,
                ))
            },
        }
    }
}

impl Default for Text {
    fn default() -> Text {
        Text {
            buf: None,
            at: 0,
            end: std::num::NonZeroU32::MIN,
        }
    }
}

/// The text copied into a buffer of its own.
impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::from(s.as_str())
    }
}

/// The text copied into a buffer of its own.
impl From<&str> for Text {
    fn from(s: &str) -> Text {
        match Buffer::owned(s.as_bytes()) {
            (Some(buf), len) => Text::new(buf, 0, len),
            (None, _) => Text::default(),
        }
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        **self == **other
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        &**self == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        &**self == *other
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == &**other
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

impl std::borrow::Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_share_the_buffer_only_where_they_may() {
        let mut bytes = Vec::new();
        for w in [1u32, 2, 3, 4] {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        bytes.extend_from_slice("é!".as_bytes());
        let buf = Arc::new(Buffer::from(&bytes[..]));
        let b = buf.bytes();
        let le = |c: &[u8]| u32::from_le_bytes(c.try_into().unwrap());
        let words = Slab::<u32>::of(&buf, &b[..16], le).unwrap();
        assert_eq!(&*words, &[1, 2, 3, 4]);
        assert_eq!(words.is_shared(), cfg!(target_endian = "little"));
        // Misaligned: copied, same values.
        let odd = Slab::<u32>::of(&buf, &b[1..9], le).unwrap();
        assert!(!odd.is_shared());
        assert_eq!(&*odd, &[le(&b[1..5]), le(&b[5..9])]);
        // Not a whole number of records.
        assert!(Slab::<u32>::of(&buf, &b[..6], le).is_none());
        // Bytes that are not the buffer's are copied.
        let elsewhere = bytes[..8].to_vec();
        assert!(!Slab::<u32>::of(&buf, &elsewhere, le).unwrap().is_shared());
        let text = Text::of(&buf, &b[16..19]).unwrap();
        assert_eq!(&*text, "é!");
        assert!(text.is_shared());
        // Cut inside a character, or not the buffer's.
        assert!(Text::of(&buf, &b[16..17]).is_none());
        assert!(Text::of(&buf, "x".as_bytes()).is_none());
        // A shared slab copied to change it.
        let mut w = words;
        w.edit(|w| w.push(5));
        assert!(!w.is_shared() && !w.is_packed());
        assert_eq!(&*w, &[1, 2, 3, 4, 5]);
        // The views outlive every other handle on the buffer.
        drop(buf);
        assert_eq!(&*text, "é!");
    }

    #[test]
    fn a_file_is_mapped_where_the_system_can_and_read_alike() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.bin");
        let content: Vec<u8> = (0..10_000u32).flat_map(|i| i.to_le_bytes()).collect();
        std::fs::write(&path, &content).unwrap();
        // SAFETY: the test's own file, replaced below only by a rename.
        let buf = Arc::new(unsafe { Buffer::open(&path) }.unwrap());
        assert_eq!(buf.bytes(), &content[..]);
        assert_eq!(buf.is_mapped(), cfg!(unix));
        let le = |c: &[u8]| u32::from_le_bytes(c.try_into().unwrap());
        let words = Slab::<u32>::of(&buf, &buf.bytes()[4..], le).unwrap();
        assert_eq!(words.is_shared(), cfg!(target_endian = "little"));
        assert_eq!(words[0], 1);
        // Replaced by a rename, as the cache replaces a shard: the mapping
        // still reads the old file.
        let next = dir.path().join("g.bin");
        std::fs::write(&next, b"new").unwrap();
        std::fs::rename(&next, &path).unwrap();
        drop(buf);
        assert_eq!(words[9_998], 9_999);
        // An empty file is read, not mapped.
        std::fs::write(&path, b"").unwrap();
        // SAFETY: as above; an empty file is not mapped.
        let empty = unsafe { Buffer::open(&path) }.unwrap();
        assert!(empty.bytes().is_empty() && !empty.is_mapped());
        // SAFETY: no file to map.
        assert!(unsafe { Buffer::open(&dir.path().join("missing")) }.is_err());
    }

    /// Packed views read back what was packed, in order and aligned, across
    /// chunks; what is empty or large keeps an allocation of its own.
    #[test]
    fn packed_views_read_back_what_was_packed() {
        let mut rng = crate::testing::Rng::new(7);
        let mut texts = Vec::new();
        let mut slabs = Vec::new();
        let mut total = 0;
        // Past three chunks, with odd lengths so that slabs must be aligned.
        while total < 3 * CHUNK {
            let len = rng.below(5_000);
            let s: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            let words: Vec<u32> = (0..rng.below(300)).map(|_| rng.next_u64() as u32).collect();
            total += s.len() + 4 * words.len();
            texts.push((Text::pack(&s), s));
            slabs.push((Slab::pack(&words), words));
        }
        let mut chunks = std::collections::HashSet::new();
        for (packed, s) in &texts {
            assert_eq!(&**packed, s.as_str());
            assert_eq!(packed.is_packed(), !s.is_empty());
            assert!(!packed.is_shared());
            if let Some(buf) = &packed.buf {
                chunks.insert(Arc::as_ptr(buf));
            }
        }
        for (packed, words) in &slabs {
            assert_eq!(&**packed, &words[..]);
            assert_eq!(packed.is_packed(), !words.is_empty());
            assert!((packed.as_ptr() as usize).is_multiple_of(align_of::<u32>()));
        }
        assert!(chunks.len() >= 3, "{} chunks", chunks.len());
        // Large text is not packed.
        let large = "x".repeat(PACK_MAX + 1);
        assert!(!Text::pack(&large).is_packed());
        assert_eq!(&*Text::pack(&large), large.as_str());
        // A packed slab copied to change it.
        let (mut first, words) = slabs.into_iter().find(|(p, _)| p.is_packed()).unwrap();
        first.edit(|w| w.push(9));
        assert!(!first.is_packed());
        assert_eq!(first.last(), Some(&9));
        assert_eq!(first.len(), words.len() + 1);
    }

    /// Threads pack into chunks of their own while others read what they
    /// packed, and the views outlive the threads.
    #[test]
    fn threads_pack_apart() {
        let views: Vec<Vec<(Text, String)>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4u8)
                .map(|t| {
                    scope.spawn(move || {
                        (0..2_000)
                            .map(|i| {
                                let s = format!("thread {t} file {i} {}", "y".repeat(i % 700));
                                (Text::pack(&s), s)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        for (packed, s) in views.iter().flatten() {
            assert_eq!(&**packed, s.as_str());
        }
    }

    /// A slab or a text is a pointer and two offsets, smaller than a `Vec`
    /// or a `String`; one of its own reads back what it was made of.
    #[test]
    fn views_are_smaller_than_a_vec() {
        assert_eq!(size_of::<Slab<u32>>(), 16);
        assert_eq!(size_of::<Text>(), 16);
        assert_eq!(size_of::<Option<Text>>(), 16);
        let owned = Text::from("owned é");
        assert_eq!(&*owned, "owned é");
        assert!(!owned.is_shared() && !owned.is_packed());
        assert_eq!(&*owned.view(&owned[6..]), "é", "a view of a copy shares it");
        assert_eq!(&*Text::from(""), "");
        let value = crate::yaml::Value {
            at: 1,
            len: 2,
            end: 3,
        };
        let records = Slab::from(vec![value; 3]);
        assert_eq!(&*records, &[value; 3]);
        assert!((records.as_ptr() as usize).is_multiple_of(align_of::<u32>()));
        assert!(Slab::<u32>::from(Vec::new()).is_empty());
    }
}
