//! Password hashing with argon2id, bounded so a burst of sign-ins cannot exhaust memory
//! (SECURITY.md P7, P8; Keycloak #28477): at most one hash per core at a time, and a request
//! that would wait more than two seconds for a slot is refused with "busy" instead.
//!
//! Hashes run on a fixed pool of one thread per core, and each thread owns its argon2 working
//! memory (19 MiB) and reuses it for every hash. Letting argon2 allocate per hash made glibc
//! keep freed buffers in its arenas once its adaptive mmap threshold rose: 20 sequential
//! sign-ins grew the server from 12 MiB to 228 MiB. With owned buffers the memory is exactly
//! cores × m_cost whatever the allocator.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::DomainError;
use crate::telemetry::names;
use carekey_argon2id as argon2id;

/// OWASP Password Storage cheat sheet floor for argon2id.
pub const M_COST_KIB: u32 = 19_456;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;
pub const QUEUE_TIMEOUT: Duration = Duration::from_secs(2);

/// A job gets the worker thread's reusable argon2 memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Hashes one client address may have running or queued at once: half the slots, at least
/// one. A client that sends sign-ins as fast as it can then waits behind itself, and every
/// other client still finds a slot (issue 14: one address could hold every slot, and every
/// patient was told "busy").
fn per_client(cores: usize) -> usize {
    (cores / 2).max(1)
}

/// Each client address's own gate in front of the shared slots. Entries go when no request
/// of theirs is waiting or running.
#[derive(Clone, Default)]
struct FairShare {
    gates: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    per_client: usize,
}

impl FairShare {
    fn gate(&self, client: &str) -> Arc<Semaphore> {
        let Ok(mut gates) = self.gates.lock() else {
            return Arc::new(Semaphore::new(self.per_client));
        };
        if gates.len() > 4_096 {
            // Gates no request holds any more (only the map has them).
            gates.retain(|_, g| Arc::strong_count(g) > 1);
        }
        gates
            .entry(client.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_client)))
            .clone()
    }
}

#[derive(Clone)]
pub struct Hasher {
    slots: Arc<Semaphore>,
    share: FairShare,
    workers: mpsc::Sender<Job>,
    queue_timeout: Duration,
    /// A real hash of a random password: unknown users are "verified" against it so that the
    /// response takes as long as for a real account (SECURITY.md E2).
    dummy_phc: Arc<String>,
    /// Hashes and verifications begun since start (a metric, and how a test knows a use case
    /// has finished its reads and is hashing).
    started: Arc<AtomicU64>,
    /// Hashes waiting for a slot now.
    queued: Arc<AtomicU64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub ok: bool,
    /// The stored hash is weaker than today's parameters: rehash now that we know the password.
    pub needs_rehash: bool,
}

const OUTPUT_LEN: usize = 32;

fn policy_params() -> Result<Params, DomainError> {
    Params::new(M_COST_KIB, T_COST, P_COST, Some(OUTPUT_LEN))
        .map_err(|e| DomainError::Hashing(e.to_string()))
}

/// Which argon2 code runs: the AVX2 path where it can, or always the crate's portable one
/// (for `carekey bench-hashing`'s comparison).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Argon2Code {
    Fastest,
    Portable,
}

/// Runs argon2 in `memory`, growing it only if these parameters need more than it has.
fn run_argon2(
    params: (Algorithm, Version, Params),
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Vec<Block>,
) -> Result<(), DomainError> {
    run_argon2_on(Argon2Code::Fastest, params, password, salt, out, memory)
}

fn run_argon2_on(
    engine: Argon2Code,
    (alg, version, params): (Algorithm, Version, Params),
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Vec<Block>,
) -> Result<(), DomainError> {
    let need = params.block_count();
    if memory.len() < need {
        memory.resize(need, Block::default());
    }
    // CareKey's own shape goes to the AVX2 path (about twice as fast, the same bytes; see
    // the carekey-argon2id crate); anything else, or a processor without AVX2, to the crate.
    if engine == Argon2Code::Fastest
        && alg == Algorithm::Argon2id
        && version == Version::V0x13
        && params.p_cost() == 1
        && let Ok(tag) = <&mut [u8; argon2id::TAG_LEN]>::try_from(&mut *out)
        && argon2id::hash(
            password,
            salt,
            params.t_cost(),
            params.m_cost(),
            tag,
            memory,
        )
        .is_ok()
    {
        return Ok(());
    }
    Argon2::new(alg, version, params)
        .hash_password_into_with_memory(password, salt, out, &mut memory[..need])
        .map_err(|e| DomainError::Hashing(e.to_string()))
}

