//! Hand-built KeyDescription DER for the edge cases the real chains do not have.

use punch_attest::android::{TagValue, parse_key_description};

fn tlv(tag: &[u8], content: &[u8]) -> Vec<u8> {
    let mut v = tag.to_vec();
    let n = content.len();
    if n < 0x80 {
        v.push(n as u8);
    } else if n < 0x100 {
        v.extend_from_slice(&[0x81, n as u8]);
    } else {
        v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
    v.extend_from_slice(content);
    v
}

/// [n] EXPLICIT, context-specific constructed, high-tag-number form for n >= 31.
fn explicit(n: u32, inner: &[u8]) -> Vec<u8> {
    let tag = if n < 31 {
        vec![0xA0 | n as u8]
    } else {
        let mut t = vec![0xBF];
        let mut groups = vec![(n & 0x7f) as u8];
        let mut m = n >> 7;
        while m > 0 {
            groups.push(0x80 | (m & 0x7f) as u8);
            m >>= 7;
        }
        t.extend(groups.iter().rev());
        t
    };
    tlv(&tag, inner)
}

fn key_description(hw_entries: &[Vec<u8>]) -> Vec<u8> {
    let body = [
        tlv(&[0x02], &[3]),
        tlv(&[0x0a], &[1]),
        tlv(&[0x02], &[4]),
        tlv(&[0x0a], &[1]),
        tlv(&[0x04], b"challenge"),
        tlv(&[0x04], b""),
        tlv(&[0x30], b""),
        tlv(&[0x30], &hw_entries.concat()),
    ]
    .concat();
    tlv(&[0x30], &body)
}

fn root_of_trust(locked: &[u8]) -> Vec<u8> {
    explicit(
        704,
        &tlv(
            &[0x30],
            &[
                tlv(&[0x04], &[0; 32]),
                tlv(&[0x01], locked),
                tlv(&[0x0a], &[0]),
            ]
            .concat(),
        ),
    )
}

#[test]
fn a_well_formed_hand_built_description_parses() {
    let kd = parse_key_description(&key_description(&[
        explicit(1, &tlv(&[0x31], &tlv(&[0x02], &[2]))),
        root_of_trust(&[0xff]),
        explicit(799, &tlv(&[0x05], b"")),
    ]))
    .expect("parses");
    assert_eq!(kd.attestation_challenge, b"challenge");
    assert!(
        kd.hardware_enforced
            .root_of_trust()
            .expect("rot")
            .device_locked
    );
    // A tag this parser does not know is kept, not refused.
    assert!(matches!(
        kd.hardware_enforced.get(799),
        Some(TagValue::Unknown(_))
    ));
}

#[test]
fn an_empty_boolean_is_malformed_not_a_panic() {
    // asn1-rs 0.7.2's `bool::from_der` indexed the content before checking its length (this
    // parser used it until the schema became `der` derives); kept as a regression case.
    for locked in [&[][..], &[0x01], &[0x00, 0x00]] {
        let err = parse_key_description(&key_description(&[root_of_trust(locked)]))
            .expect_err("malformed");
        assert_eq!(err.code(), "malformed_extension");
        assert!(err.to_string().contains("BOOLEAN"), "{err}");
    }
}

#[test]
fn duplicate_or_descending_tags_are_malformed() {
    let purpose = explicit(1, &tlv(&[0x31], &tlv(&[0x02], &[2])));
    let algorithm = explicit(2, &tlv(&[0x02], &[3]));
    for entries in [
        vec![purpose.clone(), purpose.clone()],
        vec![algorithm.clone(), purpose.clone()],
    ] {
        let err = parse_key_description(&key_description(&entries)).expect_err("order");
        assert!(err.to_string().contains("ascending order"), "{err}");
    }
}

#[test]
fn wrong_shapes_are_malformed() {
    let cases = [
        // INTEGER where a SET OF INTEGER belongs.
        vec![explicit(1, &tlv(&[0x02], &[2]))],
        // Negative and non-minimal integers.
        vec![explicit(2, &tlv(&[0x02], &[0xff]))],
        vec![explicit(2, &tlv(&[0x02], &[0x00, 0x03]))],
        // Implicit instead of explicit tagging.
        vec![tlv(&[0x82], &[3])],
        // Two values in one explicit tag.
        vec![explicit(
            2,
            &[tlv(&[0x02], &[3]), tlv(&[0x02], &[3])].concat(),
        )],
        // NULL with content, text that is not UTF-8.
        vec![explicit(503, &tlv(&[0x05], &[0]))],
        vec![explicit(710, &tlv(&[0x04], &[0xff, 0xfe]))],
        // Unknown verified boot state.
        vec![explicit(
            704,
            &tlv(
                &[0x30],
                &[tlv(&[0x04], &[]), tlv(&[0x01], &[0]), tlv(&[0x0a], &[9])].concat(),
            ),
        )],
    ];
    for (i, entries) in cases.iter().enumerate() {
        let err = parse_key_description(&key_description(entries)).expect_err("malformed");
        assert_eq!(err.code(), "malformed_extension", "case {i}: {err}");
    }
    let mut trailing = key_description(&[]);
    trailing.push(0);
    assert!(parse_key_description(&trailing).is_err());
    assert!(parse_key_description(&[]).is_err());
}

#[test]
fn unsorted_or_repeated_set_members_are_still_accepted() {
    // DER wants SET OF members sorted; devices have not always sent them so, and the parser has
    // never refused them. They are read in DER order.
    let purposes = explicit(
        1,
        &tlv(
            &[0x31],
            &[tlv(&[0x02], &[3]), tlv(&[0x02], &[2]), tlv(&[0x02], &[2])].concat(),
        ),
    );
    let package = |name: &[u8]| tlv(&[0x30], &[tlv(&[0x04], name), tlv(&[0x02], &[1])].concat());
    let app_id = tlv(
        &[0x30],
        &[
            tlv(&[0x31], &[package(b"org.b"), package(b"org.a")].concat()),
            tlv(
                &[0x31],
                &[tlv(&[0x04], &[9; 32]), tlv(&[0x04], &[1; 32])].concat(),
            ),
        ]
        .concat(),
    );
    let kd = parse_key_description(&key_description(&[
        purposes,
        explicit(709, &tlv(&[0x04], &app_id)),
    ]))
    .expect("parses");
    assert_eq!(kd.hardware_enforced.purposes(), Some(&[2, 2, 3][..]));
    let app = kd
        .hardware_enforced
        .attestation_application_id()
        .expect("app id");
    let names: Vec<&str> = app.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["org.a", "org.b"]);
    assert_eq!(app.signature_digests, [vec![1; 32], vec![9; 32]]);
}
