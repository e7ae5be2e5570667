//! Messages people can read, across the boundary: every reason is a stable
//! code with named arguments (an app may show its own text for a code), and
//! the library's English and Simplified Chinese templates render it in the
//! locale the app passes (a BCP 47 tag; unknown ones fall back to English).

use punch_model::messages::{self, Locale};

/// One named value a message's template uses (a site, minutes, metres).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MessageArg {
    pub name: String,
    pub value: String,
}

/// One reason: its code, its arguments and its English text.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Message {
    pub code: String,
    pub args: Vec<MessageArg>,
    pub text: String,
}

impl From<messages::Message> for Message {
    fn from(m: messages::Message) -> Self {
        Message {
            code: m.code,
            args: m
                .args
                .into_iter()
                .map(|(name, value)| MessageArg { name, value })
                .collect(),
            text: m.text,
        }
    }
}

/// The text of `message` in `locale` (`zh-CN`, `zh-Hans`, `en-GB`...).
#[uniffi::export]
pub fn localized_text(message: Message, locale: String) -> String {
    let args: Vec<(String, String)> = message
        .args
        .into_iter()
        .map(|a| (a.name, a.value))
        .collect();
    messages::render(&message.code, &args, Locale::from_tag(&locale))
}
