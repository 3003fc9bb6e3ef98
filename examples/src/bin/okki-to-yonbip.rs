//! 小满 OKKI companies → 用友 BIP merchants (typed mapping).

use std::process::ExitCode;

use examples::runner::{Progress, main_for, open_state};
use examples::schemes::okki_to_yonbip::{NAME, setup};

#[tokio::main]
async fn main() -> ExitCode {
    main_for(NAME, |settings, options| async move {
        let state = open_state(&options, NAME)?;
        setup(&settings, state, Progress::new(NAME)).await
    })
    .await
}
