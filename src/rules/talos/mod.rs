mod network;
pub mod talhelper_patch_exists;
pub mod worker_dhcp_explicit;
