pub mod component_shared_resource;
