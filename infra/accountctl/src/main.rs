//! `accountctl`: the operators' CLI. Works against whatever endpoint the
//! standard AWS variables name (`AWS_ENDPOINT_URL*`), like the functions, or
//! against a deployed stack's tables (`--stack NAME`). Every change it makes
//! writes an audit record (stderr, one JSON line) naming the operator.

use std::io::BufRead;

use std::collections::BTreeMap;

use account_core::accounts::{self, CreateUserError, NewUser};
use account_core::config::default_settings;
use account_core::http::sentences;
use account_core::mail::{Composer, MailConfig};
use account_core::model::account::User;
use account_core::model::audit::{user_label, AuditAction, AuditRecord, AuditResult};
use account_core::model::domain::{Email, Password, Realm, TenantDomain, UserRef, Username};
use account_core::model::outbox::{MailStatus, OutboxMail};
use account_core::model::settings::{parse_assignments, setting, TenantSettings, SETTINGS};
use account_core::model::templates::{MailTemplate, TemplateName};
use account_core::model::time::UnixTime;
use account_core::outbound::aws::{sdk_http_client, Trust};
use account_core::store::{DynamoClient, Store, Tables, Write};
use anyhow::{anyhow, bail, Context};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "accountctl",
    about = "Operate the account-recovery service: tables, users, tenant settings."
)]
struct Cli {
    /// Read the table names (and mail sender) from this CloudFormation stack's
    /// outputs, through `sam list stack-outputs`, instead of the variables.
    #[arg(long, global = true, value_name = "NAME")]
    stack: Option<String>,
    /// Print what is read as JSON (user show|list, tenant show, mail failed).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the tables (idempotent) and turn on TTL for recovery keys.
    Init,
    /// Manage users.
    #[command(subcommand)]
    User(UserCmd),
    /// Manage per-tenant settings.
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// The login tokens' signing keys.
    #[command(subcommand)]
    Token(TokenCmd),
    /// The mail outbox: mails given up, and putting them back in line.
    #[command(subcommand)]
    Mail(MailCmd),
}

