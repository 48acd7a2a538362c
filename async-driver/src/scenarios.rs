//! Shared integration-test scenarios, run by each adapter against the dev server.
