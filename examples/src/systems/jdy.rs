//! jdy from settings or its fake (being written).