#[derive(Subcommand)]
enum MailCmd {
    /// List the mails given up (SES refused them, or they failed every try),
    /// with the reason; never their text (a reset mail's holds its link).
    Failed,
    /// Put given-up mails back in line for the mailer (one by --id, or --all).
    /// A reset mail whose link has expired is not sent again.
    Resend {
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        #[arg(long)]
        all: bool,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Print a new value for the JWT_SIGNING_KEYS secret: a fresh Ed25519 key
    /// under --kid, with the current key (the secret's value, read from standard
    /// input) kept as the previous one, so tokens signed before still verify.
    /// Without --first, standard input must hold the current value.
    Rotate {
        /// The new key's id (the JWT header's `kid`), e.g. the date.
        #[arg(long)]
        kid: String,
        /// There is no current value yet (a first key).
        #[arg(long)]
        first: bool,
    },
}

#[derive(clap::Args)]
struct Who {
    #[arg(long, default_value = "carbon.super")]
    tenant: String,
    #[arg(long, default_value = "PRIMARY")]
    realm: String,
    #[arg(long)]
    username: String,
}

impl Who {
    fn parse(&self) -> anyhow::Result<UserRef> {
        Ok(UserRef {
            tenant: TenantDomain::parse(&self.tenant).map_err(|e| anyhow!("--tenant: {e}"))?,
            realm: Realm::parse(&self.realm).map_err(|e| anyhow!("--realm: {e}"))?,
            username: Username::parse(&self.username).map_err(|e| anyhow!("--username: {e}"))?,
        })
    }
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a user; the password is read from standard input and checked against the tenant's policy.
    Add {
        #[command(flatten)]
        who: Who,
        #[arg(long)]
        email: String,
        /// Give the user the tenant-admin role.
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input (one line).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Succeed without changes if the user exists already.
        #[arg(long)]
        exists_ok: bool,
    },
    /// Show a user (never a secret): roles, lock state, failed logins, recovery.
    Show {
        #[command(flatten)]
        who: Who,
    },
    /// Lift every lock (admin or failed logins) and clear the failed-login
    /// count; the user gets the unlock mail, as from lock-user.
    Unlock {
        #[command(flatten)]
        who: Who,
    },
    /// Lock the account as an admin would (until unlocked); the user gets the
    /// lock mail, a recovery under way ends and issued tokens stop being active.
    Lock {
        #[command(flatten)]
        who: Who,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Delete the user (and a recovery key under way).
    Delete {
        #[command(flatten)]
        who: Who,
    },
    /// List a tenant's users (a scan of the users table).
    List {
        #[arg(long, default_value = "carbon.super")]
        tenant: String,
        /// Only accounts locked now (by an admin or by failed logins).
        #[arg(long)]
        locked: bool,
    },
}

#[derive(Subcommand)]
enum TenantCmd {
    /// Set settings: KEY=VALUE ... (see `tenant show` for the names).
    Set {
        #[arg(long)]
        tenant: String,
        #[arg(required = true, value_name = "KEY=VALUE")]
        assignments: Vec<String>,
    },
    /// Return settings to the global default.
    Unset {
        #[arg(long)]
        tenant: String,
        #[arg(required = true, value_name = "KEY")]
        keys: Vec<String>,
    },
    /// Show every setting's effective value and where it comes from.
    Show {
        #[arg(long)]
        tenant: String,
    },
    /// The tenant's own mail templates (PasswordReset, PasswordResetSuccess,
    /// AccountLock, AccountUnlock, AccountLockFailedAttempt).
    #[command(subcommand)]
    Template(TemplateCmd),
}

#[derive(Subcommand)]
enum TemplateCmd {
    /// Set the tenant's version of a template; parts not given start from the current one.
    /// Placeholders in every mail: {{username}} {{tenant}} {{realm}} {{sender}} {{signature}};
    /// PasswordReset adds {{link}} (required) and {{expiry}}, PasswordResetSuccess {{time}},
    /// AccountLock {{reason}}, AccountLockFailedAttempt {{unlock}}. WSO2's {{user-name}},
    /// {{tenant-domain}} and {{userstore-domain}} are accepted for the same values.
    Set {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        subject: Option<String>,
        #[arg(long, value_name = "FILE")]
        text_file: Option<std::path::PathBuf>,
        #[arg(long, value_name = "FILE")]
        html_file: Option<std::path::PathBuf>,
    },
    /// Go back to the built-in template.
    Unset {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
    },
    /// Print the template in force and where it comes from.
    Show {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
    },
}

async fn mail(store: &Store, cmd: MailCmd, audit: &Auditor, json: bool) -> anyhow::Result<()> {
    let now = audit.now;
    let failed = |m: &OutboxMail| matches!(m.status, MailStatus::Failed { .. });
    match cmd {
        MailCmd::Failed => {
            let mut mails = store.outbox(failed).await?;
            mails.sort_by_key(|m| m.created_at);
            if json {
                let all: Vec<serde_json::Value> = mails
                    .iter()
                    .map(|m| {
                        let reason = match &m.status {
                            MailStatus::Failed { reason } => reason.as_str(),
                            _ => "",
                        };
                        serde_json::json!({
                            "id": m.id.to_string(),
                            "created": m.created_at.to_rfc3339(),
                            "tenant": m.tenant.to_string(),
                            "template": m.template.as_str(),
                            "to": m.to.as_str(),
                            "attempts": m.attempts,
                            "canResend": now < m.expires_at,
                            "reason": reason,
                        })
                    })
                    .collect();
                println!("{:#}", serde_json::Value::Array(all));
                return Ok(());
            }
            for m in &mails {
                let MailStatus::Failed { reason } = &m.status else {
                    continue;
                };
                let state = if now < m.expires_at {
                    "can resend"
                } else {
                    "expired"
                };
                println!(
                    "{}  {}  {}  {}  to {}  attempts {}  {state}\n    {reason}",
                    m.id,
                    m.created_at.to_rfc3339(),
                    m.tenant,
                    m.template.as_str(),
                    m.to.as_str(),
                    m.attempts,
                );
            }
            println!("{} mail(s) given up", mails.len());
        }
        MailCmd::Resend { id, all } => {
            let ids: Vec<String> = match (id, all) {
                (Some(id), _) => vec![id],
                (None, _) => store
                    .outbox(|m| failed(m) && now < m.expires_at)
                    .await?
                    .iter()
                    .map(|m| m.id.to_string())
                    .collect(),
            };
            let mut resent = 0;
            for id in &ids {
                match store.resend_mail(id, now).await? {
                    Some(mail) => {
                        resent += 1;
                        audit.write(
                            AuditRecord::new(
                                AuditAction::MailResend,
                                mail.tenant.as_str(),
                                &audit.operator,
                                format!("mail {id}"),
                                AuditResult::Done,
                                now,
                            )
                            .from_source(host()),
                        );
                    }
                    None => eprintln!(
                        "accountctl: mail {id}: no given-up mail by that id, or its link has expired"
                    ),
                }
            }
            println!("{resent} mail(s) back in line for the mailer");
            if resent < ids.len() {
                bail!("{} mail(s) not resent", ids.len() - resent);
            }
        }
    }
    Ok(())
}

fn template_name(name: &str) -> anyhow::Result<TemplateName> {
    TemplateName::parse(name).ok_or_else(|| {
        let all: Vec<&str> = TemplateName::ALL.iter().map(|t| t.as_str()).collect();
        anyhow!("template `{name}`: unknown (one of {})", all.join(", "))
    })
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("accountctl: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // Needs nothing of AWS: it reads and prints the secret's value.
    if let Command::Token(TokenCmd::Rotate { kid, first }) = &cli.command {
        let current = if *first {
            None
        } else {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                .context("reading the current JWT_SIGNING_KEYS value")?;
            Some(s.trim().to_string())
        };
        println!(
            "{}",
            account_core::tokens::rotated(current.as_deref(), kid)?
        );
        return Ok(());
    }
    let outputs = match &cli.stack {
        Some(stack) => stack_outputs(stack)?,
        None => BTreeMap::new(),
    };
    let env = |k: &str| outputs.get(k).cloned().or_else(|| std::env::var(k).ok());
    let region = env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .ok_or_else(|| anyhow!("AWS_REGION is not set"))?;
    let tables = Tables::from_lookup(env)?;
    let defaults = default_settings(env)?;
    // The full provider chain (profiles, SSO, roles) for operators; the functions
    // only need Lambda's environment variables.
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region))
        .http_client(sdk_http_client(Trust::System))
        .load()
        .await;
    let store = Store::new(DynamoClient::new(&sdk), tables);
    let now = account_core::clock::now();
    let json = cli.json;
    // Who this runs as, for the audit records of the changes it makes.
    let audit = Auditor {
        operator: if cli.command.changes_something() {
            operator(&sdk).await
        } else {
            String::new()
        },
        now,
    };
    let composer = || -> anyhow::Result<Composer> {
        Ok(Composer::new(
            MailConfig::from_lookup(env).context("the notice mails' sender")?,
        ))
    };
    match cli.command {
        Command::Init => {
            for line in store.create_tables().await? {
                println!("{line}");
            }
        }
        Command::User(UserCmd::Add {
            who,
            email,
            admin,
            password_stdin: _,
            exists_ok,
        }) => {
            let user_ref = who.parse()?;
            let email = Email::parse(&email).map_err(|e| anyhow!("--email: {e}"))?;
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password")?;
            let password = Password::new(line.trim_end_matches(['\r', '\n']).to_string())
                .map_err(|e| anyhow!("password: {e}"))?;
            if exists_ok && store.get_user(&user_ref).await?.is_some() {
                println!("user {} exists; left as it is", user_ref.storage_key());
                return Ok(());
            }
            let new = NewUser {
                user_ref: user_ref.clone(),
                email,
                admin,
                password,
            };
            match accounts::create_user(&store, &defaults, new, now).await {
                Ok(user) => {
                    audit.user(
                        AuditAction::UserCreate,
                        &user_ref,
                        AuditResult::Done,
                        if admin { "admin" } else { "" },
                    );
                    println!(
                        "added user {} (id {})",
                        user.user_ref.storage_key(),
                        user.id
                    )
                }
                Err(CreateUserError::Exists(key)) if exists_ok => {
                    println!("user {key} exists; left as it is")
                }
                Err(CreateUserError::Policy(broken)) => {
                    bail!(
                        "the password breaks the tenant's policy: {}",
                        sentences(&broken)
                    )
                }
                Err(e) => return Err(e.into()),
            }
        }
        Command::User(UserCmd::Show { who }) => {
            let user_ref = who.parse()?;
            let user = store
                .get_user(&user_ref)
                .await?
                .ok_or_else(|| anyhow!("no user {}", user_ref.storage_key()))?;
            if json {
                println!("{:#}", user_json(&user, now));
            } else {
                print_user(&user, now);
            }
        }
        Command::User(UserCmd::List { tenant, locked }) => {
            let tenant = TenantDomain::parse(&tenant).map_err(|e| anyhow!("--tenant: {e}"))?;
            let mut users = store.tenant_users(&tenant).await?;
            users.retain(|u| !locked || u.lock.active(now).is_some());
            users.sort_by_key(|u| u.user_ref.storage_key());
            if json {
                let all: Vec<_> = users.iter().map(|u| user_json(u, now)).collect();
                println!("{:#}", serde_json::Value::Array(all));
            } else {
                for u in &users {
                    let lock = match u.lock.active(now) {
                        None => "open".to_string(),
                        Some(l) => format!(
                            "locked ({}{})",
                            l.reason.as_str(),
                            l.until
                                .map(|t| format!(" until {}", t.to_rfc3339()))
                                .unwrap_or_default()
                        ),
                    };
                    println!(
                        "{}  {}  {}  failed logins {}",
                        u.user_ref.storage_key(),
                        u.email,
                        lock,
                        u.lock.failed_attempts
                    );
                }
                println!("{} user(s)", users.len());
            }
        }
        Command::User(UserCmd::Unlock { who }) => {
            lock(&store, &composer()?, &defaults, &audit, &who.parse()?, None).await?
        }
        Command::User(UserCmd::Lock { who, reason }) => {
            let reason = reason.trim().to_string();
            if reason.chars().count() > 256 || reason.chars().any(char::is_control) {
                bail!("--reason: at most 256 characters, without control characters");
            }
            lock(
                &store,
                &composer()?,
                &defaults,
                &audit,
                &who.parse()?,
                Some(&reason),
            )
            .await?
        }
        Command::User(UserCmd::Delete { who }) => {
            let user_ref = who.parse()?;
            match store.delete_user(&user_ref).await? {
                Write::Done => {
                    audit.user(AuditAction::UserDelete, &user_ref, AuditResult::Done, "");
                    println!("deleted user {}", user_ref.storage_key());
                }
                Write::Conflict => {
                    audit.user(
                        AuditAction::UserDelete,
                        &user_ref,
                        AuditResult::UnknownSubject,
                        "",
                    );
                    bail!("no user {}", user_ref.storage_key())
                }
            }
        }
        Command::Tenant(TenantCmd::Set {
            tenant,
            assignments,
        }) => {
            let tenant = TenantDomain::parse(&tenant).map_err(|e| anyhow!("--tenant: {e}"))?;
            let new = parse_assignments(assignments.iter().map(String::as_str))
                .map_err(|e| anyhow!(e))?;
            let mut merged = store.tenant_overrides(&tenant).await?;
            for (k, v) in &new {
                if let Some(warning) = setting(k).and_then(|s| s.warning.filter(|_| v != s.default))
                {
                    eprintln!("accountctl: warning: {warning}");
                }
            }
            let names: Vec<&str> = new.keys().map(String::as_str).collect();
            let detail = format!("set {}", names.join(", "));
            merged.extend(new.clone());
            // Validate the whole combination before anything is stored.
            defaults.with_overrides(&merged)?;
            store.put_tenant_overrides(&tenant, &merged, now).await?;
            audit.tenant(AuditAction::SettingsChange, &tenant, &detail);
            println!("tenant {tenant}: {} setting(s) stored", merged.len());
        }
        Command::Tenant(TenantCmd::Unset { tenant, keys }) => {
            let tenant = TenantDomain::parse(&tenant).map_err(|e| anyhow!("--tenant: {e}"))?;
            let mut merged = store.tenant_overrides(&tenant).await?;
            for k in &keys {
                if setting(k).is_none() {
                    bail!("setting `{k}`: unknown setting");
                }
                merged.remove(k);
            }
            defaults.with_overrides(&merged)?;
            store.put_tenant_overrides(&tenant, &merged, now).await?;
            audit.tenant(
                AuditAction::SettingsChange,
                &tenant,
                &format!("unset {}", keys.join(", ")),
            );
            println!("tenant {tenant}: {} setting(s) stored", merged.len());
        }
        Command::Tenant(TenantCmd::Template(cmd)) => template(&store, cmd, &audit).await?,
        Command::Mail(cmd) => mail(&store, cmd, &audit, json).await?,
        Command::Token(_) => unreachable!("answered above"),
        Command::Tenant(TenantCmd::Show { tenant }) => {
            let tenant = TenantDomain::parse(&tenant).map_err(|e| anyhow!("--tenant: {e}"))?;
            let overrides = store.tenant_overrides(&tenant).await?;
            let effective: TenantSettings = defaults.with_overrides(&overrides)?;
            let mut rows = Vec::new();
            for s in SETTINGS {
                let source = if overrides.contains_key(s.name) {
                    "tenant"
                } else {
                    "default"
                };
                let value = &effective.values()[s.name];
                // A secret is never printed, only whether it is set.
                let shown = if s.secret && !value.is_empty() {
                    "********"
                } else {
                    value.as_str()
                };
                rows.push((s, shown.to_string(), source));
            }
            if json {
                let settings: serde_json::Map<String, serde_json::Value> = rows
                    .iter()
                    .map(|(s, v, src)| {
                        (
                            s.name.to_string(),
                            serde_json::json!({"value": v, "source": src}),
                        )
                    })
                    .collect();
                println!(
                    "{:#}",
                    serde_json::json!({"tenant": tenant.as_str(), "settings": settings})
                );
            } else {
                println!("tenant {tenant}");
                for (s, shown, source) in rows {
                    println!("  {} = {shown}  [{source}]  # {}", s.name, s.help);
                }
            }
        }
    }
    Ok(())
}

/// `user lock` (a reason) or `user unlock` (none), audited either way.
async fn lock(
    store: &Store,
    mail: &Composer,
    defaults: &TenantSettings,
    audit: &Auditor,
    user: &UserRef,
    reason: Option<&str>,
) -> anyhow::Result<()> {
    let (action, detail) = match reason {
        Some(r) => (AuditAction::AdminLock, format!("reason: {r}")),
        None => (AuditAction::AdminUnlock, String::new()),
    };
    let Some(change) = accounts::set_lock(store, mail, defaults, user, reason, audit.now).await?
    else {
        audit.user(action, user, AuditResult::UnknownSubject, &detail);
        bail!("no user {}", user.storage_key())
    };
    let result = if change.changed {
        AuditResult::Done
    } else {
        AuditResult::Unchanged
    };
    audit.user(action, user, result, &detail);
    let key = user.storage_key();
    match (reason, change.was) {
        (Some(_), _) if change.changed => println!("{key} locked"),
        (Some(_), _) => println!("{key} was locked already"),
        (None, Some(lock)) => println!("unlocked {key} (was locked: {})", lock.reason.as_str()),
        (None, None) => println!("{key} was not locked; failed-login count cleared"),
    }
    Ok(())
}

/// Writes the audit records of one run, as the operator it runs as.
struct Auditor {
    operator: String,
    now: UnixTime,
}

impl Auditor {
    fn write(&self, r: AuditRecord) {
        eprintln!("{}", r.to_json_line());
    }

