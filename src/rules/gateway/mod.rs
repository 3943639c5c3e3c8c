pub mod https_issuer;
pub mod listener_ports;
pub mod parent_ref_resolves;
