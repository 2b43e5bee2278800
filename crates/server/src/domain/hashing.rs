//! Password hashing with argon2id, bounded so a burst of sign-ins cannot exhaust memory
//! (SECURITY.md P7, P8; Keycloak #28477): at most one hash per core at a time, and a request
//! that would wait more than two seconds for a slot is refused with "busy" instead.
//!
//! Hashes run on a fixed pool of one thread per core, not on tokio's blocking pool: glibc gives
//! each thread its own malloc arena and, after the first 19 MiB buffer is freed, keeps such
//! buffers in the arena. Across tokio's many blocking threads that retained ~19 MiB per thread
//! (361 MiB peak RSS at 64 clients); a fixed pool bounds it to one buffer per core.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};
use tokio::sync::Semaphore;

use super::DomainError;

/// OWASP Password Storage cheat sheet floor for argon2id.
pub const M_COST_KIB: u32 = 19_456;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;
pub const QUEUE_TIMEOUT: Duration = Duration::from_secs(2);

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct Hasher {
    slots: Arc<Semaphore>,
    workers: mpsc::Sender<Job>,
    queue_timeout: Duration,
    /// A real hash of a random password: unknown users are "verified" against it so that the
    /// response takes as long as for a real account (SECURITY.md E2).
    dummy_phc: Arc<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub ok: bool,
    /// The stored hash is weaker than today's parameters: rehash now that we know the password.
    pub needs_rehash: bool,
}

fn argon2() -> Result<Argon2<'static>, DomainError> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
        .map_err(|e| DomainError::Hashing(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &str) -> Result<String, DomainError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| DomainError::Hashing(e.to_string()))?;
    let hash = argon2()?
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|e| DomainError::Hashing(e.to_string()))?;
    Ok(hash.to_string())
}

fn verify_blocking(password: &str, phc: &str) -> Verified {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return Verified {
            ok: false,
            needs_rehash: false,
        };
    };
    // Verify with the parameters stored in the hash, whatever they were.
    let ok = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    Verified {
        ok,
        needs_rehash: ok && is_weaker_than_policy(&parsed),
    }
}

fn is_weaker_than_policy(parsed: &PasswordHash) -> bool {
    if parsed.algorithm.as_str() != "argon2id" || parsed.version != Some(0x13) {
        return true;
    }
    match Params::try_from(parsed) {
        Ok(p) => p.m_cost() < M_COST_KIB || p.t_cost() < T_COST,
        Err(_) => true,
    }
}

/// One thread per slot. A permit is held for every job in flight, so a job never waits here.
fn start_workers(n: usize) -> Result<mpsc::Sender<Job>, DomainError> {
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..n {
        let rx = rx.clone();
        std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || {
                loop {
                    let job = match rx.lock() {
                        Ok(guard) => match guard.recv() {
                            Ok(job) => job,
                            Err(_) => return, // every Hasher dropped
                        },
                        Err(_) => return,
                    };
                    job();
                }
            })
            .map_err(|e| DomainError::Hashing(format!("cannot start hashing thread: {e}")))?;
    }
    Ok(tx)
}

impl Hasher {
    pub fn new() -> Result<Self, DomainError> {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|e| DomainError::Hashing(e.to_string()))?;
        let dummy = hash_blocking(&hex::encode(random))?;
        Ok(Self {
            slots: Arc::new(Semaphore::new(cores)),
            workers: start_workers(cores)?,
            queue_timeout: QUEUE_TIMEOUT,
            dummy_phc: Arc::new(dummy),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, DomainError> {
        let permit = tokio::time::timeout(self.queue_timeout, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| DomainError::Busy)?
            .map_err(|_| DomainError::Busy)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        // The permit travels with the job: if the client disconnects and this future is dropped,
        // the slot stays taken until the hash actually finishes, so the queue stays bounded.
        let job: Job = Box::new(move || {
            let _ = tx.send(work());
            drop(permit);
        });
        self.workers
            .send(job)
            .map_err(|_| DomainError::Hashing("hashing threads stopped".into()))?;
        let out = rx
            .await
            .map_err(|_| DomainError::Hashing("hashing thread panicked".into()))?;
        Ok(out)
    }

    /// Hashes an already normalised password.
    pub async fn hash(&self, password: String) -> Result<String, DomainError> {
        self.run(move || hash_blocking(&password)).await?
    }

    /// Verifies against `phc`, or against the dummy hash when there is none, so the time spent
    /// is the same either way. With no `phc` the answer is always "no".
    pub async fn verify(
        &self,
        password: String,
        phc: Option<String>,
    ) -> Result<Verified, DomainError> {
        let real = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy_phc.as_str().to_owned());
        let v = self.run(move || verify_blocking(&password, &phc)).await?;
        Ok(if real {
            v
        } else {
            Verified {
                ok: false,
                needs_rehash: false,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_hash_is_argon2id_with_policy_parameters() {
        let phc = hash_blocking("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_blocking("correct horse battery staple", &phc).ok);
        assert!(!verify_blocking("correct horse battery stapler", &phc).ok);
    }

    #[test]
    fn weaker_hash_verifies_and_asks_for_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 1, 1, None).unwrap(),
        )
        .hash_password_with_salt(b"an old password from 2019", b"saltsaltsaltsalt")
        .unwrap()
        .to_string();
        let v = verify_blocking("an old password from 2019", &weak);
        assert_eq!(
            v,
            Verified {
                ok: true,
                needs_rehash: true
            }
        );
        let strong = hash_blocking("an old password from 2019").unwrap();
        assert!(!verify_blocking("an old password from 2019", &strong).needs_rehash);
    }

    #[tokio::test]
    async fn unknown_user_never_verifies() {
        let h = Hasher::new().unwrap();
        let v = h.verify("anything at all here".into(), None).await.unwrap();
        assert!(!v.ok);
    }

    #[tokio::test]
    async fn full_queue_answers_busy_instead_of_waiting_forever() {
        let mut h = Hasher::new().unwrap();
        h.slots = Arc::new(Semaphore::new(0));
        h.queue_timeout = Duration::from_millis(20);
        assert!(matches!(
            h.hash("x".repeat(20)).await,
            Err(DomainError::Busy)
        ));
    }
}
