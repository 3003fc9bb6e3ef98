//! jdy_to_jackyun (being written).
