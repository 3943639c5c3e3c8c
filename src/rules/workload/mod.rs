mod fixes;
pub mod image_tag_pinned;
pub mod pdb_blocks_drain;
pub mod rwo_single_replica_recreate;
