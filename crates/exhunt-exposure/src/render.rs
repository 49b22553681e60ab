//! Terminal text for an assessment.

use std::fmt::Write;

use crate::{Assessment, Certainty, ConfigState};

/// Product, CU, update level, then the missing fixes (known-exploited first) and the settings
/// the build cannot show.
pub fn render_text(a: &Assessment) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Build:        {}", a.build);
    let _ = writeln!(
        s,
        "Product:      {}",
        a.product.as_deref().unwrap_or("unknown")
    );
    let cu = match (&a.cu, &a.nearest_cu) {
        (Some(cu), _) => format!(
            "{cu}{}",
            a.cu_release_date
                .map(|d| format!(" (released {d})"))
                .unwrap_or_default()
        ),
        (None, Some(n)) => format!("unknown (closest lower CU: {n})"),
        (None, None) => "unknown".into(),
    };
    let _ = writeln!(s, "CU:           {cu}");
    let _ = writeln!(
        s,
        "Update level: {}",
        a.update_level
            .as_deref()
            .unwrap_or("unknown (revision not known)")
    );
    let _ = writeln!(
        s,
        "In table:     {}",
        if a.known {
            "yes (exact build)"
        } else {
            "no — judged by number only, or not at all"
        }
    );
    for n in &a.notes {
        let _ = writeln!(s, "Note:         {n}");
    }
    if a.missing.is_empty() {
        let _ = writeln!(s, "\nMissing security fixes: none found by build number");
    } else {
        let ke = a.missing.iter().filter(|m| m.known_exploited).count();
        let _ = writeln!(
            s,
            "\nMissing security fixes: {} ({} known exploited)",
            a.missing.len(),
            ke
        );
        for m in &a.missing {
            let camp = if m.campaigns.is_empty() {
                "—".to_string()
            } else {
                m.campaigns.join("/")
            };
            let mut line = format!(
                "  {}{:<15} {:<22} fixed by {} released {}",
                if m.known_exploited {
                    "[KEV] "
                } else {
                    "      "
                },
                m.cve,
                camp,
                m.fixed_by,
                m.release_date
            );
            match m.certainty {
                Certainty::Certain => {}
                Certainty::RevisionUnknown => {
                    line.push_str(" (unless the update is installed: revision unknown)")
                }
                Certainty::NeedsKbEvidence => line.push_str(" (verify KB installed)"),
            }
            if let Some(mit) = &m.mitigated_by {
                let _ = write!(line, " — mitigated by {mit}");
            }
            let _ = writeln!(s, "{line}");
        }
    }
    if !a.needs_config.is_empty() {
        let _ = writeln!(s, "\nNeeds configuration evidence:");
        for d in &a.needs_config {
            let state = match d.state {
                ConfigState::NeedsConfigurationEvidence => "needs configuration evidence",
                ConfigState::Mitigated => "mitigated",
                ConfigState::NotMitigated => "not mitigated",
            };
            let _ = writeln!(
                s,
                "  {}{} [{}]: {} — {}",
                if d.known_exploited { "[KEV] " } else { "" },
                d.setting,
                d.cves.join(", "),
                state,
                d.detail
            );
        }
    }
    s
}
