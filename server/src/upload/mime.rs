//! The MIME type of uploaded content, from its magic bytes or its name.

use super::policy::extension;

/// MIME type from the content's magic bytes.
pub fn sniff(head: &[u8]) -> Option<String> {
    infer::get(head).map(|t| t.mime_type().to_string())
}

/// `detectMime` 1: content first, then the name's extension; 0: the
/// extension only. `application/octet-stream` when nothing says otherwise.
pub fn detect_mime(detect: bool, head: &[u8], names: &[&str]) -> String {
    let sniffed = if detect { sniff(head) } else { None };
    sniffed
        .or_else(|| {
            names
                .iter()
                .filter(|n| !extension(n).is_empty())
                .find_map(|n| mime_guess::from_path(n).first_raw())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "application/octet-stream".to_string())
}
