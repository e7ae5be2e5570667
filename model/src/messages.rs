//! Messages people can read: every reason the library gives has a stable
//! machine code and a template in English and Simplified Chinese (the first
//! users are Chinese companies), chosen by the locale the app passes. An app
//! may show its own text for a code instead; codes never change, texts may.

use serde::{Deserialize, Serialize};

use crate::ledger::review::ReviewFlag;
use crate::rules::evaluate::{Decision, Evaluation, FlagKind};
use crate::rules::field_work::FieldWorkError;
use crate::rules::forgotten::ForgottenClockOut;
use crate::rules::makeup::{MakeUpRefusal, RequestStatus};
use crate::rules::photo::PhotoReason;
use crate::rules::shift::Attendance;
use crate::text::serde_name;

/// The languages with a catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    English,
    SimplifiedChinese,
}

impl Locale {
    /// A BCP 47 tag as platforms report it (`en-GB`, `zh-Hans-CN`, `zh_CN`);
    /// anything without a catalogue falls back to English.
    pub fn from_tag(tag: &str) -> Locale {
        let tag = tag.trim().to_ascii_lowercase().replace('_', "-");
        let traditional = ["zh-hant", "zh-tw", "zh-hk", "zh-mo"];
        if tag.starts_with("zh") && !traditional.iter().any(|t| tag.starts_with(t)) {
            Locale::SimplifiedChinese
        } else {
            Locale::English
        }
    }
}

/// One reason, with its code, its arguments and the text in a locale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub code: String,
    /// Named values the template uses (site ids, minutes, metres).
    pub args: Vec<(String, String)>,
    pub text: String,
}

