//! plumb-agent (to be written).
