//! `wallboard ingest esl`. (Being written.)

use anyhow::Result;
use clap::Args;

use super::OutputArgs;

#[derive(Args, Debug)]
pub struct EslArgs {
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: EslArgs) -> Result<()> {
    let _ = args.output;
    anyhow::bail!("not yet")
}
