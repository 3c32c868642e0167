//! The whole-file MD5 of a known-size upload, fed from the part buffers.
//!
//! Parts travel in parallel and finish in any order, but the whole-file MD5
//! needs the bytes in order. So each part waits for its turn before it is
//! read ([`InOrder::turn`]: the bytes before it are hashed), then is read
//! once into its buffer and hashed for itself and for the whole file in one
//! pass ([`InOrder::hash`]); sending it does not wait for anything. Reading
//! and hashing thus form one sequential pass over the file, which keeps one
//! core busy while the parts before it are on the wire.
//!
//! Waiting for the turn happens before a part takes a buffer, so a waiting
//! part holds nothing that the part before it needs.

use super::digest::{md5_hex, Whole};
use crate::error::{Error, Result};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

pub struct InOrder {
    whole: Mutex<Whole>,
    /// How many bytes are hashed, for the parts waiting for their turn.
    hashed: watch::Sender<u64>,
}

impl InOrder {
    pub fn new() -> Arc<InOrder> {
        Arc::new(InOrder {
            whole: Mutex::new(Whole::new()),
            hashed: watch::Sender::new(0),
        })
    }

    fn whole(&self) -> std::sync::MutexGuard<'_, Whole> {
        self.whole.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until every byte before `offset` is hashed. A part hashed
    /// already (sent again after the upload restarted) passes at once.
    pub async fn turn(&self, offset: u64) {
        let mut rx = self.hashed.subscribe();
        // The sender lives in `self`, so waiting cannot fail.
        let _ = rx.wait_for(|hashed| *hashed >= offset).await;
    }

    /// Blocking. Hashes the part at `offset` into the whole-file MD5 when
    /// it is the next one, and returns its own MD5 when `own` is set. Runs
    /// to its end even if the caller stops waiting, so the whole-file hash
    /// is never left half-updated.
    pub fn hash(&self, offset: u64, data: &[u8], own: bool) -> Option<String> {
        let mut whole = self.whole();
        if whole.hashed() != offset {
            return own.then(|| md5_hex(data));
        }
        let md5 = if own {
            Some(whole.add_part(data))
        } else {
            whole.add(data);
            None
        };
        self.hashed.send_replace(whole.hashed());
        md5
    }

    /// The whole file's MD5 (lower-case hex) once all `size` bytes are in.
    pub fn finish(&self, size: u64) -> Result<String> {
        let whole = self.whole();
        if whole.hashed() != size {
            return Err(Error::Internal(format!(
                "the whole-file MD5 covers {} of {size} bytes",
                whole.hashed()
            )));
        }
        Ok(whole.hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_hashed_into_the_whole_in_order_only() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 31 % 251) as u8).collect();
        let o = InOrder::new();
        // Out of turn: only its own MD5.
        assert_eq!(
            o.hash(400, &data[400..], true).unwrap(),
            md5_hex(&data[400..])
        );
        assert!(o.finish(1000).is_err());
        assert_eq!(o.hash(0, &data[..400], false), None);
        assert_eq!(
            o.hash(400, &data[400..], true).unwrap(),
            md5_hex(&data[400..])
        );
        // Hashed already (a restart): its own MD5 again, the whole unchanged.
        assert_eq!(
            o.hash(0, &data[..400], true).unwrap(),
            md5_hex(&data[..400])
        );
        assert_eq!(o.finish(1000).unwrap(), md5_hex(&data));
    }

    #[test]
    fn a_turn_comes_when_the_bytes_before_it_are_hashed() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let o = InOrder::new();
        rt.block_on(async {
            o.turn(0).await;
            let waiting = o.turn(10);
            tokio::pin!(waiting);
            let early = tokio::time::timeout(std::time::Duration::from_millis(20), &mut waiting);
            assert!(early.await.is_err(), "not its turn yet");
            o.hash(0, &[7; 10], true);
            waiting.await;
        });
    }
}
