//! The upload host (`/api/proxy/*`): the token ([`token`]) and its policy
//! ([`policy`]), the form read from the body ([`form`]) and what its fields
//! say ([`fields`]), where the file goes ([`target`]) and its type
//! ([`mime`]), simple uploads ([`simple`]), multipart uploads
//! ([`multipart`]) and the answer ([`answer`]).

pub mod answer;
pub mod fields;
pub mod form;
pub mod mime;
pub mod multipart;
pub mod policy;
pub mod simple;
pub mod target;
pub mod token;
