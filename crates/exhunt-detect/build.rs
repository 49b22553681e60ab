//! Embeds the built-in Sigma rule pack (`rules/` at the workspace root) into the binary, so that
//! exhunt runs the same detections wherever it is copied.

fn main() {
    exhunt_embed::embed(&exhunt_embed::Embed {
        folder: "rules",
        extensions: &["yml", "yaml"],
        static_name: "BUILTIN_RULES",
        doc: "(path under rules/, YAML text) of every built-in rule file.",
        out_file: "builtin_rules.rs",
    });
}
