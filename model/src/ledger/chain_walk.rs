//! One walk of a device's chain, for the three that walk it: the phone's
//! self-check, server ingest and the server's audit (`admin verify-chain`).
//!
//! The links come in sequence order: stored records (bytes, signature,
//! stored hash), records retention purged (their kept hash), refusals the
//! server's head moved past (their hash), and the employer's acknowledged
//! breaks, after which one record may link to the acknowledged head instead
//! of its predecessor. [`ChainCursor`] holds the link rules (which seq and
//! which hash come next, where an acknowledged break applies); [`ChainWalk`]
//! adds what is checked of stored bytes (hash, signature, key rotations,
//! copied columns) and reports every break.

pub use crate::ledger::chain::AppliedBreak;
use crate::ledger::chain::{
    ChainBreak, ChainProblem, ChainReport, CopiedColumns, check_continuity, verify_signature,
};
use crate::ledger::event::{ChainEntry, ChainEvent};
use crate::ledger::key_rotation::{KeyRole, signing_role};
use crate::ledger::record::GENESIS_HASH;
use crate::ledger::signing;

/// What the chain holds at one seq.
#[derive(Debug, Clone, Copy)]
pub enum LinkBody<'a> {
    /// A stored record: its signed bytes, signature, the hash stored beside
    /// them and the other values the store copied out of them.
    Stored {
        bytes: &'a [u8],
        signature: &'a [u8],
        hash: &'a [u8],
        copied: Option<CopiedColumns<'a>>,
    },
    /// A record retention purged: only its hash is kept (its bytes were
    /// checked when they were accepted), which the next record must name.
    Purged { hash: &'a [u8] },
    /// A record the server refused after verifying its signature and link
    /// (`RejectReason::is_link`): its head moved past it. Several at one seq
    /// are alternatives: the chain goes on from the one the next record names.
    Refused { hash: &'a [u8] },
}

/// One link of the chain, at `seq`.
#[derive(Debug, Clone, Copy)]
pub struct Link<'a> {
    pub seq: u64,
    pub body: LinkBody<'a>,
}

impl Link<'_> {
    /// Sort order at one seq: what the chain holds before refusals (which
    /// only count where nothing is held).
    fn rank(&self) -> u8 {
        match self.body {
            LinkBody::Stored { .. } | LinkBody::Purged { .. } => 0,
            LinkBody::Refused { .. } => 1,
        }
    }
}

/// The employer acknowledged that the chain broke after `anchor_seq`: one
/// record may then link to `anchor_hash` (the record at `anchor_seq`, or the
/// genesis hash at 0) instead of its predecessor, a new segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcknowledgedBreak {
    /// The acknowledgement's id (the server's; the phone's ack id).
    pub id: i64,
    pub anchor_seq: u64,
    /// Hex SHA-256.
    pub anchor_hash: String,
    /// Where the new segment starts, when known (the phone keeps it, on
    /// its own numbering). Unknown (the server): at the first link after
    /// the anchor, which jumps over the refused seqs.
    pub start_seq: Option<u64>,
}

/// What the next link must continue: its seq and the hash it must name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected<'a> {
    pub seq: u64,
    /// The hashes it may name (more than one only after refused
    /// alternatives at one seq).
    pub prev_hashes: &'a [String],
    /// The acknowledged break this link would start (index into the breaks).
    starts: Option<usize>,
}

impl Expected<'_> {
    /// The hash to name, of `named` if it is one of the allowed ones.
    pub fn prev_hash<'h>(&'h self, named: &str) -> &'h str {
        self.prev_hashes
            .iter()
            .find(|h| h.as_str() == named)
            .or(self.prev_hashes.first())
            .map_or(GENESIS_HASH, String::as_str)
    }

    /// Whether this link would start an acknowledged break's segment.
    pub fn starts_break(&self) -> bool {
        self.starts.is_some()
    }
}

#[derive(Debug, Clone)]
struct BreakState {
    ack: AcknowledgedBreak,
    /// The link at the anchor seq had the acknowledged hash.
    anchor_seen: bool,
    applied: bool,
}

