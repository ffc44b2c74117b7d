//! One error type for everything that stops the grader from grading. Every variant names its cause.
use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    /// A spec (or expect.yaml) is malformed: file, line, column and the key at fault.
    Spec { file: PathBuf, line: u64, column: u64, key: String, message: String },
    /// The command line asked for something impossible.
    Usage(String),
    /// No spec for this lab id.
    UnknownLab { lab: String, specs: PathBuf, known: Vec<String> },
    /// A file or directory could not be read or written.
    Io { path: PathBuf, source: std::io::Error },
    /// The Python interpreter is missing or unusable.
    Python(String),
    /// Something failed inside the grader itself (a bug or the machine).
    Internal(String),
}

impl Error {
    /// The process exit status for this error: the grader could not grade.
    pub fn code(&self) -> i32 {
        2
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Spec { file, line, column, key, message } => {
                write!(f, "{}:{}:{}: key `{}`: {}", file.display(), line, column, key, message)
            }
            Error::Usage(m) => write!(f, "{m}"),
            Error::UnknownLab { lab, specs, known } => write!(
                f,
                "no lab `{lab}`: there is no {}/{lab}.yaml. Known labs: {}",
                specs.display(),
                if known.is_empty() { "(none)".to_string() } else { known.join(", ") }
            ),
            Error::Io { path, source } => write!(f, "{}: {}", path.display(), source),
            Error::Python(m) => write!(f, "{m}"),
            Error::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