/// (code, English, Simplified Chinese); `{name}` is an argument.
const CATALOGUE: &[(&str, &str, &str)] = &[
    (
        "accepted",
        "Punch accepted at {site}.",
        "已在{site}打卡成功。",
    ),
    (
        "review",
        "Punch recorded at {site}; a manager will review it.",
        "已在{site}记录打卡，需主管审核。",
    ),
    (
        "outside_all_sites",
        "You are not at any of your sites.",
        "您不在任何考勤地点范围内。",
    ),
    (
        "nearest_site",
        "The nearest site is {site}, {distance_m} m from its fence.",
        "最近的考勤地点是{site}，距离围栏{distance_m}米。",
    ),
    (
        "mock_location",
        "The location was reported as simulated.",
        "定位被识别为模拟位置。",
    ),
    (
        "impossible_travel",
        "The distance from your last punch is impossible in the time since.",
        "与上次打卡相比，移动速度不可能达到。",
    ),
    (
        "stale_fix",
        "The location fix is too old.",
        "定位信息已过期。",
    ),
    (
        "fix_time_skew",
        "The location fix time does not match the punch time.",
        "定位时间与打卡时间不符。",
    ),
    (
        "accuracy_too_low",
        "The location is not accurate enough.",
        "定位精度不足。",
    ),
    (
        "null_island",
        "The location (0, 0) is not a real position.",
        "定位(0, 0)不是有效位置。",
    ),
    (
        "wifi_placeholder",
        "Wi-Fi details are hidden: grant the location permission.",
        "无法读取Wi-Fi信息：请授予定位权限。",
    ),
    (
        "reduced_accuracy",
        "Only approximate location was available: allow precise location.",
        "仅有大致位置：请允许使用精确位置。",
    ),
    (
        "external_receiver",
        "The location came from an external receiver.",
        "位置来自外接定位设备。",
    ),
    (
        "terminal_refused",
        "This site does not accept punches from this terminal (or its key is not proven enough).",
        "该考勤地点不接受此终端的打卡（或其密钥的可信级别不足）。",
    ),
    (
        "terminal_not_accepted",
        "Site {site} does not accept {terminal} punches from this key.",
        "考勤地点{site}不接受此密钥的{terminal}打卡。",
    ),
    ("on_time", "On time for shift {shift}.", "班次{shift}准时。"),
    (
        "late",
        "Late by {minutes} minutes for shift {shift}.",
        "班次{shift}迟到{minutes}分钟。",
    ),
    (
        "early_leave",
        "Leaving {minutes} minutes early from shift {shift}.",
        "班次{shift}早退{minutes}分钟。",
    ),
    (
        "outside_window",
        "Outside the punch window of shift {shift}.",
        "不在班次{shift}的打卡时间范围内。",
    ),
    ("no_shift", "No shift today.", "今天没有排班。"),
    (
        "already_clocked_in",
        "Already clocked in for shift {shift}.",
        "班次{shift}已经上班打卡。",
    ),
    (
        "not_clocked_in",
        "Not clocked in for shift {shift}.",
        "班次{shift}尚未上班打卡。",
    ),
    (
        "evaluation_mismatch",
        "The evidence does not support the verdict the device recorded: the phone said {device} (site {device_site}), the evidence reads {evidence} (site {evidence_site}).",
        "证据不支持设备记录的判定结果：手机判定为{device}（地点{device_site}），证据判定为{evidence}（地点{evidence_site}）。",
    ),
    (
        "policy_version_mismatch",
        "Judged by policy version {evaluated}, but the record names version {named}.",
        "判定所用的规则版本（{evaluated}）与记录所写的版本（{named}）不符。",
    ),
    (
        "policy_expired",
        "The rules had expired when the punch was taken.",
        "打卡时考勤规则已过期。",
    ),
    (
        "payload_unreadable",
        "The punch's sealed evidence could not be read (data key {key_id} was never escrowed).",
        "无法读取该打卡的加密证据（数据密钥 {key_id} 未托管到服务器）。",
    ),
    (
        "assurance_below_minimum",
        "This phone's key is less protected ({device}) than required ({required}).",
        "此手机密钥的保护级别（{device}）低于要求（{required}）。",
    ),
    (
        "photo_missing",
        "The policy required a photo for this punch ({reasons}) and none was taken.",
        "按规定此次打卡需要拍照（{reasons}），但未拍照。",
    ),
    (
        "photo_required",
        "A photo is required for this punch ({reasons}): take one and punch again.",
        "此次打卡需要拍照（{reasons}）：请拍照后重新打卡。",
    ),
    (
        "attendance_mismatch",
        "The server reads the shift otherwise ({server}) than the phone ({device}).",
        "服务器对班次的判定（{server}）与手机（{device}）不同。",
    ),
    (
        "make_up_too_far_back",
        "A make-up request may reach {max} days back; this one reaches {days}.",
        "补卡申请最多可追溯{max}天，本次为{days}天。",
    ),
    (
        "make_up_in_future",
        "A make-up request cannot be for a time in the future.",
        "补卡时间不能晚于当前时间。",
    ),
    (
        "make_up_monthly_limit",
        "You have already filed {used} make-up requests for {month}; the limit is {max}.",
        "{month}已提交{used}次补卡申请，每月上限为{max}次。",
    ),
    (
        "make_up_too_many_attachments",
        "{count} attachments; at most {max} are allowed.",
        "附件{count}个，最多允许{max}个。",
    ),
    (
        "make_up_attachment_too_large",
        "An attachment of {size_bytes} bytes is over the limit of {max} bytes.",
        "附件大小{size_bytes}字节，超过{max}字节的上限。",
    ),
    (
        "make_up_no_reason",
        "Please give a reason for the make-up request.",
        "请填写补卡原因。",
    ),
    (
        "field_work_radius",
        "The field-work area must be 50 to 5000 m across.",
        "外勤范围半径须在50至5000米之间。",
    ),
    (
        "field_work_center",
        "The field-work location is not a valid position.",
        "外勤地点不是有效位置。",
    ),
    (
        "field_work_dates",
        "The field-work dates are not a valid range (at most 92 days).",
        "外勤日期范围无效（最多92天）。",
    ),
    (
        "field_work_no_reason",
        "Please give a reason for the field work.",
        "请填写外勤原因。",
    ),
    (
        "field_work_too_long",
        "The address or reason is too long.",
        "地址或原因过长。",
    ),
    (
        "request_pending",
        "Your request is waiting for a manager.",
        "您的申请正在等待主管审批。",
    ),
    (
        "request_approved",
        "Your request was approved.",
        "您的申请已通过。",
    ),
    (
        "request_denied",
        "Your request was denied: {comment}",
        "您的申请被驳回：{comment}",
    ),
    (
        "request_refused",
        "Your request breaks the employer's rules ({detail}).",
        "您的申请不符合公司规定（{detail}）。",
    ),
    (
        "forgotten_clock_out",
        "You did not clock out of shift {shift} ending {end}: file a make-up request with the time you left.",
        "班次{shift}（{end}结束）未打下班卡：请提交补卡申请，填写实际离开时间。",
    ),
    (
        "forgotten_clock_out_closed",
        "You did not clock out of shift {shift}: the server closed it at its end, {end}. If you left at another time, file a make-up request.",
        "班次{shift}未打下班卡：系统已按班次结束时间{end}自动签退。如实际离开时间不同，请提交补卡申请。",
    ),
    (
        "forgotten_clock_out_superseded",
        "Your clock-out for shift {shift} ending {end} arrived and counts.",
        "班次{shift}（{end}结束）的下班卡已上传并生效。",
    ),
    // Fault reports (`ledger::fault`): each kind, then each refusal.
    (
        "fault_location_unavailable",
        "No location was available.",
        "无法获取定位。",
    ),
    (
        "fault_location_denied",
        "The app may not read the location.",
        "应用没有定位权限。",
    ),
    ("fault_wifi_off", "Wi-Fi was off.", "Wi-Fi未开启。"),
    (
        "fault_clock_moved",
        "The phone's clock was moved.",
        "手机时间被修改。",
    ),
    (
        "fault_upload_failing",
        "Uploads have been failing.",
        "上传持续失败。",
    ),
    (
        "fault_storage_full",
        "The phone's storage is full.",
        "手机存储空间已满。",
    ),
    (
        "fault_key_invalidated",
        "The phone's punch key was invalidated.",
        "手机的打卡密钥已失效。",
    ),
    (
        "fault_attestation_refused",
        "The server refused the phone's key attestation.",
        "服务器拒绝了手机的密钥证明。",
    ),
    ("fault_other", "Another fault.", "其他故障。"),
    (
        "fault_silent",
        "The terminal has not been heard from for {hours} hours.",
        "该终端已{hours}小时未联系服务器。",
    ),
    (
        "fault_unknown_kind",
        "Unknown fault kind: {kind}.",
        "未知的故障类型：{kind}。",
    ),
    (
        "fault_text_too_long",
        "The description is too long ({chars} characters; at most {max}).",
        "描述过长（{chars}个字符，最多{max}个）。",
    ),
    (
        "fault_control_characters",
        "The description holds characters that cannot be shown.",
        "描述中含有无法显示的字符。",
    ),
    ("fault_no_text", "Describe the fault.", "请描述故障。"),
    (
        "fault_too_many_attachments",
        "{count} files; at most {max}.",
        "{count}个文件，最多{max}个。",
    ),
    (
        "fault_bad_attachment",
        "A file is not named properly.",
        "文件信息无效。",
    ),
    (
        "fault_cited_not_found",
        "The cited fault report does not exist.",
        "引用的故障报告不存在。",
    ),
    (
        "fault_cited_not_yours",
        "The cited fault report is another employee's.",
        "引用的故障报告属于其他员工。",
    ),
];

