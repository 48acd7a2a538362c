//! Sans-IO PubNub core.