/// The link rules: where the chain is, what comes next, and where an
/// acknowledged break lets a link start a new segment.
#[derive(Debug, Clone)]
pub struct ChainCursor {
    /// The last link's seq (0: nothing yet).
    seq: u64,
    /// Its hash (hex); several when refused alternatives share the seq.
    hashes: Vec<String>,
    /// Whether the last link was a refusal (a second one at its seq is an
    /// alternative).
    at_refusal: bool,
    breaks: Vec<BreakState>,
    applied: Vec<AppliedBreak>,
}

impl ChainCursor {
    /// At the chain's start.
    pub fn genesis(breaks: Vec<AcknowledgedBreak>) -> ChainCursor {
        ChainCursor::at(0, GENESIS_HASH, breaks)
    }

    /// At a head already walked (a server's accepted head): `breaks`
    /// anchored there apply to the next link.
    pub fn at(seq: u64, hash: &str, breaks: Vec<AcknowledgedBreak>) -> ChainCursor {
        let breaks = breaks
            .into_iter()
            .map(|ack| BreakState {
                anchor_seen: (ack.anchor_seq == seq && ack.anchor_hash == hash)
                    || (ack.anchor_seq == 0 && ack.anchor_hash == GENESIS_HASH),
                ack,
                applied: false,
            })
            .collect();
        ChainCursor {
            seq,
            hashes: vec![hash.to_string()],
            at_refusal: false,
            breaks,
            applied: Vec::new(),
        }
    }

    /// The last link's seq.
    pub fn head_seq(&self) -> u64 {
        self.seq
    }

    /// The last link's hash (the first alternative).
    pub fn head_hash(&self) -> &str {
        self.hashes.first().map_or(GENESIS_HASH, String::as_str)
    }

    /// What a link at `seq` must continue.
    pub fn expect(&self, seq: u64) -> Expected<'_> {
        let starts = self.breaks.iter().position(|b| {
            !b.applied
                && b.anchor_seen
                && match b.ack.start_seq {
                    Some(start) => start == seq,
                    // Right after the anchor, jumping over the refused seqs.
                    None => {
                        self.seq == b.ack.anchor_seq
                            && self.hashes.contains(&b.ack.anchor_hash)
                            && seq > b.ack.anchor_seq.saturating_add(1)
                    }
                }
        });
        match starts {
            Some(i) => Expected {
                // A known start is on the device's own numbering (no jump);
                // an unknown one jumps over the refused seqs.
                seq: match self.breaks[i].ack.start_seq {
                    Some(_) => self.seq.saturating_add(1),
                    None => seq,
                },
                prev_hashes: std::slice::from_ref(&self.breaks[i].ack.anchor_hash),
                starts,
            },
            None => Expected {
                seq: self.seq.saturating_add(1),
                prev_hashes: &self.hashes,
                starts: None,
            },
        }
    }

    /// The link at `seq` with `hash` (hex) is now the chain's head; the
    /// acknowledged break it started, if any.
    pub fn advance(&mut self, seq: u64, hash: &str) -> Option<AppliedBreak> {
        self.step(seq, hash, false)
    }

    fn step(&mut self, seq: u64, hash: &str, refusal: bool) -> Option<AppliedBreak> {
        let started = self.expect(seq).starts.map(|i| {
            let b = &mut self.breaks[i];
            b.applied = true;
            AppliedBreak {
                id: b.ack.id,
                anchor_seq: b.ack.anchor_seq,
                start_seq: seq,
            }
        });
        self.applied.extend(started.clone());
        for b in &mut self.breaks {
            if b.ack.anchor_seq == seq {
                b.anchor_seen = b.ack.anchor_hash == hash;
            }
        }
        self.seq = seq;
        self.hashes = vec![hash.to_string()];
        self.at_refusal = refusal;
        started
    }

    /// A refusal at the seq just walked, itself a refusal: the next link
    /// may name either.
    fn alternative(&mut self, hash: &str) {
        self.hashes.push(hash.to_string());
        for b in &mut self.breaks {
            if b.ack.anchor_seq == self.seq && b.ack.anchor_hash == hash {
                b.anchor_seen = true;
            }
        }
    }

    /// The breaks links started, in order.
    pub fn applied(&self) -> &[AppliedBreak] {
        &self.applied
    }
}

