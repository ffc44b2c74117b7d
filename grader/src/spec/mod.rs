//! The lab spec: its YAML form (`raw`), loading with line numbers and validation (`validate`, one item at
//! a time in `item`), into the model the plan uses (`model`, with each item's kind and its settings in `kind`).
pub mod hints;
mod item;
mod kind;
mod model;
mod overlay;
mod raw;
mod validate;

pub use hints::{Failure, Hints};
pub use item::LINT_RULES;
pub use kind::*;
pub use model::*;
pub use overlay::{apply_keys, apply_overlay};
pub use validate::{key_on_line, load, parse_yaml};