    fn user(&self, action: AuditAction, user: &UserRef, result: AuditResult, detail: &str) {
        self.write(
            AuditRecord::new(
                action,
                user.tenant.as_str(),
                &self.operator,
                user_label(user),
                result,
                self.now,
            )
            .from_source(host())
            .with_detail(detail),
        );
    }

    fn tenant(&self, action: AuditAction, tenant: &TenantDomain, detail: &str) {
        self.write(
            AuditRecord::new(
                action,
                tenant.as_str(),
                &self.operator,
                tenant.as_str(),
                AuditResult::Done,
                self.now,
            )
            .from_source(host())
            .with_detail(detail),
        );
    }
}

/// The machine accountctl runs on, as the audit record's source.
fn host() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into())
}

/// `accountctl:` and the AWS identity this runs as (STS GetCallerIdentity); against
/// local emulators, which have no STS, the local user.
async fn operator(sdk: &aws_config::SdkConfig) -> String {
    let local_user = || {
        format!(
            "accountctl:local:{}",
            std::env::var("USER").unwrap_or_else(|_| "unknown".into())
        )
    };
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if var("AWS_ENDPOINT_URL_DYNAMODB").is_some()
        && var("AWS_ENDPOINT_URL_STS").is_none()
        && var("AWS_ENDPOINT_URL").is_none()
    {
        return local_user();
    }
    let sts = aws_sdk_sts::Client::new(sdk);
    match tokio::time::timeout(
        std::time::Duration::from_secs(5),
        sts.get_caller_identity().send(),
    )
    .await
    {
        Ok(Ok(id)) => format!("accountctl:{}", id.arn().unwrap_or("unknown-arn")),
        _ => format!("{} (AWS identity unknown)", local_user()),
    }
}

