//! PINs refused as too easy to guess: too short, one repeated digit or
//! pattern, a run of sequential digits, the most common PINs, the employee
//! number, the birthday.

/// Why a new PIN is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinRejected {
    #[error("the PIN must have at least {min} characters")]
    TooShort { min: u32 },
    #[error("the PIN is too long (at most 64 characters)")]
    TooLong,
    #[error("the PIN may not contain spaces or control characters")]
    BadCharacters,
    #[error("the PIN repeats one digit or a short pattern")]
    Repeated,
    #[error("the PIN is a run of sequential digits")]
    Sequential,
    #[error("the PIN is one of the most common PINs")]
    Common,
    #[error("the PIN is the employee number")]
    EmployeeNumber,
    #[error("the PIN is the birthday")]
    Birthday,
    #[error("the new PIN is the current PIN")]
    Unchanged,
}

/// The most used 4-digit PINs (published analyses of leaked PIN sets), beyond
/// what the repeat and sequence rules already catch.
const COMMON: &[&str] = &[
    "1004", "2000", "6969", "1122", "1313", "2001", "1010", "2580", "0852", "1357", "2468", "7410",
    "0258", "1991", "1990", "2020", "2021", "2022", "2023", "2024", "2025", "2026", "696969",
    "112233", "159753", "147258", "121212",
];

/// Checks a new PIN. `employee_number` and `birthday` (ISO `YYYY-MM-DD`)
/// are what the app knows about the employee; either may be absent.
pub fn check_new_pin(
    pin: &str,
    min_length: u32,
    employee_number: Option<&str>,
    birthday: Option<&str>,
) -> Result<(), PinRejected> {
    let len = pin.chars().count();
    if len > 64 {
        return Err(PinRejected::TooLong);
    }
    if pin.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(PinRejected::BadCharacters);
    }
    if (len as u64) < u64::from(min_length) {
        return Err(PinRejected::TooShort { min: min_length });
    }
    if repeats_a_pattern(pin) {
        return Err(PinRejected::Repeated);
    }
    if is_sequential(pin) {
        return Err(PinRejected::Sequential);
    }
    if COMMON.contains(&pin) {
        return Err(PinRejected::Common);
    }
    if let Some(number) = employee_number.map(str::trim).filter(|n| !n.is_empty())
        && (pin.eq_ignore_ascii_case(number) || digits(number) == pin)
    {
        return Err(PinRejected::EmployeeNumber);
    }
    if let Some(day) = birthday.and_then(birthday_forms)
        && day.iter().any(|f| f == pin)
    {
        return Err(PinRejected::Birthday);
    }
    Ok(())
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// "0000", "1212", "123123": the PIN is a shorter block repeated.
fn repeats_a_pattern(pin: &str) -> bool {
    let chars: Vec<char> = pin.chars().collect();
    let n = chars.len();
    (1..=n / 2)
        .filter(|block| n.is_multiple_of(*block))
        .any(|block| chars.chunks(block).all(|c| c == &chars[..block]))
}

/// "1234", "4321", "0123456": each digit one up (or one down) from the last.
fn is_sequential(pin: &str) -> bool {
    let d: Vec<i32> = pin
        .chars()
        .map(|c| c.to_digit(10).map_or(-100, |v| v as i32))
        .collect();
    if d.len() < 2 || d.contains(&-100) {
        return false;
    }
    let step = d[1] - d[0];
    (step == 1 || step == -1) && d.windows(2).all(|w| w[1] - w[0] == step)
}

/// The usual ways a birthday is typed as a PIN.
fn birthday_forms(iso: &str) -> Option<Vec<String>> {
    let mut parts = iso.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4
        || m.len() != 2
        || d.len() != 2
        || !format!("{y}{m}{d}").bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let yy = &y[2..];
    Some(
        [
            format!("{d}{m}"),
            format!("{m}{d}"),
            y.to_string(),
            format!("{d}{m}{yy}"),
            format!("{m}{d}{yy}"),
            format!("{yy}{m}{d}"),
            format!("{d}{m}{y}"),
            format!("{m}{d}{y}"),
            format!("{y}{m}{d}"),
        ]
        .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trivial_pins_are_refused_and_others_pass() {
        let check = |p| check_new_pin(p, 4, Some("E-1007"), Some("1990-07-14"));
        assert_eq!(check("123"), Err(PinRejected::TooShort { min: 4 }));
        assert_eq!(check("0000"), Err(PinRejected::Repeated));
        assert_eq!(check("1212"), Err(PinRejected::Repeated));
        assert_eq!(check("123123"), Err(PinRejected::Repeated));
        assert_eq!(check("1234"), Err(PinRejected::Sequential));
        assert_eq!(check("98765"), Err(PinRejected::Sequential));
        assert_eq!(check("2580"), Err(PinRejected::Common));
        assert_eq!(check("1007"), Err(PinRejected::EmployeeNumber));
        assert_eq!(check("1407"), Err(PinRejected::Birthday));
        assert_eq!(check("0714"), Err(PinRejected::Birthday));
        assert_eq!(check("140790"), Err(PinRejected::Birthday));
        assert_eq!(check("12 34"), Err(PinRejected::BadCharacters));
        assert_eq!(check("4827"), Ok(()));
        assert_eq!(check("739164"), Ok(()));
        // Without a birthday, 1407 is fine.
        assert_eq!(check_new_pin("1407", 4, None, None), Ok(()));
        assert_eq!(
            check_new_pin("4827", 6, None, None),
            Err(PinRejected::TooShort { min: 6 })
        );
    }
}
