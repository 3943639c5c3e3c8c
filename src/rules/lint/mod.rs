pub mod skipped_file;
pub mod unused_suppression;
