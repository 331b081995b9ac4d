//! `wallboard ingest ami`. (Being written.)

use anyhow::Result;
use clap::Args;

use super::OutputArgs;

#[derive(Args, Debug)]
pub struct AmiArgs {
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: AmiArgs) -> Result<()> {
    let _ = args.output;
    anyhow::bail!("not yet")
}