/// Walks a device's stored chain, collecting every break.
pub struct ChainWalk<'a> {
    /// The punch key in force: the enrolled one, then each rotation's.
    punch_key: Vec<u8>,
    /// Signs rotations; None on a device enrolled with one key (it is both).
    channel_key: Option<&'a [u8]>,
    enrolled_key: &'a [u8],
    device_id: &'a str,
    cursor: ChainCursor,
    report: ChainReport,
}

impl<'a> ChainWalk<'a> {
    /// `punch_key` is the punch key the device enrolled with.
    pub fn new(punch_key: &'a [u8], device_id: &'a str) -> Self {
        ChainWalk {
            punch_key: punch_key.to_vec(),
            channel_key: None,
            enrolled_key: punch_key,
            device_id,
            cursor: ChainCursor::genesis(Vec::new()),
            report: ChainReport {
                records: 0,
                head_seq: 0,
                breaks: Vec::new(),
                applied_breaks: Vec::new(),
            },
        }
    }

    /// The device's channel key: key rotations must verify with it. Without
    /// one, the enrolled punch key is taken as the channel key too (a device
    /// enrolled before the two keys).
    pub fn with_channel_key(mut self, channel_key: &'a [u8]) -> Self {
        self.channel_key = Some(channel_key);
        self
    }

    /// The employer's acknowledged breaks.
    pub fn with_breaks(mut self, breaks: Vec<AcknowledgedBreak>) -> Self {
        self.cursor = ChainCursor::genesis(breaks);
        self
    }

    fn add(&mut self, seq: u64, problem: ChainProblem) {
        self.report.breaks.push(ChainBreak { seq, problem });
    }

    /// Feeds the next link; links come in sequence order.
    pub fn next(&mut self, link: Link<'_>) {
        if let LinkBody::Refused { hash } = link.body
            && link.seq <= self.cursor.seq
        {
            // Another refusal at a refused seq is an alternative; one where
            // the chain holds a record is evidence of something else.
            if link.seq == self.cursor.seq && self.cursor.at_refusal {
                self.cursor.alternative(&hex::encode(hash));
            }
            return;
        }
        let expected = self.cursor.expect(link.seq);
        if link.seq != expected.seq {
            let expected = expected.seq;
            self.add(
                link.seq,
                ChainProblem::Gap {
                    expected,
                    found: link.seq,
                },
            );
        }
        let hash = match link.body {
            LinkBody::Stored {
                bytes,
                signature,
                hash,
                copied,
            } => {
                let problems = self.check_stored(link.seq, bytes, signature, hash, copied);
                for problem in problems {
                    self.add(link.seq, problem);
                }
                self.report.records += 1;
                hex::encode(signing::sha256(bytes))
            }
            LinkBody::Purged { hash } | LinkBody::Refused { hash } => hex::encode(hash),
        };
        let refusal = matches!(link.body, LinkBody::Refused { .. });
        self.cursor.step(link.seq, &hash, refusal);
        self.report.head_seq = link.seq;
    }

