//! 金蝶云星辰 jdy purchase inbound bills → 吉客云 Jackyun customers (declarative TOML mapping).

use std::process::ExitCode;

use examples::runner::{Progress, main_for, open_state};
use examples::schemes::jdy_to_jackyun::{NAME, setup};

#[tokio::main]
async fn main() -> ExitCode {
    main_for(NAME, |settings, options| async move {
        let state = open_state(&options, NAME)?;
        setup(&settings, state, Progress::new(NAME)).await
    })
    .await
}
