//! Embed every `iocs/*.csv` file of the repository root as the built-in indicator packs.

fn main() {
    exhunt_embed::embed(&exhunt_embed::Embed {
        folder: "iocs",
        extensions: &["csv"],
        static_name: "BUILTIN_PACKS",
        doc: "The built-in indicator packs: (file name, CSV text).",
        out_file: "builtin_packs.rs",
    });
}