/// The text of `code` in `locale` with `args` filled in; an unknown code
/// reads as itself (never a panic, never an empty string).
pub fn render(code: &str, args: &[(String, String)], locale: Locale) -> String {
    let Some((_, en, zh)) = CATALOGUE.iter().find(|(c, _, _)| *c == code) else {
        return code.to_string();
    };
    let mut text = match locale {
        Locale::English => en,
        Locale::SimplifiedChinese => zh,
    }
    .to_string();
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

fn message(code: &str, args: Vec<(&str, String)>, locale: Locale) -> Message {
    let args: Vec<(String, String)> = args.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    Message {
        code: code.to_string(),
        text: render(code, &args, locale),
        args,
    }
}

fn flag_code(kind: FlagKind) -> &'static str {
    match kind {
        FlagKind::MockLocation => "mock_location",
        FlagKind::ImpossibleTravel => "impossible_travel",
        FlagKind::StaleFix => "stale_fix",
        FlagKind::FixTimeSkew => "fix_time_skew",
        FlagKind::AccuracyTooLow => "accuracy_too_low",
        FlagKind::NullIsland => "null_island",
        FlagKind::WifiPlaceholder => "wifi_placeholder",
        FlagKind::ReducedAccuracy => "reduced_accuracy",
        FlagKind::ExternalReceiver => "external_receiver",
        FlagKind::TerminalRefused => "terminal_refused",
    }
}

