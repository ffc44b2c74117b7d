//! The spec as written in YAML, with each value's place in the file (for messages naming file, line and key).
use super::{Category, Hints, Kind, Question, Parallel, Scheduler, StartMethod, Visibility};
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    pub(super) timeout: Option<f64>,
    pub(super) memory_mb: Option<u64>,
    pub(super) processes: Option<u32>,
    pub(super) output_kb: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSpec {
    pub(super) id: Spanned<String>,
    pub(super) title: String,
    #[serde(default)]
    pub(super) module: Option<u32>,
    pub(super) files: Spanned<Vec<String>>,
    #[serde(default)]
    pub(super) checks: Option<String>,
    #[serde(default)]
    pub(super) limits: RawLimits,
    #[serde(default)]
    pub(super) packages: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub(super) budget_s: Option<Spanned<f64>>,
    pub(super) items: Spanned<Vec<RawItem>>,
}

/// An item as written. The keys only some kinds take are listed once, here: the macro makes each an
/// optional field with its place in the file, and `given_keys` lists the ones an item gives, for the check
/// against `Kind::allowed_keys`.
macro_rules! raw_item {
    ($($key:ident: $ty:ty),* $(,)?) => {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(super) struct RawItem {
            pub(super) id: Spanned<String>,
            pub(super) name: String,
            pub(super) category: Spanned<Category>,
            pub(super) kind: Spanned<Kind>,
            pub(super) points: Spanned<f64>,
            #[serde(default)]
            pub(super) hint: Option<String>,
            #[serde(default)]
            pub(super) hints: Option<Spanned<Hints>>,
            #[serde(default)]
            pub(super) visibility: Option<Visibility>,
            $(
                #[serde(default)]
                pub(super) $key: Option<Spanned<$ty>>,
            )*
        }

        impl RawItem {
            /// The kind-specific keys this item gives, each with where it is written.
            pub(super) fn given_keys(&self) -> Vec<(&'static str, &Location)> {
                let mut out = Vec::new();
                $(
                    if let Some(v) = &self.$key {
                        out.push((stringify!($key), &v.referenced));
                    }
                )*
                out
            }
        }
    };
}

raw_item! {
    timeout: f64,
    check: String,
    params: serde_json::Value,
    instrument: bool,
    repetitions: u32,
    yield_probability: f64,
    lock_order: bool,
    samples: u32,
    min_sample_ms: u32,
    target_ratio: f64,
    floor_ratio: f64,
    answers_file: String,
    questions: BTreeMap<String, Question>,
    file: String,
    sections: Vec<String>,
    min_words: u32,
    http: crate::http::HttpSpec,
    scheduler: Scheduler,
    start_method: StartMethod,
    deduct: f64,
    rules: Vec<Spanned<String>>,
    parallel: Parallel,
    requires: Vec<String>,
    core: bool,
    timing: bool,
}
