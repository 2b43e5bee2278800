// The block function and the passes, included once per instruction set (lib.rs `avx2` and
// `avx512`): each module defines `simd_fn!` (its target features) and the rotations
// `rot24!`, `rot16!` and `rot63!` before including this file.

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
        $( $b = rot24!(_mm256_xor_si256($b, $c), $r24); )+
        $( $a = blamka!($a, $b); )+
        $( $d = rot16!(_mm256_xor_si256($d, $a), $r16); )+
        $( $c = blamka!($c, $d); )+
        $( $b = rot63!(_mm256_xor_si256($b, $c)); )+
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

simd_fn! {
    /// G(x, y) of RFC 9106 §3.5 into `dst`, XORed into what `dst` holds when `xor` (passes
    /// after the first, version 0x13).
    ///
    /// # Safety
    /// AVX2 must be present; the three pointers each address a whole block (`dst` may not be
    /// either input).
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
}

simd_fn! {
    /// Every pass over one lane (RFC 9106 §3.4), the first two blocks already in place.
    ///
    /// # Safety
    /// AVX2 must be present; `memory` is exactly the parameters' block count (≥ 8, a multiple
    /// of 4).
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
