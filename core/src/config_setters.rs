//! The builder setters every adapter's `ClientBuilder` shares, written once.

/// Expands, inside an `impl` block of a builder that has a `config: pn_core::Config` field, one
/// chainable setter per [`Config`](crate::Config) setting (`subscribe_key`, `publish_key`,
/// `origin`, `retry_policy`, …) plus `config` to replace them all.
#[macro_export]
macro_rules! config_setters {
    () => {
        /// Replaces every protocol setting at once.
        pub fn config(mut self, config: $crate::Config) -> Self {
            self.config = config;
            self
        }
        $crate::config_setters!(@set
            /// Sets the subscribe key (required).
            subscribe_key(key: impl Into<String>) => subscribe_key = key.into();
            /// Sets the publish key (needed to publish and signal).
            publish_key(key: impl Into<String>) => publish_key = Some(key.into());
            /// Sets the secret key: every request gets signed.
            secret_key(key: impl Into<String>) => secret_key = Some(key.into());
            /// Sets this client's user id (required).
            user_id(user_id: impl Into<String>) => user_id = user_id.into();
            /// Sets the access token sent as `auth`.
            auth_token(token: impl Into<String>) => auth_token = Some(token.into());
            /// Sets the origin: `https://host`, `http://host:port` or a bare host (HTTPS).
            origin(origin: impl Into<String>) => origin = origin.into();
            /// Sets the server-side filter expression for subscriptions.
            filter_expression(expression: impl Into<String>) => filter_expression = Some(expression.into());
            /// Sets the presence timeout in seconds (20..=320).
            presence_timeout(seconds: u64) => presence_timeout = Some(seconds);
            /// Sends a presence heartbeat every `seconds` (0 = none).
            heartbeat_interval(seconds: u64) => heartbeat_interval = Some(seconds);
            /// Don't send `leave` when unsubscribing.
            suppress_leave_events(suppress: bool) => suppress_leave_events = suppress;
            /// Sets the client-side timeout of a subscribe long-poll.
            subscribe_timeout(timeout: std::time::Duration) => subscribe_timeout = timeout;
            /// Sets the client-side timeout of every other request.
            request_timeout(timeout: std::time::Duration) => request_timeout = timeout;
            /// Sets how the subscribe loop and heartbeats retry.
            retry_policy(policy: $crate::RetryPolicy) => retry_policy = policy;
            /// Sets how many recent events are remembered to drop re-deliveries (0 = off).
            dedupe_cache_size(size: usize) => dedupe_cache_size = size;
            /// Sets the largest message publish accepts (URL-escaped, with its channel).
            max_message_size(bytes: usize) => max_message_size = bytes;
            /// Sets the most channels plus groups one subscription may hold.
            max_subscribed_names(names: usize) => max_subscribed_names = names;
            /// Turns on ordered, retried publishing.
            reliable_publish(settings: $crate::ReliablePublish) => reliable_publish = Some(settings);
            /// Sets the `pnsdk` name sent with every request.
            sdk_name(name: impl Into<String>) => sdk_name = name.into();
        );
    };
    (@set $( $(#[$doc:meta])* $name:ident($arg:ident: $ty:ty) => $field:ident = $value:expr; )*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, $arg: $ty) -> Self {
                self.config.$field = $value;
                self
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    use crate::{Config, RetryPolicy};

    struct Builder {
        config: Config,
    }

    #[allow(dead_code)] // the test calls a few of the setters
    impl Builder {
        crate::config_setters!();
    }

    #[test]
    fn every_setter_reaches_the_config() {
        let b = Builder {
            config: Config::new("", ""),
        }
        .subscribe_key("s")
        .publish_key("p")
        .user_id("u")
        .origin("http://127.0.0.1:1")
        .presence_timeout(60)
        .heartbeat_interval(20)
        .retry_policy(RetryPolicy::None);
        assert_eq!(b.config.subscribe_key, "s");
        assert_eq!(b.config.publish_key.as_deref(), Some("p"));
        assert_eq!(b.config.user_id, "u");
        assert_eq!(b.config.heartbeat_interval, Some(20));
        assert_eq!(b.config.retry_policy, RetryPolicy::None);
        assert!(b.config.validate().is_ok());
    }
}
