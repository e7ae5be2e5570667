//! The sites' accepted terminals (`rules::terminal`) applied to a verdict:
//! after [`evaluate`](crate::rules::evaluate::evaluate), by the phone, the
//! server's ingest and the browser punch alike.

use crate::rules::assurance::AssuranceLevel;
use crate::rules::evaluate::{self, Evaluation, Flag, FlagKind};
use crate::rules::policy::{Action, PreparedPolicy};
use crate::rules::terminal::{Terminal, TerminalRefusal};

/// Why the site `site_id` refused a punch from `terminal`, by its policy.
pub fn refusal(
    policy: &PreparedPolicy,
    site_id: &str,
    terminal: Terminal,
    assurance: Option<AssuranceLevel>,
) -> Option<TerminalRefusal> {
    let site = policy.sites().find(|s| s.site.id == site_id)?;
    site.site.terminals.admit(terminal, assurance).err()
}

/// `evaluation` with every site that does not take this terminal's punches
/// no longer passing; when that leaves no site, the punch is refused with a
/// `terminal_refused` flag saying why (a site that still passes keeps the
/// punch, the flag then only informs).
pub fn restrict(
    policy: &PreparedPolicy,
    mut evaluation: Evaluation,
    terminal: Terminal,
    assurance: Option<AssuranceLevel>,
) -> Evaluation {
    let mut refused = Vec::new();
    for site in evaluation.sites.iter_mut().filter(|s| s.passed) {
        if let Some(why) = refusal(policy, &site.site_id, terminal, assurance) {
            site.passed = false;
            site.review = false;
            refused.push(format!("{}: {why}", site.site_id));
        }
    }
    if refused.is_empty() {
        return evaluation;
    }
    let still_passes = evaluation.sites.iter().any(|s| s.passed);
    let mut flags = evaluation.flags;
    flags.push(Flag {
        kind: FlagKind::TerminalRefused,
        action: if still_passes {
            Action::Accept
        } else {
            Action::Reject
        },
        detail: refused.join("; "),
    });
    let attendance = evaluation.attendance;
    let mut judged = evaluate::decide(policy, evaluation.sites, flags, evaluation.nearest_site);
    judged.attendance = attendance;
    judged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::evaluate::{Decision, evaluate};
    use crate::rules::evidence::Evidence;
    use crate::rules::policy::Policy;
    use crate::rules::terminal::Terminal;

    fn policy(terminals: serde_json::Value) -> PreparedPolicy {
        let json = serde_json::json!({
            "version": 3,
            "sites": [
                {"id": "office", "shape": {"type": "circle", "center": {"lat": 52.52, "lon": 13.405}, "radius_m": 100.0},
                 "cidrs": ["203.0.113.0/24"], "terminals": terminals},
                {"id": "annex", "shape": {"type": "circle", "center": {"lat": 48.0, "lon": 11.0}, "radius_m": 100.0},
                 "cidrs": ["198.51.100.0/24"]}
            ]
        });
        PreparedPolicy::new(Policy::from_json(json.to_string().as_bytes()).unwrap()).unwrap()
    }

    fn from(ip: &str) -> crate::rules::evidence::ValidEvidence {
        Evidence {
            ip_addresses: vec![ip.into()],
            ..Evidence::default()
        }
        .validate()
        .unwrap()
    }

    fn judged(p: &PreparedPolicy, ip: &str, t: Terminal, a: Option<AssuranceLevel>) -> Evaluation {
        restrict(p, evaluate(p, &from(ip), 0, None), t, a)
    }

    #[test]
    fn no_list_accepts_every_terminal_as_before() {
        let p = policy(serde_json::json!([]));
        for t in [Terminal::Phone, Terminal::Kiosk, Terminal::Browser] {
            let e = judged(&p, "203.0.113.9", t, Some(AssuranceLevel::Software));
            assert_eq!(e.decision, Decision::Accepted, "{t}");
            assert!(e.flags.is_empty());
        }
    }

    #[test]
    fn a_site_refuses_terminals_it_does_not_list_and_weak_keys() {
        let p = policy(serde_json::json!([
            {"terminal": "phone"},
            {"terminal": "browser", "min_assurance": "attested_app"}
        ]));
        let phone = judged(&p, "203.0.113.9", Terminal::Phone, None);
        assert_eq!(phone.decision, Decision::Accepted);
        let kiosk = judged(&p, "203.0.113.9", Terminal::Kiosk, None);
        assert_eq!(kiosk.decision, Decision::Rejected);
        assert_eq!(kiosk.site_id, None);
        assert!(
            kiosk
                .reasons
                .iter()
                .any(|r| r.contains("does not accept kiosk")),
            "{:?}",
            kiosk.reasons
        );
        let browser = judged(
            &p,
            "203.0.113.9",
            Terminal::Browser,
            Some(AssuranceLevel::Software),
        );
        assert_eq!(browser.decision, Decision::Rejected);
        assert_eq!(browser.flags[0].kind, FlagKind::TerminalRefused);
        // Unknown level (the phone judging itself): the server checks it.
        let unknown = judged(&p, "203.0.113.9", Terminal::Browser, None);
        assert_eq!(unknown.decision, Decision::Accepted);
        // Another site, which takes every terminal, is not affected.
        let annex = judged(&p, "198.51.100.7", Terminal::Kiosk, None);
        assert_eq!(annex.decision, Decision::Accepted);
        assert_eq!(annex.site_id.as_deref(), Some("annex"));
    }

    #[test]
    fn spelled_as_the_policy_document_spells_it() {
        let p = policy(serde_json::json!([{"terminal": "kiosk"}]));
        let site = &p.policy.sites[0];
        assert_eq!(
            serde_json::to_value(&site.terminals).unwrap(),
            serde_json::json!([{"terminal": "kiosk", "min_assurance": null}])
        );
        // A site without the field writes none (old readers see the same JSON).
        let annex = serde_json::to_value(&p.policy.sites[1]).unwrap();
        assert!(annex.get("terminals").is_none(), "{annex}");
    }
}