    /// What is wrong with a stored record at `seq` (its stored seq column).
    fn check_stored(
        &mut self,
        seq: u64,
        bytes: &[u8],
        signature: &[u8],
        stored_hash: &[u8],
        copied: Option<CopiedColumns<'_>>,
    ) -> Vec<ChainProblem> {
        let mut problems = Vec::new();
        if signing::sha256(bytes)[..] != *stored_hash {
            problems.push(ChainProblem::HashMismatch);
        }
        let key: &[u8] = match signing_role(bytes) {
            KeyRole::Punch => &self.punch_key,
            KeyRole::Channel => self.channel_key.unwrap_or(self.enrolled_key),
        };
        if let Err(problem) = verify_signature(key, self.device_id, bytes, signature) {
            problems.push(problem);
            return problems;
        }
        let record = match ChainEntry::from_bytes(bytes) {
            Ok(record) => record,
            Err(e) => {
                problems.push(ChainProblem::Unparseable {
                    detail: e.to_string(),
                });
                return problems;
            }
        };
        let expected = self.cursor.expect(seq);
        let prev = expected.prev_hash(record.prev_hash());
        match check_continuity(&record, self.device_id, seq, prev) {
            Ok(()) => {}
            // A gap in the stored column is reported by the caller.
            Err(ChainProblem::Gap { found, .. }) => problems.push(ChainProblem::SeqMismatch {
                stored: seq,
                inside: found,
            }),
            Err(p) => problems.push(p),
        }
        problems.extend(copied.map(|c| c.mismatches(&record)).unwrap_or_default());
        if let ChainEntry::Event(event) = &record
            && let ChainEvent::KeyRotation(rotation) = &event.event
        {
            self.punch_key = rotation.punch_key.clone();
        }
        problems
    }

    /// Ends the walk; `recorded_head` is the head seq kept beside the chain.
    pub fn finish(mut self, recorded_head: Option<u64>) -> ChainReport {
        if let Some(recorded) = recorded_head
            && recorded > self.report.head_seq
        {
            let found = self.report.head_seq;
            self.add(
                found.saturating_add(1),
                ChainProblem::MissingTail { recorded, found },
            );
        }
        self.report.applied_breaks = self.cursor.applied;
        self.report
    }
}

/// Walks `links` in sequence order (whatever order they come in: stored,
/// purged and refused links are merged by seq, never one kind first).
pub fn walk<'l>(
    mut walk: ChainWalk<'_>,
    links: impl IntoIterator<Item = Link<'l>>,
    recorded_head: Option<u64>,
) -> ChainReport {
    let mut links: Vec<Link<'l>> = links.into_iter().collect();
    links.sort_by_key(|l| (l.seq, l.rank()));
    for link in links {
        walk.next(link);
    }
    walk.finish(recorded_head)
}

#[cfg(test)]
mod tests {
    //! Generated chains mixing punches, events, purges (in any order of
    //! wall time), refusals the head moved past and acknowledged breaks,
    //! checked against a reference walk written apart from the one above.

    use super::*;
    use crate::ledger::event::{EntryTag, EventRecord};
    use crate::ledger::record::{PunchKind, PunchRecord, RECORD_FORMAT, RecordedEvidence};
    use crate::ledger::signing::{Signer, SoftwareSigner};
    use crate::rules::evaluate::{Decision, Evaluation};
    use crate::rules::makeup::MakeUpRequest;

    const DEVICE: &str = "dev-1";

