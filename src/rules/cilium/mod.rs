pub mod lbipam_dual_stack;
pub mod lbipam_ip_in_pool;
