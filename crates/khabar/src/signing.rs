//! Keyed tags: an HMAC-SHA256 over a few parts, under one of the site's
//! stored secrets, cut to 16 bytes of hex. Features sign their form tokens,
//! cookies and hashed identifiers with one of these each, so a tag from one
//! feature is never accepted by another.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::store::{Store, StoreError};

type HmacSha256 = Hmac<Sha256>;

pub struct Keyed {
    mac: HmacSha256,
}

impl Keyed {
    /// The key named `name`, made and stored on first use; every node of a
    /// site then signs alike.
    pub async fn for_site(store: &Store, name: &str) -> Result<Keyed, StoreError> {
        let mut fresh = [0u8; 32];
        rand::rng().fill_bytes(&mut fresh);
        let secret = store.site_secret(name, &hex::encode(fresh)).await?;
        let mac = HmacSha256::new_from_slice(secret.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
        Ok(Keyed { mac })
    }

    /// The parts are separated by a unit separator, so ("ab", "c") and ("a", "bc") differ.
    pub fn tag(&self, parts: &[&str]) -> String {
        let mut mac = self.mac.clone();
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\x1f");
        }
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}
