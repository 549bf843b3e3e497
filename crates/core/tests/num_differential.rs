//! `num.rs` (JSON number reading and `Number::toString`, without tables) against its oracles:
//! `str::parse::<f64>` and the zmij printer it replaced. Seeded; `NUM_CASES` scales the count
//! (`examples/numdiff.rs` runs tens of millions).
mod num_support;
use num_support::*;
use querywire_core::num;

fn cases(default: u64) -> u64 {
    std::env::var("NUM_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn edges_read_and_print_as_javascript() {
    let mut c = Counts::default();
    for text in EDGES {
        check_text(text, &mut c);
        let x: f64 = text.parse().unwrap();
        check_double(x, &mut c);
        check_expansion(x, &mut c);
    }
    let show = |raw: &str| {
        let mut s = String::new();
        num::write_js_text(&mut s, raw);
        s
    };
    // The layout thresholds and signs, from text (no double) and from doubles.
    for (raw, js) in [
        ("-0", "0"),
        ("-0.0e7", "0"),
        ("1e21", "1e+21"),
        ("999999999999999e6", "999999999999999000000"),
        ("1e20", "100000000000000000000"),
        ("1.5e20", "150000000000000000000"),
        ("1.2345e21", "1.2345e+21"),
        ("1e-6", "0.000001"),
        ("1e-7", "1e-7"),
        ("1.5e-7", "1.5e-7"),
        ("-2.5e30", "-2.5e+30"),
        ("0.1", "0.1"),
        ("10.50", "10.5"),
        ("007", "7"),
        ("-1e-400", "0"),
        ("1e400", "null"),
        ("5e-324", "5e-324"),
        ("2127068055017.90625", "2127068055017.9062"),
        ("0.30000000000000004", "0.30000000000000004"),
        ("123456789012345678", "123456789012345680"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
    ] {
        assert_eq!(show(raw), js, "{raw}");
    }
    assert_eq!(num::parse("-0").to_bits(), (-0.0f64).to_bits());
    assert_eq!(num::parse("-1e-400").to_bits(), (-0.0f64).to_bits());
    for bad in ["", "-", "+1", ".5", "1.", "1e", "1e+", "--1", "1x", "0x10", "inf", "NaN", "1.5.2", " 1"] {
        assert!(num::parse(bad).is_nan(), "{bad:?}");
    }
}

#[test]
fn random_doubles_print_and_read_back() {
    let mut r = Rng(0x5eed_0001);
    let mut c = Counts::default();
    for i in 0..cases(60_000) {
        let x = random_double(&mut r);
        check_double(x, &mut c);
        if i % 4 == 0 {
            check_expansion(x, &mut c);
        }
    }
    assert!(c.printed >= 60_000.min(cases(60_000)));
    eprintln!("doubles: {c:?}");
}

#[test]
fn random_literals_read_and_print() {
    let mut r = Rng(0x5eed_0002);
    let mut c = Counts::default();
    for _ in 0..cases(200_000) {
        let text = random_literal(&mut r);
        check_text(&text, &mut c);
    }
    eprintln!("literals: {c:?}");
}

#[test]
fn short_decimals_and_their_neighbours() {
    let mut r = Rng(0x5eed_0003);
    let mut c = Counts::default();
    for _ in 0..cases(40_000) {
        let digits = r.range(1, 17);
        let m = r.below(10u64.pow(digits as u32));
        let text = format!("{m}e{}", r.range(-330, 310));
        let x: f64 = text.parse().unwrap();
        check_text(&text, &mut c);
        if x.is_finite() && x != 0.0 {
            for y in [f64::from_bits(x.to_bits() - 1), x, f64::from_bits(x.to_bits() + 1)] {
                check_double(y, &mut c);
            }
        }
    }
    eprintln!("short: {c:?}");
}

#[test]
fn halfway_cases_and_long_mantissas() {
    let mut r = Rng(0x5eed_0004);
    let mut c = Counts::default();
    for _ in 0..cases(4_000) {
        for text in halfway_literals(random_double(&mut r)) {
            check_text(&text, &mut c);
        }
    }
    // A million digits (the parser keeps 800 and a sticky digit).
    let long = format!("1.{}1", "0".repeat(1_000_000));
    check_text(&long, &mut c);
    check_text(&format!("{}e-{}", "9".repeat(100_000), 100_000), &mut c);
    // Beyond ~650,000 digits `str::parse` saturates its exponent and reads this as infinity;
    // JSON.parse (node 22) reads 1, as num::parse does.
    assert_eq!(num::parse(&format!("{}e-1000000", "9".repeat(1_000_000))), 1.0);
    assert_eq!(num::parse(&format!("0.{}1e1000001", "0".repeat(1_000_000))), 1.0);
    eprintln!("halfway: {c:?}");
}
