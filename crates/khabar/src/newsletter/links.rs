//! Signed, hard-to-guess links and form tokens. Every link in a newsletter
//! email names the subscriber and carries an HMAC over its purpose, the
//! subscriber and that subscriber's own random key, so a link cannot be
//! guessed, reused for another purpose, or forged for another address.
//! Form tokens carry the moment the form was shown (for the minimum fill
//! time) and, when the challenge is on, the seed of its question.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How long a confirmation link works.
pub const CONFIRM_LINK_SECONDS: i64 = 7 * 24 * 3600;
/// A form older than this is refused (a page left open for days, or a harvested token).
pub const FORM_MAX_AGE_SECONDS: i64 = 2 * 24 * 3600;
/// Faster than this from showing the form to sending it is a script, not a person.
pub const FORM_MIN_FILL_SECONDS: i64 = 2;
/// Bytes of MAC kept in a link: 128 bits is beyond guessing.
const LINK_MAC_BYTES: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Confirm,
    Preferences,
    Unsubscribe,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Purpose::Confirm => "confirm",
            Purpose::Preferences => "preferences",
            Purpose::Unsubscribe => "unsubscribe",
        }
    }
}

/// A link's claims, before the subscriber's key has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkClaim {
    pub subscriber_id: i64,
    pub expires_at: Option<i64>,
    mac: Vec<u8>,
}

/// Who showed a form: the cached sidebar (shared by every reader) or one visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    Shared,
    Visitor,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormToken {
    pub kind: FormKind,
    pub issued_at: i64,
    /// Zero when no question was asked.
    pub challenge_seed: u32,
}

pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn new_link_key() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub struct Signer {
    keyed: HmacSha256,
}

impl Signer {
    pub fn new(secret: &str) -> Signer {
        // Built once at start; HMAC takes keys of every length, so this never fails.
        let keyed = HmacSha256::new_from_slice(secret.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
        Signer { keyed }
    }

    fn mac(&self, parts: &[&str]) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\x1f");
        }
        mac
    }

    pub fn link(&self, purpose: Purpose, subscriber_id: i64, link_key: &str, expires_at: Option<i64>) -> String {
        let expiry = expires_at.map(|at| at.to_string()).unwrap_or_default();
        let id = subscriber_id.to_string();
        let tag = self.mac(&[purpose.label(), &id, &expiry, link_key]).finalize().into_bytes();
        match expires_at {
            Some(at) => format!("{id}.{at}.{}", hex::encode(&tag[..LINK_MAC_BYTES])),
            None => format!("{id}.{}", hex::encode(&tag[..LINK_MAC_BYTES])),
        }
    }

    /// Reads a link's claims; `verify_link` then checks them with the subscriber's key.
    pub fn parse_link(token: &str) -> Option<LinkClaim> {
        let parts: Vec<&str> = token.split('.').collect();
        let (id, expires_at, mac) = match parts.as_slice() {
            [id, mac] => (id.parse().ok()?, None, hex::decode(mac).ok()?),
            [id, expires, mac] => (id.parse().ok()?, Some(expires.parse().ok()?), hex::decode(mac).ok()?),
            _ => return None,
        };
        (mac.len() == LINK_MAC_BYTES).then_some(LinkClaim { subscriber_id: id, expires_at, mac })
    }

    /// True when the link was made by this site, for this purpose and key, and has not expired.
    pub fn verify_link(&self, purpose: Purpose, claim: &LinkClaim, link_key: &str, now: i64) -> bool {
        if purpose == Purpose::Confirm && claim.expires_at.is_none_or(|at| at < now) {
            return false;
        }
        let expiry = claim.expires_at.map(|at| at.to_string()).unwrap_or_default();
        self.mac(&[purpose.label(), &claim.subscriber_id.to_string(), &expiry, link_key])
            .verify_truncated_left(&claim.mac)
            .is_ok()
    }

    pub fn form_token(&self, kind: FormKind, issued_at: i64, challenge_seed: u32) -> String {
        let kind_label = match kind {
            FormKind::Shared => "s",
            FormKind::Visitor => "v",
        };
        let issued = issued_at.to_string();
        let seed = challenge_seed.to_string();
        let tag = self.mac(&["form", kind_label, &issued, &seed]).finalize().into_bytes();
        format!("{kind_label}.{issued}.{seed}.{}", hex::encode(&tag[..LINK_MAC_BYTES]))
    }

    pub fn read_form_token(&self, token: &str) -> Option<FormToken> {
        let [kind_label, issued, seed, mac] = token.split('.').collect::<Vec<_>>().try_into().ok()?;
        let kind = match kind_label {
            "s" => FormKind::Shared,
            "v" => FormKind::Visitor,
            _ => return None,
        };
        self.mac(&["form", kind_label, issued, seed]).verify_truncated_left(&hex::decode(mac).ok()?).ok()?;
        Some(FormToken { kind, issued_at: issued.parse().ok()?, challenge_seed: seed.parse().ok()? })
    }
}

