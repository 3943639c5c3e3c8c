pub mod copy_method;
pub mod ssa_if_not_present;
