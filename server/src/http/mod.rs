//! The HTTP layer: the accept loop and its connection limits and timeouts
//! ([`accept`], [`activity`]), request bodies with their timeout
//! ([`body`]), error answers ([`error`]), fault injection ([`faults`]) and
//! the request log ([`log`]). It knows nothing of uploads or storage: it
//! hands each request to [`crate::routes`].

pub mod accept;
pub mod activity;
pub mod body;
pub mod error;
pub mod faults;
pub mod log;
