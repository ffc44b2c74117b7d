//! `grade list`: every lab of the course with its number of items and title (or its spec error).
use crate::cli::Common;
use crate::course::Course;
use crate::error::{Error, Result};

pub fn list(common: &Common) -> Result<i32> {
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    let course = Course::locate(common.specs.as_deref(), &cwd)?;
    let labs = course.labs()?;
    let width = labs.iter().map(String::len).max().unwrap_or(8);
    let mut out = String::new();
    for lab in labs {
        match course.load(&lab) {
            Ok(spec) => out.push_str(&format!("{lab:<width$}  {:>2} items  {}\n", spec.items.len(), spec.title)),
            Err(e) => out.push_str(&format!("{lab:<width$}  spec error: {e}\n")),
        }
    }
    print!("{out}");
    Ok(0)
}
