//! `wallboard erlang`: the staffing calculator (`docs/metrics.md`,
//! "Staffing (Erlang C)" and "Erlang A") on the command line.

use anyhow::{bail, ensure, Result};
use clap::{Args, ValueEnum};
use serde::Serialize;

use aggregator::staffing::{with_shrinkage, Demand, Model, Prediction};

#[derive(Args, Debug)]
pub(super) struct ErlangArgs {
    /// Calls expected in the interval.
    #[arg(long, value_name = "N")]
    pub calls: f64,
    /// Length of the interval in minutes.
    #[arg(long, value_name = "MINUTES", default_value_t = 30.0)]
    pub interval: f64,
    /// Average handle time in seconds (talk + hold + after-call work).
    #[arg(long, value_name = "SECONDS")]
    pub aht: f64,
    /// Service-level threshold in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 20.0)]
    pub threshold: f64,
    /// Service-level goal as a fraction, e.g. 0.8.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.8)]
    pub target: f64,
    /// Share of paid time not on the phones (breaks, training, absence),
    /// e.g. 0.3.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    pub shrinkage: f64,
    /// Also predict the service level with this many agents.
    #[arg(long, value_name = "N")]
    pub agents: Option<u32>,
    /// Queueing model: Erlang C (callers wait until answered) or Erlang A
    /// (callers hang up after `--patience` seconds on average).
    #[arg(long, value_enum, default_value_t = ModelArg::ErlangC)]
    pub model: ModelArg,
    /// Erlang A: the callers' mean patience in seconds (how long they wait
    /// before hanging up, on average).
    #[arg(long, value_name = "SECONDS")]
    pub patience: Option<f64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum ModelArg {
    ErlangC,
    ErlangA,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum Output {
    Text,
    Json,
}

/// What `--output json` prints.
#[derive(Serialize)]
struct Answer {
    model: ModelArg,
    #[serde(skip_serializing_if = "Option::is_none")]
    patience_s: Option<f64>,
    traffic_erlangs: f64,
    required_agents: u32,
    required_with_shrinkage: u32,
    shrinkage: f64,
    at_required: Prediction,
    at_agents: Option<Prediction>,
}

/// The model the flags ask for; `--patience` belongs to Erlang A only.
fn model(args: &ErlangArgs) -> Result<Model> {
    match (args.model, args.patience) {
        (ModelArg::ErlangC, None) => Ok(Model::ErlangC),
        (ModelArg::ErlangC, Some(_)) => bail!("--patience needs --model erlang-a"),
        (ModelArg::ErlangA, None) => bail!("--model erlang-a needs --patience SECONDS"),
        (ModelArg::ErlangA, Some(p)) => {
            ensure!(
                p.is_finite() && p > 0.0,
                "--patience must be more than 0 seconds"
            );
            Ok(Model::ErlangA { patience_s: p })
        }
    }
}

pub(super) fn run(args: &ErlangArgs) -> Result<()> {
    let model = model(args)?;
    ensure!(args.calls >= 0.0, "--calls must be 0 or more");
    ensure!(
        args.interval > 0.0,
        "--interval must be more than 0 minutes"
    );
    ensure!(args.aht > 0.0, "--aht must be more than 0 seconds");
    ensure!(
        args.threshold >= 0.0,
        "--threshold must be 0 or more seconds"
    );
    ensure!(
        args.target > 0.0 && args.target < 1.0,
        "--target is a fraction between 0 and 1, e.g. 0.8 for 80 %"
    );
    ensure!(
        (0.0..1.0).contains(&args.shrinkage),
        "--shrinkage is a fraction from 0 to below 1, e.g. 0.3 for 30 %"
    );
    let demand = Demand {
        calls: args.calls,
        interval_s: args.interval * 60.0,
        aht_s: args.aht,
        threshold_s: args.threshold,
        target: args.target,
    };
    let required = demand.required_agents_for(model);
    let answer = Answer {
        model: args.model,
        patience_s: args.patience,
        traffic_erlangs: demand.traffic(),
        required_agents: required,
        required_with_shrinkage: with_shrinkage(required, args.shrinkage),
        shrinkage: args.shrinkage,
        at_required: demand.predict(model, required),
        at_agents: args.agents.map(|n| demand.predict(model, n)),
    };
    match args.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&answer)?),
        Output::Text => print_text(args, &answer),
    }
    Ok(())
}

fn print_text(args: &ErlangArgs, a: &Answer) {
    if let Some(p) = a.patience_s {
        println!("model:            Erlang A, mean patience {p} s");
    }
    println!(
        "traffic:          {:.2} Erlangs ({} calls in {} min, AHT {} s)",
        a.traffic_erlangs, args.calls, args.interval, args.aht
    );
    println!(
        "required agents:  {} for {:.1} % within {} s ({} with {:.0} % shrinkage)",
        a.required_agents,
        args.target * 100.0,
        args.threshold,
        a.required_with_shrinkage,
        a.shrinkage * 100.0
    );
    for p in std::iter::once(&a.at_required).chain(a.at_agents.as_ref()) {
        println!("{}", describe(p, args.threshold));
    }
}

fn describe(p: &Prediction, threshold: f64) -> String {
    let or_unbounded = |v: Option<f64>, unit: &str| {
        v.map_or("unbounded (too few agents)".to_owned(), |v| {
            format!("{v:.2} {unit}")
        })
    };
    let abandon = p
        .p_abandon
        .map(|v| format!(", abandoned {:.1} %", v * 100.0))
        .unwrap_or_default();
    format!(
        "with {} agents:   service level {:.1} % within {threshold} s, P(wait) {:.1} %, ASA {}, occupancy {:.1} %, trunk load {}{abandon}",
        p.agents,
        p.service_level * 100.0,
        p.p_wait * 100.0,
        or_unbounded(p.asa_s, "s"),
        p.occupancy * 100.0,
        or_unbounded(p.trunk_erlangs, "Erlangs"),
    )
}
