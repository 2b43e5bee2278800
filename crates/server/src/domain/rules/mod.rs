//! Ground rules with no knowledge of any use case: the argon2 engine and its bounds, the
//! lockout schedule, phone numbers, dates, and the server key with the secrets it makes.

pub mod dates;
pub mod hashing;
pub mod lockout;
pub mod phone;
pub mod secrets;
