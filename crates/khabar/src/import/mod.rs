//! Moving in from other systems: `khabar import wordpress`.
