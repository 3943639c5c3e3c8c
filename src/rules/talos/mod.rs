pub mod worker_dhcp_explicit;
