//! Embed every `yara/*.yar` file of the repository root as the built-in rule pack.

fn main() {
    exhunt_embed::embed(&exhunt_embed::Embed {
        folder: "yara",
        extensions: &["yar", "yara"],
        static_name: "BUILTIN_RULE_FILES",
        doc: "The built-in rule files: (file name, source).",
        out_file: "builtin_rules.rs",
    });
}