/// What an evaluation says, most important first, in `locale`.
pub fn evaluation_messages(e: &Evaluation, locale: Locale) -> Vec<Message> {
    let mut out = Vec::new();
    let site = || e.site_id.clone().unwrap_or_default();
    match e.decision {
        Decision::Accepted => out.push(message("accepted", vec![("site", site())], locale)),
        Decision::Review if e.site_id.is_some() => {
            out.push(message("review", vec![("site", site())], locale))
        }
        _ => {
            out.push(message("outside_all_sites", vec![], locale));
            if let Some(n) = &e.nearest_site {
                out.push(message(
                    "nearest_site",
                    vec![
                        ("site", n.site_id.clone()),
                        ("distance_m", format!("{:.0}", n.distance_m)),
                    ],
                    locale,
                ));
            }
        }
    }
    for f in &e.flags {
        out.push(message(flag_code(f.kind), vec![], locale));
    }
    if let Some(a) = &e.attendance {
        out.push(attendance_message(a, locale));
    }
    out
}

/// An attendance verdict in `locale`.
pub fn attendance_message(a: &Attendance, locale: Locale) -> Message {
    let args = match a {
        Attendance::Late {
            shift_id, minutes, ..
        }
        | Attendance::EarlyLeave {
            shift_id, minutes, ..
        } => vec![
            ("shift", shift_id.clone()),
            ("minutes", minutes.to_string()),
        ],
        Attendance::OnTime { shift_id, .. }
        | Attendance::OutsideWindow { shift_id }
        | Attendance::AlreadyClockedIn { shift_id, .. }
        | Attendance::NotClockedIn { shift_id, .. } => vec![("shift", shift_id.clone())],
        Attendance::NoShift => vec![],
    };
    message(a.code(), args, locale)
}

/// Why a make-up request was refused, in `locale`.
pub fn make_up_message(refusal: &MakeUpRefusal, locale: Locale) -> Message {
    let args = match refusal {
        MakeUpRefusal::TooFarBack { days, max } => {
            vec![("days", days.to_string()), ("max", max.to_string())]
        }
        MakeUpRefusal::MonthlyLimit { month, used, max } => vec![
            ("month", month.clone()),
            ("used", used.to_string()),
            ("max", max.to_string()),
        ],
        MakeUpRefusal::TooManyAttachments { count, max } => {
            vec![("count", count.to_string()), ("max", max.to_string())]
        }
        MakeUpRefusal::AttachmentTooLarge { size_bytes, max } => vec![
            ("size_bytes", size_bytes.to_string()),
            ("max", max.to_string()),
        ],
        _ => vec![],
    };
    message(refusal.code(), args, locale)
}

/// What a fault kind means, in `locale`.
pub fn fault_message(kind: crate::ledger::fault::FaultKind, locale: Locale) -> Message {
    message(&kind.code(), vec![], locale)
}

