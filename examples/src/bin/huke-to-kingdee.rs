//! 网易互客 Huke trades → 金蝶云星空 K/3 Cloud customers (declarative mapping).

use std::process::ExitCode;

use examples::runner::{Progress, main_for, open_state};
use examples::schemes::huke_to_kingdee::{NAME, setup};

#[tokio::main]
async fn main() -> ExitCode {
    main_for(NAME, |settings, options| async move {
        let state = open_state(&options, NAME)?;
        setup(&settings, state, Progress::new(NAME)).await
    })
    .await
}
