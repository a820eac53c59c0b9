//! The fake Biolovision site of the visionature tests as a standalone server, for
//! `scripts/bench-visionature.sh` (both clients read the same generated site).
//! Usage: `fake_biolovision [N_SIGHTINGS] [DAYS] [PAGE_SIZE]`; prints `port=<p>` then serves
//! until killed. Credentials: see `tests/visionature_fake/mod.rs` (`State0::generate`).

#[path = "../tests/visionature_fake/mod.rs"]
mod fake;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: u64| args.get(i).and_then(|v| v.parse().ok()).unwrap_or(d);
    let gen = fake::Gen {
        n: arg(0, 1_000_000) as u32,
        days: arg(1, 400) as i64,
        ..fake::Gen::default()
    };
    let mut state = fake::State0::generate(&gen);
    state.page_size = arg(2, 1000) as usize;
    state.record = false;
    let f = fake::Fake::start(state, 0, 2);
    println!("port={}", f.port);
    use std::io::Write;
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
