//! Text rendering of an attribution.

use std::fmt::Write;

use crate::score::{Attribution, EvidenceScore, HypothesisKind};

fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() && c != '\n' { '?' } else { c })
        .collect()
}

/// A probability as a percentage with `decimals` places that never reads 100 or 0 unless it is:
/// a posterior is never certainty, and rounding 0.9996 to "100.0%" would say it is.
pub fn percent(p: f64, decimals: usize) -> String {
    let scale = 10f64.powi(decimals as i32);
    let shown = (p * 100.0 * scale).round() / scale;
    let step = 1.0 / scale;
    if p < 1.0 && shown >= 100.0 {
        format!(">{:.*}%", decimals, 100.0 - step)
    } else if p > 0.0 && shown <= 0.0 {
        format!("<{:.*}%", decimals, step)
    } else {
        format!("{:.*}%", decimals, shown)
    }
}

/// Up to `max` evidence items of one side of a hypothesis, one line each, then how many more.
fn list_items(out: &mut String, sign: char, side: &str, items: &[EvidenceScore], max: usize) {
    for s in items.iter().take(max) {
        let reason = if s.reason.is_empty() {
            String::new()
        } else {
            format!(": {}", clean(&s.reason))
        };
        let _ = writeln!(
            out,
            "    {sign} {} {} (log LR {:+.2}){reason}",
            s.evidence,
            clean(&s.label),
            s.log_lr,
        );
    }
    if items.len() > max {
        let _ = writeln!(
            out,
            "    {sign} ... {} more {side} items",
            items.len() - max
        );
    }
}

/// The ranking with its reasons, for a terminal.
pub fn render_text(a: &Attribution) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "ATTRIBUTION");
    let _ = writeln!(out, "{}", clean(&a.headline));
    let _ = writeln!(
        out,
        "({} hypotheses considered; ATT&CK {}; likelihoods use the ICD 203 scale, confidence is separate)",
        a.hypotheses_considered,
        a.attack_version.as_deref().unwrap_or("?")
    );
    let _ = writeln!(out);
    for h in &a.hypotheses {
        let kind = match h.kind {
            HypothesisKind::AttackGroup => format!("ATT&CK {}", h.id),
            HypothesisKind::ReportedCluster => "reported cluster, not in ATT&CK".into(),
            HypothesisKind::UnknownActor => "residual hypothesis".into(),
            HypothesisKind::PostPatchOpportunist => "residual hypothesis".into(),
        };
        let _ = writeln!(
            out,
            "#{} {} [{}]: {}, {}; confidence {} ({})",
            h.rank,
            clean(&h.display_name),
            kind,
            h.likelihood_words,
            percent(h.posterior, 1),
            h.confidence.word(),
            clean(&h.confidence_basis)
        );
        list_items(&mut out, '+', "supporting", &h.supporting, 6);
        list_items(&mut out, '-', "contradicting", &h.contradicting, 4);
        if !h.non_diagnostic.is_empty() {
            let _ = writeln!(out, "    = non-diagnostic: {}", h.non_diagnostic.join(", "));
        }
        for s in &h.state_statements {
            let q = s
                .statement
                .quote
                .as_deref()
                .map(|q| format!("\"{q}\" "))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    quoted: {}{} — {}",
                clean(&q),
                clean(s.statement.quote_context.as_deref().unwrap_or("")),
                clean(&s.citation)
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "EVIDENCE");
    for e in &a.evidence {
        let _ = writeln!(
            out,
            "  {} [{:?}] {} (weight {:.2}, reliability {}, spoofability {}{}) findings: {}",
            e.id,
            e.kind,
            clean(&e.label),
            e.weight,
            e.reliability,
            e.spoofability,
            e.base_rate
                .as_deref()
                .map(|b| format!(", base rate {b}"))
                .unwrap_or_default(),
            e.finding_ids.join(", ")
        );
    }
    if !a.sensitivity.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "WHAT WOULD CHANGE THE RANKING");
        for s in &a.sensitivity {
            let _ = writeln!(out, "  {}", clean(s));
        }
    }
    if !a.context_statements.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "STATE-LEVEL STATEMENTS (quoted, not computed by exhunt)"
        );
        for s in &a.context_statements {
            let q = s
                .statement
                .quote
                .as_deref()
                .map(|q| format!("\"{q}\" "))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}: {}{} — {}",
                clean(&s.statement.subject),
                clean(&q),
                clean(s.statement.quote_context.as_deref().unwrap_or("")),
                clean(&s.citation)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::percent;

    #[test]
    fn percentages_never_round_to_certainty() {
        assert_eq!(percent(0.9996, 1), ">99.9%");
        assert_eq!(percent(0.99999999, 1), ">99.9%");
        assert_eq!(percent(0.996, 0), ">99%");
        assert_eq!(percent(0.0004, 1), "<0.1%");
        assert_eq!(percent(0.9994, 1), "99.9%");
        assert_eq!(percent(0.5, 1), "50.0%");
        assert_eq!(percent(0.123, 0), "12%");
        assert_eq!(percent(1.0, 1), "100.0%");
        assert_eq!(percent(0.0, 1), "0.0%");
    }
}
