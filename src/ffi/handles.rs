//! Live handles: what the C side holds is an opaque token (slot index and
//! generation), never an address. The library never dereferences a value
//! it got from C, so a freed, doubly freed or invented handle is looked up,
//! not followed: it is simply not found. A slot reused by a later handle
//! gets a new generation, so a stale token cannot reach the new object.
//!
//! Each call takes an `Arc` of the object for its own duration. Freeing a
//! handle only removes the registry's reference: a call still running on
//! another thread keeps the object alive, and it is dropped when the last
//! such call returns.

use std::sync::{Arc, Mutex, MutexGuard};

/// Low half of a token: slot index + 1 (so no token is 0, i.e. NULL).
/// High half: the slot's generation. Half a pointer each, so the scheme
/// works for 32-bit pointers too.
const INDEX_BITS: u32 = usize::BITS / 2;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
const GENERATION_MASK: usize = usize::MAX >> INDEX_BITS;

struct Slot<T> {
    generation: usize,
    value: Option<Arc<T>>,
}

struct Slots<T> {
    slots: Vec<Slot<T>>,
    /// Indexes of empty slots, reused before the vector grows.
    free: Vec<usize>,
}

pub(crate) struct Registry<T> {
    inner: Mutex<Slots<T>>,
}

impl<T> Registry<T> {
    pub(crate) const fn new() -> Self {
        Registry {
            inner: Mutex::new(Slots {
                slots: Vec::new(),
                free: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slots<T>> {
        // The lock is only held for plain bookkeeping, which cannot leave
        // the slots inconsistent, so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores a value and answers its token, or None when every slot an
    /// index can name is in use (2^32 - 1 live handles on 64-bit targets).
    pub(crate) fn insert(&self, value: T) -> Option<usize> {
        let mut s = self.lock();
        let index = match s.free.pop() {
            Some(i) => i,
            None if s.slots.len() < INDEX_MASK => {
                s.slots.push(Slot {
                    generation: 0,
                    value: None,
                });
                s.slots.len() - 1
            }
            None => return None,
        };
        let slot = &mut s.slots[index];
        slot.value = Some(Arc::new(value));
        Some((slot.generation << INDEX_BITS) | (index + 1))
    }

    fn find(s: &Slots<T>, token: usize) -> Option<usize> {
        let index = (token & INDEX_MASK).checked_sub(1)?;
        let slot = s.slots.get(index)?;
        (slot.value.is_some() && slot.generation == token >> INDEX_BITS).then_some(index)
    }

    /// The live value a token names, shared for the duration of a call.
    pub(crate) fn get(&self, token: usize) -> Option<Arc<T>> {
        let s = self.lock();
        Self::find(&s, token).and_then(|i| s.slots[i].value.clone())
    }

    /// Ends a token: later lookups of it fail, and the slot's next value
    /// gets a new generation. Answers the registry's reference (None when
    /// the token was not live), to be dropped outside the lock.
    pub(crate) fn remove(&self, token: usize) -> Option<Arc<T>> {
        let mut s = self.lock();
        let index = Self::find(&s, token)?;
        let slot = &mut s.slots[index];
        let value = slot.value.take();
        // After 2^32 reuses of one slot (64-bit) a generation repeats; a
        // token that old is the only one that could be confused.
        slot.generation = (slot.generation + 1) & GENERATION_MASK;
        s.free.push(index);
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_tokens_miss_reused_slots() {
        let r = Registry::new();
        let a = r.insert("a").unwrap();
        assert_ne!(a, 0);
        assert_eq!(r.get(a).as_deref(), Some(&"a"));
        assert_eq!(r.remove(a).as_deref(), Some(&"a"));
        assert!(r.get(a).is_none());
        assert!(r.remove(a).is_none(), "a second free finds nothing");
        let b = r.insert("b").unwrap();
        assert_ne!(a, b, "the reused slot has a new generation");
        assert_eq!(a & INDEX_MASK, b & INDEX_MASK, "the slot was reused");
        assert!(r.get(a).is_none());
        assert!(r.remove(a).is_none(), "a stale free leaves the new value");
        assert_eq!(r.get(b).as_deref(), Some(&"b"));
        for bogus in [0, 1, usize::MAX, b ^ (1 << INDEX_BITS), b + 1] {
            assert!(r.get(bogus).is_none(), "{bogus:#x}");
        }
    }

    #[test]
    fn a_call_keeps_its_value_after_the_free() {
        let r = Registry::new();
        let t = r.insert(String::from("client")).unwrap();
        let in_call = r.get(t).unwrap();
        drop(r.remove(t));
        assert_eq!(*in_call, "client", "still usable by the running call");
        assert_eq!(Arc::strong_count(&in_call), 1, "the last reference");
    }
}
