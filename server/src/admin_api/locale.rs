//! The reader's language for the texts the admin API renders (review flag
//! messages): the most preferred `Accept-Language` tag that has a
//! catalogue, English when none has or the header is absent or garbled.

use axum::http::HeaderMap;
use axum::http::header::ACCEPT_LANGUAGE;
use punch_model::messages::Locale;

/// The locale `headers` ask for (see the module doc).
pub fn from_headers(headers: &HeaderMap) -> Locale {
    headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Locale::English, from_accept_language)
}

/// `zh-CN,zh;q=0.9,en;q=0.8` → Simplified Chinese; tags by falling `q`
/// (ties keep their order, as `accept-language` sorts), `q=0` (or a `q`
/// that is no number) means "not this one".
pub fn from_accept_language(value: &str) -> Locale {
    let tags = accept_language::parse_with_quality(value)
        .into_iter()
        .filter(|(_, q)| *q > 0.0 && q.is_finite());
    for (tag, _) in tags {
        let tag = tag.as_str();
        // Locale::from_tag maps every tag without a catalogue to English,
        // so English is only taken when it is asked for (or `*`).
        let lower = tag.to_ascii_lowercase();
        if Locale::from_tag(tag) == Locale::SimplifiedChinese {
            return Locale::SimplifiedChinese;
        }
        if lower == "*" || lower == "en" || lower.starts_with("en-") {
            return Locale::English;
        }
    }
    Locale::English
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preferred_language_with_a_catalogue_wins() {
        for (header, want) in [
            ("zh-CN,zh;q=0.9,en;q=0.8", Locale::SimplifiedChinese),
            ("en-GB,zh-CN;q=0.5", Locale::English),
            ("fr-FR, zh-Hans;q=0.7, en;q=0.3", Locale::SimplifiedChinese),
            ("en;q=0.2, zh;q=0.9", Locale::SimplifiedChinese),
            ("zh-TW, en;q=0.5", Locale::English),
            ("zh;q=0, en", Locale::English),
            ("zh;q=abc", Locale::English),
            ("", Locale::English),
            (";;,,", Locale::English),
            ("de", Locale::English),
        ] {
            assert_eq!(from_accept_language(header), want, "{header:?}");
        }
    }
}
