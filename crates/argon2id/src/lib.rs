//! argon2id (RFC 9106) for CareKey's own parameters, with the block function in AVX2.
//!
//! Why not only the `argon2` crate: its block function is written for the compiler to
//! vectorise, and the column half of it (words 16 apart) does not vectorise. On this project's
//! 2-core machine it took ~15 ms a hash where the reference C code with AVX2 takes about half
//! that (issue 15; the table is in the README). Every sign-in, reset and password change waits
//! for argon2, and each one the server can do a second is a patient who is not told "busy".
//!
//! So the one case CareKey stores, argon2id version 0x13, one lane, a 32-byte tag, runs here
//! when the processor has AVX2 (checked at run time: the binary stays portable). Everything
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
    if !available() {
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
    // SAFETY: AVX2 was detected above, and `memory` holds exactly `blocks` blocks.
    unsafe {
        avx2::fill(memory, t_cost as usize);
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
    use super::{ARGON2ID, Block, SYNC_POINTS, WORDS, reference_index};
    use std::arch::x86_64::*;

    /// Four 64-bit words to a register, 32 registers to a block.
    const REGS: usize = WORDS / 4;

    macro_rules! blamka {
        ($a:expr, $b:expr) => {{
            // a + b + 2 · lo32(a) · lo32(b) (RFC 9106 §3.6, fBlaMka)
            let m = _mm256_mul_epu32($a, $b);
            _mm256_add_epi64(_mm256_add_epi64($a, $b), _mm256_add_epi64(m, m))
        }};
    }

    /// G (RFC 9106 §3.6) on several independent sets of registers at once, one step for all
    /// sets before the next step: the sets' dependency chains overlap instead of waiting.
    macro_rules! g {
        ($r24:expr, $r16:expr; $(($a:expr, $b:expr, $c:expr, $d:expr)),+) => {{
            $( $a = blamka!($a, $b); )+
            $( $d = _mm256_shuffle_epi32::<0xB1>(_mm256_xor_si256($d, $a)); )+
            $( $c = blamka!($c, $d); )+
            $( $b = _mm256_shuffle_epi8(_mm256_xor_si256($b, $c), $r24); )+
            $( $a = blamka!($a, $b); )+
            $( $d = _mm256_shuffle_epi8(_mm256_xor_si256($d, $a), $r16); )+
            $( $c = blamka!($c, $d); )+
            $( $b = { let t = _mm256_xor_si256($b, $c); _mm256_xor_si256(_mm256_srli_epi64::<63>(t), _mm256_add_epi64(t, t)) }; )+
        }};
    }

    /// One BLAKE2b round over rows: each set of four registers is v0–3, v4–7, v8–11, v12–15.
    macro_rules! row_round {
        ($r24:expr, $r16:expr; $(($a:expr, $b:expr, $c:expr, $d:expr)),+) => {{
            g!($r24, $r16; $(($a, $b, $c, $d)),+);
            // Diagonals into columns: v5 v6 v7 v4 / v10 v11 v8 v9 / v15 v12 v13 v14.
            $(
                $b = _mm256_permute4x64_epi64::<0x39>($b);
                $c = _mm256_permute4x64_epi64::<0x4E>($c);
                $d = _mm256_permute4x64_epi64::<0x93>($d);
            )+
            g!($r24, $r16; $(($a, $b, $c, $d)),+);
            $(
                $b = _mm256_permute4x64_epi64::<0x93>($b);
                $c = _mm256_permute4x64_epi64::<0x4E>($c);
                $d = _mm256_permute4x64_epi64::<0x39>($d);
            )+
        }};
    }

    /// One BLAKE2b round over pairs of neighbouring columns. Each register holds two words of
    /// each column: a0 = (v0, v1 | v0, v1), a1 = (v2, v3 | v2, v3), b0 = (v4, v5 | …) and so on.
    macro_rules! column_round {
        ($r24:expr, $r16:expr; $(($a0:expr, $a1:expr, $b0:expr, $b1:expr, $c0:expr, $c1:expr, $d0:expr, $d1:expr)),+) => {{
            g!($r24, $r16; $(($a0, $b0, $c0, $d0), ($a1, $b1, $c1, $d1)),+);
            // Diagonals: v0 meets v5, v10, v15; v1 v6 v11 v12; v2 v7 v8 v13; v3 v4 v9 v14.
            $(
                let (x, y) = ($b0, $b1);
                $b0 = _mm256_shuffle_epi32::<0x4E>(_mm256_blend_epi32::<0x33>(x, y));
                $b1 = _mm256_shuffle_epi32::<0x4E>(_mm256_blend_epi32::<0xCC>(x, y));
                let c = $c0;
                $c0 = $c1;
                $c1 = c;
                let (x, y) = ($d0, $d1);
                $d0 = _mm256_shuffle_epi32::<0x4E>(_mm256_blend_epi32::<0xCC>(x, y));
                $d1 = _mm256_shuffle_epi32::<0x4E>(_mm256_blend_epi32::<0x33>(x, y));
            )+
            g!($r24, $r16; $(($a0, $b0, $c0, $d0), ($a1, $b1, $c1, $d1)),+);
            $(
                let (x, y) = ($b0, $b1);
                $b0 = _mm256_shuffle_epi32::<0x4E>(_mm256_blend_epi32::<0xCC>(x, y));
                $b1 = _mm256_shuffle_epi32::<0x4E>(_mm256_blend_epi32::<0x33>(x, y));
                let c = $c0;
                $c0 = $c1;
                $c1 = c;
                let (x, y) = ($d0, $d1);
                $d0 = _mm256_shuffle_epi32::<0x4E>(_mm256_blend_epi32::<0x33>(x, y));
                $d1 = _mm256_shuffle_epi32::<0x4E>(_mm256_blend_epi32::<0xCC>(x, y));
            )+
        }};
    }

    /// G(x, y) of RFC 9106 §3.5 into `dst`, XORed into what `dst` holds when `xor` (passes
    /// after the first, version 0x13).
    ///
    /// # Safety
    /// AVX2 must be present; the three pointers each address a whole block (`dst` may not be
    /// either input).
    #[target_feature(enable = "avx2")]
    unsafe fn compress(x: *const Block, y: *const Block, dst: *mut Block, xor: bool) {
        let r24 = _mm256_setr_epi8(
            3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10, 3, 4, 5, 6, 7, 0, 1, 2, 11, 12,
            13, 14, 15, 8, 9, 10,
        );
        let r16 = _mm256_setr_epi8(
            2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9, 2, 3, 4, 5, 6, 7, 0, 1, 10, 11,
            12, 13, 14, 15, 8, 9,
        );
        let (x, y, dst) = (
            x.cast::<__m256i>(),
            y.cast::<__m256i>(),
            dst.cast::<__m256i>(),
        );
        let mut r = [_mm256_setzero_si256(); REGS];
        for (i, reg) in r.iter_mut().enumerate() {
            // SAFETY: both blocks are whole (the caller's promise); i < 32 registers of 32 bytes.
            *reg = unsafe {
                _mm256_xor_si256(_mm256_loadu_si256(x.add(i)), _mm256_loadu_si256(y.add(i)))
            };
        }
        let mut q = r;
        macro_rules! rows {
            ($($k:literal)*) => {
                row_round!(r24, r16; $((q[4 * $k], q[4 * $k + 1], q[4 * $k + 2], q[4 * $k + 3])),*);
            };
        }
        macro_rules! cols {
            ($($j:literal)*) => {
                column_round!(r24, r16; $((
                    q[$j], q[$j + 4], q[$j + 8], q[$j + 12], q[$j + 16], q[$j + 20], q[$j + 24],
                    q[$j + 28]
                )),*);
            };
        }
        // Four rows, then two column pairs, at a time: four independent chains overlap, where
        // one at a time each waited on its own multiplications (about 1.5x slower).
        rows!(0 1 2 3);
        rows!(4 5 6 7);
        cols!(0 1);
        cols!(2 3);
        for i in 0..REGS {
            let mut out = _mm256_xor_si256(q[i], r[i]);
            // SAFETY: `dst` is a whole block, distinct from the inputs (the caller's promise).
            unsafe {
                if xor {
                    out = _mm256_xor_si256(out, _mm256_loadu_si256(dst.add(i)));
                }
                _mm256_storeu_si256(dst.add(i), out);
            }
        }
    }

    /// Every pass over one lane (RFC 9106 §3.4), the first two blocks already in place.
    ///
    /// # Safety
    /// AVX2 must be present; `memory` is exactly the parameters' block count (≥ 8, a multiple
    /// of 4).
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn fill(memory: &mut [Block], passes: usize) {
        let lane = memory.len();
        let segment = lane / SYNC_POINTS;
        let base = memory.as_mut_ptr();
        let zero = Block::default();
        for pass in 0..passes {
            for slice in 0..SYNC_POINTS {
                // argon2id: addresses independent of the password for the first half of the
                // first pass (side-channel resistance), dependent on it after.
                let independent = pass == 0 && slice < SYNC_POINTS / 2;
                let mut input = Block::default();
                let mut address = Block::default();
                if independent {
                    input.as_mut()[..6].copy_from_slice(&[
                        pass as u64,
                        0,
                        slice as u64,
                        lane as u64,
                        passes as u64,
                        ARGON2ID,
                    ]);
                }
                let next_address = |input: &mut Block, address: &mut Block| {
                    input.as_mut()[6] += 1;
                    let mut once = Block::default();
                    // SAFETY: AVX2 is present (this function's promise); all are whole,
                    // distinct blocks on the stack.
                    unsafe {
                        compress(&zero, input, &mut once, false);
                        compress(&zero, &once, address, false);
                    }
                };
                let first = if pass == 0 && slice == 0 { 2 } else { 0 };
                if independent && first != 0 {
                    next_address(&mut input, &mut address);
                }
                let start = slice * segment;
                let mut prev = if start + first == 0 {
                    lane - 1
                } else {
                    start + first - 1
                };
                for index in first..segment {
                    let cur = start + index;
                    let rand = if independent {
                        if index % WORDS == 0 {
                            next_address(&mut input, &mut address);
                        }
                        address.as_ref()[index % WORDS]
                    } else {
                        // SAFETY: prev < lane = memory.len().
                        unsafe { (*base.add(prev)).as_ref()[0] }
                    };
                    let refi = reference_index(pass, slice, index, segment, lane, rand);
                    debug_assert!(refi < lane && refi != cur && prev < lane && cur < lane);
                    // SAFETY: prev, refi and cur are < lane = memory.len(), and cur differs
                    // from both inputs (the reference area never holds the block being made).
                    unsafe {
                        compress(base.add(prev), base.add(refi), base.add(cur), pass > 0);
                    }
                    prev = cur;
                }
            }
        }
    }
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

    fn ours(password: &[u8], salt: &[u8], t: u32, m: u32) -> [u8; TAG_LEN] {
        let mut memory = vec![Block::default(); block_count(m)];
        let mut out = [0u8; TAG_LEN];
        hash(password, salt, t, m, &mut out, &mut memory).unwrap();
        out
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
        let ours: String = ours(
            b"correct horse battery staple",
            b"0123456789abcdef",
            2,
            19_456,
        )
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
        assert_eq!(ours, EXPECTED);
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
            assert_eq!(
                ours(&pw, &salt, t, m),
                by_the_crate(&pw, &salt, t, m),
                "round {round}: pw {pw:?} salt {salt:?} t {t} m {m} (seed {seed:?})"
            );
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
