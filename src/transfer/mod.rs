//! The one-call parallel uploader.
