//! The four reference schemes. Each module builds its connectors from
//! settings (or fakes), its mapping and its pipelines, and implements
//! [`crate::runner::Job`].

pub mod huke_to_kingdee;
pub mod jdy_to_jackyun;
pub mod okki_to_yonbip;
pub mod xbongbong_to_kingdee;