/// A PHC string: `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (unpadded standard base64).
fn hash_with(password: &str, memory: &mut Vec<Block>) -> Result<String, DomainError> {
    hash_on(Argon2Code::Fastest, password, memory)
}

fn hash_on(
    engine: Argon2Code,
    password: &str,
    memory: &mut Vec<Block>,
) -> Result<String, DomainError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| DomainError::Hashing(e.to_string()))?;
    let mut out = [0u8; OUTPUT_LEN];
    let policy = (Algorithm::Argon2id, Version::V0x13, policy_params()?);
    run_argon2_on(engine, policy, password.as_bytes(), &salt, &mut out, memory)?;
    Ok(format!(
        "$argon2id$v=19$m={M_COST_KIB},t={T_COST},p={P_COST}${}${}",
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(out)
    ))
}

fn verify_with(password: &str, phc: &str, memory: &mut Vec<Block>) -> Verified {
    let no = Verified {
        ok: false,
        needs_rehash: false,
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        return no;
    };
    let (Ok(alg), Some(Ok(version)), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm.as_str()),
        parsed.version.map(Version::try_from),
        Params::try_from(&parsed),
        parsed.salt.as_ref(),
        parsed.hash.as_ref(),
    ) else {
        return no;
    };
    let expected = expected.as_bytes();
    let mut out = vec![0u8; expected.len()];
    // Verify with the parameters stored in the hash, whatever they were.
    if run_argon2(
        (alg, version, params),
        password.as_bytes(),
        salt.as_ref(),
        &mut out,
        memory,
    )
    .is_err()
    {
        return no;
    }
    let ok = constant_time_eq(&out, expected);
    Verified {
        ok,
        needs_rehash: ok && is_weaker_than_policy(&parsed),
    }
}

/// Compares without an early exit, so the time taken says nothing about where a guess differs.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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

/// This machine's hashing at CareKey's parameters (`carekey bench-hashing`, scripts/bench.sh):
/// what one sign-in costs, and how many the server can check a second with every core busy.
#[derive(Debug, Clone, Copy)]
pub struct Speed {
    pub cores: usize,
    /// Which code ran: "AVX-512" or "AVX2" (carekey-argon2id), or "portable" (the crate's).
    pub code: &'static str,
    pub one_core_ms: f64,
    pub one_core_per_s: f64,
    pub all_cores_per_s: f64,
    /// The crate's portable code on one core, for comparison.
    pub portable_one_core_ms: f64,
}

