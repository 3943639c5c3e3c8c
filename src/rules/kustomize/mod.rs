pub mod component_shared_resource;
pub mod missing_reference;
pub mod namespace_required;
