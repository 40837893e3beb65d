//! plumb-stat (to be written).
