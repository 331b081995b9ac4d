//! `wallboard simulate`: writes a simulated contact centre's events.

use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct SimulateArgs {}

pub fn run(_args: SimulateArgs) -> Result<()> {
    anyhow::bail!("not yet")
}
