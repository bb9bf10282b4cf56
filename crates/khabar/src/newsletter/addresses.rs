//! What a subscriber may type: an address we can deliver to, and a name we
//! can put in a header. Arabic domain names become punycode; the local part
//! stays ASCII, because SMTPUTF8 is still rare among relays.

/// RFC 5321's limit on a whole address.
pub const MAX_EMAIL_BYTES: usize = 254;
pub const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("the email address is empty")]
    EmptyEmail,
    #[error("the email address is longer than 254 characters")]
    LongEmail,
    #[error("the email address contains a line break or a control character")]
    ControlInEmail,
    #[error("the email address needs exactly one @ with text on both sides")]
    Shape,
    #[error("the part before @ may only use Latin letters, digits and . _ % + - (no spaces)")]
    LocalPart,
    #[error("the domain '{0}' is not a valid domain name")]
    Domain(String),
    #[error("the name is empty")]
    EmptyName,
    #[error("the name is longer than 100 characters")]
    LongName,
    #[error("the name contains a line break or a control character")]
    ControlInName,
}

impl AddressError {
    /// The message shown to a reader, in Arabic.
    pub fn arabic(&self) -> &'static str {
        match self {
            AddressError::EmptyEmail => "اكتب بريدك الإلكتروني.",
            AddressError::LongEmail => "البريد الإلكتروني أطول من ٢٥٤ حرفًا.",
            AddressError::ControlInEmail => "البريد الإلكتروني يحوي سطرًا جديدًا أو رمزًا غير مسموح.",
            AddressError::Shape => "البريد الإلكتروني يحتاج إلى علامة @ واحدة بين اسم ونطاق، مثل name@example.com.",
            AddressError::LocalPart => "الجزء قبل @ يُكتب بحروف لاتينية وأرقام و . _ % + - دون مسافات.",
            AddressError::Domain(_) => "اسم النطاق بعد @ غير صحيح.",
            AddressError::EmptyName => "اكتب اسمك.",
            AddressError::LongName => "الاسم أطول من ١٠٠ حرف.",
            AddressError::ControlInName => "الاسم يحوي سطرًا جديدًا أو رمزًا غير مسموح.",
        }
    }

    pub fn field(&self) -> &'static str {
        match self {
            AddressError::EmptyName | AddressError::LongName | AddressError::ControlInName => "name",
            _ => "email",
        }
    }
}

/// The address as stored and mailed: lower case, domain in punycode.
pub fn normalize_email(input: &str) -> Result<String, AddressError> {
    if input.chars().any(char::is_control) {
        return Err(AddressError::ControlInEmail);
    }
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(AddressError::EmptyEmail);
    }
    if trimmed.len() > MAX_EMAIL_BYTES {
        return Err(AddressError::LongEmail);
    }
    let (local, domain) = trimmed.rsplit_once('@').ok_or(AddressError::Shape)?;
    if local.is_empty() || domain.is_empty() || local.contains('@') {
        return Err(AddressError::Shape);
    }
    let local_is_plain = local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"._%+-".contains(&byte));
    if !local_is_plain {
        return Err(AddressError::LocalPart);
    }
    // UTS 46 maps full-width and Arabic-script labels and lower-cases; then
    // each label must be a plain DNS label and there must be a dot.
    let ascii_domain =
        idna::domain_to_ascii(domain.trim_end_matches('.')).map_err(|_| AddressError::Domain(domain.to_owned()))?;
    let labels: Vec<&str> = ascii_domain.split('.').collect();
    let domain_is_plain = labels.len() >= 2
        && ascii_domain.len() <= 253
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        })
        && labels.last().is_some_and(|top| !top.bytes().all(|byte| byte.is_ascii_digit()));
    if !domain_is_plain {
        return Err(AddressError::Domain(domain.to_owned()));
    }
    let address = format!("{}@{ascii_domain}", local.to_ascii_lowercase());
    if address.len() > MAX_EMAIL_BYTES {
        return Err(AddressError::LongEmail);
    }
    Ok(address)
}

/// The name as stored: trimmed, inner runs of spaces made one.
pub fn normalize_name(input: &str) -> Result<String, AddressError> {
    if input.chars().any(|character| character.is_control() || matches!(character, '\u{2028}' | '\u{2029}')) {
        return Err(AddressError::ControlInName);
    }
    let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(AddressError::EmptyName);
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(AddressError::LongName);
    }
    Ok(name)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_lower_cased_and_arabic_domains_become_punycode() {
        assert_eq!(normalize_email("  Reader@Example.COM ").unwrap(), "reader@example.com");
        let arabic = normalize_email("qari@مثال.إختبار").unwrap();
        assert!(arabic.starts_with("qari@xn--"), "{arabic}");
        assert!(arabic.is_ascii());
        assert_eq!(normalize_email("a@ｅｘａｍｐｌｅ.com").unwrap(), "a@example.com");
    }

    #[test]
    fn bad_addresses_say_what_is_wrong() {
        assert_eq!(normalize_email(""), Err(AddressError::EmptyEmail));
        assert_eq!(normalize_email("no-at-sign"), Err(AddressError::Shape));
        assert_eq!(normalize_email("a@@b.com"), Err(AddressError::Shape));
        assert_eq!(normalize_email("a b@example.com"), Err(AddressError::LocalPart));
        assert_eq!(normalize_email("قارئ@example.com"), Err(AddressError::LocalPart));
        assert_eq!(normalize_email("a..b@example.com"), Err(AddressError::LocalPart));
        assert!(matches!(normalize_email("a@localhost"), Err(AddressError::Domain(_))));
        assert!(matches!(normalize_email("a@exa_mple.com"), Err(AddressError::Domain(_))));
        assert!(matches!(normalize_email("a@1.2.3.4"), Err(AddressError::Domain(_))));
        assert_eq!(normalize_email("a@example.com\r\nBcc: x@evil.com"), Err(AddressError::ControlInEmail));
        assert_eq!(normalize_email(&format!("{}@example.com", "a".repeat(250))), Err(AddressError::LongEmail));
    }

    #[test]
    fn names_refuse_header_injection_and_length() {
        assert_eq!(normalize_name("  سارة   الأحمد ").unwrap(), "سارة الأحمد");
        assert_eq!(normalize_name("سارة\r\nBcc: x@evil.com"), Err(AddressError::ControlInName));
        assert_eq!(normalize_name("   "), Err(AddressError::EmptyName));
        assert_eq!(normalize_name(&"ن".repeat(101)), Err(AddressError::LongName));
    }
}
