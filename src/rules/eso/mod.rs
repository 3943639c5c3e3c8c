pub mod api_version;
mod names;
pub mod no_password_generator_for_sso;
