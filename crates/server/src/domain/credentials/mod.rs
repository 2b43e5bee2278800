//! Credentials: how a password comes to be stored.

pub mod change;
pub mod policy;
pub mod set_password;
pub mod username;

pub use set_password::{PasswordSet, SetBy};

#[cfg(test)]
mod tests;