const NUMBER_WORDS: [&str; 10] = ["صفر", "واحد", "اثنان", "ثلاثة", "أربعة", "خمسة", "ستة", "سبعة", "ثمانية", "تسعة"];

/// The question a seed stands for, in words (a script reading digits off the
/// page gets nothing), and its answer.
pub fn challenge(seed: u32) -> (String, u32) {
    let first = 1 + seed % 9;
    let second = 1 + (seed / 9) % 9;
    let words = |number: u32| NUMBER_WORDS.get(number as usize).copied().unwrap_or("واحد");
    (format!("كم يساوي {} زائد {}؟", words(first), words(second)), first + second)
}

pub fn new_challenge_seed() -> u32 {
    // Never zero: zero means "no question".
    1 + rand::random::<u32>() % 80
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn links_verify_only_for_their_purpose_key_and_time() {
        let signer = Signer::new("secret");
        let link = signer.link(Purpose::Unsubscribe, 42, "key-a", None);
        let claim = Signer::parse_link(&link).unwrap();
        assert_eq!(claim.subscriber_id, 42);
        assert!(signer.verify_link(Purpose::Unsubscribe, &claim, "key-a", 0));
        assert!(!signer.verify_link(Purpose::Preferences, &claim, "key-a", 0));
        assert!(!signer.verify_link(Purpose::Unsubscribe, &claim, "key-b", 0));
        assert!(!Signer::new("other").verify_link(Purpose::Unsubscribe, &claim, "key-a", 0));
        let forged = link.replacen("42.", "43.", 1);
        let forged_claim = Signer::parse_link(&forged).unwrap();
        assert!(!signer.verify_link(Purpose::Unsubscribe, &forged_claim, "key-a", 0));

        let confirm = signer.link(Purpose::Confirm, 7, "k", Some(1000));
        let claim = Signer::parse_link(&confirm).unwrap();
        assert!(signer.verify_link(Purpose::Confirm, &claim, "k", 999));
        assert!(!signer.verify_link(Purpose::Confirm, &claim, "k", 1001), "expired");
        let stretched = Signer::parse_link(&confirm.replace(".1000.", ".9999.")).unwrap();
        assert!(!signer.verify_link(Purpose::Confirm, &stretched, "k", 999), "expiry is signed");
        assert!(Signer::parse_link("7.zz").is_none());
        assert!(Signer::parse_link("x.y.z.w").is_none());
    }

    #[test]
    fn form_tokens_round_trip_and_refuse_tampering() {
        let signer = Signer::new("secret");
        let token = signer.form_token(FormKind::Visitor, 1234, 17);
        assert_eq!(
            signer.read_form_token(&token),
            Some(FormToken { kind: FormKind::Visitor, issued_at: 1234, challenge_seed: 17 })
        );
        assert_eq!(signer.read_form_token(&token.replacen("v.", "s.", 1)), None);
        assert_eq!(signer.read_form_token(&token.replace(".1234.", ".1.")), None);
        assert_eq!(signer.read_form_token("garbage"), None);
    }

    #[test]
    fn challenges_are_small_sums_in_words() {
        let (question, answer) = challenge(10);
        assert_eq!(answer, 2 + 2);
        assert!(question.contains("اثنان زائد اثنان"), "{question}");
        for seed in 1..200 {
            let (_, answer) = challenge(seed);
            assert!((2..=18).contains(&answer));
        }
    }
}
