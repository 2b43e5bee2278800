//! argon2id (RFC 9106) for CareKey's own parameters, with the block function in AVX2.
//!
//! Why not only the `argon2` crate: its block function is written for the compiler to
//! vectorise, and the column half of it (words 16 apart) does not vectorise; and one G at a
//! time waits on its own multiplications. On this project's 2-core machine the crate took
//! ~20–24 ms a hash where this code takes ~11–13 and the fastest other implementation measured
//! there (argon2-rust, in @node-rs/argon2) ~13 (issue 15; the table is in the README). Every sign-in, reset and password change waits
//! for argon2, and each one the server can do a second is a patient who is not told "busy".
//!
//! So the one case CareKey stores, argon2id version 0x13, one lane, a 32-byte tag, runs here
//! when the processor has AVX2 (checked at run time: the binary stays portable), with the
//! rotations in one instruction each where it also has AVX-512 F and VL. Everything
//! else (other variants, several lanes, other tag lengths, processors without AVX2) goes to the
//! crate. Both give the same bytes: the tests compare them on random inputs.
//!
//! Layout (RFC 9106 §3.5–3.6): a block is 128 words, an 8 × 16 matrix. The block function
//! applies the BLAKE2b round to each row of 16 words, then to each "column" (two adjacent
//! words from each row). With four words to a register a row is four registers, and two
//! neighbouring columns are eight registers (one from each row): the same lane-wise G then
//! serves both, with different shuffles to bring the diagonals into line.

use argon2::Block;
use blake2::{Blake2b256, Blake2b512, Digest};

/// argon2id's number in the hash's first block (RFC 9106 §3.2: y = 2).
const ARGON2ID: u64 = 2;
const VERSION: u32 = 0x13;
const SYNC_POINTS: usize = 4;
const WORDS: usize = 128;
/// The tag length CareKey stores; others go to the crate.
pub const TAG_LEN: usize = 32;

/// Whether this processor runs the fast path (AVX2, checked once).
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether the AVX-512 variant runs (F and VL, checked once).
pub fn avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vl")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Which code runs here: "AVX-512", "AVX2", or "portable" (the `argon2` crate's).
pub fn code_name() -> &'static str {
    if avx512() {
        "AVX-512"
    } else if available() {
        "AVX2"
    } else {
        "portable"
    }
}

/// Blocks these parameters use (RFC 9106 §3.2: m' = 4 × floor(m / 4), at least 8).
pub fn block_count(m_cost: u32) -> usize {
    let m = m_cost as usize;
    let segment = m.max(2 * SYNC_POINTS) / SYNC_POINTS;
    segment * SYNC_POINTS
}

/// Why the fast path did not run; the caller uses the crate instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    #[error("this processor has no AVX2")]
    NoAvx2,
    #[error("the working memory is smaller than the parameters need")]
    Memory,
    #[error("the password, salt or parameters are outside argon2's limits")]
    Inputs,
}

/// argon2id v0x13, one lane, into `tag`. `memory` must hold at least `block_count(m_cost)`.
pub fn hash(
    password: &[u8],
    salt: &[u8],
    t_cost: u32,
    m_cost: u32,
    tag: &mut [u8; TAG_LEN],
    memory: &mut [Block],
) -> Result<(), Unsupported> {
    hash_on(avx512(), password, salt, t_cost, m_cost, tag, memory)
}

