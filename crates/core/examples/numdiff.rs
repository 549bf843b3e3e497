//! The long run of `tests/num_differential.rs`: `num::parse` against `str::parse::<f64>` and
//! `num::write_js`/`write_js_text` against the zmij printer they replaced, on seeded random
//! doubles, literals (short, long, huge exponents), short decimals' neighbours and exact halfway
//! points. Panics on the first difference.
//!   cargo run --release -p querywire-core --example numdiff -- [rounds, default 1000000] [seed]
//! One round is one double, one random literal, one short decimal and the doubles on either side
//! of it; every 16th round a halfway point (4 literals of hundreds of digits), every 64th a
//! double's exact expansion (up to ~770 digits).
#[path = "../tests/num_support/mod.rs"]
mod num_support;
use num_support::*;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let mut r = Rng(seed);
    let mut c = Counts::default();
    let t = Instant::now();
    for text in EDGES {
        check_text(text, &mut c);
    }
    for i in 0..rounds {
        let x = random_double(&mut r);
        check_double(x, &mut c);
        if i % 64 == 0 {
            check_expansion(x, &mut c);
        }
        let text = random_literal(&mut r);
        check_text(&text, &mut c);
        let digits = r.range(1, 17);
        let m = r.below(10u64.pow(digits as u32));
        let text = format!("{m}e{}", r.range(-330, 310));
        check_text(&text, &mut c);
        let x: f64 = text.parse().unwrap();
        if x.is_finite() && x != 0.0 {
            for y in [f64::from_bits(x.to_bits() - 1), f64::from_bits(x.to_bits() + 1)] {
                check_double(y, &mut c);
            }
        }
        if i % 16 == 0 {
            for text in halfway_literals(random_double(&mut r)) {
                check_text(&text, &mut c);
            }
        }
        if (i + 1) % 1_000_000 == 0 {
            eprintln!("{} rounds, {:.0} s: {c:?}", i + 1, t.elapsed().as_secs_f64());
        }
    }
    println!("seed {seed}, {rounds} rounds, {:.1} s, no difference: {c:?}", t.elapsed().as_secs_f64());
}
