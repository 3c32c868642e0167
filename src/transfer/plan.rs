//! Part sizing: how a known size splits into parts, and when one simple
//! request is enough.

use super::options::{TransferOptions, DEFAULT_PART_SIZE, MAX_PART_SIZE};
use crate::error::{Error, Result};
use crate::multipart::MAX_PART_NUMBER;

const MIB: u64 = 1024 * 1024;

/// The part size for an upload of `size` bytes (`None`: unknown length).
///
/// The configured (or default 8 MiB) size is grown, in whole MiB, until the
/// upload fits in 10000 parts. A stream of unknown length keeps the
/// configured size, so it can be at most 10000 × part size long (78 GiB at
/// the default); a longer stream fails with a message saying so.
pub fn part_size(size: Option<u64>, opts: &TransferOptions) -> Result<u64> {
    let base = opts.part_size.unwrap_or(DEFAULT_PART_SIZE);
    let Some(size) = size else {
        return Ok(base);
    };
    let needed = size.div_ceil(MAX_PART_NUMBER as u64);
    if needed <= base {
        return Ok(base);
    }
    let grown = needed.div_ceil(MIB) * MIB;
    if grown > MAX_PART_SIZE {
        return Err(Error::invalid(format!(
            "a file of {size} bytes needs more than {MAX_PART_NUMBER} parts of the largest \
             part size ({MAX_PART_SIZE} bytes); the service cannot store it in one upload"
        )));
    }
    Ok(grown)
}

/// The threshold at or under which one simple request is used.
pub fn threshold(opts: &TransferOptions, part_size: u64, file: bool) -> u64 {
    let t = opts.multipart_threshold.unwrap_or(part_size);
    if file {
        t
    } else {
        t.min(part_size)
    }
}

/// A known-size multipart upload: parts 1…count of `part_size`, the last
/// one shorter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub size: u64,
    pub part_size: u64,
    pub count: u32,
}

impl Plan {
    pub fn new(size: u64, part_size: u64) -> Plan {
        let count = size.div_ceil(part_size).max(1);
        Plan {
            size,
            part_size,
            count: count as u32,
        }
    }

    /// Offset and length of part `n` (1-based).
    pub fn range(&self, n: u32) -> (u64, u64) {
        let offset = (n as u64 - 1) * self.part_size;
        (offset, self.part_size.min(self.size - offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(part_size: Option<u64>) -> TransferOptions {
        TransferOptions {
            part_size,
            ..Default::default()
        }
    }

    #[test]
    fn sizes_grow_to_fit_ten_thousand_parts() {
        let o = opts(None);
        assert_eq!(part_size(Some(1 << 30), &o).unwrap(), 8 * MIB);
        assert_eq!(part_size(None, &o).unwrap(), 8 * MIB);
        let big = 200 * 1024 * MIB; // 200 GiB
        let ps = part_size(Some(big), &o).unwrap();
        assert!(ps.is_multiple_of(MIB) && big.div_ceil(ps) <= 10_000, "{ps}");
        let small = opts(Some(102_400));
        let ps = part_size(Some(10 * 1024 * MIB), &small).unwrap();
        assert!(10 * 1024 * MIB / ps <= 10_000);
        assert!(part_size(Some(700 * 1024 * MIB), &o).is_err());
    }

    #[test]
    fn ranges_cover_the_file() {
        let p = Plan::new(10 * MIB + 5, 4 * MIB);
        assert_eq!(p.count, 3);
        assert_eq!(p.range(1), (0, 4 * MIB));
        assert_eq!(p.range(3), (8 * MIB, 2 * MIB + 5));
        assert_eq!(Plan::new(8 * MIB, 4 * MIB).count, 2);
        assert_eq!(Plan::new(0, 4 * MIB).range(1), (0, 0));
    }

    #[test]
    fn threshold_is_capped_for_memory_sources() {
        let o = TransferOptions {
            multipart_threshold: Some(100 * MIB),
            ..Default::default()
        };
        assert_eq!(threshold(&o, 8 * MIB, true), 100 * MIB);
        assert_eq!(threshold(&o, 8 * MIB, false), 8 * MIB);
        assert_eq!(threshold(&opts(None), 8 * MIB, true), 8 * MIB);
    }
}
