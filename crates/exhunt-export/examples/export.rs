//! Run the exports on a scan folder and time them (the export benchmark):
//! `cargo run --release -p exhunt-export --example export -- DIR`; for peak memory run the
//! built binary under `/usr/bin/time -v`.

fn main() {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: export DIR");
        std::process::exit(2);
    };
    let start = std::time::Instant::now();
    match exhunt_export::write_all(std::path::Path::new(&dir)) {
        Ok(r) => {
            for p in &r.written {
                println!("wrote {}", p.display());
            }
            for w in &r.warnings {
                println!("warning: {w}");
            }
            println!("exported in {:.2} s", start.elapsed().as_secs_f64());
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
