pub mod lbipam_dual_stack;
