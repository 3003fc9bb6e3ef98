//! xbongbong_to_kingdee (being written).
