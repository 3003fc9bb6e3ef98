//! 销帮帮 CRM customers and contracts → 金蝶云星空 K/3 Cloud customers and
//! sales orders (typed mapping, form discovery and required-field checks).

use std::process::ExitCode;

use examples::runner::{Progress, main_for, open_state};
use examples::schemes::xbongbong_to_kingdee::{NAME, setup};

#[tokio::main]
async fn main() -> ExitCode {
    main_for(NAME, |settings, options| async move {
        let state = open_state(&options, NAME)?;
        setup(&settings, state, Progress::new(NAME)).await
    })
    .await
}
