pub mod api_version;
pub mod no_password_generator_for_sso;
