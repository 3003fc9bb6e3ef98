//! xbongbong from settings or its fake (being written).
