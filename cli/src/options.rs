//! The command line as the library's options: the uploader's and the
//! folder engines' options from the transfer flags, `--part-size` sizes,
//! the policy of the tool's own upload tokens, and the library's option
//! names turned back into the flags the user wrote. Shared by `cp`,
//! `sync` and the folder engines' calls.

use crate::args::TransferArgs;
use crate::fail::{Fail, Outcome};
use crate::manage::now_ms;
use wantu::policy::Policy;
use wantu::transfer::TransferOptions;
use wantu::{BatchOptions, DownloadOptions};

/// How long the upload tokens the tool makes for itself stay valid.
const OWN_TOKEN_LIFETIME_MS: i64 = 24 * 3600 * 1000;

/// The policy of the upload tokens the tool makes for itself.
pub fn own_policy(namespace: &str) -> Outcome<Policy> {
    let text = serde_json::json!({
        "namespace": namespace,
        "expiration": now_ms() + OWN_TOKEN_LIFETIME_MS,
    })
    .to_string();
    Policy::parse(&text).map_err(|e| Fail::Usage(e.message().into()))
}

/// The uploader's options from the command line.
pub fn transfer_options(args: &TransferArgs, base: TransferOptions) -> Outcome<TransferOptions> {
    let mut opts = base;
    if let Some(c) = args.concurrency {
        opts.concurrency = c;
    }
    if let Some(ps) = &args.part_size {
        opts.part_size = Some(parse_size(ps)?);
    }
    opts.integrity = !args.no_integrity;
    opts.validate()
        .map_err(|e| Fail::Usage(flag_names(e.message())))?;
    Ok(opts)
}

/// `1048576`, `512KiB`, `8MiB`, `8M`, `1GiB` → bytes.
pub fn parse_size(text: &str) -> Outcome<u64> {
    bytes_of(text).ok_or_else(|| {
        Fail::Usage(format!(
            "--part-size {text:?} is not a size: give bytes or a number with KiB, MiB or GiB"
        ))
    })
}

/// `--limit-rate`: bytes per second, as a size with an optional `/s`
/// (`2MiB`, `500K`, `1MiB/s`); 0 is refused.
pub fn parse_rate(text: &str) -> Outcome<u64> {
    let t = text.trim();
    let t = t.strip_suffix("/s").unwrap_or(t);
    bytes_of(t).ok_or_else(|| {
        Fail::Usage(format!(
            "--limit-rate {text:?} is not a rate: give bytes per second, at least 1, or a \
             number with K, M or G (KiB, MiB, GiB), e.g. 2MiB"
        ))
    })
}

/// A positive byte count with an optional binary unit, or None.
fn bytes_of(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => 0,
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|n| *n > 0)
}

/// Options of a folder upload: `--concurrency` and the rest on top of the
/// folder engine's defaults.
pub fn upload_options(
    args: &TransferArgs,
    skip: wantu::tree::Skip,
    dry_run: bool,
) -> Outcome<BatchOptions> {
    let mut opts = BatchOptions::default();
    opts.transfer = transfer_options(args, opts.transfer.clone())?;
    filters(args)?;
    opts.include = args.include.clone();
    opts.exclude = args.exclude.clone();
    opts.skip = skip;
    opts.dry_run = dry_run;
    Ok(opts)
}

/// Options of a download (`--concurrency`, `--part-size`; every download
/// is checked against the stored MD5, so `--no-integrity` does not apply).
pub fn download_options(args: &TransferArgs) -> Outcome<DownloadOptions> {
    let mut opts = DownloadOptions::default();
    filters(args)?;
    opts.include = args.include.clone();
    opts.exclude = args.exclude.clone();
    if let Some(c) = args.concurrency {
        opts.concurrency = c;
    }
    if let Some(ps) = &args.part_size {
        opts.part_size = Some(parse_size(ps)?);
    }
    opts.validate()
        .map_err(|e| Fail::Usage(flag_names(e.message())))?;
    Ok(opts)
}

/// `--include` / `--exclude` as the folder engines will match them; a bad
/// glob is a usage error before anything is listed or sent.
pub fn filters(args: &TransferArgs) -> Outcome<wantu::tree::Filters> {
    wantu::tree::Filters::new(&args.include, &args.exclude)
        .map_err(|e| Fail::Usage(flag_names(e.message())))
}

/// The library names its options; the user wrote flags.
pub fn flag_names(message: &str) -> String {
    message
        .replace("option `part_size`", "--part-size")
        .replace("option `concurrency`", "--concurrency")
        .replace("`part_size`", "--part-size")
        .replace("`concurrency`", "--concurrency")
        .replace("option `include`", "--include")
        .replace("option `exclude`", "--exclude")
}
