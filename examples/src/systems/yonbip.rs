//! yonbip from settings or its fake (being written).
