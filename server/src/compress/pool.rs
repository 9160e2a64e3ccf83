//! Brotli's working memory, kept per thread from one response to the next.
//!
//! The encoder allocates its hash tables and buffers (about 0.5 MB for a 120 KB page)
//! zero-filled for every body and frees them at the end. The allocator returns freed
//! pages to the system at once (`memory.rs`, to keep the RSS down after a burst), so
//! each response faulted them all back in: compressing the runs page took 1.34 ms in
//! the server's process against 0.62 ms warm (BENCHMARKS.md). Here freed blocks wait in
//! a small per-thread pool and are cleared for reuse instead.
use brotli::enc::BrotliAlloc;
use brotli::{Allocator, SliceWrapper, SliceWrapperMut};
use std::any::{Any, TypeId};
use std::cell::RefCell;

/// What one thread keeps at most, in bytes: a few encoders' worth.
const POOL_BYTES: usize = 4 << 20;

struct Block {
    type_id: TypeId,
    len: usize,
    bytes: usize,
    cells: Box<dyn Any>,
}

#[derive(Default)]
struct Pool {
    blocks: Vec<Block>,
    bytes: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool::default());
}

impl Pool {
    fn take<T: 'static>(&mut self, len: usize) -> Option<Vec<T>> {
        let at = self
            .blocks
            .iter()
            .rposition(|b| b.type_id == TypeId::of::<T>() && b.len == len)?;
        let block = self.blocks.swap_remove(at);
        self.bytes -= block.bytes;
        block.cells.downcast::<Vec<T>>().ok().map(|cells| *cells)
    }

    fn give<T: 'static>(&mut self, cells: Vec<T>) {
        let bytes = std::mem::size_of_val(cells.as_slice());
        if bytes == 0 || self.bytes + bytes > POOL_BYTES {
            return;
        }
        self.bytes += bytes;
        self.blocks.push(Block {
            type_id: TypeId::of::<T>(),
            len: cells.len(),
            bytes,
            cells: Box::new(cells),
        });
    }
}

/// An allocation handed to the encoder.
pub struct Cells<T>(Vec<T>);

impl<T> Default for Cells<T> {
    fn default() -> Self {
        Cells(Vec::new())
    }
}

impl<T> SliceWrapper<T> for Cells<T> {
    fn slice(&self) -> &[T] {
        &self.0
    }
}

impl<T> SliceWrapperMut<T> for Cells<T> {
    fn slice_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

/// The encoder's allocator: blocks come from this thread's pool when one of the same
/// type and length is there, reset to their default value as a new allocation would be.
pub struct Pooled;

impl<T: Clone + Default + 'static> Allocator<T> for Pooled {
    type AllocatedMemory = Cells<T>;

    fn alloc_cell(&mut self, len: usize) -> Cells<T> {
        if len == 0 {
            return Cells::default();
        }
        match POOL.with(|p| p.borrow_mut().take::<T>(len)) {
            Some(mut cells) => {
                cells.fill(T::default());
                Cells(cells)
            }
            None => Cells(vec![T::default(); len]),
        }
    }

    fn free_cell(&mut self, cells: Cells<T>) {
        POOL.with(|p| p.borrow_mut().give(cells.0));
    }
}

impl BrotliAlloc for Pooled {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freed_block_comes_back_cleared_for_the_same_type_and_length_only() {
        let mut alloc = Pooled;
        let mut a: Cells<u32> = alloc.alloc_cell(1000);
        a.slice_mut().fill(7);
        let address = a.slice().as_ptr();
        alloc.free_cell(a);

        let other_len: Cells<u32> = alloc.alloc_cell(999);
        assert_ne!(other_len.slice().as_ptr(), address);
        let other_type: Cells<i32> = alloc.alloc_cell(1000);
        assert_ne!(other_type.slice().as_ptr() as usize, address as usize);

        let again: Cells<u32> = alloc.alloc_cell(1000);
        assert_eq!(again.slice().as_ptr(), address, "the freed block is reused");
        assert!(again.slice().iter().all(|&v| v == 0), "and cleared");
    }

    #[test]
    fn the_pool_keeps_at_most_its_limit() {
        let mut alloc = Pooled;
        let blocks: Vec<Cells<u8>> = (0..6).map(|_| alloc.alloc_cell(1 << 20)).collect();
        for b in blocks {
            alloc.free_cell(b);
        }
        POOL.with(|p| {
            let pool = p.borrow();
            assert_eq!(pool.bytes, POOL_BYTES);
            assert_eq!(pool.blocks.len(), 4);
        });
    }
}