/// `hash` with the AVX-512 variant or not (the tests run both on a machine that has both).
fn hash_on(
    use_avx512: bool,
    password: &[u8],
    salt: &[u8],
    t_cost: u32,
    m_cost: u32,
    tag: &mut [u8; TAG_LEN],
    memory: &mut [Block],
) -> Result<(), Unsupported> {
    if !available() || (use_avx512 && !avx512()) {
        return Err(Unsupported::NoAvx2);
    }
    // The limits argon2 itself sets (RFC 9106 §3.1); the crate refuses the same.
    if t_cost == 0 || m_cost < 8 || salt.len() < 8 || u32::try_from(password.len()).is_err() {
        return Err(Unsupported::Inputs);
    }
    let blocks = block_count(m_cost);
    let memory = memory.get_mut(..blocks).ok_or(Unsupported::Memory)?;

    let h0 = initial_hash(password, salt, t_cost, m_cost);
    for (i, block) in memory[..2].iter_mut().enumerate() {
        let mut bytes = [0u8; 1024];
        long_hash_1024(
            &[
                h0.as_slice(),
                &(i as u32).to_le_bytes(),
                &0u32.to_le_bytes(),
            ],
            &mut bytes,
        );
        for (w, chunk) in block.as_mut().iter_mut().zip(bytes.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            *w = u64::from_le_bytes(b);
        }
    }

    #[cfg(target_arch = "x86_64")]
    // SAFETY: AVX2 (and for the second, AVX-512 F and VL) was detected, and `memory` holds
    // exactly `blocks` blocks.
    unsafe {
        if use_avx512 {
            avx512::fill(memory, t_cost as usize);
        } else {
            avx2::fill(memory, t_cost as usize);
        }
    }

    let mut last = [0u8; 1024];
    for (chunk, w) in last.chunks_exact_mut(8).zip(memory[blocks - 1].as_ref()) {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    // H'^T for T = 32 is BLAKE2b with a 32-byte output over LE32(T) || input (RFC 9106 §3.3).
    let out = Blake2b256::new()
        .chain_update((TAG_LEN as u32).to_le_bytes())
        .chain_update(last)
        .finalize();
    tag.copy_from_slice(&out);
    Ok(())
}

/// H0 (RFC 9106 §3.2): every parameter and input, no secret and no associated data.
fn initial_hash(password: &[u8], salt: &[u8], t_cost: u32, m_cost: u32) -> [u8; 64] {
    let le = |n: usize| (n as u32).to_le_bytes();
    let h = Blake2b512::new()
        .chain_update(1u32.to_le_bytes())
        .chain_update(le(TAG_LEN))
        .chain_update(m_cost.to_le_bytes())
        .chain_update(t_cost.to_le_bytes())
        .chain_update(VERSION.to_le_bytes())
        .chain_update((ARGON2ID as u32).to_le_bytes())
        .chain_update(le(password.len()))
        .chain_update(password)
        .chain_update(le(salt.len()))
        .chain_update(salt)
        .chain_update(0u32.to_le_bytes())
        .chain_update(0u32.to_le_bytes())
        .finalize();
    h.into()
}

/// H' with a 1,024-byte output (RFC 9106 §3.3): 30 chained BLAKE2b-512 halves, then one
/// whole 64-byte hash.
fn long_hash_1024(inputs: &[&[u8]], out: &mut [u8; 1024]) {
    let mut d = Blake2b512::new().chain_update(1024u32.to_le_bytes());
    for i in inputs {
        d.update(i);
    }
    let mut v: [u8; 64] = d.finalize().into();
    out[..32].copy_from_slice(&v[..32]);
    let mut at = 32;
    while out.len() - at > 64 {
        v = Blake2b512::digest(v).into();
        out[at..at + 32].copy_from_slice(&v[..32]);
        at += 32;
    }
    v = Blake2b512::digest(v).into();
    out[at..].copy_from_slice(&v);
}

/// Where block `index` of a segment takes its second input from (RFC 9106 §3.4.1.2), one lane.
#[inline(always)]
fn reference_index(
    pass: usize,
    slice: usize,
    index: usize,
    segment: usize,
    lane: usize,
    rand: u64,
) -> usize {
    let area = if pass == 0 {
        slice * segment + index - 1
    } else {
        lane - segment + index - 1
    };
    let x = rand & 0xFFFF_FFFF;
    let x = (x * x) >> 32;
    let relative = area - 1 - ((area as u64 * x) >> 32) as usize;
    let start = if pass != 0 && slice != SYNC_POINTS - 1 {
        (slice + 1) * segment
    } else {
        0
    };
    (start + relative) % lane
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    macro_rules! simd_fn {
        ($($item:tt)*) => {
            #[target_feature(enable = "avx2")]
            $($item)*
        };
    }
    // Byte shuffles for the 24- and 16-bit rotations, and shift, add and XOR for the 63-bit
    // one: AVX2 has no 64-bit rotate.
    macro_rules! rot24 {
        ($x:expr, $r24:expr) => {
            _mm256_shuffle_epi8($x, $r24)
        };
    }
    macro_rules! rot16 {
        ($x:expr, $r16:expr) => {
            _mm256_shuffle_epi8($x, $r16)
        };
    }
    macro_rules! rot63 {
        ($x:expr) => {{
            let t = $x;
            _mm256_xor_si256(_mm256_srli_epi64::<63>(t), _mm256_add_epi64(t, t))
        }};
    }
    include!("engine.rs");
}

/// The same code where AVX-512 (F and VL) is present: the rotations become one instruction
/// each (VPRORQ) on the same 256-bit registers, which shortens G's dependency chain.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    macro_rules! simd_fn {
        ($($item:tt)*) => {
            #[target_feature(enable = "avx2,avx512f,avx512vl")]
            $($item)*
        };
    }
    macro_rules! rot24 {
        ($x:expr, $r24:expr) => {{
            let _ = $r24;
            _mm256_ror_epi64::<24>($x)
        }};
    }
    macro_rules! rot16 {
        ($x:expr, $r16:expr) => {{
            let _ = $r16;
            _mm256_ror_epi64::<16>($x)
        }};
    }
    macro_rules! rot63 {
        ($x:expr) => {
            _mm256_ror_epi64::<63>($x)
        };
    }
    include!("engine.rs");
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{Algorithm, Argon2, Params, Version};

    fn by_the_crate(password: &[u8], salt: &[u8], t: u32, m: u32) -> [u8; TAG_LEN] {
        let mut out = [0u8; TAG_LEN];
        Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(m, t, 1, Some(TAG_LEN)).unwrap(),
        )
        .hash_password_into(password, salt, &mut out)
        .unwrap();
        out
    }

    /// Every variant this processor can run, each giving its bytes.
    fn ours_each(password: &[u8], salt: &[u8], t: u32, m: u32) -> Vec<[u8; TAG_LEN]> {
        let mut memory = vec![Block::default(); block_count(m)];
        let variants: &[bool] = if avx512() { &[false, true] } else { &[false] };
        variants
            .iter()
            .map(|&wide| {
                let mut out = [0u8; TAG_LEN];
                hash_on(wide, password, salt, t, m, &mut out, &mut memory).unwrap();
                out
            })
            .collect()
    }

    /// RFC 9106 §5.3's argon2id example has a secret, associated data and four lanes, which
    /// CareKey never uses; this pins one answer of CareKey's own shape instead. The reference C
    /// implementation (Debian's `argon2` CLI and libargon2 through argon2-cffi), libsodium
    /// (PyNaCl), OpenSSL 4 and the `argon2` crate all give these bytes.
    #[test]
    fn a_known_answer() {
        const EXPECTED: &str = "832e52b959b967b570ee4781f6c7bda7ced019ca266ac781fd2d94d4e853b0cd";
        let crate_hex: String = by_the_crate(
            b"correct horse battery staple",
            b"0123456789abcdef",
            2,
            19_456,
        )
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
        assert_eq!(crate_hex, EXPECTED);
        if !available() {
            return;
        }
        for ours in ours_each(
            b"correct horse battery staple",
            b"0123456789abcdef",
            2,
            19_456,
        ) {
            let hex: String = ours.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hex, EXPECTED);
        }
    }

    /// The same bytes as the crate for random passwords, salts and small parameters, including
    /// memory sizes that are not multiples of four and more passes than the policy's.
    #[test]
    fn the_same_bytes_as_the_crate() {
        if !available() {
            return;
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).unwrap();
        let mut n = u64::from_le_bytes(seed[..8].try_into().unwrap()) | 1;
        let mut next = move || {
            // xorshift: enough variety for a comparison, and the seed is printed on failure.
            n ^= n << 13;
            n ^= n >> 7;
            n ^= n << 17;
            n
        };
        for round in 0..40 {
            let pw: Vec<u8> = (0..next() % 70).map(|_| next() as u8).collect();
            let salt: Vec<u8> = (0..8 + next() % 25).map(|_| next() as u8).collect();
            let t = 1 + (next() % 4) as u32;
            let m = 8 + (next() % 600) as u32;
            let theirs = by_the_crate(&pw, &salt, t, m);
            for ours in ours_each(&pw, &salt, t, m) {
                assert_eq!(
                    ours, theirs,
                    "round {round}: pw {pw:?} salt {salt:?} t {t} m {m} (seed {seed:?})"
                );
            }
        }
    }

    #[test]
    fn too_little_memory_is_refused_not_overrun() {
        let mut memory = vec![Block::default(); 100];
        let mut out = [0u8; TAG_LEN];
        let r = hash(b"password", b"saltsalt", 1, 200, &mut out, &mut memory);
        assert!(matches!(r, Err(Unsupported::Memory | Unsupported::NoAvx2)));
    }
}
