//! A pattern from tenant settings, compiled on first use and shared by every copy
//! of the settings. Compiling is reachable only from the functions that match, so
//! only they link the engine (set-password fancy-regex, recover-password the
//! callback matcher), and a warm instance compiles each pattern once.

use std::fmt;
use std::sync::{Arc, OnceLock};

/// An engine's compiled form of a pattern source.
pub trait Compile: Sized {
    fn compile(source: &str) -> Result<Self, String>;
}

pub struct Lazy<T>(pub(crate) Arc<Inner<T>>);

pub(crate) struct Inner<T> {
    source: String,
    compiled: OnceLock<Result<T, String>>,
}

impl<T> Clone for Lazy<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T: Compile> Lazy<T> {
    /// Not compiled yet; the write-time checks compile it through [`Self::compiled`].
    pub fn new(source: &str) -> Self {
        Self(Arc::new(Inner {
            source: source.to_string(),
            compiled: OnceLock::new(),
        }))
    }

    /// `base`'s pattern (compiled already, perhaps) when its source is `source`.
    pub fn reuse_or_new(base: Option<&Self>, source: &str) -> Self {
        match base {
            Some(same) if same.as_str() == source => same.clone(),
            _ => Self::new(source),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0.source
    }

    pub fn compiled(&self) -> Result<&T, &str> {
        self.0
            .compiled
            .get_or_init(|| T::compile(&self.0.source))
            .as_ref()
            .map_err(String::as_str)
    }
}

impl<T> fmt::Debug for Lazy<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.0.source).finish()
    }
}
