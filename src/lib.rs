//! End-to-end test support for the Fulcrum workspace.