/// Why a fault report (or a citation of one) is refused, in `locale`.
pub fn fault_refusal_message(
    refusal: &crate::ledger::fault::FaultRefusal,
    locale: Locale,
) -> Message {
    use crate::ledger::fault::FaultRefusal as R;
    let args = match refusal {
        R::UnknownKind { kind } => vec![("kind", kind.clone())],
        R::TextTooLong { chars, max } => {
            vec![("chars", chars.to_string()), ("max", max.to_string())]
        }
        R::TooManyAttachments { count, max } => {
            vec![("count", count.to_string()), ("max", max.to_string())]
        }
        _ => vec![],
    };
    message(refusal.code(), args, locale)
}

/// Why a field-work proposal cannot be filed, in `locale`.
pub fn field_work_message(error: &FieldWorkError, locale: Locale) -> Message {
    message(error.code(), vec![], locale)
}

/// Where a request stands, in `locale` (`comment`: the manager's; `detail`:
/// the refusal's code).
pub fn request_status_message(
    status: RequestStatus,
    comment: Option<&str>,
    detail: Option<&str>,
    locale: Locale,
) -> Message {
    match status {
        RequestStatus::Pending => message("request_pending", vec![], locale),
        RequestStatus::Approved => message("request_approved", vec![], locale),
        RequestStatus::Denied => message(
            "request_denied",
            vec![("comment", comment.unwrap_or("-").to_string())],
            locale,
        ),
        RequestStatus::Refused => {
            let detail = detail.unwrap_or("-");
            // The refusal's own text where the catalogue has it.
            let shown = if CATALOGUE.iter().any(|(c, _, _)| *c == detail) {
                render(detail, &[], locale)
            } else {
                detail.to_string()
            };
            message("request_refused", vec![("detail", shown)], locale)
        }
    }
}

/// A server review flag in `locale` (for a manager's screen).
pub fn review_message(flag: &ReviewFlag, locale: Locale) -> Message {
    match flag {
        ReviewFlag::EvaluationMismatch {
            device,
            device_site,
            evidence,
            evidence_site,
        } => message(
            "evaluation_mismatch",
            vec![
                ("device", serde_name(device)),
                (
                    "device_site",
                    device_site.clone().unwrap_or_else(|| "-".into()),
                ),
                ("evidence", serde_name(evidence)),
                (
                    "evidence_site",
                    evidence_site.clone().unwrap_or_else(|| "-".into()),
                ),
            ],
            locale,
        ),
        ReviewFlag::PolicyVersionMismatch { named, evaluated } => message(
            "policy_version_mismatch",
            vec![
                ("named", named.to_string()),
                ("evaluated", evaluated.to_string()),
            ],
            locale,
        ),
        ReviewFlag::PolicyExpired { .. } => message("policy_expired", vec![], locale),
        ReviewFlag::PayloadUnreadable { key_id } => message(
            "payload_unreadable",
            vec![("key_id", key_id.clone())],
            locale,
        ),
        ReviewFlag::AssuranceBelowMinimum { device, required } => message(
            "assurance_below_minimum",
            vec![
                ("device", serde_name(device)),
                ("required", serde_name(required)),
            ],
            locale,
        ),
        ReviewFlag::TerminalNotAccepted {
            terminal, site_id, ..
        } => message(
            "terminal_not_accepted",
            vec![
                ("terminal", terminal.to_string()),
                ("site", site_id.clone()),
            ],
            locale,
        ),
        ReviewFlag::PhotoMissing { reasons } => photo_message("photo_missing", reasons, locale),
        ReviewFlag::AttendanceMismatch { device, server } => message(
            "attendance_mismatch",
            vec![
                ("device", device.clone().unwrap_or_else(|| "-".into())),
                ("server", server.clone().unwrap_or_else(|| "-".into())),
            ],
            locale,
        ),
    }
}

