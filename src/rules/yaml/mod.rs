pub mod duplicate_key;
pub mod syntax;
