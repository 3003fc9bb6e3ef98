//! 小满 OKKI companies → 用友 BIP merchants (typed mapping).

examples::scheme_main!(examples::schemes::okki_to_yonbip);
