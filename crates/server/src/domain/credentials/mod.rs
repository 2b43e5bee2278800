//! Credentials: how a password comes to be stored.

pub mod set_password;

pub use set_password::{PasswordSet, SetBy};

#[cfg(test)]
mod tests;
