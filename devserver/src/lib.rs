//! Local PubNub-compatible development server.
