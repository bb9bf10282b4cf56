//! `khabar admin create`: the first admin (and any staff member) from the shell.

use std::io::Read;

use crate::accounts::passwords;
use crate::accounts::staff::{is_plausible_email, Role};
use crate::cli::{CliError, SiteOptions};
use crate::site;
use crate::store::now_seconds;

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Create a staff account. The password comes from KHABAR_PASSWORD or stdin.
    Create {
        #[command(flatten)]
        site: SiteOptions,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, editor, author or contributor
        #[arg(long, default_value = "admin")]
        role: String,
    },
}

fn read_password() -> Result<String, CliError> {
    if let Ok(password) = std::env::var("KHABAR_PASSWORD") {
        return Ok(password);
    }
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|error| CliError::Usage(format!("cannot read the password from stdin: {error}")))?;
    Ok(input.trim_end_matches(['\r', '\n']).to_owned())
}

pub async fn run(action: Action) -> Result<(), CliError> {
    match action {
        Action::Create { site: options, email, name, role } => {
            let role = Role::parse(&role).ok_or_else(|| {
                CliError::Usage(format!("unknown role '{role}': use admin, editor, author or contributor"))
            })?;
            let email = crate::accounts::staff::normalize_email(&email);
            if !is_plausible_email(&email) {
                return Err(CliError::Usage(format!("'{email}' is not an email address")));
            }
            let name = name.trim().to_owned();
            if name.is_empty() {
                return Err(CliError::Usage("--name must not be empty".to_owned()));
            }
            let password = read_password()?;
            passwords::check_strength(&password, &email, &name)
                .map_err(|error| CliError::Usage(format!("refusing a weak password: {error}")))?;
            site::require_site(&options.data)?;
            let (_, store) = site::open(&options.data, options.database.as_deref()).await?;
            let hash = passwords::hash(password).await.map_err(|error| CliError::Usage(error.to_string()))?;
            let created = store.create_staff(&email, &name, role, &hash, now_seconds()).await?;
            if let Some(id) = created {
                store
                    .record_audit(
                        None,
                        "khabar admin create",
                        "staff.create",
                        &format!("{name} <{email}> ({})", role.as_str()),
                        now_seconds(),
                    )
                    .await?;
                store.close().await;
                println!("created {} account {id} for {email}", role.as_str());
                Ok(())
            } else {
                store.close().await;
                Err(CliError::Usage(format!("an account with the email {email} already exists")))
            }
        }
    }
}
