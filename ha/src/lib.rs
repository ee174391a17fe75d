//! `fulcrum-ha`: keeps a floating IP on the active node of an active/passive pair.