/// Why a punch needs a photo (`rules::photo`), as `code` says it:
/// `photo_required` on the phone, `photo_missing` for a reviewer.
pub fn photo_message(code: &str, reasons: &[PhotoReason], locale: Locale) -> Message {
    let names: Vec<String> = reasons.iter().map(serde_name).collect();
    message(code, vec![("reasons", names.join(", "))], locale)
}

/// A forgotten clock-out told to the employee, its end shown in `zone`
/// (the policy's) as `YYYY-MM-DD HH:MM`.
pub fn forgotten_message(
    notice: &ForgottenClockOut,
    zone: &jiff::tz::TimeZone,
    locale: Locale,
) -> Message {
    let end = jiff::Timestamp::from_millisecond(notice.end_ms)
        .map(|t| zone.to_datetime(t).strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| notice.end_ms.to_string());
    message(
        notice.code(),
        vec![("shift", notice.shift_id.clone()), ("end", end)],
        locale,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_fall_back_to_english() {
        for (tag, want) in [
            ("zh-CN", Locale::SimplifiedChinese),
            ("zh_Hans_CN", Locale::SimplifiedChinese),
            ("zh", Locale::SimplifiedChinese),
            ("zh-TW", Locale::English),
            ("zh-Hant-HK", Locale::English),
            ("en-GB", Locale::English),
            ("fr-FR", Locale::English),
            ("", Locale::English),
            ("klingon", Locale::English),
        ] {
            assert_eq!(Locale::from_tag(tag), want, "{tag}");
        }
    }

    #[test]
    fn every_code_has_both_texts_and_fills_its_arguments() {
        for (code, en, zh) in CATALOGUE {
            assert!(!en.is_empty() && !zh.is_empty(), "{code}");
            // Same placeholders in both languages.
            let names = |t: &str| {
                let mut v: Vec<String> = t
                    .split('{')
                    .skip(1)
                    .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
                    .collect();
                v.sort();
                v
            };
            assert_eq!(names(en), names(zh), "{code}");
        }
        let args = vec![
            ("shift".to_string(), "day".to_string()),
            ("minutes".to_string(), "12".to_string()),
        ];
        assert_eq!(
            render("late", &args, Locale::English),
            "Late by 12 minutes for shift day."
        );
        assert_eq!(
            render("late", &args, Locale::SimplifiedChinese),
            "班次day迟到12分钟。"
        );
        assert_eq!(
            render("no_such_code", &[], Locale::SimplifiedChinese),
            "no_such_code"
        );
    }

    #[test]
    fn attendance_and_flags_have_codes_in_the_catalogue() {
        let codes: Vec<&str> = CATALOGUE.iter().map(|(c, _, _)| *c).collect();
        for kind in [
            FlagKind::MockLocation,
            FlagKind::ImpossibleTravel,
            FlagKind::StaleFix,
            FlagKind::FixTimeSkew,
            FlagKind::AccuracyTooLow,
            FlagKind::NullIsland,
            FlagKind::WifiPlaceholder,
            FlagKind::TerminalRefused,
        ] {
            assert!(codes.contains(&flag_code(kind)), "{kind:?}");
        }
        let late = Attendance::Late {
            shift_id: "s".into(),
            start_ms: 0,
            minutes: 3,
        };
        for a in [late, Attendance::NoShift] {
            assert!(codes.contains(&a.code()));
        }
        let refusals = [
            MakeUpRefusal::TooFarBack { days: 9, max: 7 },
            MakeUpRefusal::InFuture,
            MakeUpRefusal::MonthlyLimit {
                month: "2026-12".into(),
                used: 3,
                max: 3,
            },
            MakeUpRefusal::TooManyAttachments { count: 6, max: 5 },
            MakeUpRefusal::AttachmentTooLarge {
                size_bytes: 9,
                max: 1,
            },
            MakeUpRefusal::NoReason,
        ];
        for r in &refusals {
            assert!(codes.contains(&r.code()), "{r:?}");
            // Every argument filled: no `{name}` left in either language.
            for locale in [Locale::English, Locale::SimplifiedChinese] {
                assert!(!make_up_message(r, locale).text.contains('{'), "{r:?}");
            }
        }
        for e in [
            FieldWorkError::Radius,
            FieldWorkError::Center,
            FieldWorkError::Dates,
            FieldWorkError::NoReason,
            FieldWorkError::TooLong,
        ] {
            assert!(codes.contains(&e.code()), "{e:?}");
        }
        // Every review flag reads as a sentence in both languages, with its
        // flag tag as the code and every argument filled in.
        let flags = [
            ReviewFlag::EvaluationMismatch {
                device: Decision::Accepted,
                device_site: Some("hq".into()),
                evidence: Decision::Rejected,
                evidence_site: None,
            },
            ReviewFlag::PolicyVersionMismatch {
                named: 3,
                evaluated: 2,
            },
            ReviewFlag::AssuranceBelowMinimum {
                device: crate::rules::assurance::AssuranceLevel::Software,
                required: crate::rules::assurance::AssuranceLevel::HardwareTee,
            },
            ReviewFlag::AttendanceMismatch {
                device: Some("on_time".into()),
                server: None,
            },
            ReviewFlag::PayloadUnreadable {
                key_id: "00aa11bb22cc33dd".into(),
            },
            ReviewFlag::PolicyExpired {
                expires_at_ms: 1,
                punch_time_ms: 2,
            },
            ReviewFlag::TerminalNotAccepted {
                terminal: crate::rules::terminal::Terminal::Kiosk,
                site_id: "hq".into(),
                detail: "not accepted".into(),
            },
        ];
        for f in &flags {
            let tag = serde_json::to_value(f).unwrap()["flag"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(codes.contains(&tag.as_str()), "{f:?}");
            for locale in [Locale::English, Locale::SimplifiedChinese] {
                let m = review_message(f, locale);
                assert_eq!(m.code, tag);
                assert!(
                    !m.text.contains('{') && m.text != m.code,
                    "{f:?}: {}",
                    m.text
                );
            }
        }
        assert_eq!(
            review_message(&flags[0], Locale::English).text,
            "The evidence does not support the verdict the device recorded: the phone said \
             accepted (site hq), the evidence reads rejected (site -)."
        );
        assert_eq!(
            review_message(&flags[1], Locale::SimplifiedChinese).text,
            "判定所用的规则版本（2）与记录所写的版本（3）不符。"
        );
        let refused = request_status_message(
            RequestStatus::Refused,
            None,
            Some("make_up_in_future"),
            Locale::SimplifiedChinese,
        );
        assert_eq!(
            refused.text,
            "您的申请不符合公司规定（补卡时间不能晚于当前时间。）。"
        );
    }

    #[test]
    fn fault_kinds_and_refusals_read_in_both_languages() {
        use crate::ledger::fault::{FaultKind, FaultRefusal};
        for kind in FaultKind::ALL {
            for locale in [Locale::English, Locale::SimplifiedChinese] {
                let m = fault_message(kind, locale);
                assert_ne!(m.text, m.code, "{kind:?} has no text");
            }
        }
        let refusals = [
            FaultRefusal::UnknownKind { kind: "x".into() },
            FaultRefusal::TextTooLong {
                chars: 2000,
                max: 1000,
            },
            FaultRefusal::ControlCharacters,
            FaultRefusal::NoText,
            FaultRefusal::TooManyAttachments { count: 9, max: 5 },
            FaultRefusal::BadAttachment,
            FaultRefusal::CitedFaultNotFound {
                device_id: "d".into(),
                seq: 1,
            },
            FaultRefusal::CitedFaultNotYours {
                device_id: "d".into(),
                seq: 1,
            },
        ];
        for r in &refusals {
            for locale in [Locale::English, Locale::SimplifiedChinese] {
                let m = fault_refusal_message(r, locale);
                assert!(m.text != m.code && !m.text.contains('{'), "{r:?}");
            }
        }
    }
}
