//! The server's side of privacy: settling a dispute over a minimised record
//! when the employee reveals its exact evidence (`reveal`).

pub mod admin;
pub mod reveal;
