//! The shared scenarios (pn_async_driver::scenarios) under smol, and with the built-in
//! executor under a bare `block_on`, against the dev server.

mod common;

pn_async_driver::scenario_tests!(smol::block_on, common::Smol);

mod builtin_executor {
    pn_async_driver::scenario_tests!(
        smol::block_on,
        super::common::Builtin => round_trip, fault_connection_closed, shutdown
    );
}