/// The stack's outputs as the variables they stand for.
fn stack_outputs(stack: &str) -> anyhow::Result<BTreeMap<String, String>> {
    // A stack name, never an option of `sam`'s.
    let valid = stack.len() <= 128
        && stack.starts_with(|c: char| c.is_ascii_alphabetic())
        && stack.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid {
        bail!("--stack `{stack}`: not a CloudFormation stack name");
    }
    let out = std::process::Command::new("sam")
        .args([
            "list",
            "stack-outputs",
            "--stack-name",
            stack,
            "--output",
            "json",
        ])
        .output()
        .context("running `sam list stack-outputs` (the SAM CLI reads the stack's outputs)")?;
    if !out.status.success() {
        bail!(
            "sam list stack-outputs --stack-name {stack}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    outputs_as_variables(&String::from_utf8_lossy(&out.stdout))
}

/// The stack outputs accountctl reads, and the variables they stand for; the
/// five tables first (all required). `template.yaml` must name each one.
const STACK_OUTPUTS: [(&str, &str); 10] = [
    ("UsersTableName", "USERS_TABLE"),
    ("SettingsTableName", "SETTINGS_TABLE"),
    ("KeysTableName", "KEYS_TABLE"),
    ("RateLimitsTableName", "RATE_LIMITS_TABLE"),
    ("OutboxTableName", "OUTBOX_TABLE"),
    ("MailFrom", "MAIL_FROM"),
    ("MailSenderName", "MAIL_SENDER_NAME"),
    ("Region", "AWS_REGION"),
    ("DefaultSettings", "DEFAULT_SETTINGS"),
    ("MailSignature", "MAIL_SIGNATURE"),
];

/// `[{"OutputKey": "UsersTableName", "OutputValue": "..."}, ...]` → `USERS_TABLE=...`, ...
fn outputs_as_variables(json: &str) -> anyhow::Result<BTreeMap<String, String>> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Output {
        output_key: String,
        output_value: String,
    }
    let outputs: Vec<Output> = serde_json::from_str(json).context("the stack's outputs")?;
    let mut vars: BTreeMap<String, String> = outputs
        .into_iter()
        .filter_map(|o| {
            let var = STACK_OUTPUTS.iter().find(|(k, _)| *k == o.output_key)?.1;
            Some((var.to_string(), o.output_value))
        })
        .collect();
    // Every table from the stack, or none: never some from the stack and the
    // rest from a local variable of another environment.
    for (output, var) in &STACK_OUTPUTS[..5] {
        if !vars.contains_key(*var) {
            bail!(
                "the stack has no {output} output: not an account-recovery stack, or an older one"
            );
        }
    }
    // The stack names these only when they are set: missing means empty there,
    // never this shell's value of another environment.
    for var in ["DEFAULT_SETTINGS", "MAIL_SIGNATURE"] {
        vars.entry(var.to_string()).or_default();
    }
    Ok(vars)
}

impl Command {
    /// Whether the command changes anything (and so writes audit records).
    fn changes_something(&self) -> bool {
        !matches!(
            self,
            Command::Init
                | Command::User(UserCmd::Show { .. } | UserCmd::List { .. })
                | Command::Tenant(
                    TenantCmd::Show { .. } | TenantCmd::Template(TemplateCmd::Show { .. })
                )
                | Command::Mail(MailCmd::Failed)
                | Command::Token(_)
        )
    }
}

fn user_json(u: &User, now: UnixTime) -> serde_json::Value {
    let lock = u.lock.active(now);
    serde_json::json!({
        "tenant": u.user_ref.tenant.as_str(),
        "realm": u.user_ref.realm.as_str(),
        "username": u.user_ref.username.as_str(),
        "userId": u.id.to_string(),
        "email": u.email.as_str(),
        "roles": u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "locked": lock.is_some(),
        "lockReason": lock.map(|l| l.reason.as_str()),
        "lockedUntil": lock.and_then(|l| l.until).map(|t| t.to_rfc3339()),
        "adminLockReason": u.lock.admin_lock.as_ref().map(|l| l.reason.clone()),
        "failedLogins": u.lock.failed_attempts,
        "locksSoFar": u.lock.lock_count,
        "recovery": u.recovery.as_ref().map(|r| serde_json::json!({
            "keyValidUntil": r.expires_at.to_rfc3339(),
            "expired": now >= r.expires_at,
        })),
        "recoveryMailsThisHour": u.recovery_window.used(now),
    })
}

fn print_user(u: &User, now: UnixTime) {
    println!("tenant:          {}", u.user_ref.tenant);
    println!("realm:           {}", u.user_ref.realm);
    println!("username:        {}", u.user_ref.username);
    println!("user id:         {}", u.id);
    println!("email:           {}", u.email);
    let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
    println!(
        "roles:           {}",
        if roles.is_empty() {
            "-".into()
        } else {
            roles.join(", ")
        }
    );
    match u.lock.active(now) {
        None => println!("account locked:  no"),
        Some(lock) => println!(
            "account locked:  yes ({}){}",
            lock.reason.as_str(),
            lock.until
                .map(|t| format!(", until {}", t.to_rfc3339()))
                .unwrap_or_else(|| ", until an admin unlocks".into())
        ),
    }
    if let Some(l) = &u.lock.admin_lock {
        println!("lock reason:     {}", l.reason);
    }
    println!("failed logins:   {}", u.lock.failed_attempts);
    println!("locks so far:    {}", u.lock.lock_count);
    match &u.recovery {
        Some(r) if now < r.expires_at => println!(
            "recovery:        under way, key valid until {}",
            r.expires_at.to_rfc3339()
        ),
        Some(r) => println!(
            "recovery:        key expired at {}",
            r.expires_at.to_rfc3339()
        ),
        None => println!("recovery:        none"),
    }
    println!("recovery mails this hour: {}", u.recovery_window.used(now));
}

async fn template(store: &Store, cmd: TemplateCmd, audit: &Auditor) -> anyhow::Result<()> {
    let now = audit.now;
    let tenant_of = |t: &str| TenantDomain::parse(t).map_err(|e| anyhow!("--tenant: {e}"));
    match cmd {
        TemplateCmd::Set {
            tenant,
            name,
            subject,
            text_file,
            html_file,
        } => {
            let (tenant, name) = (tenant_of(&tenant)?, template_name(&name)?);
            let mut all = store.tenant_templates(&tenant).await?;
            let mut t = all
                .get(&name)
                .cloned()
                .unwrap_or_else(|| MailTemplate::builtin(name));
            let read = |p: &std::path::Path| {
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
            };
            if let Some(v) = subject {
                t.subject = v;
            }
            if let Some(p) = text_file {
                t.text = read(&p)?;
            }
            if let Some(p) = html_file {
                t.html = read(&p)?;
            }
            t.validate(name)
                .map_err(|e| anyhow!("template `{}`: {e}", name.as_str()))?;
            all.insert(name, t);
            store.put_tenant_templates(&tenant, &all, now).await?;
            audit.tenant(
                AuditAction::TemplateChange,
                &tenant,
                &format!("set {}", name.as_str()),
            );
            println!("tenant {tenant}: template {} stored", name.as_str());
        }
        TemplateCmd::Unset { tenant, name } => {
            let (tenant, name) = (tenant_of(&tenant)?, template_name(&name)?);
            let mut all = store.tenant_templates(&tenant).await?;
            all.remove(&name);
            store.put_tenant_templates(&tenant, &all, now).await?;
            audit.tenant(
                AuditAction::TemplateChange,
                &tenant,
                &format!("unset {}", name.as_str()),
            );
            println!(
                "tenant {tenant}: template {} is the built-in one",
                name.as_str()
            );
        }
        TemplateCmd::Show { tenant, name } => {
            let (tenant, name) = (tenant_of(&tenant)?, template_name(&name)?);
            let all = store.tenant_templates(&tenant).await?;
            let (t, source) = match all.get(&name) {
                Some(t) => (t.clone(), "tenant"),
                None => (MailTemplate::builtin(name), "built-in"),
            };
            println!(
                "template {} [{source}]\nsubject: {}\n--- text\n{}\n--- html\n{}",
                name.as_str(),
                t.subject,
                t.text,
                t.html
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_outputs_name_the_variables() {
        let json = r#"[
            {"OutputKey": "UsersTableName", "OutputValue": "p-users", "Description": "x"},
            {"OutputKey": "SettingsTableName", "OutputValue": "p-settings"},
            {"OutputKey": "KeysTableName", "OutputValue": "p-keys"},
            {"OutputKey": "RateLimitsTableName", "OutputValue": "p-rate-limits"},
            {"OutputKey": "OutboxTableName", "OutputValue": "p-outbox"},
            {"OutputKey": "ApiUrl", "OutputValue": "https://x"}
        ]"#;
        let vars = outputs_as_variables(json).unwrap();
        assert_eq!(vars["USERS_TABLE"], "p-users");
        assert_eq!(vars["RATE_LIMITS_TABLE"], "p-rate-limits");
        // Unset in the stack (no output): empty, so the shell's value is not used.
        assert_eq!(vars["DEFAULT_SETTINGS"], "");
        assert_eq!(vars["MAIL_SIGNATURE"], "");
        assert_eq!(vars.len(), 7);
        let with_settings = json.replace(
            r#"{"OutputKey": "ApiUrl""#,
            r#"{"OutputKey": "DefaultSettings", "OutputValue": "{\"recovery.expiry\":\"30m\"}"},
            {"OutputKey": "ApiUrl""#,
        );
        let vars = outputs_as_variables(&with_settings).unwrap();
        assert_eq!(vars["DEFAULT_SETTINGS"], r#"{"recovery.expiry":"30m"}"#);
        // Some tables from the stack and the rest from elsewhere: refused.
        let partial = r#"[{"OutputKey": "UsersTableName", "OutputValue": "p-users"}]"#;
        assert!(outputs_as_variables(partial).is_err());
        assert!(stack_outputs("--help").is_err());
    }

    #[test]
    fn the_template_names_every_output_accountctl_reads() {
        let template = include_str!("../../../template.yaml");
        let outputs = &template[template.find("\nOutputs:\n").expect("an Outputs section")..];
        for (output, _) in STACK_OUTPUTS {
            assert!(
                outputs.contains(&format!("\n  {output}:\n")),
                "template.yaml has no {output} output"
            );
        }
    }

    #[test]
    fn reads_write_no_audit_record() {
        let cli = Cli::parse_from(["accountctl", "user", "list", "--tenant", "t.example"]);
        assert!(!cli.command.changes_something());
        let cli = Cli::parse_from(["accountctl", "user", "lock", "--username", "kim", "--json"]);
        assert!(cli.command.changes_something());
        assert!(cli.json);
    }
}
