//! okki_to_yonbip (being written).
