//! The shared scenarios (pn_async_driver::scenarios) under async-std, against the dev server.

mod common;

pn_async_driver::scenario_tests!(
    #[async_std::test]
    common::AsyncStd
);