    /// A small deterministic generator (no extra dependency for a model test).
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n.max(1)
        }
    }

    fn record_bytes(event: bool, seq: u64, prev_hash: &str, wall_time_ms: i64) -> Vec<u8> {
        let bytes = if event {
            EventRecord {
                format: RECORD_FORMAT,
                entry: EntryTag::Event,
                event_id: uuid::Uuid::new_v4(),
                device_id: DEVICE.into(),
                employee_id: "e1".into(),
                seq,
                wall_time_ms,
                utc_offset_min: 0,
                monotonic_ms: 0,
                boot_id: "boot".into(),
                anchor: None,
                policy_version: 1,
                event: ChainEvent::MakeUpRequest(MakeUpRequest {
                    kind: PunchKind::ClockIn,
                    intended_time_ms: wall_time_ms,
                    site_id: None,
                    reason: "forgot".into(),
                    attachments: Vec::new(),
                    refused_attempt: None,
                    fault: None,
                }),
                prev_hash: prev_hash.into(),
            }
            .to_bytes()
        } else {
            PunchRecord {
                format: RECORD_FORMAT,
                punch_id: uuid::Uuid::new_v4(),
                device_id: DEVICE.into(),
                employee_id: "e1".into(),
                seq,
                kind: PunchKind::ClockIn,
                wall_time_ms,
                utc_offset_min: 0,
                monotonic_ms: 0,
                boot_id: "boot".into(),
                anchor: None,
                policy_version: 1,
                evidence: RecordedEvidence::default(),
                evaluation: Evaluation {
                    decision: Decision::Accepted,
                    site_id: None,
                    policy_version: 1,
                    sites: Vec::new(),
                    flags: Vec::new(),
                    nearest_site: None,
                    reasons: Vec::new(),
                    attendance: None,
                },
                prev_hash: prev_hash.into(),
                notice: None,
                sealed: None,
                photo: None,
                biometric_verified: None,
            }
            .to_bytes()
        };
        bytes.expect("a record serialises")
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Fate {
        Stored,
        Purged,
        /// Refused after its link verified: the head moved past it.
        RefusedLink,
        /// Refused for its link (the break HR acknowledged): the server does
        /// not hold it, the phone does.
        RefusedBreak,
    }

    #[derive(Debug, Clone)]
    struct Row {
        seq: u64,
        bytes: Vec<u8>,
        signature: Vec<u8>,
        hash: Vec<u8>,
        prev_hash: String,
        fate: Fate,
    }

    struct Chain {
        key: Vec<u8>,
        rows: Vec<Row>,
        /// The server's view of each acknowledged break (start unknown).
        server_breaks: Vec<AcknowledgedBreak>,
        /// The phone's (start known: its own numbering).
        phone_breaks: Vec<AcknowledgedBreak>,
        /// Where each break's segment starts.
        starts: Vec<u64>,
    }

    /// A chain of `n` records: each a punch or an event, stored, purged (a
    /// wall clock that went back makes a later one purged before an earlier
    /// one) or refused as a link; now and then a run of records refused for
    /// their link, then HR's acknowledgement and a new segment.
    fn generate(seed: u64, n: u64) -> Chain {
        let mut rng = Rng(seed);
        let (signer, _) = SoftwareSigner::generate().expect("key");
        let key = signer.public_key_spki().expect("spki");
        let (mut rows, mut server_breaks, mut phone_breaks, mut starts) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut seq = 0;
        let mut prev = GENESIS_HASH.to_string();
        // The head the server accepted: what an acknowledgement anchors to.
        let (mut accepted_seq, mut accepted_hash) = (0, GENESIS_HASH.to_string());
        let mut pending_anchor: Option<(u64, String)> = None;
        // Records still to be refused in the current break (1-3 in a run).
        let mut break_left = 0;
        while seq < n {
            seq += 1;
            if break_left == 0 && pending_anchor.is_none() && rng.below(8) == 0 {
                break_left = 1 + rng.below(3);
            }
            let fate = if break_left > 0 {
                Fate::RefusedBreak
            } else {
                match rng.below(6) {
                    0 | 1 => Fate::Purged,
                    2 => Fate::RefusedLink,
                    _ => Fate::Stored,
                }
            };
            let mut link_to = prev.clone();
            if fate != Fate::RefusedBreak
                && let Some((anchor_seq, anchor_hash)) = pending_anchor.take()
            {
                // The new segment links to the acknowledged head.
                link_to = anchor_hash.clone();
                let id = i64::try_from(starts.len()).expect("few") + 1;
                server_breaks.push(AcknowledgedBreak {
                    id,
                    anchor_seq,
                    anchor_hash: anchor_hash.clone(),
                    start_seq: None,
                });
                phone_breaks.push(AcknowledgedBreak {
                    id,
                    anchor_seq,
                    anchor_hash,
                    start_seq: Some(seq),
                });
                starts.push(seq);
            }
            // Wall time now and then going back, so purges by time are not
            // purges by seq.
            let wall = 1_000_000 + i64::try_from(rng.below(1_000)).expect("small");
            let bytes = record_bytes(rng.below(2) == 0, seq, &link_to, wall);
            let signature = signer.sign(&bytes).expect("sign");
            let hash = signing::sha256(&bytes).to_vec();
            prev = hex::encode(&hash);
            if fate == Fate::RefusedBreak {
                break_left -= 1;
                if break_left == 0 {
                    // HR acknowledges the break at the head the server accepted.
                    pending_anchor = Some((accepted_seq, accepted_hash.clone()));
                }
            } else {
                (accepted_seq, accepted_hash) = (seq, prev.clone());
            }
            rows.push(Row {
                seq,
                bytes,
                signature,
                hash,
                prev_hash: link_to,
                fate,
            });
        }
        // A run of refused records at the end stays refused: not the server's.
        Chain {
            key,
            rows,
            server_breaks,
            phone_breaks,
            starts,
        }
    }

    /// The server's links: what it holds, kept hashes, refusals it moved past.
    fn server_links(rows: &[Row]) -> Vec<Link<'_>> {
        rows.iter()
            .filter_map(|r| {
                let body = match r.fate {
                    Fate::Stored => LinkBody::Stored {
                        bytes: &r.bytes,
                        signature: &r.signature,
                        hash: &r.hash,
                        copied: None,
                    },
                    Fate::Purged => LinkBody::Purged { hash: &r.hash },
                    Fate::RefusedLink => LinkBody::Refused { hash: &r.hash },
                    Fate::RefusedBreak => return None,
                };
                Some(Link { seq: r.seq, body })
            })
            .collect()
    }

    /// The phone's links: it holds its refused records too; purged ones in
    /// purge order (by wall time), as a store may list them.
    fn phone_links(rows: &[Row]) -> Vec<Link<'_>> {
        let mut purged: Vec<&Row> = rows.iter().filter(|r| r.fate == Fate::Purged).collect();
        purged.sort_by_key(|r| declared_wall_time(&r.bytes));
        let purged = purged.into_iter().map(|r| Link {
            seq: r.seq,
            body: LinkBody::Purged { hash: &r.hash },
        });
        let stored = rows
            .iter()
            .filter(|r| r.fate != Fate::Purged)
            .map(|r| Link {
                seq: r.seq,
                body: LinkBody::Stored {
                    bytes: &r.bytes,
                    signature: &r.signature,
                    hash: &r.hash,
                    copied: None,
                },
            });
        purged.chain(stored).collect()
    }

    fn declared_wall_time(bytes: &[u8]) -> i64 {
        ChainEntry::from_bytes(bytes).map_or(0, |e| e.wall_time_ms())
    }

    /// The reference: every record names the hash of the one before it in
    /// the view, except a segment start, which names its anchor; seqs run on
    /// by one except at a segment start in the server's view. Returns the
    /// seqs that break.
    fn reference(view: &[&Row], starts: &[(u64, String)], server: bool) -> Vec<u64> {
        let mut out = Vec::new();
        let (mut last_seq, mut last_hash) = (0, GENESIS_HASH.to_string());
        for row in view {
            let start = starts.iter().find(|(s, _)| *s == row.seq);
            let expected_seq = match start {
                Some(_) if server => row.seq,
                _ => last_seq + 1,
            };
            let expected_prev = start.map_or(last_hash.clone(), |(_, anchor)| anchor.clone());
            let checks_prev = !matches!(row.fate, Fate::Purged | Fate::RefusedLink) || !server;
            let checks_prev = checks_prev && row.fate != Fate::Purged;
            if row.seq != expected_seq || (checks_prev && row.prev_hash != expected_prev) {
                out.push(row.seq);
            }
            (last_seq, last_hash) = (row.seq, hex::encode(&row.hash));
        }
        out
    }

    fn walk_of<'k>(key: &'k [u8], breaks: &[AcknowledgedBreak]) -> ChainWalk<'k> {
        ChainWalk::new(key, DEVICE).with_breaks(breaks.to_vec())
    }

    fn break_seqs(report: &ChainReport) -> Vec<u64> {
        let mut seqs: Vec<u64> = report.breaks.iter().map(|b| b.seq).collect();
        seqs.dedup();
        seqs
    }

    #[test]
    fn generated_chains_walk_as_the_reference_says_on_both_sides() {
        for seed in 0..60 {
            let chain = generate(seed, 24);
            let starts: Vec<(u64, String)> = chain
                .starts
                .iter()
                .zip(&chain.server_breaks)
                .map(|(s, b)| (*s, b.anchor_hash.clone()))
                .collect();
            // Records after the last acknowledged break that are still
            // refused for their link are not part of either walk here.
            let tail_refused = chain
                .rows
                .iter()
                .rev()
                .take_while(|r| r.fate == Fate::RefusedBreak)
                .count();
            let rows = &chain.rows[..chain.rows.len() - tail_refused];

            let server_view: Vec<&Row> = rows
                .iter()
                .filter(|r| r.fate != Fate::RefusedBreak)
                .collect();
            let server = walk(
                walk_of(&chain.key, &chain.server_breaks),
                server_links(rows),
                server_view.last().map(|r| r.seq),
            );
            assert_eq!(
                break_seqs(&server),
                reference(&server_view, &starts, true),
                "seed {seed}: {server:?}"
            );
            assert!(server.is_intact(), "seed {seed}: {server:?}");
            let applied: Vec<u64> = server.applied_breaks.iter().map(|a| a.start_seq).collect();
            assert_eq!(applied, chain.starts, "seed {seed}");

            let phone_view: Vec<&Row> = rows.iter().collect();
            let phone = walk(
                walk_of(&chain.key, &chain.phone_breaks),
                phone_links(rows),
                rows.last().map(|r| r.seq),
            );
            assert_eq!(
                break_seqs(&phone),
                reference(&phone_view, &starts, false),
                "seed {seed}: {phone:?}"
            );
            assert!(phone.is_intact(), "seed {seed}: {phone:?}");
        }
    }

    #[test]
    fn a_record_removed_or_relinked_breaks_where_the_reference_says() {
        for seed in 100..140 {
            let chain = generate(seed, 16);
            let starts: Vec<(u64, String)> = chain
                .starts
                .iter()
                .zip(&chain.server_breaks)
                .map(|(s, b)| (*s, b.anchor_hash.clone()))
                .collect();
            let mut rows = chain.rows.clone();
            let mut rng = Rng(seed);
            let at = usize::try_from(rng.below(rows.len() as u64 - 1)).expect("small");
            if rng.below(2) == 0 {
                rows.remove(at);
            } else {
                // Rewritten to name another predecessor, rehashed, but not
                // re-signed (the attacker has no key).
                let row = &mut rows[at];
                row.prev_hash = "ab".repeat(32);
                row.bytes = record_bytes(false, row.seq, &row.prev_hash, 1);
                row.hash = signing::sha256(&row.bytes).to_vec();
                row.fate = Fate::Stored;
            }
            let view: Vec<&Row> = rows.iter().collect();
            let expected = reference(&view, &starts, false);
            let report = walk(
                walk_of(&chain.key, &chain.phone_breaks),
                phone_links(&rows),
                rows.last().map(|r| r.seq),
            );
            // Relinking without re-signing also breaks the signature there.
            assert_eq!(
                break_seqs(&report).first(),
                expected.first(),
                "seed {seed}: {report:?}"
            );
        }
    }

    /// Chains built by hand, each one of the field bugs.
    fn signed(
        signer: &SoftwareSigner,
        event: bool,
        seq: u64,
        prev: &str,
    ) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let bytes = record_bytes(event, seq, prev, 1_000);
        let signature = signer.sign(&bytes).expect("sign");
        let hash = signing::sha256(&bytes).to_vec();
        (bytes, signature, hash)
    }

    fn stored<'a>(seq: u64, r: &'a (Vec<u8>, Vec<u8>, Vec<u8>)) -> Link<'a> {
        Link {
            seq,
            body: LinkBody::Stored {
                bytes: &r.0,
                signature: &r.1,
                hash: &r.2,
                copied: None,
            },
        }
    }

    #[test]
    fn a_break_applies_when_the_first_link_after_it_is_an_event_or_a_refusal() {
        let (signer, _) = SoftwareSigner::generate().expect("key");
        let key = signer.public_key_spki().expect("spki");
        let one = signed(&signer, false, 1, GENESIS_HASH);
        let anchor = hex::encode(&one.2);
        let ack = AcknowledgedBreak {
            id: 7,
            anchor_seq: 1,
            anchor_hash: anchor.clone(),
            start_seq: None,
        };
        // An event starts the segment at 4 (2 and 3 refused, not held).
        let event = signed(&signer, true, 4, &anchor);
        let report = walk(
            walk_of(&key, std::slice::from_ref(&ack)),
            [stored(1, &one), stored(4, &event)],
            Some(4),
        );
        assert!(report.is_intact(), "{report:?}");
        assert_eq!(
            report.applied_breaks,
            [AppliedBreak {
                id: 7,
                anchor_seq: 1,
                start_seq: 4
            }]
        );
        // A refusal the head moved past starts it: the cursor says so.
        let mut cursor = ChainCursor::at(1, &anchor, vec![ack]);
        assert!(cursor.expect(4).starts_break());
        assert_eq!(cursor.expect(4).prev_hash(""), anchor);
        let applied = cursor.advance(4, &"cd".repeat(32));
        assert_eq!(applied.map(|a| a.start_seq), Some(4));
        assert!(!cursor.expect(6).starts_break(), "once only");
        assert_eq!(cursor.expect(6).seq, 5);
    }

    #[test]
    fn a_purged_anchor_still_anchors_the_new_segment_on_the_phone() {
        let (signer, _) = SoftwareSigner::generate().expect("key");
        let key = signer.public_key_spki().expect("spki");
        let one = signed(&signer, false, 1, GENESIS_HASH);
        let anchor = hex::encode(&one.2);
        let refused = signed(&signer, false, 2, &"ee".repeat(32));
        let start = signed(&signer, true, 3, &anchor);
        let ack = AcknowledgedBreak {
            id: 1,
            anchor_seq: 1,
            anchor_hash: anchor,
            start_seq: Some(3),
        };
        let report = walk(
            walk_of(&key, &[ack]),
            [
                Link {
                    seq: 1,
                    body: LinkBody::Purged { hash: &one.2 },
                },
                stored(2, &refused),
                stored(3, &start),
            ],
            Some(3),
        );
        // Record 2 is the broken one; 3 starts the segment, no false break.
        assert_eq!(break_seqs(&report), [2], "{report:?}");
        assert_eq!(report.applied_breaks.len(), 1);
    }

    #[test]
    fn purged_records_are_walked_in_sequence_order_not_first() {
        let (signer, _) = SoftwareSigner::generate().expect("key");
        let key = signer.public_key_spki().expect("spki");
        let one = signed(&signer, false, 1, GENESIS_HASH);
        let two = signed(&signer, true, 2, &hex::encode(&one.2));
        let three = signed(&signer, false, 3, &hex::encode(&two.2));
        // The clock went back: 2 was purged, 1 kept.
        let report = walk(
            walk_of(&key, &[]),
            [
                Link {
                    seq: 2,
                    body: LinkBody::Purged { hash: &two.2 },
                },
                stored(1, &one),
                stored(3, &three),
            ],
            Some(3),
        );
        assert!(report.is_intact(), "{report:?}");
    }

    #[test]
    fn refused_alternatives_at_one_seq_go_on_from_the_one_named() {
        let (signer, _) = SoftwareSigner::generate().expect("key");
        let key = signer.public_key_spki().expect("spki");
        let one = signed(&signer, false, 1, GENESIS_HASH);
        let refused = signed(&signer, false, 2, &hex::encode(&one.2));
        let other = [9u8; 32];
        let three = signed(&signer, false, 3, &hex::encode(&refused.2));
        let report = walk(
            walk_of(&key, &[]),
            [
                stored(1, &one),
                Link {
                    seq: 2,
                    body: LinkBody::Refused { hash: &other },
                },
                Link {
                    seq: 2,
                    body: LinkBody::Refused { hash: &refused.2 },
                },
                // A refusal at a seq the chain holds is evidence, not a link.
                Link {
                    seq: 1,
                    body: LinkBody::Refused { hash: &other },
                },
                stored(3, &three),
            ],
            Some(3),
        );
        assert!(report.is_intact(), "{report:?}");
        assert_eq!(report.records, 2);
    }
}
