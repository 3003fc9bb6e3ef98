//! 金蝶云星辰 jdy purchase inbound bills → 吉客云 Jackyun customers (declarative TOML mapping).

examples::scheme_main!(examples::schemes::jdy_to_jackyun);
