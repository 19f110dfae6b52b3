//! The abuse suite: Gatehouse's edge, tried as an anonymous or hostile caller would.
//!
//! Each test sends what an attacker would (fan-out documents, amplifying forms, oversized
//! bodies, half-sent requests, forged cursors, ...) to the real app and asserts, with a bound,
//! what it answers: the status and the stable code, the size of the answer, the CPU time the
//! process spent and how much its memory grew. Every test runs in its own process (nextest), so
//! the process's CPU time and peak RSS (`/proc/self`) are the server's, plus a small client.
//!
//! Time is bounded by CPU spent, not by wall clock: a loaded CI machine stretches wall time for
//! reasons unrelated to the code, while the work a request makes the server do is the defect.

#[allow(dead_code)] // each attack module uses part of it
mod support;

mod connections;
mod graphql;
mod hostile;
mod upstream;
mod web;
