//! The server's side of privacy: devices' data keys for sealed payloads
//! (`keys`), settling a dispute over a minimised record when the employee
//! reveals its exact evidence (`reveal`), the employer's tools (`admin`).

pub mod admin;
pub mod export;
pub mod keys;
pub mod retention;
pub mod reveal;