/// Hashes for `each` with the crate's portable code on one thread, then with the fastest code
/// on one thread, then on one thread per core at once, each thread with its own working
/// memory as the server's pool has.
pub fn measure(each: Duration) -> Result<Speed, DomainError> {
    fn run_for(engine: Argon2Code, each: Duration) -> Result<u64, DomainError> {
        let mut memory = Vec::new();
        hash_on(engine, "warming up the memory", &mut memory)?;
        let start = std::time::Instant::now();
        let mut n = 0u64;
        while start.elapsed() < each {
            hash_on(engine, "a benchmark password here", &mut memory)?;
            n += 1;
        }
        Ok(n)
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let portable = run_for(Argon2Code::Portable, each)?;
    let one = run_for(Argon2Code::Fastest, each)?;
    let threads: Vec<_> = (0..cores)
        .map(|_| std::thread::spawn(move || run_for(Argon2Code::Fastest, each)))
        .collect();
    let mut all = 0;
    for t in threads {
        all += t
            .join()
            .map_err(|_| DomainError::Hashing("benchmark thread panicked".into()))??;
    }
    let secs = each.as_secs_f64();
    Ok(Speed {
        cores,
        code: argon2id::code_name(),
        one_core_ms: secs * 1000.0 / one.max(1) as f64,
        one_core_per_s: one as f64 / secs,
        all_cores_per_s: all as f64 / secs,
        portable_one_core_ms: secs * 1000.0 / portable.max(1) as f64,
    })
}

/// A hash waiting for a slot, counted in the queue-depth gauge while it waits: dropped when a
/// slot is granted, when the wait gives up, and when the request goes away mid-wait.
struct Waiting(Arc<AtomicU64>);

impl Waiting {
    fn enter(queued: &Arc<AtomicU64>) -> Self {
        metrics::gauge!(names::ARGON2_QUEUE_DEPTH).increment(1.0);
        queued.fetch_add(1, Ordering::Relaxed);
        Waiting(queued.clone())
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        metrics::gauge!(names::ARGON2_QUEUE_DEPTH).decrement(1.0);
        self.0.fetch_sub(1, Ordering::Relaxed);
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
                let mut memory: Vec<Block> = Vec::new();
                loop {
                    let job = match rx.lock() {
                        Ok(guard) => match guard.recv() {
                            Ok(job) => job,
                            Err(_) => return, // every Hasher dropped
                        },
                        Err(_) => return,
                    };
                    job(&mut memory);
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
        let dummy = hash_with(&hex::encode(random), &mut Vec::new())?;
        Ok(Self {
            slots: Arc::new(Semaphore::new(cores)),
            share: FairShare {
                gates: Arc::default(),
                per_client: per_client(cores),
            },
            workers: start_workers(cores)?,
            queue_timeout: QUEUE_TIMEOUT,
            dummy_phc: Arc::new(dummy),
            started: Arc::new(AtomicU64::new(0)),
            queued: Arc::new(AtomicU64::new(0)),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, DomainError> {
        self.run_holding(work, None).await
    }

    /// Runs `work` once a slot is free; `held` (a client's gate permit) is given back with
    /// the slot, when the hash has really finished.
    async fn run_holding<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
        held: Option<OwnedSemaphorePermit>,
    ) -> Result<T, DomainError> {
        let asked = std::time::Instant::now();
        let waiting = Waiting::enter(&self.queued);
        let permit =
            tokio::time::timeout(self.queue_timeout, self.slots.clone().acquire_owned()).await;
        drop(waiting);
        metrics::histogram!(names::ARGON2_QUEUE_WAIT).record(asked.elapsed().as_secs_f64());
        let permit = permit
            .map_err(|_| DomainError::Busy)?
            .map_err(|_| DomainError::Busy)?;
        self.started.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = tokio::sync::oneshot::channel();
        // The permit travels with the job: if the client disconnects and this future is dropped,
        // the slot stays taken until the hash actually finishes, so the queue stays bounded.
        let job: Job = Box::new(move |memory| {
            let out = work(memory);
            // The slot and the client's gate are free before the answer is: whoever reads
            // the answer finds them given back.
            drop(permit);
            drop(held);
            let _ = tx.send(out);
        });
        self.workers
            .send(job)
            .map_err(|_| DomainError::Hashing("hashing threads stopped".into()))?;
        let out = rx
            .await
            .map_err(|_| DomainError::Hashing("hashing thread panicked".into()))?;
        Ok(out)
    }

    /// How many hashes and verifications have begun since start.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    /// How many are waiting for a slot now.
    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    /// Every slot, as hashes in flight would hold them, until the permit is dropped.
    #[cfg(test)]
    pub(crate) async fn hold_every_slot(&self) -> OwnedSemaphorePermit {
        let all = self.slots.available_permits() as u32;
        self.slots
            .clone()
            .acquire_many_owned(all)
            .await
            .expect("the hasher's semaphore is never closed")
    }

    /// `verify` for a sign-in from `client` (its address key): behind that client's own gate
    /// first, so one client holds at most its share of the slots. The gate's wait counts
    /// toward the same queue timeout: a client flooding sign-ins is told "busy", others not.
    pub async fn verify_from(
        &self,
        client: &str,
        password: String,
        phc: Option<String>,
    ) -> Result<Verified, DomainError> {
        let asked = std::time::Instant::now();
        let gate = self.share.gate(client);
        let held = tokio::time::timeout(self.queue_timeout, gate.acquire_owned())
            .await
            .map_err(|_| DomainError::Busy)?
            .map_err(|_| DomainError::Busy)?;
        let mut h = self.clone();
        h.queue_timeout = self.queue_timeout.saturating_sub(asked.elapsed());
        h.verify_holding(password, phc, Some(held)).await
    }

    /// Hashes an already normalised password.
    pub async fn hash(&self, password: String) -> Result<String, DomainError> {
        self.run(move |memory| hash_with(&password, memory)).await?
    }

    /// Verifies against `phc`, or against the dummy hash when there is none, so the time spent
    /// is the same either way. With no `phc` the answer is always "no".
    pub async fn verify(
        &self,
        password: String,
        phc: Option<String>,
    ) -> Result<Verified, DomainError> {
        self.verify_holding(password, phc, None).await
    }

    /// Whether `password` is the one behind any of `phcs` (the password history, P5). Every
    /// verification is queued on the pool at once, so on an idle server they run side by side
    /// and under load the whole check waits in the queue once, not once per password; the first
    /// match ends it, and the verifications not begun by then are skipped. Nothing here holds a
    /// database transaction: callers check before their unit of work opens.
    pub async fn matches_any(
        &self,
        password: String,
        phcs: Vec<String>,
    ) -> Result<bool, DomainError> {
        use futures_util::StreamExt;
        use std::sync::atomic::AtomicBool;
        let found = Arc::new(AtomicBool::new(false));
        let password = Arc::new(password);
        let mut pending: futures_util::stream::FuturesUnordered<_> = phcs
            .into_iter()
            .map(|phc| {
                let (found, password) = (found.clone(), password.clone());
                self.run(move |memory| {
                    // Another verification already matched: this one would change nothing.
                    if found.load(Ordering::Relaxed) {
                        return false;
                    }
                    let ok = verify_with(&password, &phc, memory).ok;
                    if ok {
                        found.store(true, Ordering::Relaxed);
                    }
                    ok
                })
            })
            .collect();
        while let Some(ok) = pending.next().await {
            if ok? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn verify_holding(
        &self,
        password: String,
        phc: Option<String>,
        held: Option<OwnedSemaphorePermit>,
    ) -> Result<Verified, DomainError> {
        let real = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy_phc.as_str().to_owned());
        let v = self
            .run_holding(move |memory| verify_with(&password, &phc, memory), held)
            .await?;
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
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    fn hash_blocking(pw: &str) -> String {
        hash_with(pw, &mut Vec::new()).unwrap()
    }

    fn verify_blocking(pw: &str, phc: &str) -> Verified {
        verify_with(pw, phc, &mut Vec::new())
    }

    /// A hash as an older, weaker configuration would have stored it (m=4 MiB, t=1).
    fn weak_hash(pw: &[u8]) -> String {
        Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 1, 1, None).unwrap(),
        )
        .hash_password_with_salt(pw, b"saltsaltsaltsalt")
        .unwrap()
        .to_string()
    }

    #[test]
    fn stored_hash_is_argon2id_with_policy_parameters() {
        let phc = hash_blocking("correct horse battery staple");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_blocking("correct horse battery staple", &phc).ok);
        assert!(!verify_blocking("correct horse battery stapler", &phc).ok);
    }

    #[test]
    fn our_phc_strings_are_standard_and_verify_with_the_reference_implementation() {
        let phc = hash_blocking("correct horse battery staple");
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery staple", &parsed)
                .is_ok()
        );
        // And hashes made by the reference implementation verify with ours.
        let theirs = Argon2::default()
            .hash_password_with_salt(b"made elsewhere, long enough", b"0123456789abcdef")
            .unwrap()
            .to_string();
        assert!(verify_blocking("made elsewhere, long enough", &theirs).ok);
    }

    #[test]
    fn one_buffer_serves_many_hashes_of_different_sizes() {
        let mut memory = Vec::new();
        let a = hash_with("first password here", &mut memory).unwrap();
        let len = memory.len();
        assert_eq!(len, 19_456);
        let weak = weak_hash(b"small one");
        assert!(verify_with("small one", &weak, &mut memory).ok);
        assert!(verify_with("first password here", &a, &mut memory).ok);
        assert_eq!(memory.len(), len, "no regrowth for smaller parameters");
    }

    #[test]
    fn weaker_hash_verifies_and_asks_for_rehash() {
        let weak = weak_hash(b"an old password from 2019");
        let v = verify_blocking("an old password from 2019", &weak);
        assert_eq!(
            v,
            Verified {
                ok: true,
                needs_rehash: true
            }
        );
        let strong = hash_blocking("an old password from 2019");
        assert!(!verify_blocking("an old password from 2019", &strong).needs_rehash);
    }

    #[test]
    fn garbage_never_verifies() {
        for phc in [
            "",
            "$argon2id$",
            "plain text",
            "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$",
        ] {
            assert!(!verify_blocking("anything", phc).ok, "{phc}");
        }
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[tokio::test]
    async fn unknown_user_never_verifies() {
        let h = Hasher::new().unwrap();
        let before = h.started();
        let v = h.verify("anything at all here".into(), None).await.unwrap();
        assert!(!v.ok);
        // The "no" came from a real argon2 run against the dummy hash, not a shortcut: the
        // unknown name costs what a known one does (SECURITY.md E2).
        assert_eq!(h.started(), before + 1);
        // And the dummy is a real hash of its kind: its own parameters, verifiable at all.
        assert!(h.dummy_phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    }

    /// One address sending sign-ins as fast as it can holds at most its share of the slots:
    /// another address's sign-in is served while the flood is still queued behind itself.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_client_cannot_hold_every_slot() {
        let h = Hasher::new().unwrap();
        let phc = hash_blocking("the flood's password here");
        let done = Arc::new(AtomicU64::new(0));
        let mut flood = vec![];
        for _ in 0..8 {
            let (h, phc, done) = (h.clone(), phc.clone(), done.clone());
            flood.push(tokio::spawn(async move {
                let r = h
                    .verify_from("198.51.100.1", "a wrong guess here".into(), Some(phc))
                    .await;
                done.fetch_add(1, Ordering::SeqCst);
                r
            }));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        let other = h
            .verify_from(
                "203.0.113.9",
                "someone else's try".into(),
                Some(phc.clone()),
            )
            .await
            .unwrap();
        assert!(!other.ok);
        let flood_done = done.load(Ordering::SeqCst);
        assert!(
            flood_done < 8,
            "the other client waited for the whole flood ({flood_done} of 8 done)"
        );
        for f in flood {
            // Queued behind itself, the flood may be told "busy"; never an error of another kind.
            match f.await.unwrap() {
                Ok(v) => assert!(!v.ok),
                Err(e) => assert!(matches!(e, DomainError::Busy), "{e}"),
            }
        }
        // The gates are taken down with the last request through them.
        assert!(
            h.share
                .gates
                .lock()
                .unwrap()
                .values()
                .all(|g| g.available_permits() == h.share.per_client)
        );
    }

    #[tokio::test]
    async fn full_queue_answers_busy_instead_of_waiting_forever() {
        let mut h = Hasher::new().unwrap();
        h.queue_timeout = Duration::from_millis(20);
        // Every real slot taken, as by hashes in flight.
        let cores = h.slots.available_permits();
        assert!(cores >= 1);
        let held = h
            .slots
            .clone()
            .acquire_many_owned(cores as u32)
            .await
            .unwrap();
        let before = h.started();
        assert!(matches!(
            h.hash("x".repeat(20)).await,
            Err(DomainError::Busy)
        ));
        assert_eq!(h.started(), before, "busy, not hashed");
        // A slot freed: the same call is served.
        drop(held);
        assert!(
            h.hash("x".repeat(20))
                .await
                .unwrap()
                .starts_with("$argon2id$")
        );
    }
}
