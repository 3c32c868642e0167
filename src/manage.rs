//! Management API (protocol.md §6): files, folders, processing, scanning.
