//! The publish options every adapter's publish builder shares, written once.

/// Expands, inside an `impl` block of a builder that has a method
/// `fn map(self, f: impl FnOnce(Publish) -> Result<Publish, CommandError>) -> Self`, one
/// chainable method per [`Publish`](crate::Publish) option (`store`, `ttl`, `meta`,
/// `replicate`, `use_post`, `custom_message_type`); argument errors are kept for the send.
#[macro_export]
macro_rules! publish_options {
    () => {
        /// Whether the service stores the message in history.
        pub fn store(self, store: bool) -> Self {
            self.map(|p| Ok(p.store(store)))
        }

        /// How many hours history keeps the message.
        pub fn ttl(self, hours: u32) -> Self {
            self.map(|p| Ok(p.ttl(hours)))
        }

        /// Metadata (a JSON object) delivered with the message and readable by filters.
        pub fn meta<T: $crate::__serde::Serialize + ?Sized>(self, meta: &T) -> Self {
            self.map(|p| p.meta(meta))
        }

        /// Whether the message is replicated to other points of presence.
        pub fn replicate(self, replicate: bool) -> Self {
            self.map(|p| Ok(p.replicate(replicate)))
        }

        /// Sends with POST (message in the body) instead of GET.
        pub fn use_post(self, post: bool) -> Self {
            self.map(|p| Ok(p.use_post(post)))
        }

        /// The user's message type (3–50 characters: letters, digits, `-`, `_`).
        pub fn custom_message_type(self, kind: &str) -> Self {
            self.map(|p| p.custom_message_type(kind))
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::{CommandError, Publish};

    struct Builder(Result<Publish, CommandError>);

    impl Builder {
        fn map(self, f: impl FnOnce(Publish) -> Result<Publish, CommandError>) -> Self {
            Builder(self.0.and_then(f))
        }
        crate::publish_options!();
    }

    #[test]
    fn options_reach_the_publish_and_errors_are_kept() {
        let ok = Builder(Publish::new("ch", &1))
            .store(false)
            .ttl(2)
            .meta(&serde_json::json!({"a": 1}))
            .replicate(false)
            .use_post(true)
            .custom_message_type("chat-msg")
            .0
            .unwrap();
        let expected = Publish::new("ch", &1)
            .unwrap()
            .store(false)
            .ttl(2)
            .meta(&serde_json::json!({"a": 1}))
            .unwrap()
            .replicate(false)
            .use_post(true)
            .custom_message_type("chat-msg")
            .unwrap();
        assert_eq!(ok, expected);
        let bad = Builder(Publish::new("ch", &1)).meta(&[1]).store(true).0;
        assert_eq!(bad, Err(CommandError::NotAnObject { what: "meta" }));
    }
}
