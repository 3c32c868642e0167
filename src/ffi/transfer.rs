//! C surface of the one-call uploader.
