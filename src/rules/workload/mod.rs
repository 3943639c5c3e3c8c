pub mod rwo_single_replica_recreate;
