//! HAProxy's Lua 5.3 API for Fulcrum (not implemented yet: `lua-load` is rejected by the
//! proxy's config parser until this crate lands).
