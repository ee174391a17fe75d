//! VRRP version 3 (RFC 5798): wire format, state machine and sockets.

pub mod packet;
pub mod socket;
pub mod state;
