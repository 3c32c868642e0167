//! C surface of the management API.
