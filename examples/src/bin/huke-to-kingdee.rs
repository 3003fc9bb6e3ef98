//! 网易互客 Huke trades → 金蝶云星空 K/3 Cloud customers (declarative mapping).

examples::scheme_main!(examples::schemes::huke_to_kingdee);
