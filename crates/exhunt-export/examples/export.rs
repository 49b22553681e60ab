//! Run the exports on a scan folder: `cargo run -p exhunt-export --example export -- DIR`.

fn main() {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: export DIR");
        std::process::exit(2);
    };
    match exhunt_export::write_all(std::path::Path::new(&dir)) {
        Ok(r) => {
            for p in &r.written {
                println!("wrote {}", p.display());
            }
            for w in &r.warnings {
                println!("warning: {w}");
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
