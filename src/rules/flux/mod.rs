pub mod no_retry_interval;
